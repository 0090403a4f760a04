"""Attendance follows the delegate: a change of category or a move to another point takes
the attendance rows and their counts along, so reports never contradict the roster."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, func, select

from confmgr.attendance import checkin, reports, sheet
from confmgr.attendance.models import (
    NO_CATEGORY,
    Attendance,
    AttendanceChange,
    SessionPointCategoryCount,
    SessionPointCount,
)
from confmgr.conferences.editing import RuleBroken
from confmgr.conferences.models import AgendaSession, Conference
from confmgr.db import db
from confmgr.enums import AttendanceStatus, CheckInMethod, RegistrationStatus
from confmgr.points.models import BroadcastPoint
from confmgr.roster import services
from confmgr.roster.models import Category, Participant, PointCategoryRegistration
from tests.helpers import race, run_at_once
from tests.test_attendance import fresh_session

P, L, E = AttendanceStatus.PRESENT, AttendanceStatus.LATE, AttendanceStatus.EXCUSED
SECRETARIES = "Bí thư, Phó Bí thư cấp ủy"


def point(code: str) -> BroadcastPoint:
    return db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == code))


def category(name: str) -> int:
    return db.session.scalar(select(Category.id).where(Category.name == name))


def people(code: str) -> list[Participant]:
    return list(db.session.scalars(select(Participant).where(
        Participant.point_id == point(code).id).order_by(Participant.id)))


def fields_of(person: Participant, **changes) -> services.PersonFields:
    return services.PersonFields(**{
        "full_name": person.full_name, "position": person.position, "unit": person.unit,
        "category_id": person.category_id, "phone": person.phone, "email": person.email,
        "note": person.note, **changes})


def tap(session, where: BroadcastPoint, person_id: int, status: AttendanceStatus, now):
    return checkin.record(session, where, person_id, status, user_id=None,
                          method=CheckInMethod.MANUAL, now=now)


def counters() -> dict[tuple, tuple]:
    """Every non-zero counter row, by key, with its province and per-status counts."""
    found = {}
    for model, keys in ((SessionPointCount, ("session_id", "point_id")),
                        (SessionPointCategoryCount, ("session_id", "point_id", "category_ref"))):
        for row in db.session.scalars(select(model)):
            values = (row.present, row.late, row.excused, row.absent, row.headcount)
            if any(values):
                found[(model.__tablename__, *(getattr(row, k) for k in keys))] = (
                    row.province_code, *values)
    return found


def assert_counters_equal_a_recount() -> None:
    kept = counters()
    checkin.rebuild_counts(db.session.scalar(select(Conference.id)))
    assert counters() == kept
    db.session.rollback()


def point_counts(session_id: int, code: str) -> dict[str, int]:
    row = db.session.get(SessionPointCount, (session_id, point(code).id))
    return {s.value: getattr(row, s.value) for s in AttendanceStatus
            if row is not None and getattr(row, s.value)}


def category_counts(session_id: int, code: str, category_ref: int) -> dict[str, int]:
    row = db.session.get(SessionPointCategoryCount, (session_id, point(code).id, category_ref))
    return {s.value: getattr(row, s.value) for s in AttendanceStatus
            if row is not None and getattr(row, s.value)}


def log_of(person_id: int) -> list[tuple]:
    return db.session.execute(
        select(AttendanceChange.session_id, AttendanceChange.point_id,
               AttendanceChange.category_ref, AttendanceChange.old_status,
               AttendanceChange.new_status, AttendanceChange.method)
        .where(AttendanceChange.participant_id == person_id)
        .order_by(AttendanceChange.id)).all()


@pytest.fixture
def during(demo):
    """The demo, and 'now' five minutes into its last topic session (no attendance yet)."""
    with demo.app_context():
        session = fresh_session()
        yield session, session.starts_at + timedelta(minutes=5)
        db.session.remove()


# ---------------------------------------------------------------- a change of category


def test_a_corrected_category_takes_the_attendance_along(during):
    session, now = during
    uong_bi = point("06811")
    secretaries, leaders = category(SECRETARIES), category("Lãnh đạo HĐND, UBND")
    person = next(p for p in people("06811") if p.category_id == leaders)
    tap(session, uong_bi, person.id, P, now)
    db.session.commit()
    conference = db.session.scalar(select(Conference))
    missing = [(m.category, m.attended, m.need)
               for m in reports.compliance(conference, session.id).missing if m.code == "06811"]
    assert missing == [(SECRETARIES, 0, 1), ("Lãnh đạo HĐND, UBND", 1, 2)]
    assert category_counts(session.id, "06811", leaders) == {"present": 1}

    services.update_person(person, fields_of(person, category_id=secretaries),
                           organiser=True)
    db.session.commit()

    assert db.session.scalar(select(Attendance.category_ref).where(
        Attendance.participant_id == person.id, Attendance.session_id == session.id)) == secretaries
    assert category_counts(session.id, "06811", leaders) == {}
    assert category_counts(session.id, "06811", secretaries) == {"present": 1}
    assert point_counts(session.id, "06811") == {"present": 1}
    missing = [(m.category, m.attended, m.need)
               for m in reports.compliance(conference, session.id).missing if m.code == "06811"]
    assert missing == [("Lãnh đạo HĐND, UBND", 0, 2)]
    by_category = {row.name: row.tally.present
                   for row in reports.by_category(conference, session.id)}
    assert (by_category[SECRETARIES], by_category["Lãnh đạo HĐND, UBND"]) == (1, 0)
    # Logged where it now counts, the status unchanged; then a tap of the same status is
    # nothing new.
    assert log_of(person.id)[-1] == (session.id, uong_bi.id, secretaries, P, P,
                                     CheckInMethod.MANUAL)
    changes = len(log_of(person.id))
    outcome = tap(session, uong_bi, person.id, P, now)
    db.session.commit()
    assert (outcome.old, outcome.new, len(log_of(person.id))) == (P, P, changes)
    assert_counters_equal_a_recount()


def test_many_delegates_corrected_at_once_each_take_their_attendance_along(during):
    """A list sent back edited changes many delegates in one go: each recategorised one's
    attendance and counts move as one at a time would, every changed delegate is logged
    once, and one whose fields are as stored is neither written nor logged."""
    from confmgr.audit.models import AuditEntry
    from confmgr.roster.models import PointCategoryRegistration as Registered

    session, now = during
    uong_bi = point("06811")
    secretaries, leaders = category(SECRETARIES), category("Lãnh đạo HĐND, UBND")
    moved = [p for p in people("06811") if p.category_id == leaders]
    renamed, unchanged = [p for p in people("06811") if p.category_id != leaders][:2]
    for person in moved:
        tap(session, uong_bi, person.id, P, now)
    db.session.commit()
    assert len(moved) == 2
    stamped = unchanged.updated_at
    registered = {ref: n for ref, n in db.session.execute(
        select(Registered.category_ref, Registered.registered)
        .where(Registered.point_id == uong_bi.id))}

    refused = services.update_people({
        **{person.id: fields_of(person, category_id=secretaries) for person in moved},
        renamed.id: fields_of(renamed, full_name=renamed.full_name + " Anh"),
        unchanged.id: fields_of(unchanged)}, organiser=True)
    db.session.commit()

    assert refused == {}
    assert category_counts(session.id, "06811", leaders) == {}
    assert category_counts(session.id, "06811", secretaries) == {"present": 2}
    assert point_counts(session.id, "06811") == {"present": 2}
    assert {ref: n for ref, n in db.session.execute(
        select(Registered.category_ref, Registered.registered)
        .where(Registered.point_id == uong_bi.id))} == {
        **registered, leaders: registered[leaders] - 2,
        secretaries: registered[secretaries] + 2}
    db.session.expire_all()
    assert db.session.get(Participant, renamed.id).name_norm.endswith(" anh")
    assert db.session.get(Participant, unchanged.id).updated_at == stamped
    assert sorted(db.session.execute(
        select(AuditEntry.target_type, AuditEntry.target_id, AuditEntry.point_id)
        .where(AuditEntry.action == "participant.update")).all()) == sorted(
        ("Participant", person.id, uong_bi.id) for person in [*moved, renamed])
    assert [log_of(person.id)[-1] for person in moved] == [
        (session.id, uong_bi.id, secretaries, P, P, CheckInMethod.MANUAL)] * 2
    assert_counters_equal_a_recount()


def counter_tables_written(action) -> list[str]:
    """The counter tables ``action`` writes, in the order it first writes each (rolled
    back after)."""
    import re

    tables = ("point_category_registrations", "session_point_counts")
    seen: list[str] = []

    def watch(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "WITH"):
            seen.extend(table for table in tables if re.search(rf"\b{table}\b", statement))

    event.listen(db.engine, "before_cursor_execute", watch)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", watch)
        db.session.rollback()
    return list(dict.fromkeys(seen))


def test_a_correction_a_withdrawal_and_a_move_take_the_counters_in_one_order(during):
    """Each holds the registrations by category first, then the attendance counters: two
    of them at once at one point (on PostgreSQL) wait for each other rather than each
    holding what the other waits for."""
    session, now = during
    leaders = category("Lãnh đạo HĐND, UBND")
    first, second = [p for p in people("06811") if p.category_id == leaders]
    for person in (first, second):
        tap(session, point("06811"), person.id, P, now)
    db.session.commit()
    in_order = ["point_category_registrations", "session_point_counts"]
    assert counter_tables_written(lambda: services.update_person(
        first, fields_of(first, category_id=category(SECRETARIES)), organiser=True)) == in_order
    assert counter_tables_written(lambda: services.withdraw(second, organiser=True)) == in_order
    assert counter_tables_written(lambda: services.move(
        db.session.get(Participant, second.id), point("06688"))) == in_order


def test_delegates_corrected_at_once_are_refused_each_for_what_is_wrong(during):
    """Refusals come back by delegate and nothing is written: a coordinator's change of
    category after the closing, a name with digits; two delegates given the same name and
    phone both clash (found once both are written, so the caller rolls back)."""
    first, second, third = people("06811")[:3]
    other = next(ref for ref in (category(SECRETARIES), category("Lãnh đạo HĐND, UBND"))
                 if ref != first.category_id)
    conference = db.session.scalar(select(Conference))
    closed = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(second=0, microsecond=0)
    conference.registration_closes_at = closed
    db.session.commit()
    positions = [p.position for p in (first, second, third)]

    refused = services.update_people({
        first.id: fields_of(first, category_id=other, position="Mới"),
        second.id: fields_of(second, full_name="Nguyễn Văn 2"),
        third.id: fields_of(third, position="Mới")}, organiser=False)
    assert {person_id: [(p.field, p.message) for p in problems]
            for person_id, problems in refused.items()} == {
        first.id: [("category_id", "Đăng ký đã đóng lúc "
                    f"{closed.astimezone(conference.tz):%H:%M %d/%m/%Y}. "
                    "Chỉ ban tổ chức đổi thành phần được.")],
        second.id: [("full_name", "Họ và tên không được có chữ số.")]}
    assert db.session.scalar(select(Participant.position).where(
        Participant.id == third.id)) == positions[2] != "Mới"
    db.session.rollback()
    assert [p.position for p in people("06811")[:3]] == positions

    same = {"full_name": "Trần Văn Trùng", "phone": "0912000999"}
    refused = services.update_people({first.id: fields_of(first, **same),
                                      second.id: fields_of(second, **same)}, organiser=True)
    assert {person_id: [p.message for p in problems]
            for person_id, problems in refused.items()} == {
        person_id: ["Đã có đại biểu cùng họ tên và số điện thoại hoặc email."]
        for person_id in (first.id, second.id)}
    db.session.rollback()


def test_every_session_a_delegate_attended_follows_the_category(during):
    """The demo recorded the earlier sessions: those rows move too, each to the new
    category's count of its own session."""
    session, now = during
    secretaries = category(SECRETARIES)
    person = next(p for p in people("06811") if p.category_id not in (secretaries, None))
    tap(session, point("06811"), person.id, L, now)
    db.session.commit()
    rows = db.session.scalar(select(func.count()).select_from(Attendance).where(
        Attendance.participant_id == person.id))
    assert rows > 1
    services.update_person(person, fields_of(person, category_id=None), organiser=True)
    db.session.commit()
    assert db.session.scalars(select(Attendance.category_ref).distinct().where(
        Attendance.participant_id == person.id)).all() == [NO_CATEGORY]
    assert len([c for c in log_of(person.id) if c.category_ref == NO_CATEGORY]) == rows
    assert_counters_equal_a_recount()


