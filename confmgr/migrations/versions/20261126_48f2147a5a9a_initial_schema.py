"""initial schema

Revision ID: 48f2147a5a9a
Revises: 
Created: 2026-11-26 23:28:12.249819
"""
from alembic import op
import sqlalchemy as sa


import confmgr.db

revision = '48f2147a5a9a'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('conferences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('organising_unit', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'published', 'cancelled', name='conference_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_at', confmgr.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', confmgr.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('last_day >= first_day', name=op.f('ck_conferences_days_in_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conferences')),
    sa.UniqueConstraint('slug', name=op.f('uq_conferences_slug'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.Enum('admin', 'organiser', 'coordinator', name='user_role', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', confmgr.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', confmgr.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('email = lower(email)', name=op.f('ck_users_email_lower_case')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', confmgr.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('conference_id', sa.Integer(), nullable=True),
    sa.Column('point_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('target_type', sa.String(length=40), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_log_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_conference_at', ['conference_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_log_point_at', ['point_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_log_user_at', ['user_id', 'at'], unique=False)

    op.create_table('broadcast_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('level', sa.Enum('main', 'province', 'commune', 'other', name='point_level', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('admin_unit_code', sa.String(length=10), nullable=True),
    sa.Column('province_code', sa.String(length=10), nullable=True),
    sa.Column('address', sa.String(length=500), nullable=False),
    sa.Column('host_unit', sa.String(length=300), nullable=False),
    sa.Column('chair_name', sa.String(length=200), nullable=False),
    sa.Column('chair_position', sa.String(length=300), nullable=False),
    sa.Column('technical_officer_name', sa.String(length=200), nullable=False),
    sa.Column('technical_officer_phone', sa.String(length=40), nullable=False),
    sa.Column('stream_url', sa.String(length=500), nullable=False),
    sa.Column('access_code', sa.String(length=100), nullable=False),
    sa.Column('expected_delegates', sa.Integer(), nullable=False),
    sa.Column('connection_test_status', sa.Enum('not_tested', 'passed', 'failed', name='connection_test_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('connection_test_note', sa.Text(), nullable=False),
    sa.Column('connection_tested_at', confmgr.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', confmgr.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('expected_delegates >= 0', name=op.f('ck_broadcast_points_expected_not_negative')),
    sa.CheckConstraint('parent_id IS NULL OR parent_id <> id', name=op.f('ck_broadcast_points_not_own_parent')),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_broadcast_points_conference_id_conferences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id', 'conference_id'], ['broadcast_points.id', 'broadcast_points.conference_id'], name=op.f('fk_broadcast_points_parent_id_conference_id_broadcast_points')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_broadcast_points')),
    sa.UniqueConstraint('conference_id', 'code', name=op.f('uq_broadcast_points_conference_id_code')),
    sa.UniqueConstraint('id', 'conference_id', name=op.f('uq_broadcast_points_id_conference_id'))
    )
    with op.batch_alter_table('broadcast_points', schema=None) as batch_op:
        batch_op.create_index('ix_broadcast_points_conference_parent', ['conference_id', 'parent_id'], unique=False)
        batch_op.create_index('ix_broadcast_points_conference_province', ['conference_id', 'province_code'], unique=False)

    op.create_table('categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_categories_conference_id_conferences'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_categories')),
    sa.UniqueConstraint('conference_id', 'name', name=op.f('uq_categories_conference_id_name')),
    sa.UniqueConstraint('id', 'conference_id', name=op.f('uq_categories_id_conference_id'))
    )
    op.create_table('conference_organisers',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_conference_organisers_conference_id_conferences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_conference_organisers_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'conference_id', name=op.f('pk_conference_organisers'))
    )
    op.create_table('presenters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('position', sa.String(length=300), nullable=False),
    sa.Column('unit', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_presenters_conference_id_conferences'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_presenters')),
    sa.UniqueConstraint('id', 'conference_id', name=op.f('uq_presenters_id_conference_id'))
    )
    op.create_table('rooms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_rooms_conference_id_conferences'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rooms')),
    sa.UniqueConstraint('conference_id', 'name', name=op.f('uq_rooms_conference_id_name')),
    sa.UniqueConstraint('id', 'conference_id', name=op.f('uq_rooms_id_conference_id'))
    )
    op.create_table('topics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_topics_conference_id_conferences'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_topics')),
    sa.UniqueConstraint('conference_id', 'number', name=op.f('uq_topics_conference_id_number')),
    sa.UniqueConstraint('id', 'conference_id', name=op.f('uq_topics_id_conference_id'))
    )
    op.create_table('agenda_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=64), nullable=False),
    sa.Column('starts_at', confmgr.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', confmgr.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.Enum('opening', 'directive', 'topic', 'discussion', 'break', 'closing', 'other', name='session_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('confirmed', 'cancelled', name='session_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('created_at', confmgr.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', confmgr.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_agenda_sessions_ends_after_start')),
    sa.CheckConstraint('sequence >= 0', name=op.f('ck_agenda_sessions_sequence_not_negative')),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_agenda_sessions_conference_id_conferences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['room_id', 'conference_id'], ['rooms.id', 'rooms.conference_id'], name=op.f('fk_agenda_sessions_room_id_conference_id_rooms')),
    sa.ForeignKeyConstraint(['topic_id', 'conference_id'], ['topics.id', 'topics.conference_id'], name=op.f('fk_agenda_sessions_topic_id_conference_id_topics')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agenda_sessions')),
    sa.UniqueConstraint('id', 'conference_id', name=op.f('uq_agenda_sessions_id_conference_id')),
    sa.UniqueConstraint('uid', name=op.f('uq_agenda_sessions_uid'))
    )
    with op.batch_alter_table('agenda_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_agenda_sessions_conference_start', ['conference_id', 'starts_at'], unique=False)

    op.create_table('participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('position', sa.String(length=300), nullable=False),
    sa.Column('unit', sa.String(length=300), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('registered', 'withdrawn', name='registration_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_at', confmgr.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', confmgr.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("full_name <> ''", name=op.f('ck_participants_name_not_empty')),
    sa.ForeignKeyConstraint(['category_id', 'conference_id'], ['categories.id', 'categories.conference_id'], name=op.f('fk_participants_category_id_conference_id_categories')),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_participants_conference_id_conferences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['point_id', 'conference_id'], ['broadcast_points.id', 'broadcast_points.conference_id'], name=op.f('fk_participants_point_id_conference_id_broadcast_points')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participants')),
    sa.UniqueConstraint('id', 'conference_id', name=op.f('uq_participants_id_conference_id'))
    )
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.create_index('ix_participants_conference_category', ['conference_id', 'category_id'], unique=False)
        batch_op.create_index('ix_participants_point', ['point_id'], unique=False)

    op.create_table('point_coordinators',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['point_id'], ['broadcast_points.id'], name=op.f('fk_point_coordinators_point_id_broadcast_points'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_point_coordinators_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'point_id', name=op.f('pk_point_coordinators'))
    )
    with op.batch_alter_table('point_coordinators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_point_coordinators_point_id'), ['point_id'], unique=False)

    op.create_table('attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('present', 'late', 'excused', 'absent', name='attendance_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('recorded_at', confmgr.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('method', sa.Enum('manual', 'qr', 'import', 'api', name='checkin_method', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_attendance_conference_id_conferences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id', 'conference_id'], ['participants.id', 'participants.conference_id'], name=op.f('fk_attendance_participant_id_conference_id_participants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_attendance_recorded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id', 'conference_id'], ['agenda_sessions.id', 'agenda_sessions.conference_id'], name=op.f('fk_attendance_session_id_conference_id_agenda_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance')),
    sa.UniqueConstraint('participant_id', 'session_id', name=op.f('uq_attendance_participant_id_session_id'))
    )
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.create_index('ix_attendance_session', ['session_id'], unique=False)

    op.create_table('session_presenters',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('presenter_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['presenter_id'], ['presenters.id'], name=op.f('fk_session_presenters_presenter_id_presenters'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['agenda_sessions.id'], name=op.f('fk_session_presenters_session_id_agenda_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', 'presenter_id', name=op.f('pk_session_presenters'))
    )


def downgrade() -> None:
    op.drop_table('session_presenters')
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.drop_index('ix_attendance_session')

    op.drop_table('attendance')
    with op.batch_alter_table('point_coordinators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_point_coordinators_point_id'))

    op.drop_table('point_coordinators')
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_index('ix_participants_point')
        batch_op.drop_index('ix_participants_conference_category')

    op.drop_table('participants')
    with op.batch_alter_table('agenda_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_agenda_sessions_conference_start')

    op.drop_table('agenda_sessions')
    op.drop_table('topics')
    op.drop_table('rooms')
    op.drop_table('presenters')
    op.drop_table('conference_organisers')
    op.drop_table('categories')
    with op.batch_alter_table('broadcast_points', schema=None) as batch_op:
        batch_op.drop_index('ix_broadcast_points_conference_province')
        batch_op.drop_index('ix_broadcast_points_conference_parent')

    op.drop_table('broadcast_points')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_user_at')
        batch_op.drop_index('ix_audit_log_point_at')
        batch_op.drop_index('ix_audit_log_conference_at')

    op.drop_table('audit_log')
    op.drop_table('users')
    op.drop_table('conferences')
