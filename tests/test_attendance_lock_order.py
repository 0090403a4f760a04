"""Writers of several delegates' attendance take what they hold in one order: the points'
locks, then the delegates (by id), then the counters (by session, then point). Each test
pauses one writer midway while another runs; before the order was kept, PostgreSQL
killed one of the two ("deadlock detected"). SQLite has one writer at a time and cannot
deadlock so: these run on PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from confmgr.attendance import checkin
from confmgr.attendance.batch import Sent, record_batch
from confmgr.conferences.models import AgendaSession, Conference
from confmgr.db import db
from confmgr.enums import AttendanceStatus, CheckInMethod, SessionKind
from confmgr.roster import importing, services
from confmgr.roster.models import Category, Participant
from confmgr.spreadsheets import read_table
from tests.helpers import race
from tests.test_attendance import fresh_session
from tests.test_attendance_follows_roster import (
    assert_counters_equal_a_recount,
    fields_of,
    people,
    point,
)

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

P, A = AttendanceStatus.PRESENT, AttendanceStatus.ABSENT
#: Long after any session: a device's batch is taken whenever it comes.
ANY_DELAY = timedelta(days=36500)


def batch_of(session_id: int, now, *sent: tuple[int, AttendanceStatus, int]):
    """A device's batch of (delegate, status, session) check-ins, as a callable."""
    def send() -> None:
        record_batch(db.session.scalar(select(Conference)), [
            Sent(f"device-{index}", person_id, session, status)
            for index, (person_id, status, session) in enumerate(sent)],
            user_id=None, may_record=lambda _point: True, late_by=ANY_DELAY, now=now)
    return send


def first_two_with_the_second_recorded(demo):
    """The last session, a moment into it, and the first two delegates of Uông Bí, the
    second already recorded present there (a withdrawal, a move or a correction of them
    then moves that session's counts); and a category the second is not in."""
    with demo.app_context():
        session = fresh_session()
        now = session.starts_at + timedelta(minutes=5)
        first, second = [p.id for p in people("06811")[:2]]
        checkin.record(session, point("06811"), second, P, user_id=None,
                       method=CheckInMethod.MANUAL, now=now)
        db.session.commit()
        other = db.session.scalar(select(Category.id).where(
            Category.id != db.session.get(Participant, second).category_id)
            .order_by(Category.id))
        return session.id, now, first, second, other


def withdraw(person_id: int, _category: int | None = None) -> None:
    services.withdraw(db.session.get(Participant, person_id), organiser=True)


def move(person_id: int, _category: int | None = None) -> None:
    services.move(db.session.get(Participant, person_id), point("06688"))


def correct(person_id: int, category: int | None = None) -> None:
    person = db.session.get(Participant, person_id)
    services.update_person(person, fields_of(person, category_id=category), organiser=True)


@pytest.mark.parametrize("change", [withdraw, move, correct])
def test_a_batch_and_a_change_of_a_delegate_it_names_later_both_apply(demo, change):
    """The batch has written its first check-in (the row and the counters) when the
    second delegate is withdrawn, moved or recategorised: the batch held the second
    delegate only then, after the counters the change wants next."""
    session_id, now, first, second, category = first_two_with_the_second_recorded(demo)
    errors = race(demo, batch_of(session_id, now, (first, A, session_id),
                                 (second, A, session_id)),
                  "WITH row_written", lambda: change(second, category))
    assert errors == {}
    with demo.app_context():
        assert_counters_equal_a_recount()


