"""The conference calendar, read back by icalendar and by Mozilla's ical.js."""
from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date, datetime, timezone
from html import unescape
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select

from confmgr.conferences import publishing
from confmgr.conferences.models import AgendaSession, AgendaVersion, Conference, Topic
from confmgr.db import db
from confmgr.demo.loader import SLUG
from confmgr.enums import SessionKind, SessionStatus
from tests.conftest import csrf_token
from tests.helpers import as_published_before_topic_ids, sessions_in_order

FEED = f"/c/{SLUG}/agenda.ics"
ICAL_JS_DIR = Path(__file__).parent / "ical"
HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def parse_with_ical_js(body: bytes) -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the ical.js check is skipped")
    if not (ICAL_JS_DIR / "node_modules" / "ical.js").is_dir():
        pytest.skip("ical.js is not installed: run `npm ci --prefix tests/ical`")
    result = subprocess.run(
        [node, str(ICAL_JS_DIR / "parse.mjs")], input=body, capture_output=True, check=True,
        timeout=60,
    )
    return json.loads(result.stdout)


def conference_title(app) -> str:
    with app.app_context():
        return db.session.scalar(select(Conference.title))


def change_session(app, index: int, *, publish: bool = True, **values) -> str:
    """Change the index-th session, publish the change, and return the session's UID."""
    with app.app_context():
        session = db.session.scalars(
            select(AgendaSession).order_by(AgendaSession.starts_at)
        ).all()[index]
        for name, value in values.items():
            setattr(session, name, value)
        uid = session.uid
        if publish:
            publishing.publish(session.conference, None, "")
        db.session.commit()
        return uid


def test_feed_http_headers(client, demo):
    response = client.get(FEED)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{SLUG}.ics"'


def test_feed_parsed_by_icalendar(client, demo):
    calendar = Calendar.from_ical(client.get(FEED).data)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == "-//confmgr//confmgr agenda//VI"
    title = conference_title(demo)
    assert calendar.calendar_name == title
    assert str(calendar["X-WR-CALNAME"]) == title
    assert str(calendar["X-WR-TIMEZONE"]) == "Asia/Ho_Chi_Minh"
    assert [tz.tz_name for tz in calendar.timezones] == ["Asia/Ho_Chi_Minh"]

    events = calendar.events
    sessions = sessions_in_order(demo)
    assert [str(e["UID"]) for e in events] == [f"{s.uid}@confmgr" for s in sessions]
    opening = events[1]
    assert str(opening["SUMMARY"]) == "Phát biểu khai mạc hội nghị"
    assert opening.start == datetime(2025, 6, 14, 8, 0, tzinfo=HCM)
    assert opening.start.astimezone(timezone.utc) == datetime(2025, 6, 14, 1, 0, tzinfo=timezone.utc)
    assert opening.end == datetime(2025, 6, 14, 8, 30, tzinfo=HCM)
    assert opening["DTSTART"].params["TZID"] == "Asia/Ho_Chi_Minh"
    assert str(opening["STATUS"]) == "CONFIRMED"
    assert opening["SEQUENCE"] == 0
    assert opening.categories == ["Khai mạc"]
    assert str(opening["URL"]) == f"http://localhost/c/{SLUG}/#s{sessions[1].id}"
    assert str(opening["DESCRIPTION"]).startswith("Nguyễn Xuân Thắng — Ủy viên Bộ Chính trị")
    topic_1 = events[3]
    assert str(topic_1["SUMMARY"]).startswith("Chuyên đề 1: Công tác tổ chức xây dựng Đảng")
    assert str(topic_1["LOCATION"]) == "Hội trường chính, Học viện Chính trị quốc gia Hồ Chí Minh"


