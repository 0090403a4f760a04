"""Do the counters agree with the rows they count?

Reports read only the counters (per point and session, per category, arrivals per minute,
registered delegates per point and category), which every change keeps in its own
transaction. This is the operator's check of that after a restore, a bulk load or a hand
edit of the database: ``flask --app confmgr check-counts``. It reads every attendance row
of a conference, so at national size it takes as long as summing them (seconds to
minutes), unlike any report. It also lists attendance rows left where their delegate is
not, which the counters would count all the same.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, Table, and_, func, or_, select

from confmgr.attendance.checkin import COUNTER_KEYS, arrivals_from_rows, counters_from_rows
from confmgr.attendance.models import (
    Attendance,
    SessionArrivalCount,
    SessionPointCategoryCount,
    SessionPointCount,
)
from confmgr.db import db
from confmgr.enums import AttendanceStatus, RegistrationStatus
from confmgr.points.models import BroadcastPoint
from confmgr.points.services import registered_by_category_from_rows, registered_from_rows
from confmgr.roster.models import Participant, PointCategoryRegistration

STATUSES = tuple(status.value for status in AttendanceStatus)

#: The most differences one query of the check lists: enough to see what went wrong,
#: bounded where every counter did.
LISTED = 100


@dataclass(frozen=True)
class Difference:
    """One counter that does not hold what its rows say (zeros where either has no row)."""

    counter: str
    key: tuple[tuple[str, object], ...]
    columns: tuple[str, ...]
    counted: tuple
    from_rows: tuple

    def __str__(self) -> str:
        key = ", ".join(f"{name}={value!r}" for name, value in self.key)
        return (f"{self.counter} {key}: {', '.join(self.columns)} holds "
                f"{', '.join(map(repr, self.counted))}; should hold "
                f"{', '.join(map(repr, self.from_rows))}")


def count_differences(conference_id: int, limit: int | None = None) -> list[Difference]:
    """The counters of the conference that differ from their rows (each of the check's
    queries lists at most ``limit``, LISTED by default, so fewer than that in all are all
    there are); none when all agree."""
    limit = LISTED if limit is None else limit
    found: list[Difference] = []
    for table, keys in COUNTER_KEYS:
        found += _differences(table, [(table.c[k], k) for k in keys], STATUSES,
                              counters_from_rows(table, conference_id), conference_id, limit)
        found += _provinces_apart(table, keys, conference_id, limit)
    arrivals = SessionArrivalCount.__table__
    found += _differences(
        arrivals, [(arrivals.c[k], k) for k in ("session_id", "province_code", "minute")],
        ("arrivals",), arrivals_from_rows(conference_id), conference_id, limit)
    registrations = PointCategoryRegistration.__table__
    found += _differences(
        registrations, [(registrations.c.point_id, "point_id"),
                        (registrations.c.category_ref, "category_ref")],
        ("registered",), registered_by_category_from_rows(conference_id), conference_id, limit)
    found += _provinces_apart(registrations, ("point_id", "category_ref"), conference_id, limit)
    points = BroadcastPoint.__table__
    found += _differences(points, [(points.c.id, "point_id")], ("registered_count",),
                          registered_from_rows(conference_id), conference_id, limit)
    found += _headcounts_apart(conference_id, limit)
    found += _rows_out_of_place(conference_id, limit)
    return found


def _rows_out_of_place(conference_id: int, limit: int) -> list[Difference]:
    """Attendance rows that are not where their delegate is, or whose delegate withdrew:
    every change moves or removes them with the delegate, so only a hand edit or a
    restore leaves one. The counters count them all the same, so a recount cannot mend
    them; they are listed for someone to look at."""
    a = Attendance.__table__
    registered = Participant.status == RegistrationStatus.REGISTERED
    rows = db.session.execute(
        select(a.c.session_id, a.c.participant_id, a.c.point_id, a.c.category_ref,
               Participant.point_id, func.coalesce(Participant.category_id, 0), registered)
        .join(Participant, Participant.id == a.c.participant_id)
        .where(a.c.conference_id == conference_id,
               or_(a.c.point_id != Participant.point_id,
                   a.c.category_ref != func.coalesce(Participant.category_id, 0),
                   ~registered))
        .order_by(a.c.session_id, a.c.participant_id).limit(limit)).all()
    return [Difference(a.name, (("session_id", row[0]), ("participant_id", row[1])),
                       ("point_id", "category_ref", "registered"),
                       (row[2], row[3], True), (row[4], row[5], bool(row[6])))
            for row in rows]


def _headcounts_apart(conference_id: int, limit: int) -> list[Difference]:
    """A point's reported headcount for a session is the sum of its categories' (they have
    no rows behind them to count from)."""
    totals = SessionPointCount.__table__
    parts = SessionPointCategoryCount.__table__
    summed = (select(parts.c.session_id, parts.c.point_id,
                     func.sum(parts.c.headcount).label("headcount"))
              .where(parts.c.conference_id == conference_id)
              .group_by(parts.c.session_id, parts.c.point_id))
    return _differences(totals, [(totals.c.session_id, "session_id"),
                                 (totals.c.point_id, "point_id")],
                        ("headcount",), summed, conference_id, limit)


def _differences(table: Table, keys: list[tuple[ColumnElement, str]], columns: tuple[str, ...],
                 from_rows: Select, conference_id: int, limit: int) -> list[Difference]:
    """The rows of ``table`` (its key columns paired with the names ``from_rows`` gives
    them) whose ``columns`` differ from ``from_rows``, and the keys ``from_rows`` has with
    something to count and ``table`` lacks."""
    truth = from_rows.subquery()
    same_key = and_(*(column == truth.c[name] for column, name in keys))
    counted = [table.c[name] for name in columns]
    said = [func.coalesce(truth.c[name], 0) for name in columns]
    stored = db.session.execute(
        select(*(column for column, _name in keys), *counted, *said)
        .outerjoin(truth, same_key)
        .where(table.c.conference_id == conference_id,
               or_(*(c != s for c, s in zip(counted, said))))
        .order_by(*(column for column, _name in keys)).limit(limit)).all()
    missing = db.session.execute(
        select(*(truth.c[name] for _column, name in keys),
               *(truth.c[name] for name in columns))
        .outerjoin(table, same_key)
        .where(keys[0][0].is_(None), or_(*(truth.c[name] != 0 for name in columns)))
        .order_by(*(truth.c[name] for _column, name in keys)).limit(limit)).all()
    width = len(keys)
    names = tuple(name for _column, name in keys)
    return ([Difference(table.name, tuple(zip(names, row[:width])), columns,
                        tuple(row[width:width + len(columns)]),
                        tuple(row[width + len(columns):])) for row in stored]
            + [Difference(table.name, tuple(zip(names, row[:width])), columns,
                          (0,) * len(columns), tuple(row[width:])) for row in missing])


def _provinces_apart(table: Table, keys: tuple[str, ...], conference_id: int,
                     limit: int) -> list[Difference]:
    """Counter rows filed under another province than their point's: provincial reports
    would count them in the wrong province."""
    points = BroadcastPoint.__table__
    province = func.coalesce(points.c.province_code, "")
    rows = db.session.execute(
        select(*(table.c[k] for k in keys), table.c.province_code, province)
        .join(points, points.c.id == table.c.point_id)
        .where(table.c.conference_id == conference_id, table.c.province_code != province)
        .order_by(*(table.c[k] for k in keys)).limit(limit)).all()
    return [Difference(table.name, tuple(zip(keys, row[:len(keys)])), ("province_code",),
                       (row[-2],), (row[-1],)) for row in rows]
