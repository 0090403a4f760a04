"""place revision of broadcast points

Revision ID: 3647424d15db
Revises: 02dd261e6387
Created: 2026-11-27 18:22:56.469677
"""
from alembic import op
import sqlalchemy as sa


import confmgr.db

revision = '3647424d15db'
down_revision = '02dd261e6387'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('broadcast_points', schema=None) as batch_op:
        batch_op.add_column(sa.Column('place_revision', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('place_changed_at', confmgr.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('broadcast_points', schema=None) as batch_op:
        batch_op.drop_column('place_changed_at')
        batch_op.drop_column('place_revision')
