"""Recording attendance: one set of rules for taps, QR codes, paper lists and headcounts.

Every change goes through ``record``: it writes the attendance row, moves the counters of
the point and session by the same amount and logs who, when and how, all in the caller's
transaction (the arrival counters, shared by a province's points, at its commit). Two
devices recording the same delegate at once leave one row: the insert yields to the row
already there, which is then locked and compared.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import (
    BigInteger,
    Boolean,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    case,
    cast,
    event,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from confmgr.attendance.labels import NO_CATEGORY_NAME
from confmgr.attendance.models import (
    NO_CATEGORY,
    Attendance,
    AttendanceChange,
    SessionArrivalCount,
    SessionPointCategoryCount,
    SessionPointCount,
    arrival_minute,
    minute_of,
)
from confmgr.conferences.editing import RuleBroken
from confmgr.conferences.models import AgendaSession, Conference
from confmgr.conferences.publishing import published_timezone
from confmgr.conferences.scheduling import Problem
from confmgr.db import UTCDateTime, db, dialect_insert, utcnow
from confmgr.enums import (
    AttendanceStatus,
    CheckInMethod,
    RegistrationStatus,
    SessionKind,
    SessionStatus,
)
from confmgr.points.models import BroadcastPoint
from confmgr.roster.models import Category, Participant



def _local(moment: datetime, conference: Conference) -> str:
    zone = ZoneInfo(published_timezone(conference))
    return moment.astimezone(zone).strftime("%H:%M %d/%m/%Y")


def window(conference: Conference, session: AgendaSession) -> tuple[datetime, datetime]:
    """When check-in for a published session opens and closes: from the times delegates
    were given, not from a draft change they cannot see yet."""
    return (session.published_starts_at - timedelta(minutes=conference.checkin_opens_minutes),
            session.published_ends_at + timedelta(minutes=conference.checkin_closes_minutes))


def current_session(conference: Conference, sessions: list[AgendaSession],
                    now: datetime) -> AgendaSession | None:
    """Among published ``sessions``, by their published times: the session running now;
    else, among those whose check-in is open, the one that starts nearest to now; else the
    next one; else the last. Cancelled sessions take no check-ins, so they are passed over.

    Windows overlap (by default check-in opens an hour before a session and closes two
    hours after it), so "the first open window" would keep choosing the morning's first
    session through the whole morning.
    """
    live = [s for s in sessions if s.published_status != SessionStatus.CANCELLED]
    for session in live:
        if session.published_starts_at <= now <= session.published_ends_at:
            return session
    open_now = [s for s in live if window(conference, s)[0] <= now <= window(conference, s)[1]]
    if open_now:
        return min(open_now, key=lambda s: abs(s.published_starts_at - now))
    upcoming = [s for s in live if s.published_starts_at > now]
    if upcoming:
        return upcoming[0]
    return sessions[-1] if sessions else None


def session_problems(conference: Conference, session: AgendaSession, now: datetime, *,
                     after_the_fact: bool = False, to_delegate: bool = False) -> list[Problem]:
    """Why attendance cannot be taken for this session now, if it cannot.

    ``after_the_fact`` (a paper list uploaded later) lifts the closing time, never the
    opening one: nobody attends a session before it starts. ``to_delegate``: said to a
    delegate on their own phone, who has no paper list to upload.
    """
    if session.conference_id != conference.id:
        return [Problem("session", _("Phiên này không thuộc hội nghị."))]
    if session.published_status is None:
        # A draft nobody was told of: as unknown as a session that does not exist.
        return [Problem("session", _("Không có phiên này trong chương trình đã công bố."))]
    if session.published_status == SessionStatus.CANCELLED:
        return [Problem("session", _("Phiên «%(title)s» đã bị hủy: không điểm danh.",
                                     title=session.attendance_title))]
    # Reports leave published breaks out: a count would be lost.
    if session.published_kind == SessionKind.BREAK:
        return [Problem("session", _("«%(title)s» là giờ nghỉ: không điểm danh.",
                                     title=session.attendance_title))]
    opens, closes = window(conference, session)
    if now < opens:
        return [Problem("session", _(
            "Chưa đến giờ điểm danh phiên «%(title)s»: mở lúc %(at)s.",
            title=session.attendance_title, at=_local(opens, conference)))]
    if now > closes and not after_the_fact:
        if to_delegate:
            return [Problem("session", _(
                "Đã hết giờ điểm danh phiên «%(title)s» (đóng lúc %(at)s); hãy báo điều phối "
                "viên.", title=session.attendance_title, at=_local(closes, conference)))]
        return [Problem("session", _(
            "Đã hết giờ điểm danh phiên «%(title)s» (đóng lúc %(at)s); hãy tải lên danh "
            "sách giấy.", title=session.attendance_title, at=_local(closes, conference)))]
    return []


@dataclass(frozen=True)
class Outcome:
    participant_id: int
    old: AttendanceStatus | None
    new: AttendanceStatus
    #: Taken by a device before a change the point recorded since: that change stands.
    superseded: bool = False

    @property
    def changed(self) -> bool:
        return self.old != self.new


COUNTS = ("present", "late", "excused", "absent", "headcount")

#: The statuses of a delegate who came in: the arrivals chart counts these.
HERE = frozenset({AttendanceStatus.PRESENT, AttendanceStatus.LATE})

#: A paper list says who attended, not when: typed in during the session or after it,
#: what it records brings nobody in on the arrivals chart.
UNTIMED = CheckInMethod.IMPORT


def _arrival_time(method: CheckInMethod, now: datetime,
                  taken_at: datetime | None = None) -> datetime | None:
    """When a change into present or late brings the delegate in, unless the log already
    saw them come in earlier: when the device took the check-in, else now; no time at all
    from a paper list."""
    return None if method == UNTIMED else taken_at or now

#: What confirms a self check-in: the coordinator's tap and scan, and a check-in sent by a
#: device through the API (its token is a coordinator's or an organiser's).
CONFIRMING = frozenset({CheckInMethod.MANUAL, CheckInMethod.QR, CheckInMethod.API})

MAX_HEADCOUNT = 100_000


@cache
def _statements(dialect: str) -> SimpleNamespace:
    """The check-in path's statements, built once per dialect with bound parameters.

    A check-in runs these and nothing else; building SQL expressions anew for each one
    cost more than the database's own work.
    """
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    a = Attendance.__table__
    keys = ("conference_id", "participant_id", "session_id", "point_id", "category_ref",
            "status", "recorded_at", "method", "recorded_by_id", "note")
    current = select(a.c.status, a.c.category_ref, a.c.point_id, a.c.method,
                     a.c.arrived_at, a.c.recorded_at).where(
        a.c.participant_id == bindparam("key_participant"),
        a.c.session_id == bindparam("key_session"))
    # The delegate, and the point recorded at as it is now: how it reports and its
    # province, which name the counters (the point object was read before; see
    # share_point).
    person = select(Participant.point_id, Participant.category_id, Participant.status,
                    Participant.full_name, BroadcastPoint.headcount_only,
                    BroadcastPoint.province_code).join(
        BroadcastPoint, BroadcastPoint.id == bindparam("point_id")).where(
        Participant.id == bindparam("participant_id"),
        Participant.conference_id == bindparam("conference_id"))
    if dialect == "postgresql":
        current = current.with_for_update()
        # Shared: taps of one delegate go on side by side, but a move or a withdrawal
        # (which update the delegate first) waits for the tap, or the tap for it; else a
        # tap read before a move could write its new row at the point just left. Not
        # the point's row, which registrations and contact changes write: a tap would
        # wait for them.
        person = person.with_for_update(read=True, of=Participant)

    def counters(table: Table, keys: tuple[str, ...], stamped: bool, after=None):
        """The upsert that adds the deltas to a counter row; with ``after``, a row is
        added for each row of that CTE (none: nothing is counted)."""
        values = {k: bindparam(f"k_{k}", type_=table.c[k].type)
                  for k in (*keys, "conference_id", "province_code")}
        values.update({name: bindparam(f"start_{name}", type_=table.c[name].type)
                       for name in COUNTS})
        changes = {name: table.c[name] + bindparam(f"delta_{name}") for name in COUNTS}
        if stamped:
            values["updated_at"] = changes["updated_at"] = bindparam("now", type_=UTCDateTime())
        counted = (make(table).values(values) if after is None else make(table).from_select(
            list(values), select(*values.values()).select_from(after)))
        return counted.on_conflict_do_update(index_elements=list(keys), set_=changes)

    change = AttendanceChange.__table__
    log_columns = [column.name for column in change.c if column.name != "id"]
    # Named apart from every column: a parameter named as a column of a statement's table
    # would be taken as a value for that column.
    log_values = {name: bindparam(f"log_{name}", type_=change.c[name].type)
                  for name in log_columns}

    def then_counted_and_logged(row_written):
        """``row_written`` (a statement that returns the row when it wrote one), then both
        counters in their order and the log, as one statement: one round trip to
        PostgreSQL rather than four. Each step writes only when the one before did."""
        row = row_written.cte("row_written")
        point = counters(SessionPointCount.__table__, ("session_id", "point_id"), True,
                         after=row).returning(literal_column("1")).cte("point_counted")
        category = counters(SessionPointCategoryCount.__table__,
                            ("session_id", "point_id", "category_ref"), False,
                            after=point).returning(literal_column("1")).cte("category_counted")
        logged = insert(change).from_select(log_columns, select(
            *log_values.values()).select_from(category)).cte("logged")
        return select(*row.c).add_cte(logged)

    def first_arrival(participant, session):
        """When the log first saw the delegate come in to the session. Only a row made
        again after it was forgotten (a move to a headcount point and back) finds one:
        the chart keeps counting them from that first time."""
        c = AttendanceChange.__table__
        # Plain comparisons rather than IN: bound once, not expanded at every tap.
        return select(func.min(c.c.changed_at)).where(
            c.c.participant_id == participant, c.c.session_id == session,
            c.c.method != UNTIMED,
            or_(*(c.c.new_status == status for status in AttendanceStatus if status in HERE)),
            or_(c.c.old_status.is_(None), *(c.c.old_status == status
                                            for status in AttendanceStatus
                                            if status not in HERE)),
        ).scalar_subquery()

    # The first change into present or late (not by a paper list) sets arrived_at;
    # nothing clears it.
    arriving = bindparam("v_arriving", type_=Boolean())
    arrival_now = bindparam("v_arrival_now", type_=UTCDateTime())
    arrivals = SessionArrivalCount.__table__
    row_insert = make(a).values({
        **{k: bindparam(f"v_{k}") for k in keys},
        "arrived_at": case((arriving, func.coalesce(
            first_arrival(bindparam("v_participant_id"), bindparam("v_session_id")),
            arrival_now)), else_=None)}
    ).on_conflict_do_nothing(index_elements=["participant_id", "session_id"]
    ).returning(a.c.id, a.c.arrived_at)
    row_update = update(a).where(
        a.c.participant_id == bindparam("key_participant"),
        a.c.session_id == bindparam("key_session"),
    ).values(status=bindparam("v_status"), recorded_at=bindparam("v_recorded_at"),
             method=bindparam("v_method"), recorded_by_id=bindparam("v_recorded_by_id"),
             point_id=bindparam("v_point_id"), category_ref=bindparam("v_category_ref"),
             arrived_at=case((arriving, func.coalesce(
                 a.c.arrived_at,
                 first_arrival(bindparam("key_participant"), bindparam("key_session")),
                 arrival_now)), else_=a.c.arrived_at)
    ).returning(a.c.arrived_at)
    restamp = update(a).where(
        a.c.participant_id == bindparam("key_participant"),
        a.c.session_id == bindparam("key_session"),
    ).values(recorded_at=bindparam("v_recorded_at"))
    # SQLite has no INSERT or UPDATE in a WITH clause; its statements cost no round trip.
    chained = dialect == "postgresql"
    return SimpleNamespace(
        person=person,
        # PostgreSQL holds the delegate and the point from the first read (above);
        # SQLite cannot: it reads both again once its first write holds the database.
        read_again_after_write=dialect != "postgresql",
        insert=row_insert,
        current=current,
        update=row_update,
        restamp=restamp,
        # The row, both counters and the log at once, where the database allows it.
        insert_counted=then_counted_and_logged(row_insert) if chained else None,
        update_counted=then_counted_and_logged(row_update) if chained else None,
        point_counts=counters(SessionPointCount.__table__, ("session_id", "point_id"), True),
        category_counts=counters(SessionPointCategoryCount.__table__,
                                 ("session_id", "point_id", "category_ref"), False),
        arrivals=make(arrivals).values(
            session_id=bindparam("k_session_id"), province_code=bindparam("k_province_code"),
            minute=bindparam("k_minute"), conference_id=bindparam("k_conference_id"),
            arrivals=bindparam("start_arrivals"),
        ).on_conflict_do_update(
            index_elements=["session_id", "province_code", "minute"],
            set_={"arrivals": arrivals.c.arrivals + bindparam("delta_arrivals")}),
        change=insert(change).values(log_values),
    )


def statements() -> SimpleNamespace:
    return _statements(db.session.get_bind().dialect.name)


def run(statement, params: dict):
    """Execute one of the prebuilt statements in the session's transaction.

    Straight on its connection: the ORM's execute path costs twice what SQLite takes for
    these statements. It skips autoflush, so ``record`` flushes once before them.
    """
    return db.session.connection().execute(statement, params)


def _counting(session_id: int, point: BroadcastPoint, category_ref: int,
              deltas: dict[str, int], now: datetime) -> dict:
    """The parameters of the counters' upserts."""
    params = {"k_session_id": session_id, "k_point_id": point.id,
              "k_category_ref": category_ref, "k_conference_id": point.conference_id,
              "k_province_code": point.province_code or "", "now": now}
    for name in COUNTS:
        delta = deltas.get(name, 0)
        params[f"start_{name}"] = max(delta, 0)
        params[f"delta_{name}"] = delta
    return params


