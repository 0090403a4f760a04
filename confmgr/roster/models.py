from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
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
from confmgr.enums import RegistrationStatus, db_enum
from confmgr.points.models import BroadcastPoint


class Category(db.Model):
    """A role group (thành phần) such as "Bí thư Đảng ủy xã"."""

    __tablename__ = "categories"
    __table_args__ = (
        UniqueConstraint("conference_id", "name"),
        UniqueConstraint("id", "conference_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    #: Protocol order: lower ranks are listed first.
    rank: Mapped[int] = mapped_column(default=100)


class Participant(db.Model):
    """A delegate registered by a broadcast point."""

    __tablename__ = "participants"
    __table_args__ = (
        # Point and category belong to the participant's own conference.
        ForeignKeyConstraint(
            ["point_id", "conference_id"],
            ["broadcast_points.id", "broadcast_points.conference_id"],
        ),
        ForeignKeyConstraint(
            ["category_id", "conference_id"], ["categories.id", "categories.conference_id"]
        ),
        CheckConstraint("full_name <> ''", name="name_not_empty"),
        UniqueConstraint("id", "conference_id"),
        Index("ix_participants_point", "point_id"),
        Index("ix_participants_conference_category", "conference_id", "category_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    point_id: Mapped[int] = mapped_column()
    category_id: Mapped[int | None] = mapped_column()
    full_name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str] = mapped_column(String(300), default="")
    unit: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[RegistrationStatus] = mapped_column(
        db_enum(RegistrationStatus, "registration_status"), default=RegistrationStatus.REGISTERED
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    point: Mapped[BroadcastPoint] = relationship(
        primaryjoin="Participant.point_id == BroadcastPoint.id", foreign_keys=[point_id]
    )
    category: Mapped[Category | None] = relationship(
        primaryjoin="Participant.category_id == Category.id", foreign_keys=[category_id]
    )
