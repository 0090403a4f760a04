"""Before publishing, the organiser is warned of each session the draft turns into a break
while attendance has been recorded for it: once published, reports and exports leave it
out (its rows stay in the database). Publishing still goes ahead when confirmed."""
from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from sqlalchemy import func, select

from confmgr.attendance import checkin, reports
from confmgr.attendance.models import NO_CATEGORY, Attendance, SessionPointCount
from confmgr.conferences.models import AgendaSession, Conference
from confmgr.db import db
from confmgr.demo.loader import SLUG
from confmgr.enums import AttendanceStatus, CheckInMethod, SessionKind, SessionStatus
from confmgr.points.models import BroadcastPoint
from tests.helpers import COORDINATOR, ORGANISER, flashes, logged_in, post_form
from tests.test_attendance_web import SHEET, open_session, people_at, publish_agenda

PUBLISH = f"/manage/c/{SLUG}/publish"
HEADCOUNT_POINT = "06688"


def conference() -> Conference:
    return db.session.scalar(select(Conference).where(Conference.slug == SLUG))


def point(code: str) -> BroadcastPoint:
    return db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == code))


def warnings(page: str) -> list[str]:
    """The publish page's warnings (flashed messages carry role="status" and are not among
    them)."""
    return [unescape(m).strip()
            for m in re.findall(r'<div class="alert alert-warning">(.*?)</div>', page, re.S)]


def lost(app) -> list[tuple[int, int]]:
    with app.app_context():
        return [(s.id, count)
                for s, count in reports.attendance_lost_by_publishing(conference())]


def draft(app, session_id: int, **changes) -> None:
    """Change a session in the draft only."""
    with app.app_context():
        session = db.session.get(AgendaSession, session_id)
        for name, value in changes.items():
            setattr(session, name, value)
        db.session.commit()


def report_heads(app, session_id: int, heads: int) -> None:
    """Hạ Long counts heads instead of naming delegates, and reports ``heads``."""
    with app.app_context():
        ha_long = point(HEADCOUNT_POINT)
        ha_long.headcount_only = True
        db.session.commit()
        checkin.report_headcount(db.session.get(AgendaSession, session_id), ha_long,
                                 {NO_CATEGORY: heads}, user_id=None)
        db.session.commit()


def tap(client, session_id: int, marks: list[tuple[int, str]]) -> None:
    for person, status in marks:
        response = post_form(client, f"{SHEET}/{session_id}", {"mark": f"{person}:{status}"})
        assert response.status_code == 302


