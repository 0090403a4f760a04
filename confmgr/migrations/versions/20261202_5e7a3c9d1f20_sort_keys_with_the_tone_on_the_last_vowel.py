"""participants.name_key: each word's tone read where the compare form puts it, so that
"Hòa" and "Hoà" sort as one name, between "Hoa" and "Hóa"

Revision ID: 5e7a3c9d1f20
Revises: 2d8b6f0c3e51
Created: 2026-12-02 11:00:00
"""
import sqlalchemy as sa
from alembic import op

from confmgr.roster.sorting import name_key

revision = '5e7a3c9d1f20'
down_revision = '2d8b6f0c3e51'
branch_labels = None
depends_on = None

#: Delegates read at a time: a national conference has two million.
BATCH = 10_000


def upgrade() -> None:
    connection = op.get_bind()
    participants = sa.table("participants", sa.column("id"), sa.column("full_name"),
                            sa.column("name_key", sa.LargeBinary))
    after = 0
    while True:
        rows = connection.execute(
            sa.select(participants.c.id, participants.c.full_name, participants.c.name_key)
            .where(participants.c.id > after).order_by(participants.c.id).limit(BATCH)).all()
        if not rows:
            return
        changed = [{"row_id": id_, "new_key": name_key(name)} for id_, name, key in rows
                   if bytes(key) != name_key(name)]
        if changed:
            connection.execute(participants.update()
                               .where(participants.c.id == sa.bindparam("row_id"))
                               .values(name_key=sa.bindparam("new_key")), changed)
        after = rows[-1].id


def downgrade() -> None:
    pass  # the order only; any key sorts the names, this one as the code now makes it