def test_feed_parsed_by_ical_js(client, demo):
    parsed = parse_with_ical_js(client.get(FEED).data)
    with demo.app_context():
        published = db.session.scalar(select(AgendaVersion.published_at))
    assert parsed["version"] == "2.0"
    assert parsed["name"] == parsed["xWrCalname"] == conference_title(demo)
    assert parsed["xWrTimezone"] == "Asia/Ho_Chi_Minh"
    assert parsed["refreshInterval"] == "PT1H"
    assert parsed["timezones"] == ["Asia/Ho_Chi_Minh"]
    sessions = sessions_in_order(demo)
    assert len(parsed["events"]) == len(sessions) == 16
    for event, session in zip(parsed["events"], sessions):
        assert event["uid"] == f"{session.uid}@confmgr"
        assert event["startUtc"] == session.starts_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        assert event["endUtc"] == session.ends_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        assert event["startTzid"] == "Asia/Ho_Chi_Minh"
        # Every session was last changed by the only publication.
        assert event["dtstamp"] == event["lastModified"] == published.strftime(
            "%Y-%m-%dT%H:%M:%S.000Z")
    closing = parsed["events"][-1]
    assert closing["summary"] == "Bế mạc hội nghị"
    assert closing["startLocal"] == "2025-06-15T15:30:00"
    assert closing["startUtc"] == "2025-06-15T08:30:00.000Z"
    assert closing["categories"] == ["Bế mạc"]


def test_cancelled_session_stays_in_the_feed_as_cancelled(client, demo):
    uid = change_session(demo, 5, status=SessionStatus.CANCELLED)
    calendar = Calendar.from_ical(client.get(FEED).data)
    event = next(e for e in calendar.events if str(e["UID"]) == f"{uid}@confmgr")
    # Its time shown free where a client shows it whatever its status.
    assert (str(event["STATUS"]), str(event["TRANSP"])) == ("CANCELLED", "TRANSPARENT")
    assert {str(e["TRANSP"]) for e in calendar.events if e is not event} == {"OPAQUE"}
    assert len(calendar.events) == 16


def test_uids_stay_the_same_when_a_session_is_edited(client, demo):
    before = [str(e["UID"]) for e in Calendar.from_ical(client.get(FEED).data).events]
    change_session(demo, 3, title="Tên mới của chuyên đề")
    after = Calendar.from_ical(client.get(FEED).data).events
    assert [str(e["UID"]) for e in after] == before
    assert str(after[3]["SUMMARY"]) == "Chuyên đề 1: Tên mới của chuyên đề"


def test_unpublished_edits_stay_out_of_the_feed(client, demo):
    before = client.get(FEED).data
    change_session(demo, 3, publish=False, title="Chưa công bố")
    assert client.get(FEED).data == before


def test_sequence_rises_only_with_published_changes_of_time_place_or_title(client, demo):
    def sequence_of(index: int) -> int:
        return Calendar.from_ical(client.get(FEED).data).events[index]["SEQUENCE"]

    assert sequence_of(3) == 0
    change_session(demo, 3, publish=False, title="Đổi tên, chưa công bố")
    assert sequence_of(3) == 0
    change_session(demo, 3, title="Đổi tên, đã công bố")
    assert sequence_of(3) == 1
    change_session(demo, 3, description="Chỉ đổi mô tả")
    assert sequence_of(3) == 1  # details changed, time, place and title did not
    change_session(demo, 3, status=SessionStatus.CANCELLED)
    assert sequence_of(3) == 2
    assert sequence_of(4) == 0  # the others never moved


def test_unchanged_feed_is_byte_for_byte_stable(client, demo):
    assert client.get(FEED).data == client.get(FEED).data


def test_draft_conference_has_no_feed(client, demo):
    with demo.app_context():
        db.session.add(Conference(
            slug="nhap", title="Nháp", first_day=date(2025, 7, 1), last_day=date(2025, 7, 1),
        ))
        db.session.commit()
    assert client.get("/c/nhap/agenda.ics").status_code == 404


def test_long_vietnamese_lines_are_folded_without_splitting_characters(client, demo):
    body = client.get(FEED).data
    for line in body.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # a split character would not decode


