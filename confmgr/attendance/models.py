from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from confmgr.db import UTCDateTime, db, utcnow
from confmgr.enums import AttendanceStatus, CheckInMethod, db_enum


class Attendance(db.Model):
    """Whether one participant attended one session: at most one row per pair."""

    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("participant_id", "session_id"),
        # Participant and session belong to the same conference.
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
        Index("ix_attendance_session", "session_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column()
    session_id: Mapped[int] = mapped_column()
    status: Mapped[AttendanceStatus] = mapped_column(db_enum(AttendanceStatus, "attendance_status"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    method: Mapped[CheckInMethod] = mapped_column(
        db_enum(CheckInMethod, "checkin_method"), default=CheckInMethod.MANUAL
    )
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    #: Free text a coordinator may add ("đến muộn 15 phút").
    note: Mapped[str] = mapped_column(String(500), default="")

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
