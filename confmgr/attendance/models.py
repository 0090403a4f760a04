"""Attendance per session: one row per delegate and session, counters kept with every change.

Reports at national scale read the counters, never the attendance rows: each check-in
updates its point-and-session row (and the category row) in the same transaction.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.functions import FunctionElement

from confmgr.db import UTCDateTime, db, utcnow
from confmgr.enums import AttendanceStatus, CheckInMethod, db_enum

#: ``category_ref`` of delegates without a category (a key column cannot be NULL).
NO_CATEGORY = 0


class Attendance(db.Model):
    """Whether one participant attended one session: at most one row per pair."""

    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("participant_id", "session_id"),
        # Participant, session and point belong to the same conference.
        ForeignKeyConstraint(
            ["participant_id", "conference_id"],
            ["participants.id", "participants.conference_id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["session_id", "conference_id"],
            ["agenda_sessions.id", "agenda_sessions.conference_id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["point_id", "conference_id"],
            ["broadcast_points.id", "broadcast_points.conference_id"],
            ondelete="CASCADE",
        ),
        Index("ix_attendance_session_point", "session_id", "point_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column()
    session_id: Mapped[int] = mapped_column()
    #: The delegate's point; when they move, their rows (and counts) move with them.
    point_id: Mapped[int] = mapped_column()
    #: The delegate's category when recorded, as the counters hold it (0 for none).
    category_ref: Mapped[int] = mapped_column(default=NO_CATEGORY)
    status: Mapped[AttendanceStatus] = mapped_column(db_enum(AttendanceStatus, "attendance_status"))
    #: When the status it holds was last said: as it reached the server, or, from a device
    #: that sent it later, when the device took it (see checkin.record).
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    method: Mapped[CheckInMethod] = mapped_column(
        db_enum(CheckInMethod, "checkin_method"), default=CheckInMethod.MANUAL
    )
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    #: Free text a coordinator may add ("đến muộn 15 phút").
    note: Mapped[str] = mapped_column(String(500), default="")
    #: When the delegate first came in (their first change into present or late, from
    #: nothing, absent or excused): set once and kept through corrections, so that the
    #: arrivals chart counts them once, at that time. None while they never came in.
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    participant = relationship(
        "Participant",
        primaryjoin="Attendance.participant_id == Participant.id",
        foreign_keys=[participant_id],
    )
    session = relationship(
        "AgendaSession",
        primaryjoin="Attendance.session_id == AgendaSession.id",
        foreign_keys=[session_id],
    )


class AttendanceChange(db.Model):
    """Who changed what, when and how: every check-in, correction and headcount report."""

    __tablename__ = "attendance_changes"
    __table_args__ = (
        Index("ix_attendance_changes_session_at", "session_id", "changed_at"),
        Index("ix_attendance_changes_participant", "participant_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(
        ForeignKey("agenda_sessions.id", ondelete="CASCADE"))
    point_id: Mapped[int] = mapped_column(ForeignKey("broadcast_points.id", ondelete="CASCADE"))
    #: None for a headcount report.
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"))
    category_ref: Mapped[int] = mapped_column(default=NO_CATEGORY)
    old_status: Mapped[AttendanceStatus | None] = mapped_column(
        db_enum(AttendanceStatus, "old_status"))
    new_status: Mapped[AttendanceStatus | None] = mapped_column(
        db_enum(AttendanceStatus, "new_status"))
    old_headcount: Mapped[int | None] = mapped_column()
    new_headcount: Mapped[int | None] = mapped_column()
    method: Mapped[CheckInMethod] = mapped_column(db_enum(CheckInMethod, "checkin_method"))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


COUNT_COLUMNS = ("present", "late", "excused", "absent", "headcount")


def _counts_never_negative() -> tuple[CheckConstraint, ...]:
    return tuple(CheckConstraint(f"{name} >= 0", name=f"{name}_not_negative")
                 for name in COUNT_COLUMNS)


class Counters:
    """The totals both counter tables keep, per status and reported heads."""

    session_id: Mapped[int] = mapped_column(
        ForeignKey("agenda_sessions.id", ondelete="CASCADE"), primary_key=True)
    point_id: Mapped[int] = mapped_column(
        ForeignKey("broadcast_points.id", ondelete="CASCADE"), primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    #: The point's province, copied so provincial and national totals need no join.
    province_code: Mapped[str] = mapped_column(String(10), default="")
    present: Mapped[int] = mapped_column(default=0)
    late: Mapped[int] = mapped_column(default=0)
    excused: Mapped[int] = mapped_column(default=0)
    absent: Mapped[int] = mapped_column(default=0)
    #: Reported by points that count heads instead of naming delegates.
    headcount: Mapped[int] = mapped_column(default=0)


class SessionPointCount(Counters, db.Model):
    """Running totals of one point in one session, changed with every check-in."""

    __tablename__ = "session_point_counts"
    __table_args__ = (
        *_counts_never_negative(),
        Index("ix_session_point_counts_conference", "conference_id", "session_id"),
        # A province's report reads only its own points' rows.
        Index("ix_session_point_counts_province", "conference_id", "province_code",
              "session_id"),
    )

    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, sort_order=1)


class SessionPointCategoryCount(Counters, db.Model):
    """The same totals split by the delegates' category (0: no category)."""

    __tablename__ = "session_point_category_counts"
    __table_args__ = (
        *_counts_never_negative(),
        Index("ix_session_point_category_counts_conference", "conference_id", "session_id"),
        Index("ix_session_point_category_counts_province", "session_id", "province_code",
              "category_ref"),
    )

    # After the inherited columns, so the key reads (session, point, category).
    category_ref: Mapped[int] = mapped_column(primary_key=True, sort_order=1)


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MINUTE = timedelta(minutes=1)


