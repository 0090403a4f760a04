"""published title and kind of sessions: attendance names sessions as delegates read them

Revision ID: 2cb6b6349ff6
Revises: d0134b3cac27
Created: 2026-11-29 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '2cb6b6349ff6'
down_revision = 'd0134b3cac27'
branch_labels = None
depends_on = None

versions = sa.table('agenda_versions', sa.column('id', sa.Integer),
                    sa.column('conference_id', sa.Integer), sa.column('number', sa.Integer),
                    sa.column('snapshot', sa.JSON))
sessions = sa.table('agenda_sessions', sa.column('id', sa.Integer),
                    sa.column('conference_id', sa.Integer),
                    sa.column('title', sa.String), sa.column('kind', sa.String),
                    sa.column('published_status', sa.String),
                    sa.column('published_title', sa.String),
                    sa.column('published_kind', sa.String))


def _fill_from_latest_versions() -> None:
    """Each session as its conference's latest version shows it: the live row may hold
    draft changes made since, which readers have not seen. A snapshot's title is the
    session's own, as the live row holds it (calendars add the topic's number on
    reading)."""
    connection = op.get_bind()
    latest = (sa.select(versions.c.conference_id, sa.func.max(versions.c.number).label('number'))
              .group_by(versions.c.conference_id).subquery())
    ids = connection.execute(sa.select(versions.c.id).join(latest, sa.and_(
        latest.c.conference_id == versions.c.conference_id,
        latest.c.number == versions.c.number))).scalars().all()
    for version_id in ids:  # one snapshot in memory at a time
        conference_id, snapshot = connection.execute(
            sa.select(versions.c.conference_id, versions.c.snapshot)
            .where(versions.c.id == version_id)).one()
        rows = [{'session_id': entry['id'], 'conference': conference_id,
                 'shown_title': entry['title'], 'shown_kind': entry['kind']}
                for entry in snapshot['sessions']]
        if rows:
            connection.execute(
                sessions.update().where(sessions.c.id == sa.bindparam('session_id'),
                                        sessions.c.conference_id == sa.bindparam('conference'))
                .values(published_title=sa.bindparam('shown_title'),
                        published_kind=sa.bindparam('shown_kind')), rows)
    # Published but in no latest version: cannot happen, since a published session is
    # cancelled rather than deleted; should one exist, it keeps its live values, as its
    # published time and status did.
    connection.execute(sessions.update().where(sessions.c.published_status.is_not(None),
                                               sessions.c.published_title.is_(None))
                       .values(published_title=sessions.c.title,
                               published_kind=sessions.c.kind))


def upgrade() -> None:
    with op.batch_alter_table('agenda_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_title', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('published_kind', sa.Enum('opening', 'directive', 'topic', 'discussion', 'break', 'closing', 'other', name='published_session_kind', native_enum=False, create_constraint=True, length=20), nullable=True))
    _fill_from_latest_versions()


def downgrade() -> None:
    with op.batch_alter_table('agenda_sessions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_agenda_sessions_published_session_kind'), type_='check')
        batch_op.drop_column('published_kind')
        batch_op.drop_column('published_title')
