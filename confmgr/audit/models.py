from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from confmgr.db import UTCDateTime, db, utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_log"
    # The log is read newest first, by (at, id) (see audit/listing.py). Each filter has an
    # index that ends in those columns, so a page, days or not, is one range read however
    # long the log. A point's id names its conference: its index needs no conference.
    __table_args__ = (
        Index("ix_audit_log_conference_at_id", "conference_id", "at", "id"),
        Index("ix_audit_log_conference_action_at_id", "conference_id", "action", "at", "id"),
        Index("ix_audit_log_point_at_id", "point_id", "at", "id"),
        Index("ix_audit_log_user_at_id", "user_id", "at", "id"),
        # Admins read every conference's entries.
        Index("ix_audit_log_action_at_id", "action", "at", "id"),
        Index("ix_audit_log_at_id", "at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: None for changes made from the shell (CLI commands, the demo loader).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # No foreign keys below: the trail outlives what it describes.
    conference_id: Mapped[int | None] = mapped_column()
    point_id: Mapped[int | None] = mapped_column()
    #: Dotted verb, e.g. "session.create", "user.login".
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str] = mapped_column(String(40), default="")
    target_id: Mapped[int | None] = mapped_column()
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
