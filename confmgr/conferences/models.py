from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from confmgr.db import UTCDateTime, db, utcnow
from confmgr.enums import ConferenceStatus, SessionKind, SessionStatus, Visibility, db_enum


class Conference(db.Model):
    __tablename__ = "conferences"
    __table_args__ = (
        CheckConstraint("last_day >= first_day", name="days_in_order"),
        CheckConstraint("checkin_opens_minutes BETWEEN 0 AND 1440",
                        name="checkin_opens_in_range"),
        CheckConstraint("checkin_closes_minutes BETWEEN 0 AND 10080",
                        name="checkin_closes_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short name used in every public address: /c/<slug>/
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    organising_unit: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    #: IANA name; clients that get a bare offset show hour-off times.
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    status: Mapped[ConferenceStatus] = mapped_column(
        db_enum(ConferenceStatus, "conference_status"), default=ConferenceStatus.DRAFT
    )
    #: When points may register delegates; open-ended where unset.
    visibility: Mapped[Visibility] = mapped_column(
        db_enum(Visibility, "conference_visibility"), default=Visibility.PUBLIC,
        server_default=Visibility.PUBLIC.value,
    )
    #: Check-in opens this long before a session starts and closes this long after it ends.
    checkin_opens_minutes: Mapped[int] = mapped_column(default=60, server_default="60")
    checkin_closes_minutes: Mapped[int] = mapped_column(default=120, server_default="120")
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    sessions: Mapped[list[AgendaSession]] = relationship(
        back_populates="conference", order_by="AgendaSession.starts_at"
    )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_published(self) -> bool:
        return self.status == ConferenceStatus.PUBLISHED

    def __repr__(self) -> str:
        return f"<Conference {self.slug}>"


class Room(db.Model):
    __tablename__ = "rooms"
    __table_args__ = (
        UniqueConstraint("conference_id", "name"),
        UniqueConstraint("id", "conference_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))


class Topic(db.Model):
    """A numbered training module (chuyên đề)."""

    __tablename__ = "topics"
    __table_args__ = (
        UniqueConstraint("conference_id", "number"),
        UniqueConstraint("id", "conference_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    #: The bare number, "1" or "3a": pages and calendars write "Chuyên đề" in front of it, so
    #: saving drops those words (scheduling.bare_topic_number), and two numbers differing
    #: only in case are one number. Rows saved before that rule may still carry the words:
    #: show a number through that same function.
    number: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(500))
    summary: Mapped[str] = mapped_column(Text, default="")

    #: Materials still offered; removed ones stay as rows for published versions.
    materials: Mapped[list[TopicMaterial]] = relationship(
        primaryjoin="and_(TopicMaterial.topic_id == Topic.id, TopicMaterial.removed_at.is_(None))",
        order_by="TopicMaterial.id",
        viewonly=True,
    )


class TopicMaterial(db.Model):
    """A document for a topic: a link, or a file uploaded into the instance folder."""

    __tablename__ = "topic_materials"
    __table_args__ = (
        CheckConstraint(
            "(url <> '') <> (stored_name <> '')", name="link_or_file"
        ),
        CheckConstraint("size >= 0", name="size_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(1000), default="")
    #: Name of the file under the instance's uploads folder; never the uploader's name.
    stored_name: Mapped[str] = mapped_column(String(100), default="")
    original_name: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(100), default="")
    size: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set when an organiser removes it; a published version may still offer the file.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    topic: Mapped[Topic] = relationship()

    @property
    def is_file(self) -> bool:
        return bool(self.stored_name)


class Presenter(db.Model):
    """A presenter (báo cáo viên), reused across the sessions of one conference."""

    __tablename__ = "presenters"
    __table_args__ = (UniqueConstraint("id", "conference_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str] = mapped_column(String(300), default="")
    unit: Mapped[str] = mapped_column(String(300), default="")
    #: The presenter's own account, which answers the questions on their topics.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)


session_presenters = Table(
    "session_presenters",
    db.metadata,
    Column("session_id", ForeignKey("agenda_sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("presenter_id", ForeignKey("presenters.id", ondelete="CASCADE"), primary_key=True),
    #: Order in which presenters are listed for the session.
    Column("position", Integer, nullable=False, default=0),
)


class AgendaSession(db.Model):
    """One timed agenda item (phiên): a speech, a topic, a break, a discussion."""

    __tablename__ = "agenda_sessions"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("sequence >= 0", name="sequence_not_negative"),
        # The room and the topic must belong to the session's own conference.
        ForeignKeyConstraint(
            ["room_id", "conference_id"], ["rooms.id", "rooms.conference_id"]
        ),
        ForeignKeyConstraint(
            ["topic_id", "conference_id"], ["topics.id", "topics.conference_id"]
        ),
        UniqueConstraint("id", "conference_id"),
        Index("ix_agenda_sessions_conference_start", "conference_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    #: Calendar UID: fixed at creation, never changed by edits or versions.
    uid: Mapped[str] = mapped_column(String(64), unique=True, default=lambda: str(uuid.uuid4()))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[SessionKind] = mapped_column(db_enum(SessionKind, "session_kind"))
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    room_id: Mapped[int | None] = mapped_column()
    topic_id: Mapped[int | None] = mapped_column()
    status: Mapped[SessionStatus] = mapped_column(
        db_enum(SessionStatus, "session_status"), default=SessionStatus.CONFIRMED
    )
    #: iCalendar SEQUENCE: raised with each published change of time, place or title.
    sequence: Mapped[int] = mapped_column(default=0)
    #: Set by the first publication that includes the session; from then on it is
    #: cancelled, never deleted, so calendars learn that it is gone.
    first_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Time and status as the latest publication shows them, None until the first: the
    #: attendance rules follow these, so that a draft change takes effect for check-in
    #: only once delegates can read it.
    published_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_status: Mapped[SessionStatus | None] = mapped_column(
        db_enum(SessionStatus, "published_session_status"))
    #: Title and kind as the latest publication shows them, set with the time and status:
    #: attendance pages and reports name a session, and leave out breaks, as delegates
    #: read them, not as the draft has them.
    published_title: Mapped[str | None] = mapped_column(String(500))
    published_kind: Mapped[SessionKind | None] = mapped_column(
        db_enum(SessionKind, "published_session_kind"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    conference: Mapped[Conference] = relationship(back_populates="sessions")
    # Joined on the id alone: the composite keys above guard the conference in the
    # database, and the relationships must never write conference_id themselves.
    room: Mapped[Room | None] = relationship(
        primaryjoin="AgendaSession.room_id == Room.id", foreign_keys=[room_id]
    )
    topic: Mapped[Topic | None] = relationship(
        primaryjoin="AgendaSession.topic_id == Topic.id", foreign_keys=[topic_id]
    )
    presenters: Mapped[list[Presenter]] = relationship(
        secondary=session_presenters, order_by=session_presenters.c.position
    )

    @property
    def is_cancelled(self) -> bool:
        return self.status == SessionStatus.CANCELLED

    @property
    def is_published(self) -> bool:
        return self.published_status is not None

    @property
    def published_cancelled(self) -> bool:
        return self.published_status == SessionStatus.CANCELLED

    @property
    def attendance_title(self) -> str:
        """The title attendance shows: the published one; the draft's only for a session
        never published, which takes no attendance."""
        return self.published_title if self.published_title is not None else self.title

    def local_start(self) -> datetime:
        return self.starts_at.astimezone(self.conference.tz)

    def local_end(self) -> datetime:
        return self.ends_at.astimezone(self.conference.tz)


class AgendaVersion(db.Model):
    """A published version of a conference's agenda, frozen as it was shown.

    Public pages, calendars and exports read the latest version's snapshot, so edits
    made since are never seen until the next publication.
    """

    __tablename__ = "agenda_versions"
    __table_args__ = (
        UniqueConstraint("conference_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    #: 1, 2, 3 … within the conference.
    number: Mapped[int] = mapped_column()
    comment: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    #: The conference and its sessions as published (see conferences.publishing). Loaded
    #: only when asked for: publishing.snapshot_of() keeps each one parsed once per process.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