@pytest.mark.parametrize("status", [P, E], ids=["same status", "another status"])
def test_a_tap_corrects_a_row_kept_under_an_old_category(during, status):
    """Rows left under an old category (the category changed before attendance followed
    it) are put right by the next tap, whatever its status."""
    session, now = during
    uong_bi = point("06811")
    secretaries = category(SECRETARIES)
    person = next(p for p in people("06811") if p.category_id not in (secretaries, None))
    old_category = person.category_id
    tap(session, uong_bi, person.id, P, now)
    db.session.execute(Participant.__table__.update().where(
        Participant.__table__.c.id == person.id).values(category_id=secretaries))
    db.session.commit()
    before = category_counts(session.id, "06811", old_category)["present"]

    outcome = tap(session, uong_bi, person.id, status, now + timedelta(minutes=1))
    db.session.commit()

    assert (outcome.old, outcome.new) == (P, status)
    assert db.session.execute(select(Attendance.category_ref, Attendance.status).where(
        Attendance.participant_id == person.id, Attendance.session_id == session.id)).one() == (
        secretaries, status)
    assert category_counts(session.id, "06811", old_category).get("present", 0) == before - 1
    assert category_counts(session.id, "06811", secretaries) == {status.value: 1}
    assert point_counts(session.id, "06811") == {status.value: 1}
    assert log_of(person.id)[-1] == (session.id, uong_bi.id, secretaries, P, status,
                                     CheckInMethod.MANUAL)
    assert_counters_equal_a_recount()


