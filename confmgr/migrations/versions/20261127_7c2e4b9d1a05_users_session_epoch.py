"""users: a lock count in the session stamp, so unlocking does not revive old sessions

Revision ID: 7c2e4b9d1a05
Revises: 5d1c0a7e9b21
Created: 2026-11-27 12:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '7c2e4b9d1a05'
down_revision = '5d1c0a7e9b21'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), nullable=False,
                                      server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_epoch')