def minute_of(moment: datetime) -> int:
    """The whole minutes from 1970 (UTC) to ``moment``: an arrival counter's key."""
    return (moment - EPOCH) // MINUTE


def moment_of(minute: int) -> datetime:
    """The first instant of a counter's minute."""
    return EPOCH + minute * MINUTE


class arrival_minute(FunctionElement):
    """``minute_of`` computed by the database, for counting many rows at once."""

    type = Integer()
    inherit_cache = True


@compiles(arrival_minute, "sqlite")
def _sqlite_minute(element, compiler, **kw):
    # Stored as UTC text; %s drops the fraction of a second.
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER) / 60"


@compiles(arrival_minute, "postgresql")
def _postgresql_minute(element, compiler, **kw):
    moment = compiler.process(element.clauses, **kw)
    return (f"CAST(EXTRACT(EPOCH FROM date_trunc('minute', {moment} AT TIME ZONE 'UTC'))"
            " AS BIGINT) / 60")


class SessionArrivalCount(db.Model):
    """How many delegates now present or late first came in during one minute, per session
    and province: the arrivals chart reads these, not the attendance rows or their log.

    Kept with every change, in its transaction (written at its commit: see
    ``checkin.count_arrival``): a delegate counts here while present or late and
    ``arrived_at`` is set, at the minute of ``arrived_at`` and their point's province.
    """

    __tablename__ = "session_arrival_counts"
    __table_args__ = (
        CheckConstraint("arrivals >= 0", name="arrivals_not_negative"),
        Index("ix_session_arrival_counts_conference", "conference_id", "session_id"),
    )

    session_id: Mapped[int] = mapped_column(
        ForeignKey("agenda_sessions.id", ondelete="CASCADE"), primary_key=True)
    #: As in the other counters: the point's province, "" for a point outside any.
    province_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    #: ``minute_of(arrived_at)``: whole minutes are exact on every database.
    minute: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    arrivals: Mapped[int] = mapped_column(default=0)


class CheckInReceipt(db.Model):
    """A check-in sent with an id its sender made up, so sending it again changes nothing.

    Devices on slow connections retry; the receipt answers a retry with the first outcome.
    """

    __tablename__ = "checkin_receipts"

    #: The sender's id for the check-in (a UUID, lower case).
    client_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column()
    session_id: Mapped[int] = mapped_column()
    status: Mapped[AttendanceStatus] = mapped_column(db_enum(AttendanceStatus, "attendance_status"))
    #: Whether the first sending changed the attendance, as its answer said.
    changed: Mapped[bool] = mapped_column()
    #: Whether a change recorded after the device took it stood instead, as its answer said.
    superseded: Mapped[bool] = mapped_column(default=False, server_default=false())
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
