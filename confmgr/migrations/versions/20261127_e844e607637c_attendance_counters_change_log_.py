"""attendance counters, change log, headcounts, check-in window and codes

Revision ID: e844e607637c
Revises: 87684cd60cc1
Created: 2026-11-27 03:10:22.552268
"""
from alembic import op
import sqlalchemy as sa


import confmgr.db

revision = 'e844e607637c'
down_revision = '87684cd60cc1'
branch_labels = None
depends_on = None

OLD_METHODS = "'manual', 'qr', 'import', 'api'"
NEW_METHODS = OLD_METHODS + ", 'self', 'headcount'"


def upgrade() -> None:
    op.create_table('attendance_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=True),
    sa.Column('category_ref', sa.Integer(), nullable=False),
    sa.Column('old_status', sa.Enum('present', 'late', 'excused', 'absent', name='old_status', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('new_status', sa.Enum('present', 'late', 'excused', 'absent', name='new_status', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('old_headcount', sa.Integer(), nullable=True),
    sa.Column('new_headcount', sa.Integer(), nullable=True),
    sa.Column('method', sa.Enum('manual', 'qr', 'import', 'api', 'self', 'headcount', name='checkin_method', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', confmgr.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_attendance_changes_changed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_attendance_changes_conference_id_conferences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_attendance_changes_participant_id_participants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['point_id'], ['broadcast_points.id'], name=op.f('fk_attendance_changes_point_id_broadcast_points'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['agenda_sessions.id'], name=op.f('fk_attendance_changes_session_id_agenda_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance_changes'))
    )
    with op.batch_alter_table('attendance_changes', schema=None) as batch_op:
        batch_op.create_index('ix_attendance_changes_participant', ['participant_id'], unique=False)
        batch_op.create_index('ix_attendance_changes_session_at', ['session_id', 'changed_at'], unique=False)

    op.create_table('session_point_category_counts',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.Column('category_ref', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('province_code', sa.String(length=10), nullable=False),
    sa.Column('present', sa.Integer(), nullable=False),
    sa.Column('late', sa.Integer(), nullable=False),
    sa.Column('excused', sa.Integer(), nullable=False),
    sa.Column('absent', sa.Integer(), nullable=False),
    sa.Column('headcount', sa.Integer(), nullable=False),
    sa.CheckConstraint('absent >= 0', name=op.f('ck_session_point_category_counts_absent_not_negative')),
    sa.CheckConstraint('excused >= 0', name=op.f('ck_session_point_category_counts_excused_not_negative')),
    sa.CheckConstraint('headcount >= 0', name=op.f('ck_session_point_category_counts_headcount_not_negative')),
    sa.CheckConstraint('late >= 0', name=op.f('ck_session_point_category_counts_late_not_negative')),
    sa.CheckConstraint('present >= 0', name=op.f('ck_session_point_category_counts_present_not_negative')),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_session_point_category_counts_conference_id_conferences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['point_id'], ['broadcast_points.id'], name=op.f('fk_session_point_category_counts_point_id_broadcast_points'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['agenda_sessions.id'], name=op.f('fk_session_point_category_counts_session_id_agenda_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', 'point_id', 'category_ref', name=op.f('pk_session_point_category_counts'))
    )
    with op.batch_alter_table('session_point_category_counts', schema=None) as batch_op:
        batch_op.create_index('ix_session_point_category_counts_conference', ['conference_id', 'session_id'], unique=False)

    op.create_table('session_point_counts',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('province_code', sa.String(length=10), nullable=False),
    sa.Column('present', sa.Integer(), nullable=False),
    sa.Column('late', sa.Integer(), nullable=False),
    sa.Column('excused', sa.Integer(), nullable=False),
    sa.Column('absent', sa.Integer(), nullable=False),
    sa.Column('headcount', sa.Integer(), nullable=False),
    sa.Column('updated_at', confmgr.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('absent >= 0', name=op.f('ck_session_point_counts_absent_not_negative')),
    sa.CheckConstraint('excused >= 0', name=op.f('ck_session_point_counts_excused_not_negative')),
    sa.CheckConstraint('headcount >= 0', name=op.f('ck_session_point_counts_headcount_not_negative')),
    sa.CheckConstraint('late >= 0', name=op.f('ck_session_point_counts_late_not_negative')),
    sa.CheckConstraint('present >= 0', name=op.f('ck_session_point_counts_present_not_negative')),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_session_point_counts_conference_id_conferences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['point_id'], ['broadcast_points.id'], name=op.f('fk_session_point_counts_point_id_broadcast_points'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['agenda_sessions.id'], name=op.f('fk_session_point_counts_session_id_agenda_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', 'point_id', name=op.f('pk_session_point_counts'))
    )
    with op.batch_alter_table('session_point_counts', schema=None) as batch_op:
        batch_op.create_index('ix_session_point_counts_conference', ['conference_id', 'session_id'], unique=False)

    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('point_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('category_ref', sa.Integer(), nullable=False,
                                      server_default='0'))
    # Existing rows: the point and category their delegate has now.
    op.execute(
        "UPDATE attendance SET point_id = (SELECT point_id FROM participants"
        " WHERE participants.id = attendance.participant_id),"
        " category_ref = COALESCE((SELECT category_id FROM participants"
        " WHERE participants.id = attendance.participant_id), 0)"
    )
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.alter_column('point_id', existing_type=sa.Integer(), nullable=False)
        # Self check-in and headcounts join the ways of recording.
        batch_op.drop_constraint(op.f('ck_attendance_checkin_method'), type_='check')
        batch_op.create_check_constraint(op.f('ck_attendance_checkin_method'),
                                         f"method IN ({NEW_METHODS})")
        batch_op.drop_index(batch_op.f('ix_attendance_session'))
        batch_op.create_index('ix_attendance_session_point', ['session_id', 'point_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_attendance_point_id_conference_id_broadcast_points'), 'broadcast_points', ['point_id', 'conference_id'], ['id', 'conference_id'], ondelete='CASCADE')

    with op.batch_alter_table('broadcast_points', schema=None) as batch_op:
        batch_op.add_column(sa.Column('headcount_only', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('conferences', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checkin_opens_minutes', sa.Integer(), server_default='60', nullable=False))
        batch_op.add_column(sa.Column('checkin_closes_minutes', sa.Integer(), server_default='120', nullable=False))
        batch_op.create_check_constraint(op.f('ck_conferences_checkin_opens_in_range'),
                                         'checkin_opens_minutes BETWEEN 0 AND 1440')
        batch_op.create_check_constraint(op.f('ck_conferences_checkin_closes_in_range'),
                                         'checkin_closes_minutes BETWEEN 0 AND 10080')

    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checkin_code', sa.String(length=24), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_participants_checkin_code'), ['checkin_code'])

    # Counters for the attendance already recorded.
    totals = ", ".join(f"SUM(CASE WHEN a.status = '{s}' THEN 1 ELSE 0 END)"
                       for s in ("present", "late", "excused", "absent"))
    op.execute(
        "INSERT INTO session_point_counts (session_id, point_id, conference_id, province_code,"
        " present, late, excused, absent, headcount, updated_at)"
        f" SELECT a.session_id, a.point_id, a.conference_id, COALESCE(p.province_code, ''),"
        f" {totals}, 0, MAX(a.recorded_at) FROM attendance a"
        " JOIN broadcast_points p ON p.id = a.point_id"
        " GROUP BY a.session_id, a.point_id, a.conference_id, p.province_code"
    )
    op.execute(
        "INSERT INTO session_point_category_counts (session_id, point_id, category_ref,"
        " conference_id, province_code, present, late, excused, absent, headcount)"
        f" SELECT a.session_id, a.point_id, a.category_ref, a.conference_id,"
        f" COALESCE(p.province_code, ''), {totals}, 0 FROM attendance a"
        " JOIN broadcast_points p ON p.id = a.point_id"
        " GROUP BY a.session_id, a.point_id, a.category_ref, a.conference_id, p.province_code"
    )


def downgrade() -> None:
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_participants_checkin_code'), type_='unique')
        batch_op.drop_column('checkin_code')

    with op.batch_alter_table('conferences', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_conferences_checkin_closes_in_range'), type_='check')
        batch_op.drop_constraint(op.f('ck_conferences_checkin_opens_in_range'), type_='check')
        batch_op.drop_column('checkin_closes_minutes')
        batch_op.drop_column('checkin_opens_minutes')

    with op.batch_alter_table('broadcast_points', schema=None) as batch_op:
        batch_op.drop_column('headcount_only')

    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_attendance_checkin_method'), type_='check')
        batch_op.create_check_constraint(op.f('ck_attendance_checkin_method'),
                                         f"method IN ({OLD_METHODS})")
        batch_op.drop_constraint(batch_op.f('fk_attendance_point_id_conference_id_broadcast_points'), type_='foreignkey')
        batch_op.drop_index('ix_attendance_session_point')
        batch_op.create_index(batch_op.f('ix_attendance_session'), ['session_id'], unique=False)
        batch_op.drop_column('category_ref')
        batch_op.drop_column('point_id')

    with op.batch_alter_table('session_point_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_session_point_counts_conference')

    op.drop_table('session_point_counts')
    with op.batch_alter_table('session_point_category_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_session_point_category_counts_conference')

    op.drop_table('session_point_category_counts')
    with op.batch_alter_table('attendance_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_attendance_changes_session_at')
        batch_op.drop_index('ix_attendance_changes_participant')

    op.drop_table('attendance_changes')
