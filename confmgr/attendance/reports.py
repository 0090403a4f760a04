"""Attendance figures, from one point up to the whole country.

Everything here reads the counters (``session_point_counts`` and its split by category),
never the attendance rows, so a national figure costs the same whatever the number of
delegates; only the participant-level export reads the rows, streaming them.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, distinct, func, select

from confmgr.attendance.models import (
    NO_CATEGORY,
    Attendance,
    SessionArrivalCount,
    SessionPointCategoryCount,
    SessionPointCount,
    moment_of,
)
from confmgr.conferences.models import AgendaSession, Conference
from confmgr.db import db
from confmgr.enums import RegistrationStatus, SessionKind
from confmgr.points.listing import NO_PROVINCE, in_province
from confmgr.points.models import BroadcastPoint
from confmgr.points.official import provinces
from confmgr.roster.categories import categories, listed_order
from confmgr.roster.models import (
    Category,
    CategoryRequirement,
    Participant,
    PointCategoryRegistration,
)

STATUSES = ("present", "late", "excused", "absent")


@dataclass
class Tally:
    """Registered and recorded delegates of some points in one session."""

    registered: int = 0
    expected: int = 0
    present: int = 0
    late: int = 0
    excused: int = 0
    absent: int = 0
    headcount: int = 0
    #: Registered delegates with nothing recorded, summed point by point: one point's
    #: headcount never stands for another point's delegates, so it cannot be told from
    #: the totals above.
    not_recorded: int = 0
    #: What the rate is taken over, point by point: its registered delegates, or its
    #: expected number where it registered none, or where it counts heads and expects more
    #: than it named (its leaders registered by name, everyone counted). A country mixes
    #: both kinds of point, so the sum cannot be told from the totals above.
    base: int | None = None
    #: Heads counted that no rate here is taken over: in a category's figures, those of
    #: points that registered nobody of the category (a point that registered nobody is
    #: rated against its expected number, which a category does not have); anywhere,
    #: those beyond a point's own rate base (all of them where it expects nobody). Against
    #: other delegates they would lift a rate past 100 %.
    unrated: int = 0

    @property
    def attended(self) -> int:
        return self.present + self.late + self.headcount

    @property
    def rate_base(self) -> int:
        return self.base if self.base is not None else (self.registered or self.expected)

    @property
    def rate(self) -> float | None:
        """Attended over registered (over expected where nobody was registered by name),
        without the heads that have no base here (``unrated``)."""
        base = self.rate_base
        return (self.attended - self.unrated) / base if base else None

    def expect_nobody(self) -> None:
        """A cancelled session expects nobody: no delegate is unrecorded there and it has
        no rate. What was recorded before it was cancelled is still shown."""
        self.base = 0
        self.not_recorded = 0

    def add_counts(self, row) -> None:
        for name in (*STATUSES, "headcount"):
            setattr(self, name, getattr(self, name) + (getattr(row, name) or 0))

    def add(self, other: Tally) -> None:
        """Add another set of points' figures, their rate bases included."""
        self.base = self.rate_base + other.rate_base
        self.registered += other.registered
        self.expected += other.expected
        self.not_recorded += other.not_recorded
        self.unrated += other.unrated
        self.add_counts(other)


def _point_base():
    """Each point's rate base, as ``Tally.base`` describes it."""
    return case((and_(BroadcastPoint.headcount_only,
                      BroadcastPoint.expected_delegates > BroadcastPoint.registered_count),
                 BroadcastPoint.expected_delegates),
                (BroadcastPoint.registered_count > 0, BroadcastPoint.registered_count),
                else_=BroadcastPoint.expected_delegates)


def point_rate_base(registered: int, expected: int, headcount_only: bool) -> int:
    """One point's rate base, as _point_base works it out in SQL."""
    if headcount_only:
        return max(registered, expected)
    return registered or expected


def _unrated_heads(counts):
    """Heads counted beyond their point's rate base (a village naming its two leaders,
    expecting nobody else, and counting 190; any heads where nobody is registered or
    expected): against the other points' bases they would lift a rate past 100 %."""
    base = _point_base()
    return func.coalesce(func.sum(case((counts.c.headcount > base, counts.c.headcount - base),
                                       else_=0)), 0).label("unrated")