def test_a_paper_list_and_a_withdrawal_of_a_delegate_on_it_both_apply(demo):
    """A paper list records its rows one after the other: it held each delegate after the
    counters of the rows before."""
    from confmgr.accounts.models import User
    from confmgr.attendance import importing as paper_lists
    from confmgr.spreadsheets import Row

    session_id, now, first, second, _category = first_two_with_the_second_recorded(demo)
    with demo.app_context():
        session = db.session.get(AgendaSession, session_id)
        names = {p.id: p.full_name for p in people("06811")[:2]}
        rows = [Row(2, {"full_name": names[first], "status": "có mặt", "phone": "", "ref": ""}),
                Row(3, {"full_name": names[second], "status": "vắng", "phone": "", "ref": ""})]
        checked = paper_lists.check_rows(point("06811"), session, rows)
        user_id = db.session.scalar(select(User.id).order_by(User.id))
        token = paper_lists.keep_for_confirmation(point("06811"), session, user_id, "ds.csv",
                                                  checked)
        db.session.commit()

    def confirm() -> None:
        paper_lists.confirm(point("06811"), db.session.get(AgendaSession, session_id),
                            user_id, token, now=now)

    assert race(demo, confirm, "WITH row_written", lambda: withdraw(second)) == {}
    with demo.app_context():
        assert_counters_equal_a_recount()


def list_kept(heading: str, edits: list[tuple[Participant, str]]) -> str:
    """Uông Bí's list sent back with one column (``heading``) edited for each delegate of
    ``edits``, previewed and kept for confirmation; its token (committed)."""
    lines = [f"Mã đại biểu,Họ và tên,{heading}"] + [
        f"{person.id},{person.full_name},{value}" for person, value in edits]
    rows = read_table(("\n".join(lines) + "\n").encode(), "ds.csv", importing.COLUMNS,
                      max_rows=importing.MAX_ROWS, max_bytes=importing.MAX_BYTES)
    checked = importing.check_rows(point("06811"), rows)
    token = importing.keep_for_confirmation(point("06811"), 0, "ds.csv", checked)
    db.session.commit()
    return token


def test_a_batch_and_a_list_editing_the_delegates_it_names_both_apply(demo):
    """A device's batch names two delegates of Uông Bí, the later numbered first, while a
    list editing both is confirmed: the list holds them in the order of their ids, the
    batch held them in the order sent."""
    with demo.app_context():
        session = fresh_session()
        session_id, now = session.id, session.starts_at + timedelta(minutes=5)
        low, high = people("06811")[:2]
        low_id, high_id = low.id, high.id
        token = list_kept("Chức vụ", [(low, "Chức vụ mới"), (high, "Chức vụ mới")])
    errors = race(demo, batch_of(session_id, now, (high_id, P, session_id),
                                 (low_id, P, session_id)),
                  "WITH row_written",
                  lambda: importing.confirm(point("06811"), 0, token, organiser=True))
    assert errors == {}
    with demo.app_context():
        assert {db.session.get(Participant, i).position for i in (low_id, high_id)} == {
            "Chức vụ mới"}


def two_sessions():
    """The last two topic sessions, earlier first, and a moment when both are open."""
    earlier, later = db.session.scalars(
        select(AgendaSession).where(AgendaSession.kind == SessionKind.TOPIC)
        .order_by(AgendaSession.starts_at.desc())).all()[:2][::-1]
    return earlier, later, later.starts_at + timedelta(minutes=5)


@pytest.mark.parametrize("later_first", [True, False], ids=["later first", "earlier first"])
def test_a_batch_over_two_sessions_and_a_withdrawal_both_apply(demo, later_first):
    """The batch names two delegates of Uông Bí, one in each of two sessions; a third,
    who attended both, is withdrawn. No delegate is shared, only the point's counters of
    the two sessions: the batch took them in the order sent, the withdrawal in the
    order of its rows."""
    with demo.app_context():
        earlier, later, now = two_sessions()
        a, b, x = [p.id for p in people("06811")[:3]]
        for person_id in (a, b, x):
            checkin.forget_attendance(person_id, user_id=None)
        for session in (earlier, later):
            checkin.record(session, point("06811"), x, P, user_id=None,
                           method=CheckInMethod.MANUAL, now=now, after_the_fact=True)
        db.session.commit()
        sent = [(a, A, later.id), (b, A, earlier.id)]
    if not later_first:
        sent.reverse()
    errors = race(demo, batch_of(0, now, *sent), "WITH row_written", lambda: withdraw(x))
    assert errors == {}
    with demo.app_context():
        assert_counters_equal_a_recount()


