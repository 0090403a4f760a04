"""province indexes on the attendance counters

Revision ID: fb26d62c3f7b
Revises: a0eca3f7bdde
Created: 2026-11-27 07:04:38.134679
"""
from alembic import op

revision = 'fb26d62c3f7b'
down_revision = 'a0eca3f7bdde'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('point_category_registrations', schema=None) as batch_op:
        batch_op.create_index('ix_point_category_registrations_province', ['conference_id', 'province_code', 'category_ref'], unique=False)

    with op.batch_alter_table('session_point_category_counts', schema=None) as batch_op:
        batch_op.create_index('ix_session_point_category_counts_province', ['session_id', 'province_code', 'category_ref'], unique=False)

    with op.batch_alter_table('session_point_counts', schema=None) as batch_op:
        batch_op.create_index('ix_session_point_counts_province', ['conference_id', 'province_code', 'session_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('session_point_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_session_point_counts_province')

    with op.batch_alter_table('session_point_category_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_session_point_category_counts_province')

    with op.batch_alter_table('point_category_registrations', schema=None) as batch_op:
        batch_op.drop_index('ix_point_category_registrations_province')

