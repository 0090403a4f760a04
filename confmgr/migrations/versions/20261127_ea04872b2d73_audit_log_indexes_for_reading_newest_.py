"""audit log indexes for reading newest first

Revision ID: ea04872b2d73
Revises: 101af6fba8f0
Created: 2026-11-27 08:32:09.856493
"""
from alembic import op

revision = 'ea04872b2d73'
down_revision = '101af6fba8f0'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_conference_at')
        batch_op.drop_index('ix_audit_log_point_at')
        batch_op.drop_index('ix_audit_log_user_at')
        batch_op.create_index('ix_audit_log_action_at_id', ['action', 'at', 'id'], unique=False)
        batch_op.create_index('ix_audit_log_at_id', ['at', 'id'], unique=False)
        batch_op.create_index('ix_audit_log_conference_action_at_id', ['conference_id', 'action', 'at', 'id'], unique=False)
        batch_op.create_index('ix_audit_log_conference_at_id', ['conference_id', 'at', 'id'], unique=False)
        batch_op.create_index('ix_audit_log_point_at_id', ['point_id', 'at', 'id'], unique=False)
        batch_op.create_index('ix_audit_log_user_at_id', ['user_id', 'at', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_user_at_id')
        batch_op.drop_index('ix_audit_log_point_at_id')
        batch_op.drop_index('ix_audit_log_conference_at_id')
        batch_op.drop_index('ix_audit_log_conference_action_at_id')
        batch_op.drop_index('ix_audit_log_at_id')
        batch_op.drop_index('ix_audit_log_action_at_id')
        batch_op.create_index('ix_audit_log_user_at', ['user_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_log_point_at', ['point_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_log_conference_at', ['conference_id', 'at'], unique=False)