# ---------------------------------------------------------------- a move to another point


def test_delegates_moved_after_check_in_take_their_attendance_along(during):
    """All 35 of Uông Bí present, then 20 moved to Hạ Long: each point counts whom it has."""
    session, now = during
    uong_bi, ha_long = point("06811"), point("06688")
    assert checkin.mark_all_present(session, uong_bi, user_id=None, now=now) == 35
    db.session.commit()
    moved = people("06811")[:20]
    for person in moved:
        services.move(person, ha_long)
    db.session.commit()

    assert point_counts(session.id, "06811") == {"present": 15}
    assert point_counts(session.id, "06688") == {"present": 20}
    conference = db.session.scalar(select(Conference))
    rates = {row.code: (row.tally.registered, row.tally.attended, row.tally.rate)
             for row in reports.by_point(conference, session.id) if row.code in ("06811", "06688")}
    assert rates == {"06811": (15, 15, 1.0), "06688": (45, 20, 20 / 45)}
    # The new point's sheet shows the same 20 as its counts.
    page = sheet.sheet(ha_long, sheet.SheetQuery(session_id=session.id))
    assert sum(row.status == P for row in page.rows) == 20
    assert {person.id: log_of(person.id)[-1] for person in moved} == {
        person.id: (session.id, ha_long.id, person.category_id or NO_CATEGORY, P, P,
                    CheckInMethod.MANUAL) for person in moved}
    assert_counters_equal_a_recount()


