"""The arrivals chart reads counters kept with every change, never the attendance rows or
their log; whatever happened, the counters hold what the log says."""
from __future__ import annotations

import random
import re
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import and_, event, func, or_, select, update

from confmgr.attendance import checkin, reports
from confmgr.attendance.models import (
    Attendance,
    AttendanceChange,
    SessionArrivalCount,
    minute_of,
)
from confmgr.conferences.editing import RuleBroken
from confmgr.conferences.models import AgendaSession, Conference
from confmgr.db import db
from confmgr.enums import (
    AttendanceStatus,
    CheckInMethod,
    PointLevel,
    RegistrationStatus,
    SessionKind,
)
from confmgr.points.models import BroadcastPoint
from confmgr.roster import services
from confmgr.roster.models import Category, Participant
from tests.test_attendance import fresh_session

P, L, E, A = (AttendanceStatus.PRESENT, AttendanceStatus.LATE, AttendanceStatus.EXCUSED,
              AttendanceStatus.ABSENT)
HERE = [P, L]
#: Quảng Ninh (22), Hà Nội (01) and Hải Phòng (31) points that name their delegates.
NAMED = ("06811", "06688", "00070", "00004", "31")


def point(code: str) -> BroadcastPoint:
    return db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == code))


def registered(code: str) -> list[Participant]:
    return list(db.session.scalars(select(Participant).where(
        Participant.point_id == point(code).id,
        Participant.status == RegistrationStatus.REGISTERED).order_by(Participant.id)))


def tap(session, where: BroadcastPoint, person_id: int, status: AttendanceStatus, now,
        **kwargs):
    kwargs.setdefault("method", CheckInMethod.MANUAL)
    return checkin.record(session, where, person_id, status, user_id=None, now=now, **kwargs)


def _arrived_in_the_log(session_id=None):
    """The chart's query before the counters: each delegate present or late now, once,
    at their first change into present or late (from nothing, absent or excused), not
    by a paper list."""
    arrived = (AttendanceChange.new_status.in_(HERE)
               & (AttendanceChange.method != CheckInMethod.IMPORT)
               & or_(AttendanceChange.old_status.is_(None),
                     AttendanceChange.old_status.not_in(HERE)))
    query = (select(AttendanceChange.session_id, func.min(AttendanceChange.changed_at),
                    func.coalesce(BroadcastPoint.province_code, ""))
             .join(Attendance, and_(
                 Attendance.participant_id == AttendanceChange.participant_id,
                 Attendance.session_id == AttendanceChange.session_id))
             # The province a delegate is in now, as every other figure counts them. (The
             # query joined the point the arrival was logged at: a delegate moved since
             # counted in the province they left, and in both if they came in again.)
             .join(BroadcastPoint, BroadcastPoint.id == Attendance.point_id)
             .where(arrived, Attendance.status.in_(HERE))
             .group_by(AttendanceChange.session_id, AttendanceChange.participant_id,
                       BroadcastPoint.province_code))
    if session_id is not None:
        query = query.where(AttendanceChange.session_id == session_id)
    return db.session.execute(query).all()


def arrivals_from_the_log() -> Counter:
    """(session, province, minute) → arrivals, as the log has them."""
    return Counter((session_id, province, minute_of(at))
                   for session_id, at, province in _arrived_in_the_log())


def counted() -> Counter:
    return Counter({(row.session_id, row.province_code, row.minute): row.arrivals
                    for row in db.session.scalars(select(SessionArrivalCount))
                    if row.arrivals})


def series_from_the_log(conference, session, minutes=5, province=""):
    """The chart as it was computed from the log (bucketing unchanged)."""
    opens, closes = checkin.window(conference, session)
    step = timedelta(minutes=minutes)
    buckets: dict[int, int] = {}
    for _session, at, where in _arrived_in_the_log(session.id):
        if province and where != province:
            continue
        index = max(0, int((at - opens) / step))
        buckets[index] = buckets.get(index, 0) + 1
    if not buckets:
        return []
    last = min(max(buckets), int((closes - opens) / step))
    return [(opens + step * i, buckets.get(i, 0)) for i in range(last + 1)]


def arrival_times() -> dict[tuple[int, int], object]:
    return {(r.participant_id, r.session_id): r.arrived_at for r in db.session.execute(
        select(Attendance.participant_id, Attendance.session_id, Attendance.arrived_at))}


@pytest.fixture
def during(demo):
    """The demo, its last topic session (no attendance yet) and when its check-in opens."""
    with demo.app_context():
        session = fresh_session()
        conference = db.session.scalar(select(Conference))
        yield conference, session, checkin.window(conference, session)[0]
        db.session.remove()


