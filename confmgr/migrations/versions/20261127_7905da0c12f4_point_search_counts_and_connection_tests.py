"""point search, counts and connection tests

Revision ID: 7905da0c12f4
Revises: 549e21a38006
Created: 2026-11-27 00:06:02.588527
"""
from alembic import op
import sqlalchemy as sa


import confmgr.db
from confmgr.text import fold

revision = '7905da0c12f4'
down_revision = '549e21a38006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('connection_test_slots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', confmgr.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', confmgr.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_connection_test_slots_ends_after_start')),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_connection_test_slots_conference_id_conferences'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_connection_test_slots'))
    )
    with op.batch_alter_table('connection_test_slots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_connection_test_slots_conference_id'), ['conference_id'], unique=False)

    op.create_table('connection_test_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('not_tested', 'passed', 'failed', name='connection_test_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('tested_at', confmgr.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['point_id'], ['broadcast_points.id'], name=op.f('fk_connection_test_results_point_id_broadcast_points'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_connection_test_results_recorded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['slot_id'], ['connection_test_slots.id'], name=op.f('fk_connection_test_results_slot_id_connection_test_slots'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_connection_test_results'))
    )
    with op.batch_alter_table('connection_test_results', schema=None) as batch_op:
        batch_op.create_index('ix_connection_test_results_point_at', ['point_id', 'tested_at'], unique=False)

    with op.batch_alter_table('broadcast_points', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.String(length=400), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('registered_count', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.create_check_constraint(op.f('ck_broadcast_points_registered_not_negative'),
                                         'registered_count >= 0')

    # Existing points get their search text and their count of registered delegates.
    connection = op.get_bind()
    points = sa.table('broadcast_points', sa.column('id'), sa.column('code'),
                      sa.column('name'), sa.column('search_text'),
                      sa.column('registered_count'))
    for point_id, code, name in connection.execute(sa.select(points.c.id, points.c.code,
                                                              points.c.name)).all():
        connection.execute(points.update().where(points.c.id == point_id)
                           .values(search_text=fold(f"{name} {code}")))
    connection.execute(sa.text(
        "UPDATE broadcast_points SET registered_count = (SELECT count(*) FROM participants "
        "WHERE participants.point_id = broadcast_points.id "
        "AND participants.status = 'registered')"
    ))



def downgrade() -> None:
    with op.batch_alter_table('broadcast_points', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_broadcast_points_registered_not_negative'),
                                 type_='check')
        batch_op.drop_column('registered_count')
        batch_op.drop_column('search_text')

    with op.batch_alter_table('connection_test_results', schema=None) as batch_op:
        batch_op.drop_index('ix_connection_test_results_point_at')

    op.drop_table('connection_test_results')
    with op.batch_alter_table('connection_test_slots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_connection_test_slots_conference_id'))

    op.drop_table('connection_test_slots')
