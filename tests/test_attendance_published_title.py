"""Attendance names a session, and leaves out the breaks, as the published agenda has
them: a title or kind changed in the draft shows on attendance pages, reports, exports
and the API only once published."""
from __future__ import annotations

import csv
import io
import re
from html import unescape

from python_calamine import CalamineWorkbook
from sqlalchemy import select

from confmgr.attendance import reports
from confmgr.conferences.models import AgendaSession, Conference
from confmgr.db import db
from confmgr.demo.loader import SLUG
from confmgr.enums import SessionKind, SessionStatus
from tests.helpers import COORDINATOR, ORGANISER, bearer, flashes, logged_in, post_form
from tests.test_attendance_web import SHEET, open_session, people_at, publish_agenda, statuses
from tests.test_migrations import schema_differences
from tests.test_publishing_attendance import add_draft_session

OVERVIEW = f"/manage/c/{SLUG}/attendance"
NEW_TITLE = "Tên phiên mới, chưa công bố"


def conference() -> Conference:
    return db.session.scalar(select(Conference).where(Conference.slug == SLUG))


def picked(page: str, session_id: int) -> str:
    """The title the session picker gives the session."""
    [text] = re.findall(rf'<option value="{session_id}"[^>]*>[^<]*? — ([^<]*)</option>', page)
    return unescape(text)


def reported(page: str) -> str:
    """The title of the chosen session's row in the report's table of sessions."""
    [text] = re.findall(r'<tr class="table-primary"><td>[^<]*? — ([^<]*)</td>', page)
    return unescape(text)