def bump_counts(session_id: int, point: BroadcastPoint, category_ref: int,
                deltas: dict[str, int], now: datetime) -> None:
    """Add ``deltas`` to the point's and the category's counters, creating them at zero."""
    _add_to_counters(_counting(session_id, point, category_ref, deltas, now))


def _add_to_counters(counting: dict) -> None:
    """The point's counter, then the category's: the order every writer takes them in."""
    found = statements()
    run(found.point_counts, counting)
    run(found.category_counts, counting)


#: Where a transaction keeps its changes to the arrival counters until it commits.
PENDING_ARRIVALS = "confmgr.attendance.pending_arrivals"


def count_arrival(session_id: int, point: BroadcastPoint, status: AttendanceStatus | None,
                  arrived_at: datetime | None, delta: int) -> None:
    """Add ``delta`` to the arrivals of ``point``'s province at the minute of
    ``arrived_at``, if a delegate with this status and arrival time is counted there.

    Kept until the commit (``write_arrivals``): one counter row serves every point of a
    province for a minute, so a transaction holding it from its first check-in would
    hold up every tap of the province, and could wait on a point's counters while a tap
    there waits on it. Written last, in key order, it is held only for the commit.
    """
    if status not in HERE or arrived_at is None:
        return
    _pend(session_id, point.province_code or "", minute_of(arrived_at), point.conference_id,
          delta)