def test_a_move_to_another_province_moves_the_provincial_counts(during):
    session, now = during
    uong_bi, hoan_kiem = point("06811"), point("00070")
    person = people("06811")[0]
    tap(session, uong_bi, person.id, L, now)
    db.session.commit()
    conference = db.session.scalar(select(Conference))
    before = {row.code: row.tally.late for row in reports.by_province(conference, session.id)}
    sessions = db.session.scalar(select(func.count()).select_from(Attendance).where(
        Attendance.participant_id == person.id))

    services.move(person, hoan_kiem)
    db.session.commit()

    after = {row.code: row.tally.late for row in reports.by_province(conference, session.id)}
    assert (after["22"], after["01"]) == (before["22"] - 1, before["01"] + 1)
    assert db.session.execute(select(Attendance.point_id).distinct().where(
        Attendance.participant_id == person.id)).scalars().all() == [hoan_kiem.id]
    assert len([c for c in log_of(person.id) if c.point_id == hoan_kiem.id]) == sessions
    registered = dict(db.session.execute(select(
        PointCategoryRegistration.point_id, PointCategoryRegistration.registered).where(
        PointCategoryRegistration.category_ref == (person.category_id or NO_CATEGORY),
        PointCategoryRegistration.point_id.in_([uong_bi.id, hoan_kiem.id]))).all())
    assert registered[hoan_kiem.id] >= 1
    assert_counters_equal_a_recount()


def test_a_move_to_a_headcount_point_leaves_the_names_behind(during):
    """A point that reports numbers counts no one by name: the delegate's records go, as
    for a withdrawal, rather than count them twice beside its headcount."""
    session, now = during
    uong_bi = point("06811")
    counting = point("00070")
    counting.headcount_only = True
    person = people("06811")[0]
    tap(session, uong_bi, person.id, P, now)
    db.session.commit()
    before = point_counts(session.id, "06811")

    services.move(person, counting)
    db.session.commit()

    assert db.session.scalar(select(func.count()).select_from(Attendance).where(
        Attendance.participant_id == person.id)) == 0
    assert point_counts(session.id, "06811") == {
        name: count - (name == "present") for name, count in before.items()
        if count - (name == "present")}
    assert point_counts(session.id, counting.code) == {}
    assert [c.new_status for c in log_of(person.id)][-1] is None
    assert_counters_equal_a_recount()


@pytest.mark.parametrize("status", [P, E], ids=["same status", "another status"])
def test_a_tap_at_the_new_point_moves_a_row_left_at_the_old_one(during, status):
    """A row left at the point a delegate came from (moved before attendance followed) is
    brought over by the next tap at their point, even of the status it already has."""
    session, now = during
    uong_bi, ha_long = point("06811"), point("06688")
    person = people("06811")[0]
    tap(session, uong_bi, person.id, P, now)
    db.session.execute(Participant.__table__.update().where(
        Participant.__table__.c.id == person.id).values(point_id=ha_long.id))
    db.session.commit()

    outcome = tap(session, ha_long, person.id, status, now + timedelta(minutes=1))
    db.session.commit()

    assert (outcome.old, outcome.new) == (P, status)
    assert db.session.execute(select(Attendance.point_id, Attendance.status).where(
        Attendance.participant_id == person.id, Attendance.session_id == session.id)).one() == (
        ha_long.id, status)
    assert point_counts(session.id, "06811") == {}
    assert point_counts(session.id, "06688") == {status.value: 1}
    assert log_of(person.id)[-1] == (session.id, ha_long.id,
                                     person.category_id or NO_CATEGORY, P, status,
                                     CheckInMethod.MANUAL)
    assert_counters_equal_a_recount()


def test_a_withdrawn_delegate_moved_or_recategorised_leaves_the_counts_alone(during):
    session, now = during
    person = people("06811")[0]
    tap(session, point("06811"), person.id, P, now)
    services.withdraw(person, organiser=True)
    db.session.commit()
    kept = counters()
    services.move(person, point("06688"))
    services.update_person(person, fields_of(person, category_id=category(SECRETARIES)),
                           organiser=True)
    db.session.commit()
    assert counters() == kept
    assert_counters_equal_a_recount()


