"""feed_tokens: one active token an owner and kind. Two first visits at once could each
issue one; all but the oldest (the one the page showed from then on) are revoked first.

Revision ID: c4e8a1f0b937
Revises: b6f1a9d3e247
Created: 2026-12-01 10:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'c4e8a1f0b937'
down_revision = 'b6f1a9d3e247'
branch_labels = None
depends_on = None

OWNER_COLUMNS = ("user_id", "point_id", "participant_id")


def upgrade() -> None:
    for column in OWNER_COLUMNS:
        # CURRENT_TIMESTAMP is UTC on both databases, as revoked_at is kept.
        op.execute(sa.text(f"""
            UPDATE feed_tokens SET revoked_at = CURRENT_TIMESTAMP
            WHERE revoked_at IS NULL AND {column} IS NOT NULL AND EXISTS (
                SELECT 1 FROM feed_tokens AS older
                WHERE older.revoked_at IS NULL AND older.conference_id = feed_tokens.conference_id
                  AND older.kind = feed_tokens.kind AND older.{column} = feed_tokens.{column}
                  AND older.id < feed_tokens.id)"""))
        where = sa.text(f"revoked_at IS NULL AND {column} IS NOT NULL")
        op.create_index(f"uq_feed_tokens_active_{column}", "feed_tokens",
                        ["conference_id", "kind", column], unique=True,
                        sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    for column in OWNER_COLUMNS:
        op.drop_index(f"uq_feed_tokens_active_{column}", table_name="feed_tokens")
