"""A point's attendance sheet for one session: its delegates, each with what was recorded."""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

from sqlalchemy import and_, bindparam, func, select

from confmgr.attendance.checkin import run
from confmgr.attendance.models import Attendance, SessionPointCount
from confmgr.db import db
from confmgr.enums import AttendanceStatus, CheckInMethod, RegistrationStatus
from confmgr.points.models import BroadcastPoint
from confmgr.roster.models import Category, Participant
from confmgr.text import fold

PER_PAGE = 100


@dataclass
class SheetQuery:
    session_id: int
    text: str = ""
    page: int = 1

    def args(self, **changes) -> dict:
        values = {"session": self.session_id, "q": self.text, "page": self.page, **changes}
        if values["page"] == 1:
            del values["page"]
        return {name: value for name, value in values.items() if value != ""}


@dataclass
class SheetRow:
    id: int
    full_name: str
    position: str
    category: str
    status: AttendanceStatus | None
    #: How the status was recorded: a self check-in is marked for the coordinator to verify.
    method: CheckInMethod | None = None

    @property
    def self_checked_in(self) -> bool:
        return self.method == CheckInMethod.SELF


@dataclass
class Sheet:
    query: SheetQuery
    rows: list[SheetRow]
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PER_PAGE))


def _rows(point: BroadcastPoint, session_id: int):
    return (
        select(Participant.id, Participant.full_name, Participant.position, Category.name,
               Attendance.status, Attendance.method)
        .outerjoin(Category, Category.id == Participant.category_id)
        .outerjoin(Attendance, and_(Attendance.participant_id == Participant.id,
                                    Attendance.session_id == session_id))
        .where(Participant.point_id == point.id,
               Participant.status == RegistrationStatus.REGISTERED)
    )


def sheet(point: BroadcastPoint, query: SheetQuery) -> Sheet:
    """One page of the sheet, in Vietnamese name order, filtered by part of a name; a page
    past the last (a bookmark, or names withdrawn since) is the last.

    The filter ignores diacritics ("nguyen van" finds "Nguyễn Văn"), so it runs here on
    the point's few hundred names rather than in SQL.
    """
    rows = _rows(point, query.session_id).order_by(Participant.name_key, Participant.id)
    if query.text:
        wanted = fold(query.text)
        matching = [r for r in db.session.execute(rows) if wanted in fold(r[1])]
        total = len(matching)
    else:
        total = db.session.scalar(select(func.count()).select_from(rows.subquery()))
    query = replace(query, page=min(query.page, max(1, -(-total // PER_PAGE))))
    start = (query.page - 1) * PER_PAGE
    if query.text:
        found = matching[start:start + PER_PAGE]
    else:
        found = db.session.execute(rows.limit(PER_PAGE).offset(start))
    return Sheet(query, [SheetRow(r[0], r[1], r[2], r[3] or "", r[4], r[5]) for r in found],
                 total)


@dataclass(frozen=True)
class Counts:
    present: int
    late: int
    excused: int
    absent: int
    headcount: int


def point_counts(point: BroadcastPoint, session_id: int) -> Counts | None:
    """The point's counters for the session, as plain values that outlive the transaction."""
    found = db.session.get(SessionPointCount, (session_id, point.id))
    if found is None:
        return None
    return Counts(found.present, found.late, found.excused, found.absent, found.headcount)


@cache
def _tap_answer():
    counts = SessionPointCount
    return (
        select(Participant.id, Participant.full_name, Participant.position, Category.name,
               Attendance.status, Attendance.method, counts.present, counts.late,
               counts.excused, counts.absent, counts.headcount)
        .outerjoin(Category, Category.id == Participant.category_id)
        .outerjoin(Attendance, and_(Attendance.participant_id == Participant.id,
                                    Attendance.session_id == bindparam("session_id")))
        .outerjoin(counts, and_(counts.session_id == bindparam("session_id"),
                                counts.point_id == Participant.point_id))
        .where(Participant.id == bindparam("participant_id"),
               Participant.point_id == bindparam("point_id"),
               Participant.status == RegistrationStatus.REGISTERED)
    )


def tap_answer(point: BroadcastPoint, session_id: int,
               participant_id: int) -> tuple[SheetRow | None, Counts | None]:
    """The delegate's line and the point's counts after a tap, in one query (every tap at
    every point asks for them)."""
    found = run(_tap_answer(), {
        "session_id": session_id, "point_id": point.id, "participant_id": participant_id,
    }).first()
    if found is None:  # not this point's delegate: the counts alone
        return None, point_counts(point, session_id)
    counts = None if found[6] is None else Counts(*found[6:])
    return SheetRow(found[0], found[1], found[2], found[3] or "", found[4], found[5]), counts