def _pend(session_id: int, province_code: str, minute: int, conference_id: int,
          delta: int) -> None:
    pending = db.session.info.setdefault(PENDING_ARRIVALS, {})
    key = (session_id, province_code, minute)
    pending[key] = (conference_id, pending.get(key, (conference_id, 0))[1] + delta)


def _move_arrival(session_id: int, source: BroadcastPoint, old: AttendanceStatus | None,
                  old_arrived_at: datetime | None, destination: BroadcastPoint,
                  new: AttendanceStatus | None, new_arrived_at: datetime | None) -> None:
    """A row's arrival leaves where it was counted and goes where it is counted now;
    where both are the same, nothing is written."""
    count_arrival(session_id, source, old, old_arrived_at, -1)
    count_arrival(session_id, destination, new, new_arrived_at, 1)


def write_arrivals(session: Session | None = None) -> None:
    """Apply the transaction's pending changes to the arrival counters (at the commit, or
    before reading them)."""
    session = session or db.session()
    pending = session.info.pop(PENDING_ARRIVALS, None)
    rows = [{"k_session_id": key[0], "k_province_code": key[1], "k_minute": key[2],
             "k_conference_id": conference_id, "start_arrivals": max(delta, 0),
             "delta_arrivals": delta}
            for key, (conference_id, delta) in sorted((pending or {}).items()) if delta]
    if rows:
        connection = session.connection()
        connection.execute(_statements(connection.dialect.name).arrivals, rows)