def _named(counts):
    """Delegates with a status recorded, from a counters table that may be outer-joined."""
    return func.coalesce(counts.c.present + counts.c.late + counts.c.excused + counts.c.absent,
                         0)


def _unrecorded(registered, named):
    """A point's registered delegates with no status recorded: none at a headcount point,
    which names nobody, and never below zero (a delegate moved away leaves their record
    at the point)."""
    return case((BroadcastPoint.headcount_only, 0),
                (named < registered, registered - named), else_=0)


def _cancelled(session_id: int) -> bool:
    return db.session.get(AgendaSession, session_id).published_cancelled


_SUMS = [func.coalesce(func.sum(SessionPointCount.__table__.c[name]), 0).label(name)
         for name in (*STATUSES, "headcount")]


def attended_sessions(conference: Conference) -> list[AgendaSession]:
    """The sessions attendance is taken for: every one published at least once but the
    breaks, in their published order and as published (a draft turned into a break still
    counts until published). A draft session is not on the agenda delegates read, so it
    takes no attendance."""
    return list(db.session.scalars(
        select(AgendaSession)
        .where(AgendaSession.conference_id == conference.id,
               AgendaSession.published_status.is_not(None),
               AgendaSession.published_kind != SessionKind.BREAK)
        .order_by(AgendaSession.published_starts_at, AgendaSession.id)))


def attendance_lost_by_publishing(conference: Conference) -> list[tuple[AgendaSession, int]]:
    """The sessions that publishing now would drop from every attendance report and export,
    each with its recorded count (statuses and heads, read from the counters): those the
    draft turns into breaks after check-ins were recorded. In published order.

    The attendance rows would stay, unread. A cancelled session stays in the reports, and
    a published one cannot be deleted (see ``editing.delete_session``), so only the kind
    loses attendance.
    """
    turning = list(db.session.scalars(
        select(AgendaSession)
        .where(AgendaSession.conference_id == conference.id,
               AgendaSession.published_status.is_not(None),
               AgendaSession.published_kind != SessionKind.BREAK,
               AgendaSession.kind == SessionKind.BREAK)
        .order_by(AgendaSession.published_starts_at, AgendaSession.id)))
    if not turning:
        return []
    c = SessionPointCount.__table__.c
    recorded = func.sum(c.present + c.late + c.excused + c.absent + c.headcount)
    counts = dict(db.session.execute(
        select(c.session_id, recorded)
        .where(c.session_id.in_([s.id for s in turning]))
        .group_by(c.session_id)
        .having(recorded > 0)).all())
    return [(s, int(counts[s.id])) for s in turning if s.id in counts]


def _registered(conference: Conference, province: str = "") -> tuple[int, int, int, int]:
    """Registered, expected, rate base and the registered delegates a point names (all
    but those of headcount points): the last is what is unrecorded before any check-in."""
    query = select(func.coalesce(func.sum(BroadcastPoint.registered_count), 0),
                   func.coalesce(func.sum(BroadcastPoint.expected_delegates), 0),
                   func.coalesce(func.sum(_point_base()), 0),
                   func.coalesce(func.sum(_unrecorded(BroadcastPoint.registered_count, 0)), 0),
                   ).where(BroadcastPoint.conference_id == conference.id)
    if province:
        query = query.where(in_province(BroadcastPoint.province_code, province))
    registered, expected, base, named = db.session.execute(query).one()
    return int(registered), int(expected), int(base), int(named)


def session_totals(conference: Conference, province: str = "") -> list[tuple[AgendaSession, Tally]]:
    """Each session's totals for the country, or for one province."""
    registered, expected, base, named = _registered(conference, province)
    counts = SessionPointCount.__table__
    # Per session, how far the points with counters fall short of all unrecorded: only
    # points someone recorded at have a row, the others' delegates all remain unrecorded.
    recorded = func.sum(_unrecorded(BroadcastPoint.registered_count, 0)
                        - _unrecorded(BroadcastPoint.registered_count, _named(counts)))
    query = (select(SessionPointCount.session_id, *_SUMS, recorded.label("recorded"),
                    _unrated_heads(counts))
             .join(BroadcastPoint, BroadcastPoint.id == SessionPointCount.point_id)
             .where(SessionPointCount.conference_id == conference.id)
             .group_by(SessionPointCount.session_id))
    if province:
        query = query.where(in_province(SessionPointCount.province_code, province))
    sums = {row.session_id: row for row in db.session.execute(query)}
    result = []
    for session in attended_sessions(conference):
        row = sums.get(session.id)
        tally = Tally(registered=registered, expected=expected, base=base,
                      not_recorded=named - (int(row.recorded) if row else 0))
        if session.published_cancelled:
            tally.expect_nobody()
        if row:
            tally.add_counts(row)
            tally.unrated = int(row.unrated)
        result.append((session, tally))
    return result