def test_a_double_tap_on_move_moves_the_attendance_once(demo):
    """Two requests move the same checked-in delegate at the same moment, each with its
    own connection: the second finds the first done (``hold_person``) and moves nothing."""
    with demo.app_context():
        session = fresh_session()
        person_id = people("06811")[0].id
        tap(session, point("06811"), person_id, P, session.starts_at + timedelta(minutes=5))
        db.session.commit()
        session_id = session.id
    ready, errors = threading.Barrier(2), []

    def move():
        try:
            with demo.app_context():
                person = db.session.get(Participant, person_id)
                destination = point("06688")
                ready.wait()
                services.move(person, destination)
                db.session.commit()
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=move) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with demo.app_context():
        assert (point_counts(session_id, "06811"), point_counts(session_id, "06688")) == (
            {}, {"present": 1})
        assert len([c for c in log_of(person_id) if c.session_id == session_id]) == 2
        assert_counters_equal_a_recount()


def race_a_first_tap(demo, other) -> tuple[int, int, dict[str, BaseException]]:
    """A first tap at 06811 reads its delegate, then waits while ``other(person_id)`` runs
    in another thread and commits; returns (session id, person id, errors by side)."""
    with demo.app_context():
        session = fresh_session()
        session_id, now = session.id, session.starts_at + timedelta(minutes=5)
        person_id = people("06811")[0].id
    errors = race(demo, lambda: tap(db.session.get(AgendaSession, session_id), point("06811"),
                                    person_id, P, now),
                  "SELECT participants.point_id", lambda: other(person_id))
    return session_id, person_id, {"tap" if side == "first" else side: error
                                   for side, error in errors.items()}


def test_a_tap_read_before_a_move_never_leaves_its_row_at_the_point_left(demo):
    """A first tap has read the delegate (at 06811) when a move to 06688 starts. On
    PostgreSQL the move waits for the tap, whose row it then takes along; on SQLite the
    move commits first and the tap, reading the delegate again once its insert holds the
    write lock, is refused. Either way no row is left at the point the delegate left, and
    the counters equal a recount."""
    session_id, person_id, errors = race_a_first_tap(demo, lambda person_id: services.move(
        db.session.get(Participant, person_id), point("06688")))
    assert "other" not in errors
    with demo.app_context():
        if db.engine.dialect.name == "postgresql":
            assert errors == {}
            assert point_counts(session_id, "06688") == {"present": 1}
        else:
            assert isinstance(errors.get("tap"), RuleBroken)
            # The delegate is now another point's: nothing is said of them.
            assert [p.message for p in errors["tap"].problems] == [
                "Không có đại biểu này ở điểm cầu này."]
        assert set(db.session.scalars(select(Attendance.point_id).where(
            Attendance.participant_id == person_id))) == {point("06688").id}
        assert point_counts(session_id, "06811") == {}
        assert_counters_equal_a_recount()


def reorganise(code: str, name: str, **values) -> None:
    """An organiser saves a Quảng Ninh commune point on the point form with ``values``
    changed."""
    from confmgr.points.services import save_point

    save_point(db.session.scalar(select(Conference)), point(code), {
        "code": code, "name": name, "level": "Xã", "parent_code": "22",
        "admin_unit_code": code, "expected_delegates": "0", **values})


def reorganise_uong_bi(**values) -> None:
    reorganise("06811", "Điểm cầu Uông Bí", **values)


def counters_provinces(code: str) -> set[str]:
    return {province for table in (SessionPointCount, SessionPointCategoryCount)
            for province in db.session.scalars(select(table.province_code).where(
                table.point_id == point(code).id))}


def test_a_tap_read_before_its_point_switches_to_headcounts_never_counts_both(demo):
    """A first tap at 06811 has read its delegate when the organiser switches the point
    to headcounts. On PostgreSQL the switch waits for the tap and is then refused (the
    point has attendance); on SQLite the switch commits first and the tap is refused.
    Either way the point never reports both names and numbers."""
    from confmgr.spreadsheets import TableError

    with demo.app_context():  # the demo's earlier sessions leave no attendance there
        for person in people("06811"):
            checkin.forget_attendance(person.id, user_id=None)
        db.session.commit()
    session_id, person_id, errors = race_a_first_tap(
        demo, lambda person_id: reorganise_uong_bi(headcount_only="có"))
    with demo.app_context():
        rows = db.session.scalar(select(func.count()).select_from(Attendance).where(
            Attendance.session_id == session_id, Attendance.point_id == point("06811").id))
        if db.engine.dialect.name == "postgresql":
            assert set(errors) == {"other"}
            assert isinstance(errors["other"], (RuleBroken, TableError))
            assert (point("06811").headcount_only, rows) == (False, 1)
            assert point_counts(session_id, "06811") == {"present": 1}
        else:
            assert set(errors) == {"tap"}
            assert [p.message for p in errors["tap"].problems] == [
                "Điểm cầu này báo cáo số lượng, không điểm danh theo tên."]
            assert (point("06811").headcount_only, rows) == (True, 0)
            assert point_counts(session_id, "06811") == {}
        assert_counters_equal_a_recount()


