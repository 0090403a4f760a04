"""arrivals counted by minute and province: the live chart no longer reads every row

Revision ID: d0134b3cac27
Revises: c4a7e2f9b318
Created: 2026-11-28 14:20:00
"""
from alembic import op
import sqlalchemy as sa


import confmgr.db

revision = 'd0134b3cac27'
down_revision = 'c4a7e2f9b318'
branch_labels = None
depends_on = None

#: Whole minutes from 1970 (UTC), as confmgr.attendance.models.minute_of counts them.
MINUTE = {
    'sqlite': "CAST(strftime('%s', a.arrived_at) AS INTEGER) / 60",
    'postgresql': "CAST(EXTRACT(EPOCH FROM date_trunc('minute', a.arrived_at AT TIME ZONE "
                  "'UTC')) AS BIGINT) / 60",
}


def _fill() -> None:
    """Each row's arrival is its delegate's first change into present or late (from
    nothing, absent or excused) in the log, as the chart counted it until now; then the
    counters count the rows present or late now, by that minute and their point's
    province."""
    op.execute(
        "UPDATE attendance SET arrived_at = arrival.arrived_at FROM ("
        " SELECT participant_id, session_id, min(changed_at) AS arrived_at"
        " FROM attendance_changes WHERE participant_id IS NOT NULL"
        " AND new_status IN ('present', 'late')"
        " AND (old_status IS NULL OR old_status NOT IN ('present', 'late'))"
        " GROUP BY participant_id, session_id) AS arrival"
        " WHERE attendance.participant_id = arrival.participant_id"
        " AND attendance.session_id = arrival.session_id"
    )
    minute = MINUTE[op.get_bind().dialect.name]
    op.execute(
        "INSERT INTO session_arrival_counts (session_id, province_code, minute, conference_id,"
        " arrivals)"
        f" SELECT a.session_id, COALESCE(b.province_code, ''), {minute}, a.conference_id,"
        " count(*) FROM attendance a JOIN broadcast_points b ON b.id = a.point_id"
        " WHERE a.status IN ('present', 'late') AND a.arrived_at IS NOT NULL"
        f" GROUP BY a.session_id, COALESCE(b.province_code, ''), {minute}, a.conference_id"
    )


def upgrade() -> None:
    op.create_table('session_arrival_counts',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('province_code', sa.String(length=10), nullable=False),
    sa.Column('minute', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('arrivals', sa.Integer(), nullable=False),
    sa.CheckConstraint('arrivals >= 0', name=op.f('ck_session_arrival_counts_arrivals_not_negative')),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_session_arrival_counts_conference_id_conferences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['agenda_sessions.id'], name=op.f('fk_session_arrival_counts_session_id_agenda_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', 'province_code', 'minute', name=op.f('pk_session_arrival_counts'))
    )
    with op.batch_alter_table('session_arrival_counts', schema=None) as batch_op:
        batch_op.create_index('ix_session_arrival_counts_conference', ['conference_id', 'session_id'], unique=False)

    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('arrived_at', confmgr.db.UTCDateTime(timezone=True), nullable=True))

    _fill()


def downgrade() -> None:
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.drop_column('arrived_at')

    with op.batch_alter_table('session_arrival_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_session_arrival_counts_conference')

    op.drop_table('session_arrival_counts')
