"""Topic numbers: stored bare ("3a"), compared without case or the words "Chuyên đề", and
shown once with "Chuyên đề" in front on every page and calendar."""
from __future__ import annotations

import re
import unicodedata

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from confmgr.audit.models import AuditEntry
from confmgr.conferences import ics_import, publishing
from confmgr.conferences.models import AgendaSession, Conference, Topic
from confmgr.conferences.scheduling import bare_topic_number, topic_number_key
from confmgr.db import db
from confmgr.demo.loader import SLUG
from tests.conftest import csrf_token
from tests.helpers import ORGANISER, field_errors, logged_in, post_form

TOPICS = f"/manage/c/{SLUG}/topics"
EMPTY = "Hãy ghi số của chuyên đề, ví dụ 3 hoặc 3a; chữ «Chuyên đề» được thêm tự động."


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


@pytest.mark.parametrize(("typed", "bare"), [
    ("3a", "3a"),
    ("  3a ", "3a"),
    ("Chuyên đề 3a", "3a"),
    ("Chuyên đề số 3a", "3a"),
    ("chuyên đề: 3a", "3a"),
    ("CHUYÊN ĐỀ SỐ: 3A", "3A"),
    ("Chuyen de so. 12", "12"),
    ("chuyên   đề\u00a03a", "3a"),
    (nfd("Chuyên đề 3a"), "3a"),
    ("Chuyênđề3a", "3a"),
    ("CĐ 3a", "3a"),
    ("cđ.3a", "3a"),
    ("CD: 3a", "3a"),
    ("CĐ3a", "3a"),
    ("Chuyên đề", ""),
    ("CĐ.:", ""),
    # Zeros in front and a full stop or colon after, as lists typed in Word write them.
    ("03", "3"),
    ("3.", "3"),
    ("Chuyên đề 3:", "3"),
    ("Chuyên đề số 03", "3"),
    ("01.2", "1.2"),
    ("0", "0"),
    ("10", "10"),
    # A number that only starts with the letters keeps them.
    ("CD-1", "CD-1"),
    ("Cđa", "Cđa"),
    ("Chuyên đề Sa", "Sa"),
])
def test_the_words_before_a_number_are_dropped(typed, bare):
    assert bare_topic_number(typed) == bare


def test_one_number_has_one_key():
    keys = {topic_number_key(n) for n in ("3a", "3A", "Chuyên đề 3a", "chuyên đề 3A",
                                           nfd("CĐ 3a"), "chuyen de so: 3A")}
    assert keys == {"3a"}
    assert topic_number_key("3b") != "3a"


def topic_id(app, number: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Topic.id).where(Topic.number == number))


def topic_numbers(app) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(select(Topic.number)))


def set_number(app, old: str, new: str) -> None:
    """Store a number as it is, as rows saved before the rule may hold it."""
    with app.app_context():
        db.session.scalar(select(Topic).where(Topic.number == old)).number = new
        db.session.commit()


def edit_topic_1(client, app, number: str):
    with app.app_context():
        topic = db.session.get(Topic, topic_id(app, "1"))
        title, summary = topic.title, topic.summary
    return post_form(client, f"{TOPICS}/{topic_id(app, '1')}/edit",
                     {"number": number, "title": title, "summary": summary})


def test_a_number_typed_with_the_words_is_shown_once_everywhere(client, demo):
    with demo.app_context():
        topic_1 = topic_id(demo, "1")
        title = db.session.scalar(select(AgendaSession.title)
                                  .where(AgendaSession.topic_id == topic_1)
                                  .order_by(AgendaSession.starts_at))
    logged_in(client, ORGANISER)
    assert edit_topic_1(client, demo, "  Chuyên đề 3a ").status_code == 302
    with demo.app_context():
        assert db.session.get(Topic, topic_1).number == "3a"
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "topic.update")
                                   ).one()
        assert entry.details == {"topic_number": ["1", "3a"]}
    assert post_form(client, f"/manage/c/{SLUG}/publish", {"comment": ""}).status_code == 302

    agenda = client.get(f"/c/{SLUG}/").get_data(as_text=True)
    assert f'<span class="session-title">Chuyên đề 3a: {title}</span>' in agenda
    assert "Chuyên đề Chuyên đề" not in agenda
    printed = client.get(f"/c/{SLUG}/print").get_data(as_text=True)
    assert f"<td><strong>Chuyên đề 3a:</strong> {title}<div class=\"room\">" in printed
    summaries = [str(e["SUMMARY"]) for e in
                 Calendar.from_ical(client.get(f"/c/{SLUG}/agenda.ics").data).events]
    assert f"Chuyên đề 3a: {title}" in summaries
    assert not [s for s in summaries if "Chuyên đề Chuyên đề" in s]

    client.post("/language", data={"csrf_token": csrf_token(client), "lang": "en", "next": "/"})
    english = client.get(f"/c/{SLUG}/").get_data(as_text=True)
    assert f'<span class="session-title">Topic 3a: <span lang="vi">{title}</span></span>' in english


@pytest.mark.parametrize("typed", ["3A", "Chuyên đề 3a", "chuyên đề 3A", nfd("CĐ. 3a"),
                                   "03a", "3a.", "Chuyên đề số 03a:"])
def test_numbers_differing_in_case_or_words_are_one_number(client, demo, typed):
    logged_in(client, ORGANISER)
    assert edit_topic_1(client, demo, "3a").status_code == 302
    page = post_form(client, f"{TOPICS}/new", {"number": typed, "title": "Trùng số",
                                               "summary": ""}).get_data(as_text=True)
    assert field_errors(page, "number") == ["Số chuyên đề 3a đã có."]
    assert topic_numbers(demo) == ["2", "3", "3a", "4", "5", "6", "7"]


