"""api tokens and check-in receipts

Revision ID: 101af6fba8f0
Revises: fb26d62c3f7b
Created: 2026-11-27 08:01:06.542193
"""
from alembic import op
import sqlalchemy as sa


import confmgr.db

revision = '101af6fba8f0'
down_revision = 'fb26d62c3f7b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('scope', sa.Enum('read', 'write', name='token_scope', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_at', confmgr.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', confmgr.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', confmgr.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', confmgr.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_api_tokens_secret_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('checkin_receipts',
    sa.Column('client_id', sa.String(length=36), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('present', 'late', 'excused', 'absent', name='attendance_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('changed', sa.Boolean(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('received_at', confmgr.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_checkin_receipts_conference_id_conferences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_checkin_receipts_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('client_id', name=op.f('pk_checkin_receipts'))
    )


def downgrade() -> None:
    op.drop_table('checkin_receipts')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
