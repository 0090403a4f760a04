"""participants: names lose the direction marks, embeddings and isolates that phones and
chat apps wrap copied text in, as every name saved from now on does, so the duplicate
check finds them

Revision ID: b6f1a9d3e247
Revises: 3a7f2e9c4d18
Created: 2026-11-30 15:00:00
"""
from alembic import op

from confmgr.roster.models import renormalise_names_holding

revision = 'b6f1a9d3e247'
down_revision = '3a7f2e9c4d18'
branch_labels = None
depends_on = None

#: The marks confmgr.text.INVISIBLE gained with this revision (the others were removed by
#: 8e5d2c1f7a40).
MARKS = "\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def upgrade() -> None:
    renormalise_names_holding(op.get_bind(), MARKS)


def downgrade() -> None:
    pass  # the marks removed were never meant