def headcount_village(conference: Conference) -> BroadcastPoint:
    """A Hải Phòng point that counts heads: a delegate moved there leaves their names."""
    village = BroadcastPoint(conference_id=conference.id, code="31-TON-1", name="Thôn Một",
                             level=PointLevel.OTHER, parent_id=point("31").id,
                             province_code="31", headcount_only=True, expected_delegates=5)
    db.session.add(village)
    db.session.commit()
    return village


def test_the_demo_loads_its_arrivals_from_its_log(during):
    """Rows loaded in bulk with their log take their arrival times from it."""
    assert sum(counted().values()) > 1000
    assert counted() == arrivals_from_the_log()


def test_counters_equal_the_log_after_any_mix_of_changes(during):
    conference, session, opens = during
    village = headcount_village(conference)
    earlier = db.session.scalars(
        select(AgendaSession).where(AgendaSession.kind == SessionKind.TOPIC)
        .order_by(AgendaSession.starts_at)).all()[:-1]
    categories = [None, *db.session.scalars(select(Category.id))]
    rng = random.Random(20261128)
    at = opens + timedelta(seconds=17)
    done = Counter()
    for _step in range(260):
        at += timedelta(seconds=rng.randint(1, 50))
        code = rng.choice(NAMED)
        people = registered(code)
        person = rng.choice(people)
        roll = rng.random()
        try:
            if roll < 0.45:
                status = rng.choice([P, P, L, E, A])
                method = rng.choice([CheckInMethod.MANUAL, CheckInMethod.QR,
                                     CheckInMethod.SELF, CheckInMethod.API])
                kind = "tap" if tap(session, point(code), person.id, status, at,
                                    method=method).changed else "same"
            elif roll < 0.53:
                # A paper list, for this session or one before it, after it closed.
                listed = rng.choice([session, *earlier])
                for someone in rng.sample(people, min(6, len(people))):
                    tap(listed, point(code), someone.id, rng.choice([P, L, E, A]), at,
                        method=CheckInMethod.IMPORT, after_the_fact=True)
                kind = "paper list"
            elif roll < 0.57:
                checkin.mark_all_present(session, point(code), user_id=None, now=at)
                kind = "all present"
            elif roll < 0.70:
                destination = rng.choice([c for c in NAMED if c != code])
                services.move(person, point(destination))
                kind = ("move across provinces" if point(destination).province_code
                        != point(code).province_code else "move")
            elif roll < 0.75:
                services.move(person, village)
                kind = "to a headcount point"
            elif roll < 0.81:
                returning = registered(village.code)
                if not returning:
                    continue
                services.move(rng.choice(returning), point(code))
                kind = "back from a headcount point"
            elif roll < 0.87:
                services.update_person(person, services.PersonFields(
                    full_name=person.full_name, position=person.position, unit=person.unit,
                    category_id=rng.choice(categories), phone=person.phone,
                    email=person.email, note=person.note), organiser=True)
                kind = "category"
            elif roll < 0.90:
                services.withdraw(person, organiser=True)
                kind = "withdrawal"
            else:
                tap(session, point(code), person.id, rng.choice([P, A]), at)
                db.session.rollback()
                kind = "rolled back"
        except RuleBroken:
            db.session.rollback()
            continue
        db.session.commit()
        done[kind] += 1

    assert min(done[kind] for kind in (
        "tap", "paper list", "all present", "move across provinces", "to a headcount point",
        "back from a headcount point", "category", "withdrawal", "rolled back")) >= 2, done
    expected = arrivals_from_the_log()
    assert counted() == expected
    assert sum(n for (session_id, _p, _m), n in expected.items()
               if session_id == session.id) > 20
    for listed in (session, *earlier):
        assert reports.checkins_over_time(conference, listed) == series_from_the_log(
            conference, listed)
        for province in ("01", "22", "31", "79"):
            assert reports.checkins_over_time(conference, listed, province=province) == \
                series_from_the_log(conference, listed, province=province)

    checkin.rebuild_counts(conference.id)
    db.session.commit()
    assert counted() == expected
    # From the rows' times cleared too: the log alone gives them back.
    times = arrival_times()
    db.session.execute(update(Attendance).values(arrived_at=None))
    db.session.execute(SessionArrivalCount.__table__.delete())
    checkin.rebuild_counts(conference.id)
    db.session.commit()
    assert arrival_times() == times
    assert counted() == expected