def test_a_tap_read_before_its_point_moves_province_is_counted_in_one(demo):
    """A first tap at 06811 (Quảng Ninh) has read its delegate when the point is re-filed
    under a Hà Nội commune. On PostgreSQL the change waits for the tap and then takes its
    counts along; on SQLite it commits first and the tap is refused. Either way every
    counter of the point names the province it is in."""
    session_id, person_id, errors = race_a_first_tap(
        demo, lambda person_id: reorganise_uong_bi(parent_code="01", admin_unit_code="00004"))
    with demo.app_context():
        assert point("06811").province_code == "01"
        if db.engine.dialect.name == "postgresql":
            assert errors == {}
            assert point_counts(session_id, "06811") == {"present": 1}
        else:
            assert set(errors) == {"tap"}
            assert [p.message for p in errors["tap"].problems] == [
                "Điểm cầu vừa được chuyển sang tỉnh, thành phố khác; hãy ghi lại."]
            assert point_counts(session_id, "06811") == {}
        assert counters_provinces("06811") <= {"01"}
        assert_counters_equal_a_recount()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_taps_first_query_holds_its_point_on_postgresql(client, demo):
    """Over HTTP, the tap's first query (conference, point and session) holds the point's
    lock shared on PostgreSQL: the organiser switching Uông Bí to headcounts meanwhile
    waits for the tap, and is then refused as the point has attendance. (Where the lock
    came after that query, the switch went first and the tap was refused.)"""
    from confmgr.spreadsheets import TableError
    from tests.conftest import csrf_token
    from tests.helpers import COORDINATOR, logged_in
    from tests.test_attendance_web import SHEET, open_session

    with demo.app_context():
        for person in people("06811"):
            checkin.forget_attendance(person.id, user_id=None)
        db.session.commit()
        person_id = people("06811")[0].id
    session_id = open_session(demo)
    logged_in(client, COORDINATOR)
    token = csrf_token(client)
    answers = []

    def tap_over_http():
        answers.append(client.post(f"{SHEET}/{session_id}", data={
            "mark": f"{person_id}:present", "csrf_token": token}, headers={
            "HX-Request": "true"}).get_data(as_text=True))

    errors = race(demo, tap_over_http, "WITH RECURSIVE up",
                  lambda: reorganise_uong_bi(headcount_only="có"))
    assert set(errors) == {"other"}
    assert isinstance(errors["other"], (RuleBroken, TableError))
    assert "Điểm cầu này báo cáo số lượng" not in answers[0]
    with demo.app_context():
        assert point("06811").headcount_only is False
        assert point_counts(session_id, "06811") == {"present": 1}
        assert_counters_equal_a_recount()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_points_lock_is_the_same_taken_in_sql_or_in_python(demo):
    """The share a tap's first query locks is computed in SQL; every other holder
    computes it in Python: the two must agree, or taps and imports would miss each
    other. Large ids included (the SQL runs in 64 bits, then fits the key in 32)."""
    from sqlalchemy import BigInteger, literal

    with demo.app_context():
        for conference_id, point_id in ((1, 1), (3, 1023), (3, 1024), (2_097_151, 99_999),
                                        (2_097_152, 5), (987_654_321, 2_000_000_123)):
            found = db.session.scalar(select(checkin.point_share_in_sql(
                literal(conference_id, BigInteger), literal(point_id, BigInteger))))
            assert found == checkin._point_share(conference_id, point_id), (conference_id,
                                                                             point_id)


def test_all_present_leaves_out_a_delegate_withdrawn_as_it_starts(demo):
    """"All present" lists who is waiting, then holds them; one withdrawn in between was
    refused as no longer registered, and with them the whole action. Now the others are
    marked."""
    with demo.app_context():
        session = fresh_session()
        session_id, now = session.id, session.starts_at + timedelta(minutes=5)
        ids = [p.id for p in people("06811")]

    def all_present() -> None:
        checkin.mark_all_present(db.session.get(AgendaSession, session_id), point("06811"),
                                 user_id=None, now=now)

    errors = race(demo, all_present, "SELECT participants.id", lambda: services.withdraw(
        db.session.get(Participant, ids[-1]), organiser=True))
    assert errors == {}
    with demo.app_context():
        assert set(db.session.scalars(select(Attendance.participant_id).where(
            Attendance.session_id == session_id))) == set(ids[:-1])
        assert_counters_equal_a_recount()


def race_a_headcount(demo, read: str) -> tuple[int, dict[str, BaseException]]:
    """A headcount at 06811, switched to headcounts before, runs until it has sent
    ``read``, then waits while the organiser switches the point back to names."""
    with demo.app_context():
        for person in people("06811"):
            checkin.forget_attendance(person.id, user_id=None)
        db.session.commit()
        reorganise_uong_bi(headcount_only="có")
        db.session.commit()
        session = fresh_session()
        session_id, now = session.id, session.starts_at + timedelta(minutes=5)
    errors = race(demo, lambda: checkin.report_headcount(
        db.session.get(AgendaSession, session_id), point("06811"), {NO_CATEGORY: 40},
        user_id=None, now=now), read, lambda: reorganise_uong_bi(headcount_only=""))
    return session_id, errors


def headcount_at(session_id: int, code: str) -> int:
    row = db.session.get(SessionPointCount, (session_id, point(code).id))
    return row.headcount if row is not None else 0