def test_a_number_stored_with_the_words_still_clashes(client, demo):
    set_number(demo, "1", "Chuyên đề 3a")
    logged_in(client, ORGANISER)
    page = post_form(client, f"{TOPICS}/new", {"number": "3A", "title": "Trùng số",
                                               "summary": ""}).get_data(as_text=True)
    assert field_errors(page, "number") == ["Số chuyên đề 3a đã có."]
    # Saving the old row again stores it bare: its own number is no clash.
    topic_1 = topic_id(demo, "Chuyên đề 3a")
    response = post_form(client, f"{TOPICS}/{topic_1}/edit",
                         {"number": "Chuyên đề 3a", "title": "Chuyên đề một", "summary": ""})
    assert response.status_code == 302
    assert topic_numbers(demo) == ["2", "3", "3a", "4", "5", "6", "7"]


@pytest.mark.parametrize("typed", ["Chuyên đề", "CĐ:", "chuyen de so."])
def test_a_number_that_is_only_the_words_is_refused(client, demo, typed):
    logged_in(client, ORGANISER)
    page = post_form(client, f"{TOPICS}/new", {"number": typed, "title": "Không số",
                                               "summary": ""}).get_data(as_text=True)
    assert field_errors(page, "number") == [EMPTY]
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(Topic)) == 7


def test_an_imported_title_finds_a_topic_stored_with_the_words(demo):
    """A stored "Chuyên đề 3", and calendars written when pages said "Chuyên đề Chuyên đề 3"."""
    set_number(demo, "3", "Chuyên đề 3")
    data = "\r\n".join((
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Thu nghiem//VI",
        "BEGIN:VEVENT", "UID:on-tap@example.org", "DTSTART:20250615T044500Z",
        "DTEND:20250615T054500Z", "SUMMARY:Chuyên đề 3: Ôn tập", "END:VEVENT",
        "BEGIN:VEVENT", "UID:hoi-dap@example.org", "DTSTART:20250615T094500Z",
        "DTEND:20250615T100000Z", "SUMMARY:Chuyên đề Chuyên đề 3: Hỏi đáp", "END:VEVENT",
        "END:VCALENDAR", "")).encode()
    with demo.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
        result = ics_import.check_calendar(conference, data, "lich.ics")
        topic_3 = topic_id(demo, "Chuyên đề 3")
        assert [(e.title, e.topic_id, e.topic_number) for e in result.events] == [
            ("Ôn tập", topic_3, "3"), ("Hỏi đáp", topic_3, "3"),
        ]
        db.session.rollback()


def test_a_number_stored_with_the_words_before_the_rule_is_shown_once(client, demo):
    """Rows and published versions from before numbers were stored bare."""
    with demo.app_context():
        title = db.session.scalar(select(AgendaSession.title)
                                  .where(AgendaSession.topic_id == topic_id(demo, "1"))
                                  .order_by(AgendaSession.starts_at))
    set_number(demo, "1", "Chuyên đề 1")
    with demo.app_context():  # and something else, so that there is a version to publish
        db.session.get(Topic, topic_id(demo, "Chuyên đề 1")).summary = "Tóm tắt mới."
        db.session.commit()
    logged_in(client, ORGANISER)
    assert post_form(client, f"/manage/c/{SLUG}/publish", {"comment": ""}).status_code == 302
    with demo.app_context():
        latest = publishing.versions(db.session.scalar(select(Conference)))[0]
        assert {s["topic"]["number"] for s in latest.snapshot["sessions"] if s["topic"]} >= {
            "Chuyên đề 1"}
    agenda = client.get(f"/c/{SLUG}/").get_data(as_text=True)
    assert f'<span class="session-title">Chuyên đề 1: {title}</span>' in agenda
    summaries = [str(e["SUMMARY"]) for e in
                 Calendar.from_ical(client.get(f"/c/{SLUG}/agenda.ics").data).events]
    assert f"Chuyên đề 1: {title}" in summaries
    assert not [s for s in summaries if "Chuyên đề Chuyên đề" in s]


def test_topics_are_listed_as_people_count_them(client, demo):
    for old, new in (("1", "10"), ("2", "2a"), ("3", "1")):
        set_number(demo, old, new)
    logged_in(client, ORGANISER)
    page = client.get(TOPICS).get_data(as_text=True)
    numbers = re.findall(r"<tr><td>([^<]+)</td>", page)
    assert numbers == sorted(topic_numbers(demo), key=lambda n: (int(re.match(r"\d+", n)[0]), n))
    assert numbers[0] == "1" and numbers.index("2a") < numbers.index("10")


def test_a_number_pasted_with_its_words_in_decomposed_letters_fits(client, demo):
    """21 code points as typed ("Chuyên đề số 12a" from Word, letters decomposed), three as
    stored: the form refused it as longer than 20."""
    typed = nfd("Chuyên đề số 12a")
    assert len(typed) > 20
    logged_in(client, ORGANISER)
    assert post_form(client, f"{TOPICS}/new", {"number": typed, "title": "Chuyên đề mới",
                                               "summary": ""}).status_code == 302
    assert "12a" in topic_numbers(demo)
    page = post_form(client, f"{TOPICS}/new", {"number": "1" * 21, "title": "Quá dài",
                                               "summary": ""}).get_data(as_text=True)
    assert field_errors(page, "number") == ["Dài quá 20 ký tự."]