@dataclass
class ProvinceRow:
    code: str
    name: str
    tally: Tally

    @property
    def filter(self) -> str:
        """The province filter that reports this row's points."""
        return self.code or NO_PROVINCE


def by_province(conference: Conference, session_id: int) -> list[ProvinceRow]:
    """One session's totals per province, in the official order of provinces."""
    # Points outside any province are "" here as in the counters, so they make one row.
    province = func.coalesce(BroadcastPoint.province_code, "")
    counts = SessionPointCount.__table__
    registered = {code: (int(r), int(e), int(b), int(u)) for code, r, e, b, u in db.session.execute(
        select(province, func.sum(BroadcastPoint.registered_count),
               func.sum(BroadcastPoint.expected_delegates), func.sum(_point_base()),
               func.sum(_unrecorded(BroadcastPoint.registered_count, _named(counts))))
        .outerjoin(counts, and_(counts.c.point_id == BroadcastPoint.id,
                                counts.c.session_id == session_id))
        .where(BroadcastPoint.conference_id == conference.id)
        .group_by(province))}
    sums = {row.province_code: row for row in db.session.execute(
        select(SessionPointCount.province_code, *_SUMS, _unrated_heads(counts))
        .join(BroadcastPoint, BroadcastPoint.id == SessionPointCount.point_id)
        .where(SessionPointCount.conference_id == conference.id,
               SessionPointCount.session_id == session_id)
        .group_by(SessionPointCount.province_code))}
    names = {code: p.name for code, p in provinces().items()}
    cancelled = _cancelled(session_id)
    rows = []
    for code in sorted(set(registered) | set(sums), key=lambda c: (c not in names, c or "")):
        reg, exp, base, unrecorded = registered.get(code, (0, 0, 0, 0))
        tally = Tally(registered=reg, expected=exp, base=base, not_recorded=unrecorded)
        if cancelled:
            tally.expect_nobody()
        if code in sums:
            tally.add_counts(sums[code])
            tally.unrated = int(sums[code].unrated)
        rows.append(ProvinceRow(code or "", names.get(code, code or "—"), tally))
    return rows


@dataclass
class PointRow:
    code: str
    name: str
    province_code: str
    headcount_only: bool
    tally: Tally


def _point_query(conference: Conference, session_id: int, province: str = "",
                 point_ids=None, after: str = ""):
    counts = SessionPointCount
    query = (
        select(BroadcastPoint.code, BroadcastPoint.name, BroadcastPoint.province_code,
               BroadcastPoint.headcount_only, BroadcastPoint.registered_count,
               BroadcastPoint.expected_delegates,
               *(func.coalesce(counts.__table__.c[name], 0).label(name)
                 for name in (*STATUSES, "headcount")),
               _unrecorded(BroadcastPoint.registered_count, _named(counts.__table__))
               .label("not_recorded"))
        .outerjoin(counts, and_(counts.point_id == BroadcastPoint.id,
                                counts.session_id == session_id))
        .where(BroadcastPoint.conference_id == conference.id)
        .order_by(BroadcastPoint.code)
    )
    if province:
        query = query.where(in_province(BroadcastPoint.province_code, province))
    if point_ids is not None:
        query = query.where(BroadcastPoint.id.in_(point_ids))
    if after:
        query = query.where(BroadcastPoint.code > after)
    return query


def _point_row(row, cancelled: bool) -> PointRow:
    tally = Tally(registered=row.registered_count, expected=row.expected_delegates,
                  not_recorded=row.not_recorded,
                  base=point_rate_base(row.registered_count, row.expected_delegates,
                                       row.headcount_only))
    if cancelled:
        tally.expect_nobody()
    tally.add_counts(row)
    # Not rated here, nor in any total it is added to (see _unrated_heads).
    tally.unrated = max(0, tally.headcount - tally.rate_base)
    return PointRow(row.code, row.name, row.province_code or "", row.headcount_only, tally)


