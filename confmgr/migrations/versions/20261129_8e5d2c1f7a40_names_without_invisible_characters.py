"""participants: names lose the invisible characters pasted with them (zero-width space,
soft hyphen…), as every name saved from now on does, so the duplicate check finds them

Revision ID: 8e5d2c1f7a40
Revises: 2cb6b6349ff6
Created: 2026-11-29 12:00:00
"""
from alembic import op
import sqlalchemy as sa

from confmgr.roster.models import participant_name_fields
from confmgr.text import INVISIBLE

revision = '8e5d2c1f7a40'
down_revision = '2cb6b6349ff6'
branch_labels = None
depends_on = None

participants = sa.table('participants', sa.column('id', sa.Integer),
                        sa.column('full_name', sa.String), sa.column('name_norm', sa.String),
                        sa.column('name_key', sa.LargeBinary))


def upgrade() -> None:
    # Only the few names holding such a character are read, not every delegate's.
    connection = op.get_bind()
    rows = connection.execute(sa.select(participants.c.id, participants.c.full_name).where(
        sa.or_(*(participants.c.full_name.contains(mark) for mark in INVISIBLE)))).all()
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
    pass  # the characters removed were never meant
