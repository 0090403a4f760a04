"""registered delegates per point and category

Revision ID: 94b3965e1e9c
Revises: e844e607637c
Created: 2026-11-27 03:34:40.764041
"""
from alembic import op
import sqlalchemy as sa



revision = '94b3965e1e9c'
down_revision = 'e844e607637c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('point_category_registrations',
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.Column('category_ref', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('province_code', sa.String(length=10), nullable=False),
    sa.Column('registered', sa.Integer(), nullable=False),
    sa.CheckConstraint('registered >= 0', name=op.f('ck_point_category_registrations_registered_not_negative')),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_point_category_registrations_conference_id_conferences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['point_id'], ['broadcast_points.id'], name=op.f('fk_point_category_registrations_point_id_broadcast_points'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('point_id', 'category_ref', name=op.f('pk_point_category_registrations'))
    )
    with op.batch_alter_table('point_category_registrations', schema=None) as batch_op:
        batch_op.create_index('ix_point_category_registrations_conference', ['conference_id', 'category_ref'], unique=False)

    # The delegates registered so far.
    op.execute(
        "INSERT INTO point_category_registrations (point_id, category_ref, conference_id,"
        " province_code, registered)"
        " SELECT p.point_id, COALESCE(p.category_id, 0), p.conference_id,"
        " COALESCE(b.province_code, ''), count(*) FROM participants p"
        " JOIN broadcast_points b ON b.id = p.point_id WHERE p.status = 'registered'"
        " GROUP BY p.point_id, p.category_id, p.conference_id, b.province_code"
    )


def downgrade() -> None:
    with op.batch_alter_table('point_category_registrations', schema=None) as batch_op:
        batch_op.drop_index('ix_point_category_registrations_conference')

    op.drop_table('point_category_registrations')
