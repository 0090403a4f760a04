"""What is published governs attendance: a draft session, a draft cancellation or a draft
change of time takes effect for check-in only once the agenda is published."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from confmgr.attendance import checkin, reports
from confmgr.attendance.models import AttendanceChange, SessionPointCount
from confmgr.conferences.editing import RuleBroken, delete_session
from confmgr.conferences.models import AgendaSession, Conference
from confmgr.db import db, utcnow
from confmgr.demo.loader import SLUG
from confmgr.enums import AttendanceStatus, CheckInMethod, SessionKind, SessionStatus
from confmgr.points.models import BroadcastPoint
from tests.conftest import csrf_token
from tests.helpers import COORDINATOR, ORGANISER, count_queries, flashes, logged_in, post_form
from tests.test_attendance_web import (
    SHEET,
    open_session,
    people_at,
    publish_agenda,
    statuses,
)

NOT_PUBLISHED = "Không có phiên này trong chương trình đã công bố."


def conference() -> Conference:
    return db.session.scalar(select(Conference).where(Conference.slug == SLUG))


def published(session: AgendaSession) -> tuple:
    return session.published_starts_at, session.published_ends_at, session.published_status


def draft_session(app, starts_in: timedelta = -timedelta(minutes=10)) -> int:
    """A topic session added to the draft, running now, never published; its id."""
    with app.app_context():
        session = AgendaSession(
            conference_id=conference().id, kind=SessionKind.TOPIC, title="Phiên nháp",
            starts_at=utcnow() + starts_in, ends_at=utcnow() + starts_in + timedelta(hours=1))
        db.session.add(session)
        db.session.commit()
        return session.id


def options(page: str) -> list[str]:
    """The sessions the picker offers, as their ids."""
    return re.findall(r'<option value="(\d+)"', page)


def test_publishing_stores_each_sessions_published_time_and_status(demo):
    with demo.app_context():
        sessions = list(db.session.scalars(
            select(AgendaSession).order_by(AgendaSession.starts_at, AgendaSession.id)))
        assert [published(s) for s in sessions] == [
            (s.starts_at, s.ends_at, s.status) for s in sessions]
        moved, cancelled = sessions[1], sessions[2]
        moved_id, cancelled_id = moved.id, cancelled.id
        before = {s.id: published(s) for s in sessions}
        moved.starts_at += timedelta(hours=1)
        moved.ends_at += timedelta(hours=1)
        cancelled.status = SessionStatus.CANCELLED
        db.session.commit()
    new_id = draft_session(demo)
    with demo.app_context():
        # The draft changes nothing of what was published.
        assert {s.id: published(s) for s in db.session.scalars(select(AgendaSession))} == {
            **before, new_id: (None, None, None)}
        publish_agenda()
        moved, cancelled, new = (db.session.get(AgendaSession, i)
                                 for i in (moved_id, cancelled_id, new_id))
        assert published(moved) == (before[moved_id][0] + timedelta(hours=1),
                                    before[moved_id][1] + timedelta(hours=1),
                                    SessionStatus.CONFIRMED)
        assert published(cancelled) == (*before[cancelled_id][:2], SessionStatus.CANCELLED)
        assert published(new) == (new.starts_at, new.ends_at, SessionStatus.CONFIRMED)


def test_a_never_published_session_takes_no_attendance(client, demo):
    session_id = draft_session(demo)
    person = people_at(demo, "06811")[0][0]
    with demo.app_context():
        assert session_id not in [s.id for s in reports.attended_sessions(conference())]
        session = db.session.get(AgendaSession, session_id)
        uong_bi = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "06811"))
        with pytest.raises(RuleBroken) as refused:
            checkin.record(session, uong_bi, person, AttendanceStatus.PRESENT, user_id=None,
                           method=CheckInMethod.MANUAL)
        assert [p.message for p in refused.value.problems] == [NOT_PUBLISHED]
        db.session.rollback()

    logged_in(client, COORDINATOR)
    page = client.get(SHEET).get_data(as_text=True)
    assert options(page) and str(session_id) not in options(page)
    base = f"{SHEET}/{session_id}"
    assert client.get(f"{SHEET}?session={session_id}").status_code == 404
    assert post_form(client, base, {"mark": f"{person}:present"}).status_code == 404
    assert post_form(client, f"{base}/all-present", {}).status_code == 404
    assert post_form(client, f"{base}/headcount", {"count_0": "3"}).status_code == 404
    assert client.get(f"{base}/import").status_code == 404
    assert client.get(f"{base}/import/template.csv").status_code == 404
    assert client.get(f"/manage/c/{SLUG}/attendance?session={session_id}").status_code == 404
    assert statuses(demo, session_id) == {}

    organiser = logged_in(demo.test_client(), ORGANISER)
    overview = organiser.get(f"/manage/c/{SLUG}/attendance").get_data(as_text=True)
    assert "Phiên nháp" not in overview
    assert organiser.get(
        f"/manage/c/{SLUG}/attendance?session={session_id}").status_code == 404
    participants = organiser.get(f"/manage/c/{SLUG}/attendance/participants.csv")
    assert "Phiên nháp" not in participants.get_data(as_text=True)
    # Nothing can be recorded, so deleting it erases no check-in log.
    with demo.app_context():
        changes = db.session.scalar(select(func.count()).select_from(AttendanceChange))
        delete_session(db.session.get(AgendaSession, session_id))
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(AttendanceChange)) == changes


def test_a_scan_never_goes_to_a_session_never_published(client, demo):
    """A draft session running now: the delegate's scan goes to the published agenda's
    sessions, long over in the demo."""
    draft_session(demo)
    person, _name = people_at(demo, "06811")[0]
    coordinator = logged_in(demo.test_client(), COORDINATOR)
    coordinator.get(f"/manage/c/{SLUG}/points/06811/badges")
    with demo.app_context():
        from confmgr.roster.models import Participant

        code = db.session.get(Participant, person).checkin_code
    page = client.get(f"/q/{code}").get_data(as_text=True)
    assert "Phiên nháp" not in page and "Tôi có mặt" not in page


def test_a_draft_cancellation_changes_nothing_until_published(client, demo):
    session_id = open_session(demo)
    first, second = [pid for pid, _name in people_at(demo, "06811")[:2]]
    with demo.app_context():
        session = db.session.get(AgendaSession, session_id)
        session.status = SessionStatus.CANCELLED
        db.session.commit()
        title = session.title
    logged_in(client, COORDINATOR)
    page = client.get(f"{SHEET}?session={session_id}").get_data(as_text=True)
    assert "(Đã hủy)" not in page and "đã bị hủy" not in page
    response = post_form(client, f"{SHEET}/{session_id}", {"mark": f"{first}:present"},
                         follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == []
    assert statuses(demo, session_id) == {first: "present"}
    organiser = logged_in(demo.test_client(), ORGANISER)
    report = organiser.get(f"/manage/c/{SLUG}/attendance?session={session_id}")
    assert "Đã hủy" not in report.get_data(as_text=True)

    with demo.app_context():
        publish_agenda()
    response = post_form(client, f"{SHEET}/{session_id}", {"mark": f"{second}:present"},
                         follow_redirects=True)
    page = response.get_data(as_text=True)
    assert flashes(page) == [f"Phiên «{title}» đã bị hủy: không điểm danh."]
    assert f"{title} (Đã hủy)" in page
    assert statuses(demo, session_id) == {first: "present"}


def test_a_draft_change_of_time_moves_no_window_until_published(client, demo):
    """The demo's sessions were published in June 2025. Moved in the draft to run now,
    check-in stays closed at the published time; published, it opens."""
    with demo.app_context():
        session = db.session.scalars(select(AgendaSession).where(
            AgendaSession.kind == SessionKind.TOPIC)
            .order_by(AgendaSession.starts_at.desc())).first()
        session_id, title = session.id, session.title
        closes = (session.published_ends_at + timedelta(minutes=120)).astimezone(
            conference().tz)
        session.starts_at = utcnow() - timedelta(minutes=10)
        session.ends_at = utcnow() + timedelta(minutes=50)
        db.session.commit()
    person = people_at(demo, "06811")[0][0]
    logged_in(client, COORDINATOR)
    # The sheet opens on a published session: the draft time chooses nothing.
    assert f'<option value="{session_id}" selected>' not in client.get(SHEET).get_data(
        as_text=True)
    response = post_form(client, f"{SHEET}/{session_id}", {"mark": f"{person}:present"},
                         follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [
        f"Đã hết giờ điểm danh phiên «{title}» (đóng lúc {closes:%H:%M %d/%m/%Y}); hãy tải "
        "lên danh sách giấy."]
    assert statuses(demo, session_id) == {}

    with demo.app_context():
        publish_agenda()
    assert f'<option value="{session_id}" selected>' in client.get(SHEET).get_data(
        as_text=True)
    post_form(client, f"{SHEET}/{session_id}", {"mark": f"{person}:present"})
    assert statuses(demo, session_id) == {person: "present"}

    # Moved away in the draft, the published time still holds.
    with demo.app_context():
        session = db.session.get(AgendaSession, session_id)
        session.starts_at = utcnow() + timedelta(days=3)
        session.ends_at = session.starts_at + timedelta(hours=1)
        db.session.commit()
    post_form(client, f"{SHEET}/{session_id}", {"mark": f"{person}:late"})
    assert statuses(demo, session_id) == {person: "late"}


def second_tap(client, demo, first: str, second: str) -> tuple[int, list[str]]:
    """Uông Bí's coordinator taps ``first``, then ``second`` ("<person index>:<status>",
    by the point's delegates in order) in an open session: the session and the
    statements the second tap sent."""
    session_id = open_session(demo)
    people = [pid for pid, _name in people_at(demo, "06811")]
    logged_in(client, COORDINATOR)
    url = f"{SHEET}/{session_id}"

    def mark(tap: str) -> str:
        index, _sep, status = tap.partition(":")
        return f"{people[int(index)]}:{status}"

    post_form(client, url, {"mark": mark(first)}, headers={"HX-Request": "true"})
    token = csrf_token(client)
    with count_queries(demo) as statements:
        response = client.post(url, data={"mark": mark(second), "csrf_token": token},
                               headers={"HX-Request": "true"})
    assert response.status_code == 200
    return session_id, statements


def test_a_tap_reads_the_published_session_with_the_point(client, demo):
    """The published time and status come with the session row the tap already reads:
    a tap sends as many statements as before they existed."""
    session_id, statements = second_tap(client, demo, "0:present", "1:present")
    people = [pid for pid, _name in people_at(demo, "06811")[:2]]
    assert statuses(demo, session_id) == {people[0]: "present", people[1]: "present"}
    # The user; the conference, point and session in one (on PostgreSQL, holding the
    # point's lock shared as well); the delegate; the row, two counters and the log (one
    # statement on PostgreSQL; on SQLite four, and the delegate again under the write
    # lock); the answer; the arrival, counted by minute and province just before the
    # commit.
    with demo.app_context():
        expected = 10 if db.engine.dialect.name == "sqlite" else 6
    assert len(statements) == expected
    assert sum("agenda_sessions" in statement for statement in statements) == 1


def test_a_corrected_tap_writes_the_row_counters_and_log_at_once_on_postgresql(client, demo):
    """A tap that changes a recorded status: on PostgreSQL the row, both counters and the
    log go in one statement; the counters and the log say what changed."""
    session_id, statements = second_tap(client, demo, "0:present", "0:late")
    person = people_at(demo, "06811")[0][0]
    assert statuses(demo, session_id) == {person: "late"}
    # The user; the conference, point and session (on PostgreSQL with the point's lock);
    # the delegate; the insert that yields to the row; the row, held; then the update, two
    # counters and the log (one statement on PostgreSQL; on SQLite four, and the delegate
    # again under the write lock); the answer. Late after present is no new arrival.
    with demo.app_context():
        expected = 11 if db.engine.dialect.name == "sqlite" else 7
        assert len(statements) == expected
        a = SessionPointCount
        counted = db.session.execute(select(a.present, a.late).where(
            a.session_id == session_id)).all()
        assert counted == [(0, 1)]
        changes = db.session.execute(
            select(AttendanceChange.old_status, AttendanceChange.new_status)
            .where(AttendanceChange.participant_id == person,
                   AttendanceChange.session_id == session_id)
            .order_by(AttendanceChange.id)).all()
        assert changes == [(None, AttendanceStatus.PRESENT),
                           (AttendanceStatus.PRESENT, AttendanceStatus.LATE)]


# ---------------------------------------------------------------- the migration


def add_draft_session() -> int:
    """A session added to the draft and never published (a migration leaves it alone)."""
    new = AgendaSession(conference_id=conference().id, kind=SessionKind.TOPIC,
                        title="Phiên nháp", starts_at=utcnow(),
                        ends_at=utcnow() + timedelta(hours=1))
    db.session.add(new)
    db.session.commit()
    return new.id


def test_the_migration_takes_the_latest_published_version_not_the_draft(ctx):
    """Rows published before the columns existed get what the latest version shows: a
    change published in version 2 counts, draft changes made since do not, and a session
    never published stays without."""
    from flask_migrate import downgrade, upgrade

    from confmgr.conferences.publishing import publish
    from confmgr.demo.loader import load_demo

    load_demo()
    db.session.commit()
    sessions = list(db.session.scalars(
        select(AgendaSession).order_by(AgendaSession.starts_at, AgendaSession.id)))
    republished, moved, cancelled = sessions[1], sessions[2], sessions[3]
    republished_id = republished.id
    first_start = republished.starts_at
    republished.starts_at += timedelta(minutes=15)
    republished.ends_at += timedelta(minutes=15)
    publish(conference(), None, "Lùi 15 phút.")
    db.session.commit()
    expected = {s.id: (s.starts_at, s.ends_at, s.status) for s in sessions}
    moved.starts_at += timedelta(hours=2)
    moved.ends_at += timedelta(hours=2)
    cancelled.status = SessionStatus.CANCELLED
    new_id = add_draft_session()
    db.session.remove()

    downgrade(revision="5b1e0c7d9a42")
    upgrade()
    found = {s.id: published(s) for s in db.session.scalars(select(AgendaSession))}
    assert found == {**expected, new_id: (None, None, None)}
    assert found[republished_id][0] == first_start + timedelta(minutes=15)
    db.session.remove()
