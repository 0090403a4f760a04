"""Secret feed addresses and the sessions users pick for their own calendar."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from confmgr.db import UTCDateTime, db, utcnow
from confmgr.enums import FeedKind, db_enum


#: The columns that name a token's owner, one for each kind (see owner_matches_kind).
OWNER_COLUMNS = ("user_id", "point_id", "participant_id")


class FeedToken(db.Model):
    """A secret in a feed's URL, since calendar clients cannot log in.

    Rotating revokes the old token (its URL answers 404 from then on) and issues a new one.
    The token is kept as issued: its owner is shown it again whenever they open the page,
    and it opens nothing but a read-only calendar.
    """

    __tablename__ = "feed_tokens"
    __table_args__ = (
        # Each kind names exactly its own owner.
        CheckConstraint(
            "(kind IN ('conference', 'chosen') AND user_id IS NOT NULL"
            " AND point_id IS NULL AND participant_id IS NULL)"
            " OR (kind = 'point' AND point_id IS NOT NULL"
            " AND user_id IS NULL AND participant_id IS NULL)"
            " OR (kind = 'delegate' AND participant_id IS NOT NULL"
            " AND user_id IS NULL AND point_id IS NULL)",
            name="owner_matches_kind",
        ),
        ForeignKeyConstraint(
            ["point_id", "conference_id"],
            ["broadcast_points.id", "broadcast_points.conference_id"], ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["participant_id", "conference_id"],
            ["participants.id", "participants.conference_id"], ondelete="CASCADE",
        ),
        Index("ix_feed_tokens_owner", "conference_id", "kind", "user_id", "point_id",
              "participant_id"),
        # One active token an owner and kind: two first visits at once issue one address,
        # not two of which only one is shown (and rotated).
        *(Index(f"uq_feed_tokens_active_{column}", "conference_id", "kind", column,
                unique=True, sqlite_where=text(f"revoked_at IS NULL AND {column} IS NOT NULL"),
                postgresql_where=text(f"revoked_at IS NULL AND {column} IS NOT NULL"))
          for column in OWNER_COLUMNS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[FeedKind] = mapped_column(db_enum(FeedKind, "feed_kind"))
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    point_id: Mapped[int | None] = mapped_column()
    participant_id: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ChosenSession(db.Model):
    """A session a signed-in user added to their own calendar.

    Held by the session's UID, not a foreign key: feeds read published versions, where a
    session may live on after its row is gone from the draft.
    """

    __tablename__ = "chosen_sessions"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    conference_id: Mapped[int] = mapped_column(
        ForeignKey("conferences.id", ondelete="CASCADE"), primary_key=True)
    session_uid: Mapped[str] = mapped_column(String(64), primary_key=True)
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
