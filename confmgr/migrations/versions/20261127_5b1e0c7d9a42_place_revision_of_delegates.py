"""place revision of delegates

Revision ID: 5b1e0c7d9a42
Revises: 3647424d15db
Created: 2026-11-27 19:30:12.214904
"""
from alembic import op
import sqlalchemy as sa


import confmgr.db

revision = '5b1e0c7d9a42'
down_revision = '3647424d15db'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('place_revision_offset', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('moved_at', confmgr.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_column('moved_at')
        batch_op.drop_column('place_revision_offset')
