"""agenda versions and topic materials

Revision ID: 549e21a38006
Revises: 48f2147a5a9a
Created: 2026-11-26 23:57:27.997648
"""
from alembic import op
import sqlalchemy as sa


import confmgr.db

revision = '549e21a38006'
down_revision = '48f2147a5a9a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agenda_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('published_at', confmgr.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.CheckConstraint('number >= 1', name=op.f('ck_agenda_versions_number_positive')),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_agenda_versions_conference_id_conferences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_agenda_versions_published_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agenda_versions')),
    sa.UniqueConstraint('conference_id', 'number', name=op.f('uq_agenda_versions_conference_id_number'))
    )
    op.create_table('topic_materials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('url', sa.String(length=1000), nullable=False),
    sa.Column('stored_name', sa.String(length=100), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_at', confmgr.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('removed_at', confmgr.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(url <> '') <> (stored_name <> '')", name=op.f('ck_topic_materials_link_or_file')),
    sa.CheckConstraint('size >= 0', name=op.f('ck_topic_materials_size_not_negative')),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_topic_materials_topic_id_topics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_topic_materials'))
    )
    with op.batch_alter_table('topic_materials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_topic_materials_topic_id'), ['topic_id'], unique=False)

    with op.batch_alter_table('agenda_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_published_at', confmgr.db.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('agenda_sessions', schema=None) as batch_op:
        batch_op.drop_column('first_published_at')

    with op.batch_alter_table('topic_materials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_topic_materials_topic_id'))

    op.drop_table('topic_materials')
    op.drop_table('agenda_versions')
