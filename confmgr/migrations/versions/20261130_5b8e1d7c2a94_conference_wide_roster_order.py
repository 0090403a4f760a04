"""participants: an index in the conference's Vietnamese order, so a page of the national
delegate list reads its hundred rows instead of sorting every delegate

Revision ID: 5b8e1d7c2a94
Revises: 8e5d2c1f7a40
Created: 2026-11-30 12:00:00
"""
from alembic import op

revision = '5b8e1d7c2a94'
down_revision = '8e5d2c1f7a40'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.create_index('ix_participants_conference_key',
                              ['conference_id', 'name_key', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_index('ix_participants_conference_key')