def test_a_list_recategorising_two_and_a_correction_of_a_third_both_apply(demo):
    """A list gives A (who attended the later session) and B (the earlier) a new
    category; meanwhile X, who attended both, is given another. The list moved each
    delegate's counts in turn, the later session's first; the correction moves the
    earlier's first."""
    with demo.app_context():
        c1, _c2, c3, c4 = db.session.execute(
            select(Category.id, Category.name).order_by(Category.id)).all()[:4]
        earlier, later, now = two_sessions()
        a, b, x = people("06811")[:3]
        for person, category in ((a, c3), (b, c3), (x, c1)):
            services.update_person(person, fields_of(person, category_id=category.id),
                                   organiser=True)
            checkin.forget_attendance(person.id, user_id=None)
        for session, person in ((later, a), (earlier, b), (earlier, x), (later, x)):
            checkin.record(session, point("06811"), person.id, P, user_id=None,
                           method=CheckInMethod.MANUAL, now=now, after_the_fact=True)
        db.session.commit()
        token = list_kept("Thành phần", [(a, c4.name), (b, c4.name)])
        x_id, c2_id = x.id, _c2.id
    errors = race(demo, lambda: importing.confirm(point("06811"), 0, token, organiser=True),
                  "INSERT INTO session_point_counts", lambda: correct(x_id, c2_id))
    assert errors == {}
    with demo.app_context():
        assert_counters_equal_a_recount()


def tap(session_id: int, person_id: int, now, status=A):
    """A coordinator's tap at Uông Bí, as a callable."""
    def record() -> None:
        checkin.record(db.session.get(AgendaSession, session_id), point("06811"), person_id,
                       status, user_id=None, method=CheckInMethod.MANUAL, now=now)
    return record


def open_at_uong_bi(demo) -> tuple[int, object, list[int]]:
    with demo.app_context():
        session = fresh_session()
        return (session.id, session.starts_at + timedelta(minutes=5),
                [p.id for p in people("06811")])


@pytest.mark.parametrize("counted_before", [False, True], ids=["new counters", "counters there"])
def test_all_present_and_a_tap_of_a_delegate_it_marks_later_both_apply(demo, counted_before):
    """"All present" has marked its first delegate when a coordinator taps the last one:
    held shared, as a tap holds its one, the delegate did not keep the tap waiting; the
    tap wrote its row and waited for the counters, "all present" for the tap's row."""
    session_id, now, ids = open_at_uong_bi(demo)
    if counted_before:
        with demo.app_context():
            tap(session_id, ids[3], now)()
            db.session.commit()

    def all_present() -> None:
        checkin.mark_all_present(db.session.get(AgendaSession, session_id), point("06811"),
                                 user_id=None, now=now)

    assert race(demo, all_present, "WITH row_written", tap(session_id, ids[-1], now)) == {}
    with demo.app_context():
        assert_counters_equal_a_recount()


@pytest.mark.parametrize("other", ["tap", "batch"])
def test_a_batch_and_a_tap_or_batch_naming_its_second_delegate_both_apply(demo, other):
    """Another device (a tap, or a batch of its own) records the delegate a batch names
    second while the batch is past its first."""
    session_id, now, ids = open_at_uong_bi(demo)
    second = (tap(session_id, ids[1], now) if other == "tap" else batch_of(
        session_id, now, (ids[1], P, session_id)))

    def first_device() -> None:
        record_batch(db.session.scalar(select(Conference)), [
            Sent(f"first-device-{index}", person_id, session_id, P)
            for index, person_id in enumerate(ids[:2])],
            user_id=None, may_record=lambda _point: True, late_by=ANY_DELAY, now=now)

    assert race(demo, first_device, "WITH row_written", second) == {}
    with demo.app_context():
        assert_counters_equal_a_recount()