def test_conditional_requests_get_304_until_the_next_publication(client, demo):
    first = client.get(FEED)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert first.headers["Cache-Control"] == "public, max-age=900"
    assert etag.startswith('"v1-')
    again = client.get(FEED, headers={"If-None-Match": etag})
    assert (again.status_code, again.data) == (304, b"")
    assert again.headers["ETag"] == etag
    assert client.get(FEED, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(FEED, headers={"If-None-Match": '"something-else"'}).status_code == 200
    change_session(demo, 3, title="Tên mới")  # publishes version 2
    fresh = client.get(FEED, headers={"If-None-Match": etag})
    assert fresh.status_code == 200
    assert fresh.headers["ETag"].startswith('"v2-')
    assert str(Calendar.from_ical(fresh.data).events[3]["SUMMARY"]) == "Chuyên đề 1: Tên mới"


def published_at(app, number: int, at: datetime) -> None:
    with app.app_context():
        db.session.scalar(select(AgendaVersion).where(AgendaVersion.number == number)
                          ).published_at = at
        db.session.commit()


def test_a_version_published_in_the_same_second_as_the_one_held_is_sent(client, demo):
    """HTTP dates keep whole seconds: both versions go out with the same Last-Modified, so
    that date alone must not pass for the second one."""
    published_at(demo, 1, datetime(2025, 6, 10, 8, 0, 0, 250000, tzinfo=timezone.utc))
    held = client.get(FEED).headers["Last-Modified"]
    assert held == "Tue, 10 Jun 2025 08:00:00 GMT"
    change_session(demo, 3, title="Tên mới")  # publishes version 2, in the same second:
    published_at(demo, 2, datetime(2025, 6, 10, 8, 0, 0, 750000, tzinfo=timezone.utc))
    fresh = client.get(FEED, headers={"If-Modified-Since": held})
    assert fresh.status_code == 200
    assert fresh.headers["ETag"].startswith('"v2-')
    assert fresh.headers["Last-Modified"] == held
    assert str(Calendar.from_ical(fresh.data).events[3]["SUMMARY"]) == "Chuyên đề 1: Tên mới"
    # A date past the publication does prove the client holds version 2, as its ETag does.
    assert client.get(FEED, headers={
        "If-Modified-Since": "Tue, 10 Jun 2025 08:00:01 GMT"}).status_code == 304
    assert client.get(FEED, headers={"If-None-Match": fresh.headers["ETag"]}).status_code == 304
    # Once a later second separates the versions, the date it was sent with is enough again.
    published_at(demo, 2, datetime(2025, 6, 10, 8, 0, 3, 500000, tzinfo=timezone.utc))
    again = client.get(FEED)
    assert again.headers["Last-Modified"] == "Tue, 10 Jun 2025 08:00:03 GMT"
    assert client.get(FEED, headers={
        "If-Modified-Since": again.headers["Last-Modified"]}).status_code == 304


# ---------------------------------------------------------------- the writer


def test_text_values_escape_commas_semicolons_backslashes_and_newlines():
    from confmgr.calendar.ics import escape_text

    assert escape_text("a, b; c\\d\r\ne\nf") == "a\\, b\\; c\\\\d\\ne\\nf"


def test_folding_keeps_every_line_within_75_octets_and_every_character_whole():
    from confmgr.calendar.ics import fold

    line = "DESCRIPTION:" + "Nghị quyết, chỉ thị; hướng dẫn — " * 12
    folded = fold(line)
    pieces = folded.encode("utf-8").split(b"\r\n")
    assert pieces[-1] == b""
    assert all(len(piece) <= 75 for piece in pieces)
    assert all(piece.startswith(b" ") for piece in pieces[1:-1])
    assert [len(piece) for piece in pieces[:-1]].count(75) >= 1
    # Unfolding (RFC 5545 §3.1) gives back exactly the line.
    assert folded.replace("\r\n ", "")[:-2] == line


def test_awkward_text_survives_both_parsers(client, demo):
    tricky = "Hỏi, đáp; thảo luận \\ tổng kết\nDòng thứ hai: «ngoặc» — " + "ữ" * 60
    uid = change_session(demo, 3, description=tricky)
    body = client.get(FEED).data
    event = next(e for e in Calendar.from_ical(body).events if str(e["UID"]) == f"{uid}@confmgr")
    assert tricky in str(event["DESCRIPTION"])
    parsed = next(e for e in parse_with_ical_js(body)["events"] if e["uid"] == f"{uid}@confmgr")
    assert tricky in parsed["description"]
    for line in body.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")


# ---------------------------------------------------------------- day and session feeds


def test_day_feed_holds_only_that_days_sessions(client, demo):
    response = client.get(f"/c/{SLUG}/days/2025-06-15.ics")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{SLUG}-2025-06-15.ics"')
    sessions = [s for s in sessions_in_order(demo)
                if s.starts_at.astimezone(HCM).date() == date(2025, 6, 15)]
    parsed = parse_with_ical_js(response.data)
    assert [e["uid"] for e in parsed["events"]] == [f"{s.uid}@confmgr" for s in sessions]
    assert parsed["events"][0]["startLocal"].startswith("2025-06-15T")
    assert parsed["name"].endswith(" — 15/06/2025")
    assert parsed["source"] == f"http://localhost/c/{SLUG}/days/2025-06-15.ics"


def test_day_feed_outside_the_conference_or_malformed_is_not_found(client, demo):
    assert client.get(f"/c/{SLUG}/days/2025-06-16.ics").status_code == 404
    assert client.get(f"/c/{SLUG}/days/15-06-2025.ics").status_code == 404


def test_session_feed_holds_one_event_with_exact_times(client, demo):
    session = sessions_in_order(demo)[1]
    response = client.get(f"/c/{SLUG}/sessions/{session.uid}.ics")
    assert response.status_code == 200
    parsed = parse_with_ical_js(response.data)
    assert len(parsed["events"]) == 1
    event = parsed["events"][0]
    assert event["uid"] == f"{session.uid}@confmgr"
    assert (event["startUtc"], event["endUtc"]) == (
        "2025-06-14T01:00:00.000Z", "2025-06-14T01:30:00.000Z")
    assert (event["startLocal"], event["endLocal"]) == (
        "2025-06-14T08:00:00", "2025-06-14T08:30:00")
    with demo.app_context():
        published = db.session.scalar(select(AgendaVersion.published_at))
    assert event["dtstamp"] == event["lastModified"] == published.strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")
    assert parsed["name"] == "Phát biểu khai mạc hội nghị"
    assert client.get(f"/c/{SLUG}/sessions/no-such-uid.ics").status_code == 404


def test_reminders_are_added_when_asked_and_never_to_cancelled_sessions(client, demo):
    uid = change_session(demo, 5, status=SessionStatus.CANCELLED)
    parsed = parse_with_ical_js(client.get(f"{FEED}?alarm=15").data)
    for event in parsed["events"]:
        if event["uid"] == f"{uid}@confmgr":
            assert event["alarms"] == []
        else:
            assert event["alarms"] == [
                {"action": "DISPLAY", "trigger": "-PT15M", "description": event["summary"]}]
    assert all(e["alarms"] == [] for e in parse_with_ical_js(client.get(FEED).data)["events"])
    # A calendar that refreshes from SOURCE keeps the reminders it subscribed with.
    assert parse_with_ical_js(client.get(f"{FEED}?alarm=15").data)["source"] == (
        f"http://localhost{FEED}?alarm=15")
    assert parse_with_ical_js(client.get(FEED).data)["source"] == f"http://localhost{FEED}"
    refused = client.get(f"{FEED}?alarm=7")
    assert refused.status_code == 400
    assert refused.data == b"alarm: choose one of 5, 10, 15, 30, 60 (minutes)\n"


def test_feeds_with_other_options_have_other_etags(client, demo):
    plain = client.get(FEED).headers["ETag"]
    reminded = client.get(f"{FEED}?alarm=30").headers["ETag"]
    assert plain != reminded
    assert client.get(f"{FEED}?alarm=30", headers={"If-None-Match": plain}).status_code == 200
    assert client.get(f"{FEED}?alarm=30", headers={"If-None-Match": reminded}).status_code == 304


# ---------------------------------------------------------------- where feeds are offered


def test_agenda_page_offers_every_way_to_subscribe(client, demo):
    from confmgr.calendar.subscribe import qr_svg

    page = client.get(f"/c/{SLUG}/").get_data(as_text=True)
    feed = f"http://localhost{FEED}"
    webcal = f"webcal://localhost{FEED}"
    assert (f'<link rel="alternate" type="text/calendar" title="Lịch hội nghị (iCalendar)" '
            f'href="{feed}">') in page
    assert f'href="{webcal}"' in page
    assert ('href="https://calendar.google.com/calendar/render?cid=webcal%3A%2F%2Flocalhost'
            f'%2Fc%2F{SLUG}%2Fagenda.ics"') in page
    assert (f'href="https://outlook.live.com/calendar/0/addfromweb?url=http%3A%2F%2Flocalhost'
            f'%2Fc%2F{SLUG}%2Fagenda.ics&amp;name=') in page
    assert str(qr_svg(webcal)) in page
    assert page.count(f'href="/c/{SLUG}/days/') == 2
    assert page.count(f'href="/c/{SLUG}/sessions/') == 16
    # A reminder chosen on the page goes into every subscription link.
    page = client.get(f"/c/{SLUG}/?alarm=30").get_data(as_text=True)
    assert f'href="{webcal}?alarm=30"' in page
    assert 'option value="30" selected' in page
    assert f'href="{webcal}?alarm=7"' not in client.get(f"/c/{SLUG}/?alarm=7").get_data(
        as_text=True)


def test_printed_programme_carries_the_subscription_qr_code(client, demo):
    from confmgr.calendar.subscribe import qr_svg

    page = client.get(f"/c/{SLUG}/print").get_data(as_text=True)
    assert str(qr_svg(f"webcal://localhost{FEED}")) in page


def test_created_and_last_modified_follow_the_publications(client, demo):
    with demo.app_context():
        first_published = db.session.scalar(select(publishing.AgendaVersion.published_at))
    events = Calendar.from_ical(client.get(FEED).data).events
    assert {e["CREATED"].dt for e in events} == {first_published.replace(microsecond=0)}
    assert {e["LAST-MODIFIED"].dt for e in events} == {first_published.replace(microsecond=0)}
    assert {e["DTSTAMP"].dt for e in events} == {first_published.replace(microsecond=0)}
    change_session(demo, 3, description="Mô tả mới")
    with demo.app_context():
        second = db.session.scalar(select(publishing.AgendaVersion.published_at)
                                   .where(publishing.AgendaVersion.number == 2))
    body = client.get(FEED).data
    events = Calendar.from_ical(body).events
    assert events[3]["CREATED"].dt == first_published.replace(microsecond=0)
    assert events[3]["LAST-MODIFIED"].dt == second.replace(microsecond=0)
    assert events[4]["LAST-MODIFIED"].dt == first_published.replace(microsecond=0)
    # ical.js reads the same: only the changed session carries the second publication.
    first_iso = first_published.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    second_iso = second.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    stamps = [(e["dtstamp"], e["lastModified"]) for e in parse_with_ical_js(body)["events"]]
    assert stamps == [(first_iso, first_iso)] * 3 + [(second_iso, second_iso)] + [
        (first_iso, first_iso)] * 12


def test_a_weak_etag_from_a_compressing_proxy_still_gets_304(client, demo):
    etag = client.get(FEED).headers["ETag"]
    again = client.get(FEED, headers={"If-None-Match": f"W/{etag}"})
    assert (again.status_code, again.data) == (304, b"")
    assert again.headers["ETag"] == etag
    assert client.get(FEED, headers={"If-None-Match": 'W/"v1-0-other"'}).status_code == 200


def test_the_writer_keeps_a_raw_value_with_line_breaks_on_its_line():
    from confmgr.calendar.ics import Writer

    out = Writer()
    out.line("CONFERENCE", "https://x.vn/j\r\nBEGIN:VALARM\x00\x1b\x7f", value="URI",
             label="Link\r\nX\x1b")
    out.text("DESCRIPTION", "a\rb\x0b\x0c\x1b\tc\r\nd")
    assert out.getvalue() == (
        "CONFERENCE;VALUE=URI;LABEL=Link  X:https://x.vn/jBEGIN:VALARM\r\n"
        "DESCRIPTION:a\\nb\\n\tc\\nd\r\n")  # Word's soft break (\v) is a line break


def test_control_characters_in_a_description_never_reach_the_feed(client, demo):
    # The session has no presenter or topic: its description is all the event says first.
    uid = change_session(demo, 4, description="\x0b\x0ca\rb\x1b")
    session_id = sessions_in_order(demo)[4].id
    body = client.get(FEED).data
    lines = body.split(b"\r\n")
    assert lines[-1] == b""
    assert not any(byte < 0x20 and byte != 0x09 or byte == 0x7F
                   for line in lines for byte in line)
    event = next(e for e in Calendar.from_ical(body).events if str(e["UID"]) == f"{uid}@confmgr")
    # \v (Word's soft line break) reads as a line break; \f and ESC are gone.
    assert str(event["DESCRIPTION"]) == f"\na\nb\n\nhttp://localhost/c/{SLUG}/#s{session_id}"
    parsed = next(e for e in parse_with_ical_js(body)["events"] if e["uid"] == f"{uid}@confmgr")
    assert parsed["description"] == f"\na\nb\n\nhttp://localhost/c/{SLUG}/#s{session_id}"


def changes_of_the_latest_version(app) -> list[tuple]:
    with app.app_context():
        newer, older = publishing.versions(db.session.scalar(select(Conference)))[:2]
        return [(c.kind, c.title, c.old, c.new)
                for c in publishing.diff_snapshots(older.snapshot, newer.snapshot)]


def test_moving_a_session_to_another_topic_is_a_new_title_for_calendars(client, demo):
    """The SUMMARY shows the topic's number: changing it is news, told as a new title."""
    with demo.app_context():
        session = sessions_in_order(demo)[3]
        title, uid = session.title, session.uid
        topic_two = db.session.scalar(select(Topic).where(Topic.number == "2")).id
    change_session(demo, 3, topic_id=topic_two)
    body = client.get(FEED).data
    event = next(e for e in Calendar.from_ical(body).events if str(e["UID"]) == f"{uid}@confmgr")
    assert (str(event["SUMMARY"]), event["SEQUENCE"]) == (f"Chuyên đề 2: {title}", 1)
    parsed = next(e for e in parse_with_ical_js(body)["events"] if e["uid"] == f"{uid}@confmgr")
    assert (parsed["summary"], parsed["sequence"]) == (f"Chuyên đề 2: {title}", 1)
    # Its topic's summary and materials changed too: the details were updated as well.
    assert changes_of_the_latest_version(demo) == [
        ("retitled", title, {"title": title, "topic": "1"}, {"title": title, "topic": "2"}),
        ("updated", title, {}, {}),
    ]


def test_renumbering_a_topic_raises_the_sequence_of_its_sessions(client, demo):
    with demo.app_context():
        session = sessions_in_order(demo)[3]
        title, uid = session.title, session.uid
        db.session.scalar(select(Topic).where(Topic.number == "1")).number = "8"
        publishing.publish(db.session.scalar(select(Conference)), None, "")
        db.session.commit()
    body = client.get(FEED).data
    events = {str(e["UID"]): e for e in Calendar.from_ical(body).events}
    assert (str(events[f"{uid}@confmgr"]["SUMMARY"]), events[f"{uid}@confmgr"]["SEQUENCE"]) == (
        f"Chuyên đề 8: {title}", 1)
    assert sorted(e["SEQUENCE"] for e in events.values()) == [0] * 15 + [1]
    parsed = next(e for e in parse_with_ical_js(body)["events"] if e["uid"] == f"{uid}@confmgr")
    assert (parsed["summary"], parsed["sequence"]) == (f"Chuyên đề 8: {title}", 1)
    assert changes_of_the_latest_version(demo) == [
        ("retitled", title, {"title": title, "topic": "1"}, {"title": title, "topic": "8"}),
    ]
    page = client.get(f"/c/{SLUG}/changelog").get_data(as_text=True)
    assert f"Đổi tên:</strong> {title}" in page and "Cập nhật nội dung" not in page
    assert f"«Chuyên đề 1: {title}» → «Chuyên đề 8: {title}»" in unescape(page)
    # Each reader's language names the topic.
    client.post("/language", data={"csrf_token": csrf_token(client), "lang": "en", "next": "/"})
    page = client.get(f"/c/{SLUG}/changelog").get_data(as_text=True)
    assert (f'«Topic 1: <span lang="vi">{title}</span>» → '
            f'«Topic 8: <span lang="vi">{title}</span>»') in unescape(page)


def test_a_version_published_before_topics_had_ids_changes_nothing_by_itself(client, demo):
    """Topic ids joined the snapshots later: the older form alone is not a change."""
    with demo.app_context():
        first_stamp = as_published_before_topic_ids().published_at.isoformat()
        with pytest.raises(publishing.NothingToPublish):
            publishing.publish(db.session.scalar(select(Conference)), None, "")
        db.session.rollback()
        title = sessions_in_order(demo)[5].title
    uid = change_session(demo, 5, description="Mô tả mới")
    assert changes_of_the_latest_version(demo) == [("updated", title, {}, {})]
    with demo.app_context():
        newer = publishing.versions(db.session.scalar(select(Conference)))[0]
        touched = [(s["uid"], s["sequence"]) for s in newer.snapshot["sessions"]
                   if s["sequence"] or s["modified"] != first_stamp]
    assert touched == [(uid, 0)]


def test_a_session_in_the_repeated_autumn_hour_keeps_its_instant(client, demo):
    """26/10/2025 02:00–03:00 happens twice in Europe/Paris. RFC 5545 reads a local time with
    a TZID there as the first pass, ical.js as the second: both passes are written in UTC,
    every other time stays local."""
    utc = timezone.utc
    with demo.app_context():
        conference = Conference(slug="paris-autumn", title="Paris", timezone="Europe/Paris",
                                first_day=date(2025, 10, 25), last_day=date(2025, 10, 26))
        db.session.add(conference)
        db.session.flush()
        for title, start in (("Lần đầu", datetime(2025, 10, 26, 0, 15, tzinfo=utc)),
                             ("Lần hai", datetime(2025, 10, 26, 1, 15, tzinfo=utc)),
                             ("Sau đó", datetime(2025, 10, 26, 2, 15, tzinfo=utc))):
            db.session.add(AgendaSession(
                conference_id=conference.id, kind=SessionKind.OTHER, title=title,
                starts_at=start, ends_at=start.replace(minute=45)))
        publishing.publish(conference, None, "")
        db.session.commit()
    body = client.get("/c/paris-autumn/agenda.ics").data
    events = body.decode().split("BEGIN:VEVENT", 1)[1]  # past the VTIMEZONE's own DTSTARTs
    assert [line for line in events.split("\r\n") if line.startswith(("DTSTART", "DTEND"))] == [
        "DTSTART:20251026T001500Z",
        "DTEND:20251026T004500Z",
        "DTSTART:20251026T011500Z",
        "DTEND:20251026T014500Z",
        "DTSTART;TZID=Europe/Paris:20251026T031500",
        "DTEND;TZID=Europe/Paris:20251026T034500",
    ]
    expected = [("Lần đầu", "2025-10-26T00:15:00.000Z", "2025-10-26T00:45:00.000Z"),
                ("Lần hai", "2025-10-26T01:15:00.000Z", "2025-10-26T01:45:00.000Z"),
                ("Sau đó", "2025-10-26T02:15:00.000Z", "2025-10-26T02:45:00.000Z")]
    assert [(str(e["SUMMARY"]), e.start.astimezone(utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
             e.end.astimezone(utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"))
            for e in Calendar.from_ical(body).events] == expected
    assert [(e["summary"], e["startUtc"], e["endUtc"])
            for e in parse_with_ical_js(body)["events"]] == expected


def test_a_change_of_the_clocks_inside_the_conference_is_in_its_vtimezone(client, demo):
    """Morocco set its clocks back an hour for Ramadan at 03:00 on 23/02/2025 (+01 to +00).
    ical.js (Thunderbird) reads each DTSTART by the feed's own VTIMEZONE, which, built for
    the conference's days alone, lacked that change: the 24th's session was an hour off."""
    casablanca = ZoneInfo("Africa/Casablanca")
    with demo.app_context():
        conference = Conference(slug="rabat-2025", title="Rabat", timezone="Africa/Casablanca",
                                first_day=date(2025, 2, 22), last_day=date(2025, 2, 24))
        db.session.add(conference)
        db.session.flush()
        for day in (22, 24):
            start = datetime(2025, 2, day, 9, 0, tzinfo=casablanca)
            db.session.add(AgendaSession(
                conference_id=conference.id, kind=SessionKind.OTHER, title=f"Ngày {day}",
                starts_at=start, ends_at=start.replace(hour=10)))
        publishing.publish(conference, None, "")
        db.session.commit()
    body = client.get("/c/rabat-2025/agenda.ics").data
    assert [(e["summary"], e["startUtc"]) for e in parse_with_ical_js(body)["events"]] == [
        ("Ngày 22", datetime(2025, 2, 22, 9, tzinfo=casablanca).astimezone(timezone.utc)
         .strftime("%Y-%m-%dT%H:%M:%S.000Z")),  # 08:00Z, at +01
        ("Ngày 24", datetime(2025, 2, 24, 9, tzinfo=casablanca).astimezone(timezone.utc)
         .strftime("%Y-%m-%dT%H:%M:%S.000Z")),  # 09:00Z, at +00
    ]