def by_point(conference: Conference, session_id: int, *, province: str = "",
             point_ids=None, after: str = "") -> Iterator[PointRow]:
    """One session's figures per point, by code (those after ``after``); streamed, for
    31,000 points."""
    cancelled = _cancelled(session_id)
    result = db.session.execute(
        _point_query(conference, session_id, province, point_ids, after),
        execution_options={"yield_per": 2000})
    for row in result:
        yield _point_row(row, cancelled)


@dataclass
class CategoryRow:
    name: str
    tally: Tally


def by_category(conference: Conference, session_id: int, province: str = "") -> list[CategoryRow]:
    """One session's figures per category of delegates ("no category" last)."""
    c = SessionPointCategoryCount.__table__
    r = PointCategoryRegistration
    # Heads are rated against the category's registrations at their point, up to those:
    # the rest have no base here (a point that registered nobody of the category, a
    # headcount point that named its leaders and counted everyone), and divided by other
    # points' registrations would lift the category past 100 %.
    named_there = func.coalesce(r.registered, 0)
    unrated = func.sum(case((c.c.headcount > named_there, c.c.headcount - named_there),
                            else_=0))
    query = (select(c.c.category_ref, *(func.sum(c.c[n]).label(n)
                                        for n in (*STATUSES, "headcount")),
                    unrated.label("unrated"))
             .outerjoin(r, and_(r.point_id == c.c.point_id, r.category_ref == c.c.category_ref))
             .where(c.c.conference_id == conference.id, c.c.session_id == session_id)
             .group_by(c.c.category_ref))
    registered_query = (
        select(r.category_ref, func.sum(r.registered),
               func.sum(_unrecorded(r.registered, _named(c))))
        .join(BroadcastPoint, BroadcastPoint.id == r.point_id)
        .outerjoin(c, and_(c.c.session_id == session_id, c.c.point_id == r.point_id,
                           c.c.category_ref == r.category_ref))
        .where(r.conference_id == conference.id).group_by(r.category_ref))
    if province:
        query = query.where(in_province(c.c.province_code, province))
        registered_query = registered_query.where(in_province(r.province_code, province))
    sums = {row.category_ref: row for row in db.session.execute(query)}
    registered = {ref: (int(n), int(u)) for ref, n, u in db.session.execute(registered_query)}
    cancelled = _cancelled(session_id)
    rows = []
    for ref, name in [(cat.id, cat.name) for cat in categories(conference)] + [(NO_CATEGORY, None)]:
        reg, unrecorded = registered.get(ref, (0, 0))
        tally = Tally(registered=reg, not_recorded=unrecorded)
        if cancelled:
            tally.expect_nobody()
        if ref in sums:
            tally.add_counts(sums[ref])
            tally.unrated = int(sums[ref].unrated)
        if name is None and not (tally.registered or tally.attended):
            continue
        rows.append(CategoryRow(name or "", tally))
    return rows


@dataclass(frozen=True)
class Missing:
    """A point where fewer of a required category attended than the rules ask."""

    code: str
    name: str
    province_code: str
    category: str
    attended: int
    need: int


@dataclass(frozen=True)
class Shortfalls:
    """A session's points short of a required category: the first few, and how many."""

    #: The first shortfalls, by point code and category.
    missing: list[Missing]
    #: How many shortfalls there are: a point may lack several categories.
    total: int
    #: How many points lack one category at least.
    points: int


