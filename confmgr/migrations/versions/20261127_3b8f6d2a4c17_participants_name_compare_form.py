"""participants: names compare with the tone on each word's last vowel ("Hoà" = "Hòa")

Revision ID: 3b8f6d2a4c17
Revises: 7c2e4b9d1a05
Created: 2026-11-27 15:00:00
"""
from alembic import op
import sqlalchemy as sa

from confmgr.text import name_compare_form

revision = '3b8f6d2a4c17'
down_revision = '7c2e4b9d1a05'
branch_labels = None
depends_on = None

BATCH = 10_000

participants = sa.table('participants', sa.column('id', sa.Integer),
                        sa.column('full_name', sa.String), sa.column('name_norm', sa.String))


def _recompute(form) -> None:
    """Set every participant's compare form to ``form(full_name)``, a batch at a time by id,
    writing only the rows it changes."""
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(participants.c.id, participants.c.full_name, participants.c.name_norm)
            .where(participants.c.id > last).order_by(participants.c.id).limit(BATCH)).all()
        if not rows:
            return
        last = rows[-1].id
        changed = [{'row_id': id_, 'norm': form(name)} for id_, name, norm in rows
                   if form(name) != norm]
        if changed:
            connection.execute(
                participants.update().where(participants.c.id == sa.bindparam('row_id'))
                .values(name_norm=sa.bindparam('norm')), changed)


def upgrade() -> None:
    # The same form the app stores on every save (roster.models.participant_name_fields).
    _recompute(name_compare_form)


def downgrade() -> None:
    _recompute(str.lower)