def test_the_publish_page_warns_of_a_break_that_drops_recorded_attendance(client, demo):
    session_id = open_session(demo)
    first, second, third = [pid for pid, _name in people_at(demo, "06811")[:3]]
    tap(logged_in(demo.test_client(), COORDINATOR), session_id,
        [(first, "present"), (second, "late"), (third, "absent")])
    report_heads(demo, session_id, 1200)
    with demo.app_context():
        title = db.session.get(AgendaSession, session_id).title
    draft(demo, session_id, kind=SessionKind.BREAK)

    logged_in(client, ORGANISER)
    page = client.get(PUBLISH).get_data(as_text=True)
    assert warnings(page) == [
        f"Phiên «{title}» đã có 1.203 lượt điểm danh: công bố thành giờ nghỉ sẽ bỏ phiên "
        "này khỏi các báo cáo điểm danh."]

    # A warning, not a refusal: the organiser confirms and the break is published.
    response = post_form(client, PUBLISH, {"comment": "Thành giờ nghỉ"}, follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == ["Đã công bố phiên bản 3."]
    with demo.app_context():
        assert db.session.get(AgendaSession, session_id).published_kind == SessionKind.BREAK
        assert session_id not in [s.id for s in reports.attended_sessions(conference())]
    # Nothing more to lose: the attendance already left the reports with that version.
    draft(demo, session_id, description="Giải lao giữa giờ")
    page = client.get(PUBLISH).get_data(as_text=True)
    assert "Công bố phiên bản 4" in page
    assert warnings(page) == []


def test_no_warning_for_a_break_without_attendance(client, demo):
    """A headcount of nobody leaves a counter row of zeros: nothing recorded either."""
    session_id = open_session(demo)
    report_heads(demo, session_id, 0)
    with demo.app_context():
        assert db.session.scalars(select(SessionPointCount.headcount).where(
            SessionPointCount.session_id == session_id)).all() == [0]
    draft(demo, session_id, kind=SessionKind.BREAK)

    page = logged_in(client, ORGANISER).get(PUBLISH).get_data(as_text=True)
    assert "Công bố phiên bản 3" in page  # the change is there to publish
    assert warnings(page) == []
    assert lost(demo) == []


def test_no_warning_for_a_cancellation(client, demo):
    """A cancelled session stays in the reports, marked cancelled, with what was recorded."""
    session_id = open_session(demo)
    people = [pid for pid, _name in people_at(demo, "06811")[:2]]
    tap(logged_in(demo.test_client(), COORDINATOR), session_id,
        [(person, "present") for person in people])
    draft(demo, session_id, status=SessionStatus.CANCELLED)

    page = logged_in(client, ORGANISER).get(PUBLISH).get_data(as_text=True)
    assert "Công bố phiên bản 3" in page
    assert warnings(page) == []
    assert lost(demo) == []


def test_the_sessions_that_would_lose_attendance_with_their_counts(demo):
    """Named statuses and heads, summed over the points, for each session the draft turns
    into a break, in published order; not for one turned into a break with nothing
    recorded, a cancelled one, or one already published as a break."""
    with demo.app_context():
        topics = list(db.session.scalars(
            select(AgendaSession).where(AgendaSession.kind == SessionKind.TOPIC)
            .order_by(AgendaSession.published_starts_at, AgendaSession.id)))
        # The demo checked in every delegate at topic 1; topics 3 to 6 have nothing yet.
        checked_in, first, second, quiet, cancelled = topics[0], *topics[2:6]
        everyone = db.session.scalar(select(func.count()).select_from(Attendance).where(
            Attendance.session_id == checked_in.id))
        assert everyone > 0
        assert db.session.scalar(select(func.count()).select_from(SessionPointCount).where(
            SessionPointCount.session_id.in_([s.id for s in topics[2:6]]))) == 0
        people = [pid for pid, _name in people_at(demo, "06811")[:3]]
        uong_bi, ha_long = point("06811"), point(HEADCOUNT_POINT)
        ha_long.headcount_only = True
        db.session.commit()

        def during(session):
            return session.published_starts_at + timedelta(minutes=5)

        def record(session, person, status):
            checkin.record(session, uong_bi, person, status, user_id=None,
                           method=CheckInMethod.MANUAL, now=during(session))

        record(first, people[0], AttendanceStatus.PRESENT)
        record(first, people[1], AttendanceStatus.LATE)
        record(first, people[2], AttendanceStatus.EXCUSED)
        checkin.report_headcount(first, ha_long, {NO_CATEGORY: 40}, user_id=None,
                                 now=during(first))
        record(second, people[0], AttendanceStatus.ABSENT)
        checkin.report_headcount(quiet, ha_long, {NO_CATEGORY: 0}, user_id=None,
                                 now=during(quiet))
        record(cancelled, people[0], AttendanceStatus.PRESENT)
        for session in (second, first, quiet, checked_in):
            session.kind = SessionKind.BREAK
        cancelled.status = SessionStatus.CANCELLED
        db.session.commit()
        ids = checked_in.id, first.id, second.id
    assert lost(demo) == [(ids[0], everyone), (ids[1], 43), (ids[2], 1)]

    with demo.app_context():
        publish_agenda()
    assert lost(demo) == []
