"""participants.client_id: the id a device made up for a registration it sent, so that
sending it again after a lost answer registers nobody twice

Revision ID: 3a7f2e9c4d18
Revises: 7d3c9e1a5b62
Created: 2026-11-30 14:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '3a7f2e9c4d18'
down_revision = '7d3c9e1a5b62'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_id', sa.String(length=36), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_participants_client_id'), ['client_id'])


def downgrade() -> None:
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_participants_client_id'), type_='unique')
        batch_op.drop_column('client_id')