@event.listens_for(Session, "before_commit")
def _write_arrivals_before_commit(session: Session) -> None:
    write_arrivals(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_what_the_transaction_held(session: Session, transaction) -> None:
    # Whatever is still pending when the transaction ends was rolled back with it; the
    # points' locks went with it.
    if transaction.parent is None:
        session.info.pop(PENDING_ARRIVALS, None)
        session.info.pop(POINTS_SHARED, None)


def record(session: AgendaSession, point: BroadcastPoint, participant_id: int,
           status: AttendanceStatus, *, user_id: int | None, method: CheckInMethod,
           now: datetime | None = None, after_the_fact: bool = False,
           keep_existing: bool = False, taken_at: datetime | None = None) -> Outcome:
    """Set one delegate's attendance of one session at their point; the caller commits.

    Recording the status a delegate already has changes nothing and logs nothing (but a
    coordinator's tap confirms a self check-in); with ``keep_existing`` a delegate already
    recorded keeps whatever was recorded. ``taken_at``, when a device took the check-in
    before sending it, is when the delegate came in, and when it was recorded: a change
    recorded after that time stands, and the check-in changes nothing (``superseded``).
    """
    now = now or utcnow()
    db.session.flush()  # what the caller added is visible to the statements below
    conference = point_conference(point)
    problems = session_problems(conference, session, now, after_the_fact=after_the_fact)
    share_point(point)
    person = _read_person(point, participant_id)
    if person is not None:
        _take_point_as_read(point, person)
    problems += _not_here(person, point) + counts_only(point)
    if problems:
        raise RuleBroken(problems)
    return _apply(session.id, point, participant_id, person.category_id or NO_CATEGORY,
                  status, user_id=user_id, method=method, now=now, keep_existing=keep_existing,
                  arrival=_arrival_time(method, now, taken_at), taken_at=taken_at)


def _apply(session_id: int, point: BroadcastPoint, participant_id: int, category_ref: int,
           status: AttendanceStatus, *, user_id, method, now, keep_existing,
           arrival: datetime | None, taken_at: datetime | None = None) -> Outcome:
    """Write the row and its counts; ``point`` and ``category_ref`` are where the delegate
    is now, and a row recorded elsewhere (before a move or a change of category) comes
    along, even when its status stays."""
    found = statements()
    row_key = {"key_participant": participant_id, "key_session": session_id}
    taken = taken_at or now
    fresh = {
        "v_conference_id": point.conference_id, "v_participant_id": participant_id,
        "v_session_id": session_id, "v_point_id": point.id, "v_category_ref": category_ref,
        "v_status": status, "v_recorded_at": taken, "v_method": method,
        "v_recorded_by_id": user_id, "v_note": "", "v_arriving": status in HERE,
        "v_arrival_now": arrival}
    inserted = _write_counted(
        found.insert, found.insert_counted, fresh,
        _counting(session_id, point, category_ref, {status.value: 1}, now),
        _logging(session_id, point, participant_id, category_ref, None, status, method,
                 user_id, now))
    if inserted is not None and found.read_again_after_write:
        _refuse_what_changed_unheld(point, participant_id, category_ref)
    if inserted is not None:
        count_arrival(session_id, point, status, inserted.arrived_at, 1)
        return Outcome(participant_id, None, status)
    row = run(found.current, row_key).one()
    old = AttendanceStatus(row.status)
    confirming = (row.method == CheckInMethod.SELF and method in CONFIRMING
                  and not keep_existing)
    if (taken_at is not None and taken_at < row.recorded_at and not confirming
            and row.method != CheckInMethod.ALL_PRESENT):
        # A device sends what it took while offline; the point recorded the delegate since
        # (a tap, another device, a paper list): the later word stands. Only a device's
        # time is weighed: a tap's is now, and servers' clocks need not agree to the ms.
        # Neither a delegate's own scan (it never undoes the coordinator's) nor "all
        # present" (it fills in whom nobody recorded, as the device had) is such a word.
        return Outcome(participant_id, old, old, superseded=True)
    new = old if keep_existing else status
    if (row.point_id, row.category_ref) != (point.id, category_ref):
        # The delegate was read before the row was held: read them again, so that a tap
        # racing a move or a correction of category cannot put the row back where it was.
        person = _read_person(point, participant_id)
        if person.point_id != point.id:
            raise RuleBroken([_not_at_point()])
        category_ref = person.category_id or NO_CATEGORY
    if (new, row.point_id, row.category_ref) == (old, point.id, category_ref):
        latest = max(taken, row.recorded_at)
        if confirming or (row.method == CheckInMethod.ALL_PRESENT and not keep_existing):
            # The coordinator confirms what the delegate recorded (the self check-in mark
            # goes), or says of them what "all present" filled in, which an older device
            # check-in may then no longer undo: the log says who. The counts stay.
            run(found.update, {
                **row_key, "v_status": old, "v_recorded_at": latest, "v_method": method,
                "v_recorded_by_id": user_id, "v_point_id": point.id,
                "v_category_ref": category_ref, "v_arriving": False,
                "v_arrival_now": now}).one()
            _log(session_id, point, participant_id, category_ref, old, old, method, user_id,
                 now)
        elif not keep_existing and latest > row.recorded_at:
            # The same word again, later (a paper list, a device): still the latest one,
            # which a device's older check-in sent afterwards must not undo.
            run(found.restamp, {**row_key, "v_recorded_at": latest})
        return Outcome(participant_id, old, old)
    changed = {
        **row_key, "v_status": new, "v_recorded_at": taken, "v_method": method,
        "v_recorded_by_id": user_id, "v_point_id": point.id, "v_category_ref": category_ref,
        "v_arriving": new in HERE and old not in HERE,
        "v_arrival_now": arrival}
    logged = _logging(session_id, point, participant_id, category_ref, old, new, method,
                      user_id, now)
    if (row.point_id, row.category_ref) != (point.id, category_ref):
        arrived_at = run(found.update, changed).scalar_one()
        source = db.session.get(BroadcastPoint, row.point_id)
        _move_count(session_id, old, new, source, row.category_ref, point, category_ref, now)
        run(found.change, logged)
    else:
        source = point
        arrived_at = _write_counted(
            found.update, found.update_counted, changed,
            _counting(session_id, point, category_ref, {old.value: -1, new.value: 1}, now),
            logged).arrived_at
    if found.read_again_after_write:
        _refuse_what_changed_unheld(point, participant_id, category_ref)
    _move_arrival(session_id, source, old, row.arrived_at, point, new, arrived_at)
    return Outcome(participant_id, old, new)


#: The first of the two keys of a point's advisory lock on PostgreSQL; the two-key locks
#: are a space of their own, apart from the names' (roster).
POINT_LOCK = 1
#: A conference's points are held by the share of them they fall in (the second key): a
#: lock each would fill PostgreSQL's lock table when an import moves thousands to another
#: province. The price: while such an import commits, taps at the other points of the
#: shares it holds wait too (one that moves a thousand points holds most of them).
POINT_LOCKS = 1024
#: The shares whose lock the transaction holds (see share_point).
POINTS_SHARED = "confmgr.attendance.points_shared"


def _point_share(conference_id: int, point_id: int) -> int:
    """The second key of the point's lock: its conference's own shares, in an int4."""
    return (conference_id * POINT_LOCKS + point_id % POINT_LOCKS) % 2**31


def share_point(point: BroadcastPoint) -> None:
    """Before counting at ``point``: on PostgreSQL, hold its lock shared until the commit.
    An organiser's change of its way of reporting or of its province holds it alone
    (``points.importing``), so it waits for the attendance being counted there, or that
    waits for it, then reads the point afresh. A lock apart from the point's row, which
    registrations and contact changes write: taps do not wait for them."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    held = db.session.info.setdefault(POINTS_SHARED, set())
    share = _point_share(point.conference_id, point.id)
    if share not in held:
        db.session.execute(text("SELECT pg_advisory_xact_lock_shared(:kind, :share)"),
                           {"kind": POINT_LOCK, "share": share})
        held.add(share)


def share_point_as_read(statement: Select, point) -> Select:
    """``statement``, which reads ``point`` (broadcast_points or an alias of it), taking
    as it reads it the point's lock shared (``share_point``), on PostgreSQL: a tap's
    first query then holds it, one round trip less. Once it has run, ``shared(point)``.
    What the statement reads of the point may be older than the lock (PostgreSQL read
    it before waiting): the tap reads the point again with the delegate."""
    return statement.add_columns(func.pg_advisory_xact_lock_shared(
        POINT_LOCK, point_share_in_sql(point.conference_id, point.id)))


def point_share_in_sql(conference_id, point_id):
    """``_point_share`` as SQL, of two integer expressions (in 64 bits, then in an int4)."""
    return cast((cast(conference_id, BigInteger) * POINT_LOCKS + point_id % POINT_LOCKS)
                % 2**31, Integer)


def shared(point: BroadcastPoint) -> None:
    """The point's lock is held shared: taken by a statement of ``share_point_as_read``."""
    db.session.info.setdefault(POINTS_SHARED, set()).add(
        _point_share(point.conference_id, point.id))


def hold_point_as_it_is(point: BroadcastPoint) -> None:
    """``share_point``, then the point's way of reporting and its province read afresh
    into ``point`` (a check-in reads them with the delegate instead)."""
    share_point(point)
    table = BroadcastPoint.__table__
    _take_point_as_read(point, db.session.execute(
        select(table.c.headcount_only, table.c.province_code).where(table.c.id == point.id)
    ).one())


def hold_points_as_they_are(points: Iterable[BroadcastPoint]) -> None:
    """``hold_point_as_it_is`` for several, in the one order every holder takes them."""
    for point in sorted(points, key=lambda p: (_point_share(p.conference_id, p.id), p.id)):
        hold_point_as_it_is(point)


def hold_delegates(participant_ids: Iterable[int]) -> None:
    """Before recording several delegates' attendance in one transaction (a list, a
    device's batch, "all present"): on PostgreSQL hold their rows alone, in the order of
    their ids. Taken tap by tap (shared, as a tap holds its one), each came after the
    counters of the taps before it, while a withdrawal, a move, a correction, a tap or
    another batch of a later one holds that delegate (or writes their row), then wants
    those counters: the two could deadlock. Held alone, those wait at the delegate."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    ids = sorted(set(participant_ids))
    for start in range(0, len(ids), 1000):
        db.session.execute(select(Participant.id).where(
            Participant.id.in_(ids[start:start + 1000])).order_by(Participant.id)
            .with_for_update(key_share=True))


def hold_points_alone(conference_id: int, point_ids: Iterable[int]) -> None:
    """Before changing these points' way of reporting or province, on PostgreSQL: wait
    for the attendance being counted there to commit, and keep more from starting until
    this transaction ends (see ``share_point``)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    keys = [{"kind": POINT_LOCK, "share": share}
            for share in sorted({_point_share(conference_id, point_id)
                                 for point_id in point_ids})]
    if keys:
        db.session.execute(text("SELECT pg_advisory_xact_lock(:kind, :share)"), keys)


def _read_person(point: BroadcastPoint, participant_id: int):
    """A row of ``statements().person``, or None for nobody of the conference."""
    return run(statements().person, {"participant_id": participant_id,
                                     "point_id": point.id,
                                     "conference_id": point.conference_id}).first()


def _take_point_as_read(point: BroadcastPoint, read) -> None:
    """Count by the point as ``read`` (held, on PostgreSQL) found it, not as first loaded."""
    set_committed_value(point, "headcount_only", read.headcount_only)
    set_committed_value(point, "province_code", read.province_code)


def _refuse_what_changed_unheld(point: BroadcastPoint, participant_id: int,
                                category_ref: int) -> None:
    """SQLite reads outside the write lock, which the first write has just taken: a move,
    a new category, a switch to headcounts or a new province committed since the delegate
    and the point were read (as ``category_ref`` and ``point``) would leave this row, or
    its counts, where they no longer belong. Refused; the caller rolls back what was
    counted."""
    person = _read_person(point, participant_id)
    problems = _not_here(person, point)
    if not problems and (person.category_id or NO_CATEGORY) != category_ref:
        problems = [Problem("participant", _(
            "Thành phần của đại biểu vừa được đổi; hãy ghi lại."))]
    if not problems and person.headcount_only != point.headcount_only:
        _take_point_as_read(point, person)
        problems = counts_only(point)
    if not problems and person.province_code != point.province_code:
        problems = [Problem("participant", _(
            "Điểm cầu vừa được chuyển sang tỉnh, thành phố khác; hãy ghi lại."))]
    if problems:
        raise RuleBroken(problems)


def _write_counted(plain, counted, params: dict, counting: dict, change: dict):
    """Write the row with ``plain`` (an insert or update returning it) and, when it wrote
    one, add ``counting`` to both counters and log ``change``: in one statement
    (``counted``) where the database allows it. Returns the row written, or None."""
    if counted is not None:
        return run(counted, {**params, **counting, **change}).first()
    written = run(plain, params).first()
    if written is not None:
        _add_to_counters(counting)
        run(statements().change, change)
    return written


def counts_only(point: BroadcastPoint) -> list[Problem]:
    """Why nobody is checked in by name at a point that reports numbers."""
    if not point.headcount_only:
        return []
    return [Problem("participant", _("Điểm cầu này báo cáo số lượng, không điểm danh theo tên."))]


def _not_at_point() -> Problem:
    # The same words whether the id is another point's delegate or nobody's: anything
    # more would let a coordinator count through ids and read every delegate's name.
    return Problem("participant", _("Không có đại biểu này ở điểm cầu này."))


def _not_here(person, point: BroadcastPoint) -> list[Problem]:
    """Why ``person`` (a row of ``statements().person``, or None) cannot be recorded at
    ``point``; nothing is said of a delegate of another point."""
    if person is None or person.point_id != point.id:
        return [_not_at_point()]
    if person.status != RegistrationStatus.REGISTERED:
        return [Problem("participant", _("%(name)s đã rút tên khỏi hội nghị.",
                                         name=person.full_name))]
    return []


def _move_count(session_id: int, old: AttendanceStatus, new: AttendanceStatus,
                source: BroadcastPoint, source_category: int,
                destination: BroadcastPoint, destination_category: int,
                now: datetime) -> None:
    """One delegate's count leaves one point and category for another.

    Both counter rows are taken in key order, so two moves in opposite directions at once
    wait for each other instead of deadlocking."""
    bumps = sorted([((source.id, source_category), source, source_category, {old.value: -1}),
                    ((destination.id, destination_category), destination,
                     destination_category, {new.value: 1})], key=lambda bump: bump[0])
    for _key, point, category_ref, deltas in bumps:
        bump_counts(session_id, point, category_ref, deltas, now)


def _logging(session_id: int, point: BroadcastPoint, participant_id: int, category_ref: int,
             old: AttendanceStatus | None, new: AttendanceStatus | None,
             method: CheckInMethod, user_id: int | None, now: datetime) -> dict:
    """The parameters of the log's insert."""
    return {
        "log_conference_id": point.conference_id, "log_session_id": session_id,
        "log_point_id": point.id, "log_participant_id": participant_id,
        "log_category_ref": category_ref, "log_old_status": old, "log_new_status": new,
        "log_method": method, "log_changed_by_id": user_id, "log_changed_at": now,
        "log_old_headcount": None, "log_new_headcount": None}


def _log(session_id: int, point: BroadcastPoint, participant_id: int, category_ref: int,
         old: AttendanceStatus | None, new: AttendanceStatus | None, method: CheckInMethod,
         user_id: int | None, now: datetime) -> None:
    run(statements().change, _logging(session_id, point, participant_id, category_ref, old,
                                      new, method, user_id, now))


def follow_delegates(moved: Iterable[tuple[int, BroadcastPoint, int]], *,
                     user_id: int | None, now: datetime | None = None) -> int:
    """Delegates moved to another point or given another category (``moved``: each one's
    id, the point they are at now and their category): their attendance rows and the
    counts of them go with them, so that each point's and each category's figures count
    the delegates it has (registrations are counted where the delegate is now).

    Each row moved is logged at its new point and category with its status unchanged, as
    a manual change: it is made by hand on the delegate's record. The counts move in the
    order of session, then point, as every writer of several takes them (delegate after
    delegate, a list taking a later session before an earlier one could deadlock with a
    single correction). The caller holds the delegates and commits; returns how many rows
    moved."""
    now = now or utcnow()
    target = {participant_id: (point, category_ref)
              for participant_id, point, category_ref in moved}
    a = Attendance.__table__
    rows = []
    ids = sorted(target)
    for start in range(0, len(ids), 1000):
        rows += db.session.execute(
            select(a.c.id, a.c.participant_id, a.c.session_id, a.c.point_id,
                   a.c.category_ref, a.c.status, a.c.arrived_at)
            .where(a.c.participant_id.in_(ids[start:start + 1000]))
            .order_by(a.c.id)
            # A check-in of one of them at the same moment changes the status first, or
            # waits.
            .with_for_update()).all()
    rows = sorted((row for row in rows
                   if (row.point_id, row.category_ref) != (target[row.participant_id][0].id,
                                                           target[row.participant_id][1])),
                  key=lambda row: (row.session_id, row.point_id, row.participant_id))
    going: dict[tuple[int, int], list[int]] = {}
    for row in rows:
        point, category_ref = target[row.participant_id]
        status = AttendanceStatus(row.status)
        source = db.session.get(BroadcastPoint, row.point_id)
        _move_count(row.session_id, status, status, source, row.category_ref,
                    point, category_ref, now)
        _log(row.session_id, point, row.participant_id, category_ref, status, status,
             CheckInMethod.MANUAL, user_id, now)
        # Counted in the province the delegate is in now, as every other figure.
        _move_arrival(row.session_id, source, status, row.arrived_at, point, status,
                      row.arrived_at)
        going.setdefault((point.id, category_ref), []).append(row.id)
    for (point_id, category_ref), row_ids in going.items():
        for start in range(0, len(row_ids), 1000):
            db.session.execute(a.update().where(a.c.id.in_(row_ids[start:start + 1000]))
                               .values(point_id=point_id, category_ref=category_ref))
    return len(rows)


def forget_attendance(participant_id: int, *, user_id: int | None,
                      now: datetime | None = None) -> int:
    """A delegate withdrew: their attendance leaves the counters and the rows, so that no
    rate counts someone who is no longer registered. The change log keeps what was
    recorded. The caller commits; returns how many rows went."""
    now = now or utcnow()
    a = Attendance.__table__
    # Held, so that a check-in of this delegate at the same moment waits rather than
    # changing a status this is about to subtract.
    rows = db.session.execute(select(a.c.session_id, a.c.point_id, a.c.category_ref,
                                     a.c.status, a.c.arrived_at)
                              .where(a.c.participant_id == participant_id)
                              .order_by(a.c.session_id)  # the counters' one order
                              .with_for_update()).all()
    for row in rows:
        point = db.session.get(BroadcastPoint, row.point_id)
        bump_counts(row.session_id, point, row.category_ref, {row.status: -1}, now)
        count_arrival(row.session_id, point, row.status, row.arrived_at, -1)
        _log(row.session_id, point, participant_id, row.category_ref, row.status, None,
             CheckInMethod.MANUAL, user_id, now)
    db.session.execute(a.delete().where(a.c.participant_id == participant_id))
    return len(rows)


def point_conference(point: BroadcastPoint) -> Conference:
    return db.session.get(Conference, point.conference_id)


def mark_all_present(session: AgendaSession, point: BroadcastPoint, *, user_id: int | None,
                     now: datetime | None = None) -> int:
    """Every registered delegate of the point not yet recorded becomes present; how many."""
    now = now or utcnow()
    # Refused as a whole even when nobody is waiting, rather than "0 marked" on a cancelled
    # or closed session.
    problems = session_problems(point_conference(point), session, now) + counts_only(point)
    if problems:
        raise RuleBroken(problems)
    recorded = select(Attendance.participant_id).where(Attendance.session_id == session.id)
    waiting = select(Participant.id).where(
        Participant.point_id == point.id,
        Participant.status == RegistrationStatus.REGISTERED,
        Participant.id.not_in(recorded),
    ).order_by(Participant.id)
    share_point(point)  # before the delegates, as a tap takes them
    held = db.session.scalars(waiting).all()
    hold_delegates(held)
    # Read again once held: one withdrawn or moved meanwhile is left out, not a refusal
    # of the whole; one registered meanwhile waits for the next press.
    held = set(held)
    waiting = [participant_id for participant_id in db.session.scalars(waiting)
               if participant_id in held]
    marked = 0
    for participant_id in waiting:
        # Someone recorded meanwhile (another device) keeps what was recorded.
        outcome = record(session, point, participant_id, AttendanceStatus.PRESENT,
                         user_id=user_id, method=CheckInMethod.ALL_PRESENT, now=now,
                         keep_existing=True)
        marked += outcome.changed
    return marked


def headcounts_out_of_range(point: BroadcastPoint, counts: dict[int, int]) -> list[Problem]:
    """A problem for each category's count below 0 or above MAX_HEADCOUNT."""
    wrong = [ref for ref, count in counts.items() if count < 0 or count > MAX_HEADCOUNT]
    if not wrong:
        return []
    names = _category_names(point.conference_id, wrong)
    return [Problem(f"count_{ref}", _("%(category)s: số người phải từ 0 đến 100.000.",
                                      category=names.get(ref, ref))) for ref in wrong]


def report_headcount(session: AgendaSession, point: BroadcastPoint, counts: dict[int, int], *,
                     user_id: int | None, now: datetime | None = None,
                     after_the_fact: bool = False,
                     expected: dict[int, int] | None = None) -> None:
    """Set how many attended, per category (``NO_CATEGORY`` for the rest); the caller commits.

    ``expected``: the counts the reporter saw for some of these categories. One that
    someone else changed since is refused, not overwritten unseen.
    """
    now = now or utcnow()
    conference = point_conference(point)
    problems = session_problems(conference, session, now, after_the_fact=after_the_fact)
    hold_point_as_it_is(point)
    if not point.headcount_only:
        problems.append(Problem("", _(
            "Điểm cầu này điểm danh theo tên; số lượng được tính từ danh sách.")))
    problems += headcounts_out_of_range(point, counts)
    if problems:
        # Told with the others, or a form sent again once they are mended would replace
        # a count reported meanwhile unseen.
        raise RuleBroken(problems + headcounts_changed_meanwhile(session, point, counts,
                                                                 expected or {}))
    # The point's totals rows are locked first, so two reports at once apply one after the
    # other.
    bump_counts(session.id, point, NO_CATEGORY, {}, now)
    if db.session.get_bind().dialect.name != "postgresql":
        # Read before SQLite's write lock, just taken: a point switched to names or moved
        # to another province meanwhile would be counted as it was.
        as_it_was = (point.headcount_only, point.province_code)
        hold_point_as_it_is(point)
        if (point.headcount_only, point.province_code) != as_it_was:
            raise RuleBroken([Problem("", _(
                "Điểm cầu vừa được đổi cách báo cáo hoặc tỉnh, thành phố; hãy xem lại và "
                "ghi lại."))])
    before = _headcounts_now(session, point)
    changed = headcounts_changed_meanwhile(session, point, counts, expected or {}, before)
    if changed:
        raise RuleBroken(changed)
    for category_ref, count in sorted(counts.items()):
        old = before.get(category_ref, 0)
        if old == count:
            continue
        bump_counts(session.id, point, category_ref, {"headcount": count - old}, now)
        db.session.execute(insert(AttendanceChange.__table__).values(
            conference_id=point.conference_id, session_id=session.id, point_id=point.id,
            participant_id=None, category_ref=category_ref, old_headcount=old,
            new_headcount=count, method=CheckInMethod.HEADCOUNT, changed_by_id=user_id,
            changed_at=now))


def _headcounts_now(session: AgendaSession, point: BroadcastPoint) -> dict[int, int]:
    table = SessionPointCategoryCount.__table__
    return dict(db.session.execute(
        select(table.c.category_ref, table.c.headcount)
        .where(table.c.session_id == session.id, table.c.point_id == point.id)).all())


def headcounts_changed_meanwhile(session: AgendaSession, point: BroadcastPoint,
                                 counts: dict[int, int], expected: dict[int, int],
                                 now_reported: dict[int, int] | None = None) -> list[Problem]:
    """A problem for each category whose count someone reported since the reporter saw
    ``expected`` there (unless what they reported is what is sent now)."""
    if now_reported is None:
        now_reported = _headcounts_now(session, point)
    changed = [ref for ref, seen in expected.items() if ref in counts
               and now_reported.get(ref, 0) not in (seen, counts[ref])]
    names = _category_names(point.conference_id, changed) if changed else {}
    return [Problem(f"count_{ref}", _(
        "%(category)s: người khác vừa báo cáo %(count)d; bấm ghi lần nữa để thay bằng số "
        "bạn nhập.", category=names.get(ref, ref), count=now_reported.get(ref, 0)))
        for ref in sorted(changed)]


def _category_names(conference_id: int, refs: list[int]) -> dict[int, str]:
    """The names of categories a headcount names, as the headcount form shows them."""
    names = dict(db.session.execute(select(Category.id, Category.name).where(
        Category.conference_id == conference_id, Category.id.in_(refs))).all())
    names[NO_CATEGORY] = str(NO_CATEGORY_NAME)
    return names


def rebuild_counts(conference_id: int) -> None:
    """Recompute a conference's counters from its attendance rows (after a bulk load).

    Headcounts have no rows behind them, so they are carried over as they are: each
    point's is its categories' sum again. Rows loaded without their arrival time take it
    from the change log loaded with them.
    """
    write_arrivals()
    _fill_arrival_times(conference_id)
    _rebuild_arrivals(conference_id)
    for table, keys in COUNTER_KEYS:
        db.session.execute(update(table).where(table.c.conference_id == conference_id)
                           .values(present=0, late=0, excused=0, absent=0))
        rows = [dict(row._mapping)
                for row in db.session.execute(counters_from_rows(table, conference_id))]
        if rows:
            stmt = dialect_insert(table)
            db.session.execute(stmt.on_conflict_do_update(
                index_elements=list(keys),
                set_={name: stmt.excluded[name]
                      for name in (*(s.value for s in AttendanceStatus), "province_code")}),
                rows)
    _rebuild_headcount_totals(conference_id)


def _rebuild_headcount_totals(conference_id: int) -> None:
    """Each point's headcount is its categories' sum again, and no head is lost on the way:
    a total whose category rows are gone keeps its heads (they go to "no category"), and a
    total that is gone is made again from its categories. In SQL: a national conference
    has a quarter of a million of them."""
    totals = SessionPointCount.__table__
    parts = SessionPointCategoryCount.__table__
    per_point = (select(parts.c.session_id, parts.c.point_id,
                        func.sum(parts.c.headcount).label("heads"))
                 .where(parts.c.conference_id == conference_id)
                 .group_by(parts.c.session_id, parts.c.point_id).subquery())
    beyond = totals.c.headcount - func.coalesce(per_point.c.heads, 0)
    statuses = [status.value for status in AttendanceStatus]
    lost = dialect_insert(parts).from_select(
        ["session_id", "point_id", "category_ref", "conference_id", "province_code",
         *statuses, "headcount"],
        select(totals.c.session_id, totals.c.point_id, literal(NO_CATEGORY),
               totals.c.conference_id, totals.c.province_code,
               *(literal(0) for _ in statuses), beyond)
        .outerjoin(per_point, and_(per_point.c.session_id == totals.c.session_id,
                                   per_point.c.point_id == totals.c.point_id))
        .where(totals.c.conference_id == conference_id, beyond > 0))
    db.session.execute(lost.on_conflict_do_update(
        index_elements=["session_id", "point_id", "category_ref"],
        set_={"headcount": parts.c.headcount + lost.excluded.headcount}))
    db.session.execute(update(totals).where(totals.c.conference_id == conference_id).values(
        headcount=select(func.coalesce(func.sum(parts.c.headcount), 0)).where(
            parts.c.session_id == totals.c.session_id,
            parts.c.point_id == totals.c.point_id).scalar_subquery()))
    made_again = dialect_insert(totals).from_select(
        ["session_id", "point_id", "conference_id", "province_code", *statuses, "headcount",
         "updated_at"],
        select(parts.c.session_id, parts.c.point_id, parts.c.conference_id,
               func.max(parts.c.province_code), *(literal(0) for _ in statuses),
               func.sum(parts.c.headcount), literal(utcnow(), UTCDateTime))
        .where(parts.c.conference_id == conference_id)
        .group_by(parts.c.session_id, parts.c.point_id, parts.c.conference_id))
    db.session.execute(made_again.on_conflict_do_nothing())


#: The counters of statuses, each with the columns that key it.
COUNTER_KEYS = ((SessionPointCount.__table__, ("session_id", "point_id")),
                (SessionPointCategoryCount.__table__, ("session_id", "point_id", "category_ref")))


def counters_from_rows(table: Table, conference_id: int) -> Select:
    """What one of the COUNTER_KEYS tables should hold for a conference, summed from its
    attendance rows: one row per key with a row behind it, the point's province and a
    total per status (and the time of the last change, where the table keeps it)."""
    keys = dict(COUNTER_KEYS)[table]
    a = Attendance.__table__
    p = BroadcastPoint.__table__
    return (
        select(*(a.c[k] for k in keys), a.c.conference_id,
               func.coalesce(p.c.province_code, "").label("province_code"),
               *(func.sum(case((a.c.status == s.value, 1), else_=0)).label(s.value)
                 for s in AttendanceStatus),
               *([func.max(a.c.recorded_at).label("updated_at")]
                 if "updated_at" in table.c else []))
        .join(p, p.c.id == a.c.point_id)
        .where(a.c.conference_id == conference_id)
        .group_by(*(a.c[k] for k in keys), a.c.conference_id, p.c.province_code)
    )


def _arrival_changes():
    """The log's changes that bring a delegate in: into present or late, from nothing,
    absent or excused, but not from a paper list (``UNTIMED``)."""
    c = AttendanceChange.__table__
    return (c.c.new_status.in_(HERE) & (c.c.method != UNTIMED)
            & or_(c.c.old_status.is_(None), c.c.old_status.not_in(HERE)))


def _fill_arrival_times(conference_id: int) -> None:
    """Rows without an arrival time get the first arrival the log holds for them."""
    a = Attendance.__table__
    c = AttendanceChange.__table__
    sessions = select(AgendaSession.id).where(AgendaSession.conference_id == conference_id)
    first = (select(c.c.participant_id, c.c.session_id,
                    func.min(c.c.changed_at).label("arrived_at"))
             .where(c.c.session_id.in_(sessions), c.c.participant_id.is_not(None),
                    _arrival_changes())
             .group_by(c.c.participant_id, c.c.session_id).subquery())
    db.session.execute(
        update(a).where(a.c.conference_id == conference_id, a.c.arrived_at.is_(None),
                        a.c.participant_id == first.c.participant_id,
                        a.c.session_id == first.c.session_id)
        .values(arrived_at=first.c.arrived_at))


def _rebuild_arrivals(conference_id: int) -> None:
    table = SessionArrivalCount.__table__
    db.session.execute(table.delete().where(table.c.conference_id == conference_id))
    db.session.execute(table.insert().from_select(
        ["session_id", "province_code", "minute", "conference_id", "arrivals"],
        arrivals_from_rows(conference_id)))


def arrivals_from_rows(conference_id: int) -> Select:
    """What the arrival counters should hold for a conference, counted from its attendance
    rows: (session, province, minute, conference, arrivals)."""
    a = Attendance.__table__
    p = BroadcastPoint.__table__
    province = func.coalesce(p.c.province_code, "").label("province_code")
    minute = arrival_minute(a.c.arrived_at).label("minute")
    return (select(a.c.session_id, province, minute, a.c.conference_id,
                   func.count().label("arrivals"))
            .join(p, p.c.id == a.c.point_id)
            .where(a.c.conference_id == conference_id, a.c.status.in_(HERE),
                   a.c.arrived_at.is_not(None))
            .group_by(a.c.session_id, province, minute, a.c.conference_id))


def arrivals_follow_provinces(conference_id: int) -> None:
    """Move the arrivals of points that changed province to their new province.

    Call it after the points' provinces change and before their other counters take the
    new province (``points.importing.counts_follow_provinces``): the point-and-session
    counters still name the province each point's arrivals are counted in. Reads only
    the moved points' rows.
    """
    write_arrivals()
    counts = SessionPointCount.__table__
    p = BroadcastPoint.__table__
    a = Attendance.__table__
    province = func.coalesce(p.c.province_code, "")
    moved = (select(counts.c.session_id, counts.c.point_id, counts.c.province_code.label("old"),
                    province.label("new"))
             .join(p, p.c.id == counts.c.point_id)
             .where(counts.c.conference_id == conference_id,
                    counts.c.province_code != province).subquery())
    minute = arrival_minute(a.c.arrived_at)
    rows = db.session.execute(
        select(a.c.session_id, moved.c.old, moved.c.new, minute.label("minute"),
               func.count().label("arrivals"))
        .join(moved, (moved.c.session_id == a.c.session_id)
              & (moved.c.point_id == a.c.point_id))
        .where(a.c.status.in_(HERE), a.c.arrived_at.is_not(None))
        .group_by(a.c.session_id, moved.c.old, moved.c.new, minute)).all()
    for row in rows:
        _pend(row.session_id, row.old, row.minute, conference_id, -row.arrivals)
        _pend(row.session_id, row.new, row.minute, conference_id, row.arrivals)
    write_arrivals()


def recorded(session: AgendaSession, participant_id: int):
    """What is recorded of the delegate at the session (its status and method), or None."""
    return db.session.execute(select(Attendance.status, Attendance.method).where(
        Attendance.session_id == session.id, Attendance.participant_id == participant_id)
    ).first()