def test_the_chart_reads_the_counters_and_nothing_else(during, demo):
    conference, session, opens = during
    for index, person in enumerate(registered("06811")[:4]):
        tap(session, point("06811"), person.id, P, opens + timedelta(minutes=7 * index))
    db.session.commit()
    checkin.window(conference, session)  # the session and conference as the page has them
    sent: list[str] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        national = reports.checkins_over_time(conference, session)
        provincial = reports.checkins_over_time(conference, session, province="22")
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)

    assert [n for _at, n in national] == [1, 1, 1, 0, 1]
    assert provincial == national
    assert len(sent) == 2
    read = {name.lower() for statement in sent
            for name in re.findall(r"\b(?:FROM|JOIN)\s+(\w+)", statement, re.I)}
    assert read == {"session_arrival_counts"}
    assert not any(re.search(r"\battendance(_changes)?\b", s) for s in sent)


def test_only_a_change_that_brings_someone_in_or_out_writes_an_arrival(during, demo):
    """A tap gains one statement when arrivals change, written last, and none otherwise."""
    conference, session, opens = during
    uong_bi = point("06811")
    first, second = (p.id for p in registered("06811")[:2])
    at = opens + timedelta(minutes=3)

    def statements_of(person, status):
        sent: list[str] = []

        def keep(conn, cursor, statement, parameters, context, executemany):
            sent.append(statement)

        event.listen(db.engine, "before_cursor_execute", keep)
        try:
            tap(session, uong_bi, person, status, at)
            db.session.commit()
        finally:
            event.remove(db.engine, "before_cursor_execute", keep)
        # What it writes (a commit expires what the next one reads again).
        return [s.split()[0] + (" arrivals" if "session_arrival_counts" in s else "")
                for s in sent if not s.lstrip().upper().startswith("SELECT")]

    comes_in = statements_of(first, P)
    recorded_absent = statements_of(second, A)
    assert comes_in == [*recorded_absent, "INSERT arrivals"]  # last: held for the commit
    assert "INSERT arrivals" not in statements_of(first, L)  # still in
    assert statements_of(first, A)[-1] == "INSERT arrivals"  # out again
    assert "INSERT arrivals" not in statements_of(first, E)  # out, as before
    assert statements_of(second, L)[-1] == "INSERT arrivals"
    assert counted() == arrivals_from_the_log()


def test_a_change_rolled_back_leaves_the_counters_alone(during):
    conference, session, opens = during
    first, second = (p.id for p in registered("06811")[:2])
    before = counted()
    tap(session, point("06811"), first, P, opens + timedelta(minutes=1))
    db.session.rollback()
    tap(session, point("06811"), second, A, opens + timedelta(minutes=2))
    db.session.commit()
    assert counted() == before
    assert reports.checkins_over_time(conference, session) == []


def test_arrivals_in_the_same_transaction_are_read_with_it(during):
    conference, session, opens = during
    tap(session, point("06811"), registered("06811")[0].id, P, opens + timedelta(minutes=1))
    assert reports.checkins_over_time(conference, session) == [(opens, 1)]
    db.session.rollback()
    assert reports.checkins_over_time(conference, session) == []


def test_a_delegate_back_from_a_headcount_point_arrives_when_first_seen(during):
    """Moved to a point that counts heads, their rows went; back and tapped again, they
    count from when the log first saw them come in, as the chart always counted them."""
    conference, session, opens = during
    village = headcount_village(conference)
    first, second = registered("06811")[:2]
    tap(session, point("06811"), first.id, L, opens + timedelta(minutes=2))
    tap(session, point("06811"), second.id, P, opens + timedelta(minutes=3))
    db.session.commit()
    for person in (first, second):
        services.move(person, village)
    db.session.commit()
    assert reports.checkins_over_time(conference, session) == []
    for person in (first, second):
        services.move(person, point("00070"))
    db.session.commit()
    # One recorded absent first, then present (a row changed); one present at once (a
    # row made).
    tap(session, point("00070"), first.id, A, opens + timedelta(minutes=40))
    tap(session, point("00070"), first.id, P, opens + timedelta(minutes=45))
    tap(session, point("00070"), second.id, P, opens + timedelta(minutes=46))
    db.session.commit()
    assert reports.checkins_over_time(conference, session) == [(opens, 2)]
    assert reports.checkins_over_time(conference, session, province="01") == [(opens, 2)]
    assert reports.checkins_over_time(conference, session, province="22") == []
    assert db.session.scalars(select(Attendance.arrived_at).where(
        Attendance.participant_id.in_([first.id, second.id]),
        Attendance.session_id == session.id).order_by(Attendance.participant_id)).all() == [
        opens + timedelta(minutes=2), opens + timedelta(minutes=3)]
    assert counted() == arrivals_from_the_log()