def compliance(conference: Conference, session_id: int, province: str = "",
               limit: int = 500) -> Shortfalls:
    """Points whose attendance in a session lacks a required category, and how many.

    Nobody attends a cancelled session, so it asks nothing of any point.
    """
    if _cancelled(session_id):
        return Shortfalls([], 0, 0)
    c = SessionPointCategoryCount.__table__
    attended = (c.c.present + c.c.late + c.c.headcount)
    have = func.coalesce(attended, 0)
    query = (
        select(BroadcastPoint.code, BroadcastPoint.name, BroadcastPoint.province_code,
               Category.name, have.label("have"), CategoryRequirement.min_count)
        .join(CategoryRequirement, CategoryRequirement.level == BroadcastPoint.level)
        .join(Category, and_(Category.id == CategoryRequirement.category_id,
                             Category.conference_id == BroadcastPoint.conference_id))
        .outerjoin(c, and_(c.c.point_id == BroadcastPoint.id, c.c.session_id == session_id,
                           c.c.category_ref == Category.id))
        .where(BroadcastPoint.conference_id == conference.id,
               have < CategoryRequirement.min_count)
    )
    if province:
        query = query.where(in_province(BroadcastPoint.province_code, province))
    found = query.subquery()
    total, points = db.session.execute(
        select(func.count(), func.count(distinct(found.c.code)))).one()
    rows = db.session.execute(query.order_by(
        BroadcastPoint.code, listed_order(conference, Category.id)).limit(limit))
    return Shortfalls([Missing(r[0], r[1], r[2] or "", r[3], int(r[4]), r[5]) for r in rows],
                      total, points)


def checkins_over_time(conference: Conference, session: AgendaSession, *,
                       minutes: int = 5, province: str = "") -> list[tuple[datetime, int]]:
    """Arrivals (present or late) per ``minutes`` from the opening of check-in."""
    from confmgr.attendance.checkin import window, write_arrivals

    opens, closes = window(conference, session)
    # The counters count whole minutes, so the buckets start on one: a start with seconds,
    # which an imported calendar may carry, would otherwise put the arrivals of the minute
    # a bucket begins in into the bucket before. Times are shown to the minute anyway.
    opens = opens.replace(second=0, microsecond=0)
    # A delegate arrives when first recorded present or late, from nothing or from absent
    # or excused (marked absent at the start, then seen coming in), other than by a paper
    # list; once per delegate, and only if still present or late now: a tap corrected to
    # absent was no arrival. The counters hold exactly those, by the minute they came in
    # and the province they are in now (see checkin.count_arrival): a few thousand rows
    # for the whole country.
    write_arrivals()  # this transaction's own changes, if it made any
    counts = SessionArrivalCount.__table__
    query = (select(counts.c.minute, func.sum(counts.c.arrivals))
             .where(counts.c.session_id == session.id)
             .group_by(counts.c.minute))
    if province:
        query = query.where(in_province(counts.c.province_code, province))
    step = timedelta(minutes=minutes)
    buckets: dict[int, int] = {}
    for minute, arrivals in db.session.execute(query):
        # Check-ins a device sends after check-in closed (the API takes them for a while,
        # as paper lists) are not arrivals at that time: the series stops at the closing.
        if not arrivals or moment_of(minute) >= closes:
            continue
        index = max(0, int((moment_of(minute) - opens) / step))
        buckets[index] = buckets.get(index, 0) + int(arrivals)
    if not buckets:
        return []
    return [(opens + step * i, buckets.get(i, 0)) for i in range(max(buckets) + 1)]


def participant_rows(conference: Conference, sessions: list[AgendaSession], *,
                     province: str = "", point_ids=None) -> Iterator[tuple]:
    """(point code, point name, name, position, unit, category, status per session…) per
    delegate, streamed from the database in point and name order."""
    index = {s.id: i for i, s in enumerate(sessions)}
    query = (
        select(Participant.id, BroadcastPoint.code, BroadcastPoint.name, Participant.full_name,
               Participant.position, Participant.unit, Category.name,
               Attendance.session_id, Attendance.status)
        .join(BroadcastPoint, BroadcastPoint.id == Participant.point_id)
        .outerjoin(Category, Category.id == Participant.category_id)
        .outerjoin(Attendance, Attendance.participant_id == Participant.id)
        .where(Participant.conference_id == conference.id,
               Participant.status == RegistrationStatus.REGISTERED)
        .order_by(BroadcastPoint.code, Participant.name_key, Participant.id)
    )
    if province:
        query = query.where(in_province(BroadcastPoint.province_code, province))
    if point_ids is not None:
        query = query.where(Participant.point_id.in_(point_ids))
    current, row = None, None
    for pid, code, point, name, position, unit, category, session_id, status in \
            db.session.execute(query, execution_options={"yield_per": 5000}):
        if pid != current:
            if row is not None:
                yield tuple(row)
            current = pid
            row = [code, point, name, position, unit, category or "", *([""] * len(sessions))]
        if session_id in index:
            row[6 + index[session_id]] = status
    if row is not None:
        yield tuple(row)
