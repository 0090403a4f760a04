"""participants: names lose the direction marks, embeddings and isolates that phones and
chat apps wrap copied text in, as every name saved from now on does, so the duplicate
check finds them

Revision ID: b6f1a9d3e247
Revises: 3a7f2e9c4d18
Created: 2026-11-30 15:00:00
"""
from alembic import op
import sqlalchemy as sa

from confmgr.roster.models import participant_name_fields

revision = 'b6f1a9d3e247'
down_revision = '3a7f2e9c4d18'
branch_labels = None
depends_on = None

#: The marks confmgr.text.INVISIBLE gained with this revision (the others were removed by
#: 8e5d2c1f7a40).
MARKS = "\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"

participants = sa.table('participants', sa.column('id', sa.Integer),
                        sa.column('full_name', sa.String), sa.column('name_norm', sa.String),
                        sa.column('name_key', sa.LargeBinary))


def upgrade() -> None:
    # Only the few names holding such a mark are read, not every delegate's.
    connection = op.get_bind()
    rows = connection.execute(sa.select(participants.c.id, participants.c.full_name).where(
        sa.or_(*(participants.c.full_name.contains(mark) for mark in MARKS)))).all()
    changed = []
    for id_, name in rows:
        # The same forms the app stores on every save.
        fields = participant_name_fields(name)
        changed.append({'row_id': id_, 'name': fields['full_name'],
                        'norm': fields['name_norm'], 'key': fields['name_key']})
    if changed:
        connection.execute(
            participants.update().where(participants.c.id == sa.bindparam('row_id'))
            .values(full_name=sa.bindparam('name'), name_norm=sa.bindparam('norm'),
                    name_key=sa.bindparam('key')), changed)


def downgrade() -> None:
    pass  # the marks removed were never meant
