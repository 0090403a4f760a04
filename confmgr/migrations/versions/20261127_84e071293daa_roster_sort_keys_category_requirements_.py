"""roster: sort keys, category requirements, registration window

Revision ID: 84e071293daa
Revises: 7905da0c12f4
Created: 2026-11-27 00:26:49.630482
"""
from alembic import op
import sqlalchemy as sa


import confmgr.db
from confmgr.roster.models import participant_name_fields

revision = '84e071293daa'
down_revision = '7905da0c12f4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('category_requirements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Enum('main', 'province', 'commune', 'other', name='point_level', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('min_count', sa.Integer(), nullable=False),
    sa.CheckConstraint('min_count >= 1', name=op.f('ck_category_requirements_at_least_one')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_category_requirements_category_id_categories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_category_requirements')),
    sa.UniqueConstraint('category_id', 'level', name=op.f('uq_category_requirements_category_id_level'))
    )
    with op.batch_alter_table('conferences', schema=None) as batch_op:
        batch_op.add_column(sa.Column('registration_opens_at', confmgr.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('registration_closes_at', confmgr.db.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_norm', sa.String(length=200), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('name_key', sa.LargeBinary(length=600), nullable=False,
                                      server_default=sa.text("''")))
        batch_op.drop_index(batch_op.f('ix_participants_point'))
        batch_op.create_index('ix_participants_conference_name', ['conference_id', 'name_norm'], unique=False)
        batch_op.create_index('ix_participants_point_key', ['point_id', 'name_key'], unique=False)
        batch_op.create_index('ix_participants_conference_phone', ['conference_id', 'phone'],
                              unique=False)
        batch_op.create_index('ix_participants_conference_email', ['conference_id', 'email'],
                              unique=False)

    # Existing delegates get their compare form and sort key.
    connection = op.get_bind()
    people = sa.table('participants', sa.column('id'), sa.column('full_name'),
                      sa.column('name_norm'), sa.column('name_key', sa.LargeBinary))
    for person_id, full_name in connection.execute(
            sa.select(people.c.id, people.c.full_name)).all():
        connection.execute(people.update().where(people.c.id == person_id)
                           .values(**participant_name_fields(full_name)))



def downgrade() -> None:
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_index('ix_participants_conference_email')
        batch_op.drop_index('ix_participants_conference_phone')
        batch_op.drop_index('ix_participants_point_key')
        batch_op.drop_index('ix_participants_conference_name')
        batch_op.create_index(batch_op.f('ix_participants_point'), ['point_id'], unique=False)
        batch_op.drop_column('name_key')
        batch_op.drop_column('name_norm')

    with op.batch_alter_table('conferences', schema=None) as batch_op:
        batch_op.drop_column('registration_closes_at')
        batch_op.drop_column('registration_opens_at')

    op.drop_table('category_requirements')
