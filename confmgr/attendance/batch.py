"""Check-ins sent in batches by devices that retry: each carries an id its sender made up.

A batch is applied whole or not at all. A check-in whose id was received before is
answered with its first outcome and changes nothing, so a device that lost the answer to
a request can simply send it again.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from flask_babel import gettext as _
from sqlalchemy import select, update

from confmgr.attendance.checkin import (
    hold_delegates,
    hold_points_as_they_are,
    record,
    session_problems,
    window,
)
from confmgr.attendance.models import CheckInReceipt
from confmgr.conferences.editing import RuleBroken
from confmgr.conferences.models import AgendaSession, Conference
from confmgr.conferences.publishing import published_timezone
from confmgr.conferences.scheduling import Problem
from confmgr.db import db, dialect_insert, utcnow
from confmgr.enums import AttendanceStatus, CheckInMethod
from confmgr.i18n import format_datetime, to_local
from confmgr.points.models import BroadcastPoint
from confmgr.roster.models import Participant


@dataclass(frozen=True)
class Sent:
    client_id: str
    participant_id: int
    session_id: int
    status: AttendanceStatus
    #: When the device took the check-in, if it says (UTC): when the delegate came in.
    taken_at: datetime | None = None


#: How far ahead of the server a device's clock may run before its times are refused.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Received:
    client_id: str
    participant_id: int
    session_id: int
    status: AttendanceStatus
    #: Whether the first sending changed the delegate's attendance.
    changed: bool
    #: Whether this id had been received before (and so nothing was done now).
    replayed: bool
    #: Whether the first sending changed nothing because a change recorded after the device
    #: took the check-in stood (see checkin.record).
    superseded: bool = False


def _same(receipt: CheckInReceipt, sent: Sent) -> bool:
    return (receipt.participant_id, receipt.session_id, receipt.status) == (
        sent.participant_id, sent.session_id, sent.status)


#: How far a device's clock may be off before its batch is refused, not set right.
CLOCK_SET_RIGHT = timedelta(days=1)


def on_server_clock(conference: Conference, batch: list[Sent], sent_at: datetime | None,
                    now: datetime) -> list[Sent]:
    """The batch with its times as the server's clock has them: ``sent_at`` is when the
    device sent it by its own clock (stamped at each sending), so the device's clock runs
    ``now - sent_at`` behind (a phone's set by hand may be minutes off). Without it, the
    times are the device's. A clock off by more than CLOCK_SET_RIGHT is refused."""
    if sent_at is None:
        return batch
    behind = now - sent_at
    if abs(behind) > CLOCK_SET_RIGHT:
        zone = published_timezone(conference)
        raise RuleBroken([Problem("sent_at", _(
            "Giờ gửi %(at)s lệch hơn một ngày so với máy chủ (%(now)s): đồng hồ của máy gửi "
            "đang sai; hãy chỉnh lại rồi gửi lại.", at=format_datetime(to_local(sent_at, zone)),
            now=format_datetime(to_local(now, zone))))])
    return [replace(sent, taken_at=_shifted(sent.taken_at, behind)) if sent.taken_at else sent
            for sent in batch]


#: The times every zone can show (the API takes no other): a time set right beyond them is
#: left as sent, and refused as outside the session's hours all the same.
_SHOWN = (datetime(2, 1, 1, tzinfo=timezone.utc), datetime(9998, 12, 31, tzinfo=timezone.utc))


def _shifted(moment: datetime, by: timedelta) -> datetime:
    shifted = moment + by  # by at most CLOCK_SET_RIGHT: within what datetime holds
    return shifted if _SHOWN[0] <= shifted <= _SHOWN[1] else moment


def record_batch(conference: Conference, batch: list[Sent], *, user_id: int | None,
                 may_record: Callable[[BroadcastPoint], bool],
                 late_by: timedelta,
                 now: datetime | None = None,
                 sent_at: datetime | None = None) -> list[Received]:
    """Apply every check-in of the batch, or raise RuleBroken naming each one at fault.

    ``sent_at``: when the device sent the batch by its own clock, which sets its times
    right (on_server_clock).

    ``may_record`` says whether the sender may take attendance at a point. A check-in may
    arrive up to ``late_by`` after the session's check-in closed (a device that was
    offline sends what it recorded); later, attendance goes in as a paper list, which
    the point's coordinator checks first. The caller commits, or rolls back on
    RuleBroken. Problems name ``checkins/<index>/<member>``.
    """
    now = now or utcnow()
    batch = on_server_clock(conference, batch, sent_at, now)
    problems: list[Problem] = []
    first_index: dict[str, int] = {}
    for index, sent in enumerate(batch):
        if sent.client_id in first_index:
            problems.append(Problem(f"checkins/{index}/id", _(
                "Mã %(id)s đã có ở mục %(first)d của cùng lần gửi.", id=sent.client_id,
                first=first_index[sent.client_id])))
        first_index.setdefault(sent.client_id, index)
    if problems:
        raise RuleBroken(problems)

    sessions = {s.id: s for s in db.session.scalars(select(AgendaSession).where(
        AgendaSession.conference_id == conference.id,
        AgendaSession.id.in_({sent.session_id for sent in batch})))}
    point_of = dict(db.session.execute(select(Participant.id, Participant.point_id).where(
        Participant.conference_id == conference.id,
        Participant.id.in_({sent.participant_id for sent in batch}))).all())
    points = {p.id: p for p in db.session.scalars(select(BroadcastPoint).where(
        BroadcastPoint.id.in_(set(point_of.values()))))}
    allowed = {point_id: may_record(point) for point_id, point in points.items()}
    # Held before the first is recorded, in the one order: a batch holding one point while
    # waiting for another could otherwise wait for a points import waiting for it.
    hold_points_as_they_are(points.values())
    hold_delegates(point_of)  # then the delegates, as a tap takes its one
    # What earlier sendings left, read once for the batch.
    receipts = {r.client_id: r for r in db.session.scalars(select(CheckInReceipt).where(
        CheckInReceipt.client_id.in_({sent.client_id for sent in batch})))}

    table = CheckInReceipt.__table__
    claim = dialect_insert(table).on_conflict_do_nothing(index_elements=["client_id"])
    # Recorded in the order of session, then point: the order every writer of several
    # takes the counters in (the order sent could deadlock with another batch, or with a
    # withdrawal of a delegate who attended several sessions); one delegate's in the order
    # they were taken, so that the latest stands (a device's queue need not be in order;
    # one sent without a time was taken as it arrives), as it does against changes
    # recorded before the batch came (record). Answered in the order sent.
    in_order = sorted(range(len(batch)), key=lambda index: (
        batch[index].session_id, point_of.get(batch[index].participant_id, 0),
        batch[index].participant_id, batch[index].taken_at or now))
    received_at: dict[int, Received] = {}
    problems_at: dict[int, list[Problem]] = {}
    for index in in_order:
        sent = batch[index]
        found = problems_at.setdefault(index, [])
        where = f"checkins/{index}"
        kept = receipts.get(sent.client_id)
        if (kept is not None and _same(kept, sent) and kept.conference_id == conference.id
                and kept.recorded_by_id == user_id):
            # Sent again by the device that sent it: answered as the first time, even if
            # the delegate has moved since or the session has closed.
            received_at[index] = Received(sent.client_id, sent.participant_id,
                                          sent.session_id, kept.status, kept.changed,
                                          replayed=True, superseded=kept.superseded)
            continue
        session = sessions.get(sent.session_id)
        point_id = point_of.get(sent.participant_id)
        if session is None:
            found.append(Problem(f"{where}/session_id", _("Không có phiên này trong hội nghị.")))
        if point_id is None or not allowed[point_id]:
            # Another point's delegates are as unknown to the sender as nonexistent ones.
            found.append(Problem(f"{where}/participant_id", _(
                "Không có đại biểu này ở các điểm cầu bạn phụ trách.")))
        if session is None or point_id is None or not allowed[point_id]:
            continue
        taken_wrong = _taken_problem(conference, session, sent.taken_at, now)
        if taken_wrong:
            found.append(Problem(f"{where}/taken_at", taken_wrong))
            continue
        claimed = db.session.execute(claim.values(
            client_id=sent.client_id, conference_id=conference.id,
            participant_id=sent.participant_id, session_id=sent.session_id,
            status=sent.status, changed=False, recorded_by_id=user_id,
            received_at=now).returning(table.c.client_id)).first()
        if claimed is None:
            receipt = db.session.get(CheckInReceipt, sent.client_id)
            if not _same(receipt, sent):
                found.append(Problem(f"{where}/id", _(
                    "Mã %(id)s đã được dùng cho một lần điểm danh khác.", id=sent.client_id)))
                continue
            received_at[index] = Received(sent.client_id, sent.participant_id,
                                          sent.session_id, receipt.status, receipt.changed,
                                          replayed=True, superseded=receipt.superseded)
            continue
        # A session cancelled, a break or a draft: record() says so, rather than advising
        # a paper list that would be refused as well.
        if not session_problems(conference, session, now, after_the_fact=True):
            closes = window(conference, session)[1]
            if now > closes + late_by:
                found.append(Problem(f"{where}/session_id", _(
                    "Điểm danh phiên «%(title)s» đã đóng lúc %(at)s, quá lâu để nhận từ máy "
                    "gửi chậm; hãy tải lên danh sách giấy.", title=session.attendance_title,
                    at=format_datetime(to_local(closes, published_timezone(conference))))))
                continue
        try:
            outcome = record(session, points[point_id], sent.participant_id, sent.status,
                             user_id=user_id, method=CheckInMethod.API, now=now,
                             after_the_fact=True,
                             taken_at=min(sent.taken_at, now) if sent.taken_at else None)
        except RuleBroken as broken:
            found.extend(Problem(f"{where}/{problem.field}_id" if problem.field else where,
                                    problem.message) for problem in broken.problems)
            continue
        if outcome.changed or outcome.superseded:
            db.session.execute(update(table).where(table.c.client_id == sent.client_id)
                               .values(changed=outcome.changed, superseded=outcome.superseded))
        received_at[index] = Received(sent.client_id, sent.participant_id, sent.session_id,
                                      sent.status, outcome.changed, replayed=False,
                                      superseded=outcome.superseded)
    problems = [problem for index in sorted(problems_at) for problem in problems_at[index]]
    if problems:
        raise RuleBroken(problems)
    return [received_at[index] for index in sorted(received_at)]


def _taken_problem(conference: Conference, session: AgendaSession, taken_at: datetime | None,
                   now: datetime) -> str | None:
    """Why a device's time for a check-in cannot be when the delegate came in: after it
    reached the server (the device's clock is wrong), or outside the session's check-in
    hours, when the sheet would have refused the tap."""
    if taken_at is None or session.published_ends_at is None:
        return None  # a session never published: record() says it is unknown
    zone = published_timezone(conference)
    if taken_at > now + CLOCK_SKEW:
        return _("Giờ ghi %(at)s muộn hơn lúc máy chủ nhận (%(now)s): đồng hồ của máy gửi "
                 "đang sai; hãy chỉnh lại rồi gửi lại.",
                 at=format_datetime(to_local(taken_at, zone)),
                 now=format_datetime(to_local(now, zone)))
    opens, closes = window(conference, session)
    if not opens <= taken_at <= closes:
        return _("Giờ ghi %(at)s ngoài giờ điểm danh phiên «%(title)s» (từ %(opens)s đến "
                 "%(closes)s).", at=format_datetime(to_local(taken_at, zone)),
                 title=session.attendance_title, opens=format_datetime(to_local(opens, zone)),
                 closes=format_datetime(to_local(closes, zone)))
    return None
