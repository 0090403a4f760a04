"""participants: names lose the invisible characters pasted with them (zero-width space,
soft hyphen…), as every name saved from now on does, so the duplicate check finds them

Revision ID: 8e5d2c1f7a40
Revises: 2cb6b6349ff6
Created: 2026-11-29 12:00:00
"""
from alembic import op

from confmgr.roster.models import renormalise_names_holding
from confmgr.text import INVISIBLE

revision = '8e5d2c1f7a40'
down_revision = '2cb6b6349ff6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    renormalise_names_holding(op.get_bind(), INVISIBLE)


def downgrade() -> None:
    pass  # the characters removed were never meant
