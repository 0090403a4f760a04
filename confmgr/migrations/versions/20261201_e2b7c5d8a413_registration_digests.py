"""participants.client_digest: what came with a registration's client_id, so that the
same registration sent again is known whatever became of the delegate since, and another
one sent under the same id is not taken for it

Revision ID: e2b7c5d8a413
Revises: c4e8a1f0b937
Created: 2026-12-01 12:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'e2b7c5d8a413'
down_revision = 'c4e8a1f0b937'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, as SQLite allows for a nullable column: no table copy.
    op.add_column('participants', sa.Column('client_digest', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_column('client_digest')
