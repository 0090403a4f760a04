from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import (
    event,
    false,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from confmgr.db import UTCDateTime, db, utcnow
from confmgr.enums import ConnectionTestStatus, PointLevel, db_enum
from confmgr.text import fold


def point_search_text(name: str, code: str) -> str:
    return fold(f"{name} {code}")


class BroadcastPoint(db.Model):
    __tablename__ = "broadcast_points"
    __table_args__ = (
        UniqueConstraint("conference_id", "code"),
        UniqueConstraint("id", "conference_id"),
        # A parent point belongs to the same conference.
        ForeignKeyConstraint(
            ["parent_id", "conference_id"],
            ["broadcast_points.id", "broadcast_points.conference_id"],
        ),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        CheckConstraint("expected_delegates >= 0", name="expected_not_negative"),
        CheckConstraint("registered_count >= 0", name="registered_not_negative"),
        Index("ix_broadcast_points_conference_parent", "conference_id", "parent_id"),
        Index("ix_broadcast_points_conference_province", "conference_id", "province_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(300))
    level: Mapped[PointLevel] = mapped_column(db_enum(PointLevel, "point_level"))
    parent_id: Mapped[int | None] = mapped_column()
    #: Official code of the province or commune the point stands for, if any.
    admin_unit_code: Mapped[str | None] = mapped_column(String(10))
    #: Province the point lies in, kept on every point so filters need no tree walk.
    province_code: Mapped[str | None] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(500), default="")
    host_unit: Mapped[str] = mapped_column(String(300), default="")
    chair_name: Mapped[str] = mapped_column(String(200), default="")
    chair_position: Mapped[str] = mapped_column(String(300), default="")
    technical_officer_name: Mapped[str] = mapped_column(String(200), default="")
    technical_officer_phone: Mapped[str] = mapped_column(String(40), default="")
    stream_url: Mapped[str] = mapped_column(String(500), default="")
    access_code: Mapped[str] = mapped_column(String(100), default="")
    expected_delegates: Mapped[int] = mapped_column(default=0)
    #: Reports how many attended, per session and category, instead of naming delegates
    #: (most commune points).
    headcount_only: Mapped[bool] = mapped_column(default=False, server_default=false())
    connection_test_status: Mapped[ConnectionTestStatus] = mapped_column(
        db_enum(ConnectionTestStatus, "connection_test_status"),
        default=ConnectionTestStatus.NOT_TESTED,
    )
    connection_test_note: Mapped[str] = mapped_column(Text, default="")
    connection_tested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Name and code folded to lower case without diacritics ("uong bi 06811"), for search.
    #: Unbounded: folding can lengthen a name (a Hangul syllable becomes two or three).
    search_text: Mapped[str] = mapped_column(Text, default="")
    #: Registered delegates, kept current by every roster change (lists filter on it).
    registered_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Raised each time the point's place (PLACE_FIELDS) changes, see place_bookkeeping().
    place_revision: Mapped[int] = mapped_column(default=0, server_default="0")
    place_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    parent: Mapped[BroadcastPoint | None] = relationship(
        remote_side=[id],
        primaryjoin="BroadcastPoint.parent_id == BroadcastPoint.id",
        foreign_keys=[parent_id],
        back_populates="children",
    )
    children: Mapped[list[BroadcastPoint]] = relationship(
        primaryjoin="BroadcastPoint.parent_id == BroadcastPoint.id",
        foreign_keys=[parent_id],
        back_populates="parent",
        order_by="BroadcastPoint.code",
    )

    def __repr__(self) -> str:
        return f"<BroadcastPoint {self.code} {self.name}>"


#: What the point's calendar feed shows of it as the place: its LOCATION and join link.
PLACE_FIELDS = ("name", "address", "stream_url")


def place_bookkeeping(point, values: Mapping, now: datetime) -> dict:
    """``place_revision`` and ``place_changed_at`` for a point (an ORM object or a row
    holding PLACE_FIELDS and both) once ``values`` are written over it.

    Calendar clients keep an event by its SEQUENCE and DTSTAMP, so a new address or link
    must raise them or delegates may keep the old one; a save that changes neither
    leaves both alone.
    """
    moved = any(name in values and values[name] != getattr(point, name)
                for name in PLACE_FIELDS)
    if not moved:
        return {"place_revision": point.place_revision,
                "place_changed_at": point.place_changed_at}
    return {"place_revision": point.place_revision + 1, "place_changed_at": now}


@event.listens_for(BroadcastPoint, "before_insert")
@event.listens_for(BroadcastPoint, "before_update")
def _keep_search_text(mapper, connection, point: BroadcastPoint) -> None:
    # Bulk inserts through Core set it themselves with point_search_text().
    point.search_text = point_search_text(point.name, point.code)


class ConnectionTestSlot(db.Model):
    """A time the organisers set for points to rehearse their link (chạy thử)."""

    __tablename__ = "connection_test_slots"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(
        ForeignKey("conferences.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Which points are expected, in words ("Các điểm cầu tỉnh", "Quảng Ninh và Hải Phòng").
    note: Mapped[str] = mapped_column(String(500), default="")


class ConnectionTestResult(db.Model):
    """One recorded rehearsal of a point's link; the point keeps the latest as its status."""

    __tablename__ = "connection_test_results"
    __table_args__ = (Index("ix_connection_test_results_point_at", "point_id", "tested_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("broadcast_points.id", ondelete="CASCADE"))
    slot_id: Mapped[int | None] = mapped_column(
        ForeignKey("connection_test_slots.id", ondelete="SET NULL")
    )
    status: Mapped[ConnectionTestStatus] = mapped_column(
        db_enum(ConnectionTestStatus, "connection_test_status")
    )
    note: Mapped[str] = mapped_column(Text, default="")
    tested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