def test_a_paper_list_brings_nobody_in_on_the_chart(during):
    """A paper list typed in while check-in is still open says who came, not when: the
    figures count it, the arrivals chart does not. A tap that brings one of them in
    later (absent on the list, or corrected to absent and back) arrives at that tap."""
    conference, session, opens = during
    listed = registered("06811")[:6]
    typed = session.published_ends_at + timedelta(minutes=30)  # check-in is open 2 h more
    for person, status in zip(listed, (P, L, P, P, P, A)):
        tap(session, point("06811"), person.id, status, typed, method=CheckInMethod.IMPORT,
            after_the_fact=True)
    db.session.commit()
    assert reports.checkins_over_time(conference, session) == []
    tally = dict(reports.session_totals(conference))[session]
    assert (tally.present, tally.late, tally.absent) == (4, 1, 1)

    seen = opens + timedelta(minutes=60)
    tap(session, point("06811"), listed[5].id, P, seen)
    tap(session, point("06811"), listed[0].id, A, seen)
    tap(session, point("06811"), listed[0].id, P, seen + timedelta(minutes=1))
    tap(session, point("06811"), listed[1].id, P, seen)  # late to present: no arrival
    db.session.commit()
    assert reports.checkins_over_time(conference, session, minutes=60) == [
        (opens, 0), (opens + timedelta(minutes=60), 2)]
    assert {person.id: arrival_times()[(person.id, session.id)] for person in listed} == {
        listed[0].id: seen + timedelta(minutes=1), listed[1].id: None, listed[2].id: None,
        listed[3].id: None, listed[4].id: None, listed[5].id: seen}
    assert counted() == arrivals_from_the_log()
    # Rebuilt from the log alone, the list's rows stay without an arrival.
    times = arrival_times()
    db.session.execute(update(Attendance).values(arrived_at=None))
    checkin.rebuild_counts(conference.id)
    db.session.commit()
    assert arrival_times() == times
    assert counted() == arrivals_from_the_log()


def test_arrivals_follow_a_point_filed_under_another_province(during):
    from confmgr.points import importing

    conference, session, opens = during
    hoan_kiem = point("00070")
    for index, person in enumerate(registered("00070")[:3]):
        tap(session, hoan_kiem, person.id, P, opens + timedelta(minutes=6 * index))
    db.session.commit()
    national = reports.checkins_over_time(conference, session)

    db.session.execute(update(BroadcastPoint).where(BroadcastPoint.id == hoan_kiem.id)
                       .values(province_code="22"))
    checkin.arrivals_follow_provinces(conference.id)
    importing.counts_follow_provinces(conference)
    db.session.commit()

    assert counted() == arrivals_from_the_log()
    assert reports.checkins_over_time(conference, session) == national
    assert reports.checkins_over_time(conference, session, province="22") == national
    assert reports.checkins_over_time(conference, session, province="01") == []


def test_the_migration_counts_the_arrivals_the_log_holds(during):
    from flask_migrate import downgrade, upgrade

    conference, session, opens = during
    uong_bi = point("06811")
    first, second, third = (p.id for p in registered("06811")[:3])
    for person, status, minutes in [(first, A, 1), (second, P, 2), (first, L, 9),
                                    (second, A, 11), (second, P, 12), (third, P, 13),
                                    (third, E, 14)]:
        tap(session, uong_bi, person, status, opens + timedelta(minutes=minutes))
    services.move(db.session.get(Participant, first), point("00070"))
    db.session.commit()
    expected, times = counted(), arrival_times()
    assert expected == arrivals_from_the_log()
    session_id = session.id
    db.session.remove()

    downgrade(revision="c4a7e2f9b318")
    upgrade()

    conference = db.session.scalar(select(Conference))
    session = db.session.get(AgendaSession, session_id)
    assert counted() == expected
    assert arrival_times() == times
    # The first delegate, late at 9 minutes, moved to Hà Nội since.
    assert reports.checkins_over_time(conference, session, province="01") == [
        (opens, 0), (opens + timedelta(minutes=5), 1)]


def test_the_generated_data_set_has_arrivals_to_chart(ctx):
    from confmgr.demo.generator import PRESETS, generate

    conference = generate(PRESETS["small"])
    came = db.session.scalar(select(func.count()).select_from(Attendance).where(
        Attendance.status.in_(HERE)))
    assert sum(counted().values()) == came
    assert db.session.scalar(select(func.count()).select_from(Attendance).where(
        Attendance.status.in_(HERE), Attendance.arrived_at.is_(None))) == 0
    session = reports.attended_sessions(conference)[0]
    series = reports.checkins_over_time(conference, session)
    assert len([n for _at, n in series if n]) > 10
    kept = counted()
    checkin.rebuild_counts(conference.id)
    assert counted() == kept
