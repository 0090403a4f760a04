"""published time and status of sessions: attendance follows the published agenda

Revision ID: c4a7e2f9b318
Revises: 5b1e0c7d9a42
Created: 2026-11-28 09:10:00
"""
from datetime import datetime

from alembic import op
import sqlalchemy as sa


import confmgr.db

revision = 'c4a7e2f9b318'
down_revision = '5b1e0c7d9a42'
branch_labels = None
depends_on = None

versions = sa.table('agenda_versions', sa.column('id', sa.Integer),
                    sa.column('conference_id', sa.Integer), sa.column('number', sa.Integer),
                    sa.column('snapshot', sa.JSON))
sessions = sa.table('agenda_sessions', sa.column('id', sa.Integer),
                    sa.column('conference_id', sa.Integer),
                    sa.column('starts_at', confmgr.db.UTCDateTime(timezone=True)),
                    sa.column('ends_at', confmgr.db.UTCDateTime(timezone=True)),
                    sa.column('status', sa.String),
                    sa.column('first_published_at', confmgr.db.UTCDateTime(timezone=True)),
                    sa.column('published_starts_at', confmgr.db.UTCDateTime(timezone=True)),
                    sa.column('published_ends_at', confmgr.db.UTCDateTime(timezone=True)),
                    sa.column('published_status', sa.String))


def _fill_from_latest_versions() -> None:
    """Each session as its conference's latest version shows it: the live row may hold
    draft changes made since, which readers have not seen."""
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
                 'starts': datetime.fromisoformat(entry['starts_at']),
                 'ends': datetime.fromisoformat(entry['ends_at']), 'published': entry['status']}
                for entry in snapshot['sessions']]
        if rows:
            connection.execute(
                sessions.update().where(sessions.c.id == sa.bindparam('session_id'),
                                        sessions.c.conference_id == sa.bindparam('conference'))
                .values(published_starts_at=sa.bindparam('starts'),
                        published_ends_at=sa.bindparam('ends'),
                        published_status=sa.bindparam('published')), rows)
    # Published but in no latest version: cannot happen, since a published session is
    # cancelled rather than deleted; should one exist, it keeps its live values.
    connection.execute(sessions.update().where(sessions.c.first_published_at.is_not(None),
                                               sessions.c.published_status.is_(None))
                       .values(published_starts_at=sessions.c.starts_at,
                               published_ends_at=sessions.c.ends_at,
                               published_status=sessions.c.status))


def upgrade() -> None:
    with op.batch_alter_table('agenda_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_starts_at', confmgr.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('published_ends_at', confmgr.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('published_status', sa.Enum('confirmed', 'cancelled', name='published_session_status', native_enum=False, create_constraint=True, length=20), nullable=True))
    _fill_from_latest_versions()


def downgrade() -> None:
    with op.batch_alter_table('agenda_sessions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_agenda_sessions_published_session_status'), type_='check')
        batch_op.drop_column('published_status')
        batch_op.drop_column('published_ends_at')
        batch_op.drop_column('published_starts_at')
