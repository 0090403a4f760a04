"""feed tokens, chosen sessions, conference visibility

Revision ID: 87684cd60cc1
Revises: 84e071293daa
Created: 2026-11-27 02:59:33.426946
"""
from alembic import op
import sqlalchemy as sa


import confmgr.db

revision = '87684cd60cc1'
down_revision = '84e071293daa'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chosen_sessions',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('session_uid', sa.String(length=64), nullable=False),
    sa.Column('chosen_at', confmgr.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_chosen_sessions_conference_id_conferences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_chosen_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'conference_id', 'session_uid', name=op.f('pk_chosen_sessions'))
    )
    op.create_table('feed_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.Enum('conference', 'chosen', 'point', 'delegate', name='feed_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('point_id', sa.Integer(), nullable=True),
    sa.Column('participant_id', sa.Integer(), nullable=True),
    sa.Column('created_at', confmgr.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', confmgr.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(kind IN ('conference', 'chosen') AND user_id IS NOT NULL AND point_id IS NULL AND participant_id IS NULL) OR (kind = 'point' AND point_id IS NOT NULL AND user_id IS NULL AND participant_id IS NULL) OR (kind = 'delegate' AND participant_id IS NOT NULL AND user_id IS NULL AND point_id IS NULL)", name=op.f('ck_feed_tokens_owner_matches_kind')),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_feed_tokens_conference_id_conferences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id', 'conference_id'], ['participants.id', 'participants.conference_id'], name=op.f('fk_feed_tokens_participant_id_conference_id_participants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['point_id', 'conference_id'], ['broadcast_points.id', 'broadcast_points.conference_id'], name=op.f('fk_feed_tokens_point_id_conference_id_broadcast_points'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_feed_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_tokens')),
    sa.UniqueConstraint('token', name=op.f('uq_feed_tokens_token'))
    )
    with op.batch_alter_table('feed_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_feed_tokens_owner', ['conference_id', 'kind', 'user_id', 'point_id', 'participant_id'], unique=False)

    with op.batch_alter_table('conferences', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visibility', sa.Enum('public', 'restricted', name='conference_visibility', native_enum=False, create_constraint=True, length=20), server_default='public', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('conferences', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_conferences_conference_visibility'), type_='check')
        batch_op.drop_column('visibility')

    with op.batch_alter_table('feed_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_feed_tokens_owner')

    op.drop_table('feed_tokens')
    op.drop_table('chosen_sessions')