def shown_everywhere(app, session_id: int) -> dict[str, str]:
    """The session's title on the coordinator's sheet, the organiser's report page and its
    printed form, the XLSX and delegates' CSV, and the API's session report."""
    coordinator = logged_in(app.test_client(), COORDINATOR)
    organiser = logged_in(app.test_client(), ORGANISER)
    report = organiser.get(f"{OVERVIEW}?session={session_id}").get_data(as_text=True)
    printed = organiser.get(f"{OVERVIEW}/print?session={session_id}").get_data(as_text=True)
    [printed_title] = re.findall(r'<p class="conference-dates">Phiên: [^<]*? — ([^<]*)</p>',
                                 printed)
    book = CalamineWorkbook.from_filelike(io.BytesIO(
        organiser.get(f"{OVERVIEW}/report.xlsx?session={session_id}").data))
    with app.app_context():
        session = db.session.get(AgendaSession, session_id)
        starts = session.published_starts_at.astimezone(conference().tz)
    [xlsx_row] = [row for row in book.get_sheet_by_name("Tổng hợp theo phiên").to_python()
                  if row[1] == starts.replace(tzinfo=None, microsecond=0)]
    text = organiser.get(f"{OVERVIEW}/participants.csv").get_data(as_text=True)
    headings = next(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    [heading] = [h for h in headings if h.startswith(f"{starts:%d/%m %H:%M} ")]
    api = app.test_client().get(f"/api/v1/conferences/{SLUG}/reports/sessions",
                                headers=bearer(app, ORGANISER[0])).get_json()
    return {
        "sheet": picked(coordinator.get(f"{SHEET}?session={session_id}").get_data(
            as_text=True), session_id),
        "report picker": picked(report, session_id),
        "report table": reported(report),
        "print": unescape(printed_title),
        "xlsx": xlsx_row[0],
        "participants csv": heading.removeprefix(f"{starts:%d/%m %H:%M} "),
        "api": next(s["title"] for s in api["sessions"] if s["session_id"] == session_id),
    }


def test_a_title_changed_in_the_draft_shows_only_once_published(demo):
    session_id = open_session(demo)
    with demo.app_context():
        session = db.session.get(AgendaSession, session_id)
        old_title = session.title
        session.title = NEW_TITLE
        db.session.commit()
    places = ("sheet", "report picker", "report table", "print", "xlsx", "participants csv",
              "api")
    assert shown_everywhere(demo, session_id) == dict.fromkeys(places, old_title)

    with demo.app_context():
        publish_agenda()
        assert db.session.get(AgendaSession, session_id).published_title == NEW_TITLE
    assert shown_everywhere(demo, session_id) == dict.fromkeys(places, NEW_TITLE)


def test_a_refusal_names_the_published_title(client, demo):
    """A published cancellation refuses a check-in, naming the session as delegates read
    it, not as renamed since in the draft."""
    session_id = open_session(demo)
    person = people_at(demo, "06811")[0][0]
    with demo.app_context():
        session = db.session.get(AgendaSession, session_id)
        old_title = session.title
        session.status = SessionStatus.CANCELLED
        publish_agenda()
        session = db.session.get(AgendaSession, session_id)
        session.title = NEW_TITLE
        db.session.commit()
    logged_in(client, COORDINATOR)
    response = post_form(client, f"{SHEET}/{session_id}", {"mark": f"{person}:present"},
                         follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [
        f"Phiên «{old_title}» đã bị hủy: không điểm danh."]
    assert statuses(demo, session_id) == {}


def test_a_session_turned_into_a_break_in_the_draft_takes_attendance_until_published(
        client, demo):
    session_id = open_session(demo)
    first, second = [pid for pid, _name in people_at(demo, "06811")[:2]]
    with demo.app_context():
        attended = [s.id for s in reports.attended_sessions(conference())]
        session = db.session.get(AgendaSession, session_id)
        title = session.title
        session.kind = SessionKind.BREAK
        db.session.commit()
        assert [s.id for s in reports.attended_sessions(conference())] == attended
        assert session_id in attended

    logged_in(client, COORDINATOR)
    page = client.get(SHEET).get_data(as_text=True)
    assert f'<option value="{session_id}" selected>' in page  # still the running session
    response = post_form(client, f"{SHEET}/{session_id}", {"mark": f"{first}:present"},
                         follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == []
    assert statuses(demo, session_id) == {first: "present"}

    with demo.app_context():
        publish_agenda()
        assert [s.id for s in reports.attended_sessions(conference())] == [
            i for i in attended if i != session_id]
    assert client.get(f"{SHEET}?session={session_id}").status_code == 404
    organiser = logged_in(demo.test_client(), ORGANISER)
    assert organiser.get(f"{OVERVIEW}?session={session_id}").status_code == 404
    response = post_form(client, f"{SHEET}/{session_id}", {"mark": f"{second}:present"},
                         follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [
        f"«{title}» là giờ nghỉ: không điểm danh."]
    assert statuses(demo, session_id) == {first: "present"}


def test_a_break_turned_into_a_session_in_the_draft_takes_none_until_published(demo):
    with demo.app_context():
        coffee = db.session.scalars(select(AgendaSession).where(
            AgendaSession.kind == SessionKind.BREAK).order_by(AgendaSession.starts_at)).first()
        coffee_id = coffee.id
        coffee.kind = SessionKind.DISCUSSION
        db.session.commit()
        assert coffee_id not in [s.id for s in reports.attended_sessions(conference())]
        publish_agenda()
        assert coffee_id in [s.id for s in reports.attended_sessions(conference())]


# ---------------------------------------------------------------- the migration


def test_the_migration_takes_title_and_kind_from_the_latest_published_version(ctx):
    """Rows published before the columns existed get what the latest version shows: a
    change published in version 2 counts, draft changes made since do not, a topic's
    session keeps its own title (calendars add the topic's number), and a session never
    published stays without."""
    from flask_migrate import downgrade, upgrade

    from confmgr.conferences.publishing import publish
    from confmgr.demo.loader import load_demo

    load_demo()
    db.session.commit()
    sessions = list(db.session.scalars(
        select(AgendaSession).order_by(AgendaSession.starts_at, AgendaSession.id)))
    retitled, made_break = sessions[1], sessions[2]
    renamed_in_draft, break_in_draft = sessions[3], sessions[5]
    assert renamed_in_draft.topic is not None
    retitled.title = "Phát biểu khai mạc (đã sửa)"
    made_break.kind = SessionKind.BREAK
    publish(conference(), None, "Sửa tên, thêm giờ nghỉ.")
    db.session.commit()
    expected = {s.id: (s.title, s.kind) for s in sessions}
    retitled_id, topic_id, topic_title = retitled.id, renamed_in_draft.id, renamed_in_draft.title
    renamed_in_draft.title = "Tên trong bản nháp"
    break_in_draft.kind = SessionKind.BREAK
    new_id = add_draft_session()
    db.session.remove()

    downgrade(revision="d0134b3cac27")
    upgrade()
    found = {s.id: (s.published_title, s.published_kind)
             for s in db.session.scalars(select(AgendaSession))}
    assert found == {**expected, new_id: (None, None)}
    assert found[retitled_id] == ("Phát biểu khai mạc (đã sửa)", SessionKind.OPENING)
    assert found[topic_id] == (topic_title, SessionKind.TOPIC)
    assert not topic_title.startswith("Chuyên đề")
    assert schema_differences() == []  # the tests after this one get the models' tables
    db.session.remove()