def test_a_headcount_loaded_before_its_point_switches_to_names_is_refused(demo):
    """The point was loaded, as each request loads it first, when the switch committed:
    the headcount reads how the point reports afresh, and is refused."""
    session_id, errors = race_a_headcount(demo, "SELECT broadcast_points.")
    with demo.app_context():
        assert set(errors) == {"first"}
        assert [p.message for p in errors["first"].problems] == [
            "Điểm cầu này điểm danh theo tên; số lượng được tính từ danh sách."]
        assert (point("06811").headcount_only, headcount_at(session_id, "06811")) == (False, 0)
        assert_counters_equal_a_recount()


def test_a_headcount_checked_before_its_point_switches_to_names_never_counts_both(demo):
    """The headcount has read the point afresh and found it reporting numbers. On
    PostgreSQL it holds the point, so the switch waits and is then refused; on SQLite
    the switch commits first and the headcount, reading the point again once it holds
    the write lock, is refused."""
    session_id, errors = race_a_headcount(demo, "SELECT broadcast_points.headcount_only")
    with demo.app_context():
        if db.engine.dialect.name == "postgresql":
            assert set(errors) == {"other"}
            assert (point("06811").headcount_only, headcount_at(session_id, "06811")) == (
                True, 40)
        else:
            assert set(errors) == {"first"}
            assert [p.message for p in errors["first"].problems] == [
                "Điểm cầu vừa được đổi cách báo cáo hoặc tỉnh, thành phố; hãy xem lại và ghi "
                "lại."]
            assert (point("06811").headcount_only, headcount_at(session_id, "06811")) == (
                False, 0)
        assert_counters_equal_a_recount()


def count_differences() -> list[str]:
    """Counters (points', categories', provinces', arrivals') that disagree with the rows."""
    from confmgr.attendance.consistency import count_differences as differences

    return [str(d) for d in differences(db.session.scalar(select(Conference.id)))]


def checked_in_first(code: str) -> tuple[int, int]:
    """A fresh session with the first delegate of ``code`` present; (session, delegate)."""
    session = fresh_session()
    person_id = people(code)[0].id
    tap(session, point(code), person_id, P, session.starts_at + timedelta(minutes=5))
    db.session.commit()
    return session.id, person_id


def test_a_move_to_a_point_switched_to_headcounts_meanwhile_leaves_no_names_there(demo):
    """The move has loaded its destination, as the move form does by its code, when the
    organiser switches that point to headcounts: the delegate's attendance goes, not
    along, whichever commits first."""
    with demo.app_context():
        for person in people("06688"):
            checkin.forget_attendance(person.id, user_id=None)
        db.session.commit()
        session_id, person_id = checked_in_first("06811")
    errors = race(demo, lambda: services.move(db.session.get(Participant, person_id),
                                              point("06688")),
                  "SELECT broadcast_points.", lambda: reorganise(
                      "06688", "Điểm cầu phường Hạ Long", headcount_only="có"))
    with demo.app_context():
        assert errors == {}
        assert point("06688").headcount_only is True
        assert db.session.scalar(select(func.count()).select_from(Attendance).where(
            Attendance.participant_id == person_id)) == 0
        assert count_differences() == []


@pytest.mark.parametrize("change", ["move", "withdrawal", "registration"])
@pytest.mark.parametrize("paused", ["SELECT broadcast_points.", "UPDATE broadcast_points"],
                         ids=["loaded", "held"])
def test_a_change_of_registrations_while_the_point_changes_province_counts_where_it_is(
        demo, change, paused):
    """The point was loaded (as every view loads it first), or its row already held, when
    it was re-filed under a Hà Nội commune: the registration, attendance and arrivals
    moved in, taken off or added are counted in the province it is in now, and neither
    side waits for the other for ever (PostgreSQL would end one with a deadlock)."""
    with demo.app_context():
        session_id, person_id = checked_in_first("06688" if change == "move" else "06811")
        uong_bi = point("06811")
        # A category not yet registered there: its count is a new row, named by province.
        counted = set(db.session.scalars(select(PointCategoryRegistration.category_ref).where(
            PointCategoryRegistration.point_id == uong_bi.id,
            PointCategoryRegistration.registered > 0)))
        new_category = next(ref for ref in db.session.scalars(select(Category.id))
                            if ref not in counted)

    def act():
        uong_bi = point("06811")
        person = db.session.get(Participant, person_id)
        if change == "move":
            services.move(person, uong_bi)
        elif change == "withdrawal":
            services.withdraw(person, organiser=True)
        else:
            services.register(uong_bi, services.PersonFields(
                full_name="Lê Thị Mới", category_id=new_category), organiser=True)

    errors = race(demo, act, paused,
                  lambda: reorganise_uong_bi(parent_code="01", admin_unit_code="00004"))
    with demo.app_context():
        assert errors == {}
        assert point("06811").province_code == "01"
        assert count_differences() == []


