"""checkin_receipts.superseded: a check-in a device took before a change the point
recorded since changed nothing, and a retry is answered so again

Revision ID: 9c4f2a7e1b36
Revises: f3a9d1c6b852
Created: 2026-12-02 09:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '9c4f2a7e1b36'
down_revision = 'f3a9d1c6b852'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('checkin_receipts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('superseded', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('checkin_receipts', schema=None) as batch_op:
        batch_op.drop_column('superseded')
