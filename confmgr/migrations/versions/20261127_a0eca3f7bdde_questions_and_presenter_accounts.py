"""questions and presenter accounts

Revision ID: a0eca3f7bdde
Revises: 94b3965e1e9c
Created: 2026-11-27 05:19:55.746152
"""
from alembic import op
import sqlalchemy as sa


import confmgr.db

ROLES = "'admin', 'organiser', 'coordinator', 'presenter'"
OLD_ROLES = "'admin', 'organiser', 'coordinator'"

revision = 'a0eca3f7bdde'
down_revision = '94b3965e1e9c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('asker_name', sa.String(length=200), nullable=False),
    sa.Column('asker_position', sa.String(length=300), nullable=False),
    sa.Column('raised_by_id', sa.Integer(), nullable=True),
    sa.Column('raised_at', confmgr.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('new', 'assigned', 'answered', 'published', name='question_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('points_count', sa.Integer(), server_default='1', nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', confmgr.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_at', confmgr.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', confmgr.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('merged_into_id IS NULL OR merged_into_id <> id', name=op.f('ck_questions_not_merged_into_itself')),
    sa.CheckConstraint('points_count >= 1', name=op.f('ck_questions_points_count_positive')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_questions_answered_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['assignee_id'], ['presenters.id'], name=op.f('fk_questions_assignee_id_presenters'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_questions_conference_id_conferences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merged_into_id'], ['questions.id'], name=op.f('fk_questions_merged_into_id_questions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['point_id'], ['broadcast_points.id'], name=op.f('fk_questions_point_id_broadcast_points'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['raised_by_id'], ['users.id'], name=op.f('fk_questions_raised_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_questions_topic_id_topics'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questions'))
    )
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.create_index('ix_questions_merged_into', ['merged_into_id'], unique=False)
        batch_op.create_index('ix_questions_point', ['point_id'], unique=False)
        batch_op.create_index('ix_questions_queue', ['conference_id', 'merged_into_id', 'topic_id', 'status'], unique=False)
        batch_op.create_index('ix_questions_standing_recent', ['conference_id', 'raised_at', 'id'], unique=False, sqlite_where=sa.text('merged_into_id IS NULL'), postgresql_where=sa.text('merged_into_id IS NULL'))

    with op.batch_alter_table('presenters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_presenters_user_id'), ['user_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_presenters_user_id_users'), 'users', ['user_id'], ['id'], ondelete='SET NULL')

    # Presenters get accounts of their own.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_user_role'), type_='check')
        batch_op.create_check_constraint(op.f('ck_users_user_role'), f"role IN ({ROLES})")



def downgrade() -> None:
    op.execute("DELETE FROM users WHERE role = 'presenter'")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_user_role'), type_='check')
        batch_op.create_check_constraint(op.f('ck_users_user_role'), f"role IN ({OLD_ROLES})")

    with op.batch_alter_table('presenters', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_presenters_user_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_presenters_user_id'))
        batch_op.drop_column('user_id')

    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_index('ix_questions_standing_recent', sqlite_where=sa.text('merged_into_id IS NULL'), postgresql_where=sa.text('merged_into_id IS NULL'))
        batch_op.drop_index('ix_questions_queue')
        batch_op.drop_index('ix_questions_point')
        batch_op.drop_index('ix_questions_merged_into')

    op.drop_table('questions')