def test_a_first_tap_while_the_delegates_category_is_corrected_counts_it_once(demo):
    """On PostgreSQL the correction waits for the tap and then takes its row along; on
    SQLite it commits first and the tap, reading the delegate again once it holds the
    write lock, is refused."""
    with demo.app_context():
        session = fresh_session()
        session_id, now = session.id, session.starts_at + timedelta(minutes=5)
        person_id = next(p.id for p in people("06811")
                         if p.category_id != category(SECRETARIES))

    def correct(person_id):
        person = db.session.get(Participant, person_id)
        services.update_person(person, fields_of(person, category_id=category(SECRETARIES)),
                               organiser=True)

    errors = race(demo, lambda: tap(db.session.get(AgendaSession, session_id), point("06811"),
                                    person_id, P, now),
                  "SELECT participants.point_id", lambda: correct(person_id))
    with demo.app_context():
        if db.engine.dialect.name == "postgresql":
            assert errors == {}
            assert category_counts(session_id, "06811", category(SECRETARIES)) == {
                "present": 1}
        else:
            assert [p.message for p in errors["first"].problems] == [
                "Thành phần của đại biểu vừa được đổi; hãy ghi lại."]
            assert "other" not in errors
        assert count_differences() == []


def test_a_registration_at_a_point_does_not_wait_for_a_tap_there(demo):
    """A tap holds its point's lock shared, not the point's row, which a registration
    writes (its count): on PostgreSQL a registration at the point goes through while a
    tap there is still open. SQLite has one writer at a time: there it waits its turn."""
    with demo.app_context():
        session = fresh_session()
        session_id, now = session.id, session.starts_at + timedelta(minutes=5)
        person_id = people("06811")[0].id
    tapped, registered, order = threading.Event(), threading.Event(), []

    def tapper():
        with demo.app_context():
            tap(db.session.get(AgendaSession, session_id), point("06811"), person_id, P, now)
            tapped.set()
            registered.wait(2)  # on SQLite it cannot come meanwhile
            order.append("tap committed")
            db.session.commit()
            db.session.remove()

    def registrar():
        tapped.wait(10)
        with demo.app_context():
            services.register(point("06811"), services.PersonFields(full_name="Lê Thị Mới"),
                              organiser=True)
            db.session.commit()
            order.append("registered")
            registered.set()
            db.session.remove()

    run_at_once(tapper, registrar)
    with demo.app_context():
        postgresql = db.engine.dialect.name == "postgresql"
        assert order == (["registered", "tap committed"] if postgresql
                         else ["tap committed", "registered"])
        assert point_counts(session_id, "06811") == {"present": 1}


@pytest.mark.parametrize("change", ["move", "withdrawal"])
def test_a_move_or_withdrawal_during_a_list_confirmation_at_its_point_waits_its_turn(
        demo, change):
    """A coordinator confirms a list editing a delegate of 06811 while an organiser moves
    or withdraws that delegate. Both hold the point before the delegate, so one waits for
    the other (the other order deadlocked on PostgreSQL, ending one with an error)."""
    from confmgr.roster import importing
    from confmgr.spreadsheets import read_table

    with demo.app_context():
        person = people("06811")[0]
        person_id, name = person.id, person.full_name
        data = f"Mã đại biểu,Họ và tên,Chức vụ\n{person_id},{name},Chức vụ mới\n".encode()
        rows = read_table(data, "ds.csv", importing.COLUMNS, max_rows=importing.MAX_ROWS,
                          max_bytes=importing.MAX_BYTES)
        checked = importing.check_rows(point("06811"), rows)
        assert [item.changes for item in checked] == [["Chức vụ"]]
        token = importing.keep_for_confirmation(point("06811"), 0, "ds.csv", checked)
        db.session.commit()

    def organiser_acts():
        person = db.session.get(Participant, person_id)
        if change == "move":
            services.move(person, point("06688"))
        else:
            services.withdraw(person, organiser=True)

    errors = race(demo, lambda: importing.confirm(point("06811"), 0, token, organiser=True),
                  "UPDATE broadcast_points", organiser_acts)
    with demo.app_context():
        assert errors == {}
        person = db.session.get(Participant, person_id)
        assert person.position == "Chức vụ mới"
        assert (point("06688").id if change == "move" else person.status) == (
            person.point_id if change == "move" else RegistrationStatus.WITHDRAWN)
        assert count_differences() == []


def test_a_tap_read_before_a_withdrawal_leaves_no_row(demo):
    """The same race with a withdrawal: on PostgreSQL the withdrawal waits and then takes
    the tap's row away with the others; on SQLite the tap is refused."""
    session_id, person_id, errors = race_a_first_tap(demo, lambda person_id: services.withdraw(
        db.session.get(Participant, person_id), organiser=True))
    assert "other" not in errors
    with demo.app_context():
        if db.engine.dialect.name == "postgresql":
            assert errors == {}
        else:
            name = db.session.get(Participant, person_id).full_name
            assert [p.message for p in errors["tap"].problems] == [
                f"{name} đã rút tên khỏi hội nghị."]
        assert db.session.scalar(select(func.count()).select_from(Attendance).where(
            Attendance.participant_id == person_id)) == 0
        assert point_counts(session_id, "06811") == {}
        assert_counters_equal_a_recount()
