"""participants: names written with a typographic apostrophe ("H’Hen Niê") compare as
with a straight one, as every name saved from now on does, so the duplicate check finds
the same person typed either way

Revision ID: f3a9d1c6b852
Revises: e2b7c5d8a413
Created: 2026-12-01 13:00:00
"""
from alembic import op

from confmgr.roster.models import renormalise_names_holding
from confmgr.text import APOSTROPHES

revision = 'f3a9d1c6b852'
down_revision = 'e2b7c5d8a413'
branch_labels = None
depends_on = None


def upgrade() -> None:
    renormalise_names_holding(op.get_bind(), "".join(chr(code) for code in APOSTROPHES))


def downgrade() -> None:
    pass  # the compare form only; the names themselves are as they were
