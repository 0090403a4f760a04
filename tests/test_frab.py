"""Schedules for conference apps: frab XML (checked against the c3voc XSD) and frab JSON."""
from __future__ import annotations

import json
import re
import uuid
import xml.etree.ElementTree as ET
from datetime import date
from functools import lru_cache
from pathlib import Path

import jsonschema
import pytest
import xmlschema
from sqlalchemy import select

from confmgr.calendar.frab import GUID_NAMESPACE, ascii_slug
from confmgr.conferences import publishing
from confmgr.conferences.models import AgendaSession, Conference, Presenter, Topic, TopicMaterial
from confmgr.db import db
from confmgr.demo.loader import SLUG
from confmgr.enums import SessionStatus, Visibility
from tests.conftest import csrf_token
from tests.helpers import ORGANISER, logged_in, sessions_in_order

XML = f"/c/{SLUG}/schedule.xml"
JSON = f"/c/{SLUG}/schedule.json"
AGENDA_URL = f"http://localhost/c/{SLUG}/"
XSD = Path(__file__).parent / "data" / "c3voc" / "schedule.xml.xsd"
JSON_SCHEMA = Path(__file__).parent / "data" / "c3voc" / "schedule.json"
HALL = "Hội trường chính, Học viện Chính trị quốc gia Hồ Chí Minh"
TITLE = (
    "Hội nghị toàn quốc tập huấn chuyên môn, nghiệp vụ liên quan đến công tác tổ chức "
    "xây dựng Đảng, quản lý nhà nước, tổ chức và hoạt động của MTTQ, đoàn thể chính trị "
    "ở cấp xã (mới)"
)
TOPIC_2 = ("Chuyên đề 2: Một số nội dung sửa đổi, bổ sung mới, quan trọng trong quy định, "
           "hướng dẫn thi hành Điều lệ Đảng")

# What the c3voc JSON schema (validator/json/schema.json) requires and allows.
TOP_KEYS = {"$schema", "schedule"}
SCHEDULE_KEYS = {"version", "base_url", "conference"}
CONFERENCE_KEYS = {"acronym", "title", "start", "end", "daysCount", "timeslot_duration",
                   "time_zone_name", "url", "rooms", "days"}
DAY_KEYS = {"index", "date", "day_start", "day_end", "rooms"}
ROOM_KEYS = {"name", "guid"}
EVENT_KEYS = {"id", "guid", "logo", "date", "start", "duration", "room", "slug", "url", "title",
              "subtitle", "track", "type", "language", "abstract", "description",
              "recording_license", "do_not_record", "persons", "links", "attachments",
              "answers"}
EVENT_STRINGS = EVENT_KEYS - {"id", "do_not_record", "persons", "links", "attachments",
                              "answers"}
UUID = re.compile(r"^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$")
DURATION = re.compile(r"^[0-9]+:[0-9]{2}$")
EVENT_SLUG = re.compile(r"^[a-z0-9_-]+[a-z0-9]$")


@lru_cache(maxsize=1)
def c3voc_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD))


def change_session(app, index: int, **values) -> int:
    """Change the index-th session, publish, and return the session's id."""
    with app.app_context():
        session = db.session.scalars(
            select(AgendaSession).order_by(AgendaSession.starts_at)
        ).all()[index]
        for name, value in values.items():
            setattr(session, name, value)
        publishing.publish(session.conference, None, "")
        db.session.commit()
        return session.id


def schedule_xml(client) -> ET.Element:
    response = client.get(XML)
    assert response.status_code == 200
    c3voc_schema().validate(response.get_data(as_text=True))
    return ET.fromstring(response.data)


def schedule_json(client) -> dict:
    response = client.get(JSON)
    assert response.status_code == 200
    document = json.loads(response.data)
    assert_json_shape(document)
    return document


def xml_event(root: ET.Element, session_id: int) -> ET.Element:
    found = root.findall(f"./day/room/event[@id='{session_id}']")
    assert len(found) == 1
    return found[0]


def json_events(document: dict) -> list[dict]:
    return [event for day in document["schedule"]["conference"]["days"]
            for events in day["rooms"].values() for event in events]


def json_event(document: dict, session_id: int) -> dict:
    found = [e for e in json_events(document) if e["id"] == session_id]
    assert len(found) == 1
    return found[0]


def assert_json_shape(document: dict) -> None:
    """Every object carries exactly the keys the c3voc JSON schema requires and allows."""
    assert set(document) == TOP_KEYS
    assert document["$schema"] == "https://c3voc.de/schedule/schema.json"
    assert set(document["schedule"]) == SCHEDULE_KEYS
    conference = document["schedule"]["conference"]
    assert set(conference) == CONFERENCE_KEYS
    assert re.fullmatch(r"[a-z0-9_-]+", conference["acronym"])
    assert DURATION.match(conference["timeslot_duration"])
    assert conference["daysCount"] == len(conference["days"])
    for room in conference["rooms"]:
        assert set(room) == ROOM_KEYS
        assert UUID.match(room["guid"])
    for day in conference["days"]:
        assert set(day) == DAY_KEYS
        assert type(day["index"]) is int
        for name, events in day["rooms"].items():
            assert name in {room["name"] for room in conference["rooms"]}
            for event in events:
                assert set(event) == EVENT_KEYS
                assert type(event["id"]) is int and event["id"] >= 1
                assert all(type(event[key]) is str for key in EVENT_STRINGS)
                assert event["do_not_record"] is False
                assert UUID.match(event["guid"])
                assert DURATION.match(event["duration"])
                assert EVENT_SLUG.match(event["slug"])
                assert event["room"] == name
                for person in event["persons"]:
                    assert set(person) == {"id", "public_name"}
                    assert type(person["id"]) is int and type(person["public_name"]) is str
                assert event["attachments"] == event["answers"] == []


# ---------------------------------------------------------------- the XML


def test_xml_validates_against_the_c3voc_xsd(client, demo):
    response = client.get(XML)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert response.data.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n<schedule>")
    c3voc_schema().validate(response.get_data(as_text=True))


def test_xml_conference_and_days(client, demo):
    root = schedule_xml(client)
    generator = root.find("generator")
    assert generator.attrib["name"] == "confmgr" and generator.attrib["version"]
    assert root.findtext("version") == "v1"
    conference = root.find("conference")
    assert {child.tag: child.text for child in conference} == {
        "acronym": SLUG,
        "title": TITLE,
        "start": "2025-06-14",
        "end": "2025-06-15",
        "days": "2",
        "timeslot_duration": "00:15",
        "time_zone_name": "Asia/Ho_Chi_Minh",
        "base_url": AGENDA_URL,
    }
    assert [day.attrib for day in root.findall("day")] == [
        {"index": "1", "date": "2025-06-14",
         "start": "2025-06-14T07:30:00+07:00", "end": "2025-06-14T17:30:00+07:00"},
        {"index": "2", "date": "2025-06-15",
         "start": "2025-06-15T08:00:00+07:00", "end": "2025-06-15T16:00:00+07:00"},
    ]
    assert [[room.attrib["name"] for room in day.findall("room")]
            for day in root.findall("day")] == [[HALL], [HALL]]
    assert [len(day.findall("room/event")) for day in root.findall("day")] == [11, 5]


def test_xml_opening_session_exactly(client, demo):
    opening = sessions_in_order(demo)[1]
    event = xml_event(schedule_xml(client), opening.id)
    assert event.attrib == {
        "id": str(opening.id),
        "guid": str(uuid.uuid5(GUID_NAMESPACE, f"{SLUG}/session/{opening.id}")),
    }
    assert {child.tag: child.text for child in event
            if child.tag not in ("recording", "persons", "links", "attachments")} == {
        "date": "2025-06-14T08:00:00+07:00",
        "start": "08:00",
        "duration": "00:30",
        "room": HALL,
        "slug": f"{SLUG}-{opening.id}-phat-bieu-khai-mac-hoi-nghi",
        "url": f"{AGENDA_URL}#s{opening.id}",
        "title": "Phát biểu khai mạc hội nghị",
        "subtitle": None,
        "track": "Khai mạc",
        "type": "opening",
        "language": "vi",
        "abstract": None,
        "description": (
            "Nguyễn Xuân Thắng — Ủy viên Bộ Chính trị, Giám đốc Học viện Chính trị quốc gia "
            "Hồ Chí Minh, Chủ tịch Hội đồng Lý luận Trung ương, Học viện Chính trị quốc gia "
            "Hồ Chí Minh"
        ),
    }
    assert [p.text for p in event.findall("persons/person")] == ["Nguyễn Xuân Thắng"]
    assert (event.findtext("recording/license"), event.findtext("recording/optout")) == (
        "", "false")


def test_xml_topic_session_and_presenter_ids(client, demo):
    sessions = sessions_in_order(demo)
    root = schedule_xml(client)
    topic_1, topic_2 = xml_event(root, sessions[3].id), xml_event(root, sessions[5].id)
    assert topic_1.findtext("title") == (
        "Chuyên đề 1: Công tác tổ chức xây dựng Đảng; tổ chức cơ sở Đảng, bộ máy và hoạt "
        "động cấp ủy cấp xã (mới)")
    assert topic_1.findtext("abstract") == (
        "Tổ chức cơ sở Đảng, bộ máy và hoạt động của cấp ủy ở cấp xã sau sắp xếp.")
    assert (topic_1.findtext("start"), topic_1.findtext("duration")) == ("09:15", "01:00")
    assert (topic_1.findtext("track"), topic_1.findtext("type")) == ("Chuyên đề", "topic")
    # The same presenter has the same id in every session.
    people = [p.attrib["id"] for e in (topic_1, topic_2) for p in e.findall("persons/person")]
    assert [p.text for e in (topic_1, topic_2) for p in e.findall("persons/person")] == [
        "Lãnh đạo Ban Tổ chức Trung ương"] * 2
    assert people[0] == people[1] and int(people[0]) >= 1
    opening = xml_event(root, sessions[1].id).find("persons/person").attrib["id"]
    assert opening != people[0]
    closing = xml_event(root, sessions[-1].id)
    assert closing.find("persons/person").attrib["id"] == opening  # Nguyễn Xuân Thắng again
    assert closing.findtext("date") == "2025-06-15T15:30:00+07:00"


def test_event_ids_and_slugs_are_unique(client, demo):
    root = schedule_xml(client)
    events = root.findall("day/room/event")
    ids = [e.attrib["id"] for e in events]
    slugs = [e.findtext("slug") for e in events]
    guids = [e.attrib["guid"] for e in events]
    assert len(events) == 16
    assert len(set(ids)) == len(set(slugs)) == len(set(guids)) == 16
    assert sorted(map(int, ids)) == sorted(s.id for s in sessions_in_order(demo))
    assert all(EVENT_SLUG.match(slug) and slug.isascii() for slug in slugs)
    # Every break is called "Giải lao": the id tells them apart.
    breaks = [e.findtext("slug") for e in events if e.findtext("type") == "break"]
    assert len(breaks) == 3 and all(slug.endswith("-giai-lao") for slug in breaks)
    document = schedule_json(client)
    assert sorted(e["slug"] for e in json_events(document)) == sorted(slugs)
    assert sorted(str(e["id"]) for e in json_events(document)) == sorted(ids)


def test_slugs_are_ascii_without_diacritics():
    assert ascii_slug("Đón tiếp Đại biểu — «Điểm cầu» Uông Bí") == "don-tiep-dai-bieu-diem-cau-uong-bi"
    assert ascii_slug("  Chuyên đề 3a; (mới)  ") == "chuyen-de-3a-moi"


# ---------------------------------------------------------------- the JSON


def test_json_validates_against_the_c3voc_json_schema(client, demo):
    schema = json.loads(JSON_SCHEMA.read_text(encoding="utf-8"))
    document = schedule_json(client)
    checker = jsonschema.Draft6Validator.FORMAT_CHECKER
    jsonschema.validate(document, schema, cls=jsonschema.Draft6Validator,
                        format_checker=checker)
    # The schema gives a day's rooms as an object whose "items" it never applies, so each
    # event is checked against its Event definition as well.
    event_schema = {"$ref": "#/definitions/Event", "definitions": schema["definitions"]}
    events = json_events(document)
    assert len(events) == 16
    for event in events:
        jsonschema.validate(event, event_schema, cls=jsonschema.Draft6Validator,
                            format_checker=checker)


def test_json_has_exactly_the_c3voc_keys_and_values(client, demo):
    response = client.get(JSON)
    assert response.headers["Content-Type"] == "application/json"
    document = schedule_json(client)
    schedule = document["schedule"]
    assert (schedule["version"], schedule["base_url"]) == ("v1", AGENDA_URL)
    conference = schedule["conference"]
    assert {k: v for k, v in conference.items() if k not in ("rooms", "days")} == {
        "acronym": SLUG,
        "title": TITLE,
        "start": "2025-06-14",
        "end": "2025-06-15",
        "daysCount": 2,
        "timeslot_duration": "00:15",
        "time_zone_name": "Asia/Ho_Chi_Minh",
        "url": AGENDA_URL,
    }
    assert conference["rooms"] == [
        {"name": HALL, "guid": str(uuid.uuid5(GUID_NAMESPACE, f"{SLUG}/room/{HALL}"))}]
    assert [{k: v for k, v in day.items() if k != "rooms"} for day in conference["days"]] == [
        {"index": 1, "date": "2025-06-14",
         "day_start": "2025-06-14T07:30:00+07:00", "day_end": "2025-06-14T17:30:00+07:00"},
        {"index": 2, "date": "2025-06-15",
         "day_start": "2025-06-15T08:00:00+07:00", "day_end": "2025-06-15T16:00:00+07:00"},
    ]
    opening = sessions_in_order(demo)[1]
    event = json_event(document, opening.id)
    person = event["persons"][0]["id"]
    assert event == {
        "id": opening.id,
        "guid": str(uuid.uuid5(GUID_NAMESPACE, f"{SLUG}/session/{opening.id}")),
        "logo": "",
        "date": "2025-06-14T08:00:00+07:00",
        "start": "08:00",
        "duration": "00:30",
        "room": HALL,
        "slug": f"{SLUG}-{opening.id}-phat-bieu-khai-mac-hoi-nghi",
        "url": f"{AGENDA_URL}#s{opening.id}",
        "title": "Phát biểu khai mạc hội nghị",
        "subtitle": "",
        "track": "Khai mạc",
        "type": "opening",
        "language": "vi",
        "abstract": "",
        "description": (
            "Nguyễn Xuân Thắng — Ủy viên Bộ Chính trị, Giám đốc Học viện Chính trị quốc gia "
            "Hồ Chí Minh, Chủ tịch Hội đồng Lý luận Trung ương, Học viện Chính trị quốc gia "
            "Hồ Chí Minh"
        ),
        "recording_license": "",
        "do_not_record": False,
        "persons": [{"id": person, "public_name": "Nguyễn Xuân Thắng"}],
        "links": [],
        "attachments": [],
        "answers": [],
    }
    # The XML and the JSON agree on every event.
    root = schedule_xml(client)
    assert int(xml_event(root, opening.id).find("persons/person").attrib["id"]) == person
    for item in json_events(document):
        node = xml_event(root, item["id"])
        assert (node.attrib["guid"], node.findtext("slug"), node.findtext("title"),
                node.findtext("date"), node.findtext("room")) == (
            item["guid"], item["slug"], item["title"], item["date"], item["room"])


# ---------------------------------------------------------------- across publications


def test_guid_and_slug_stay_when_another_session_is_published(client, demo):
    opening = sessions_in_order(demo)[1]
    before_xml, before_json = schedule_xml(client), schedule_json(client)
    before = {e.attrib["id"]: (e.attrib["guid"], e.findtext("slug"))
              for e in before_xml.findall("day/room/event")}
    changed = change_session(demo, 3, title="Tên mới của chuyên đề")
    after_xml, after_json = schedule_xml(client), schedule_json(client)
    assert after_xml.findtext("version") == "v2"
    assert after_json["schedule"]["version"] == "v2"
    after = {e.attrib["id"]: (e.attrib["guid"], e.findtext("slug"))
             for e in after_xml.findall("day/room/event")}
    assert after[str(opening.id)] == before[str(opening.id)]
    assert (json_event(after_json, opening.id)["guid"], json_event(after_json, opening.id)["slug"]) \
        == (json_event(before_json, opening.id)["guid"], json_event(before_json, opening.id)["slug"])
    # Only the renamed session's slug follows its new title; every guid stays.
    assert {k: v[0] for k, v in after.items()} == {k: v[0] for k, v in before.items()}
    assert {k for k in after if after[k] != before[k]} == {str(changed)}
    assert after[str(changed)][1] == f"{SLUG}-{changed}-ten-moi-cua-chuyen-de"


def test_cancelled_session_stays_marked_as_cancelled(client, demo):
    topic_2 = sessions_in_order(demo)[5]
    slug = xml_event(schedule_xml(client), topic_2.id).findtext("slug")
    change_session(demo, 5, status=SessionStatus.CANCELLED)
    root = schedule_xml(client)
    assert len(root.findall("day/room/event")) == 16
    event = xml_event(root, topic_2.id)
    assert event.findtext("title") == f"[Đã hủy] {TOPIC_2}"
    assert event.findtext("slug") == slug
    assert json_event(schedule_json(client), topic_2.id)["title"] == f"[Đã hủy] {TOPIC_2}"
    others = [e.findtext("title") for e in root.findall("day/room/event")
              if e.attrib["id"] != str(topic_2.id)]
    assert not any("Đã hủy" in title for title in others)


def test_control_characters_never_reach_the_schedule(client, demo):
    # XML 1.0 cannot carry them: one would make the whole document unreadable.
    session_id = change_session(demo, 4, description="\x0b\x0ca\rb\x1b",
                                title="Giải lao\x1b\x7f")
    root = schedule_xml(client)  # validated against the c3voc XSD
    event = xml_event(root, session_id)
    # \v (Word's soft line break) reads as a line break.
    assert (event.findtext("title"), event.findtext("description")) == ("Giải lao", "\na\nb")
    event = json_event(schedule_json(client), session_id)
    assert (event["title"], event["description"]) == ("Giải lao", "\na\nb")


def test_session_without_a_room_goes_to_the_main_hall(client, demo):
    welcome = change_session(demo, 0, room_id=None)
    root = schedule_xml(client)
    first_day = root.find("day")
    assert [room.attrib["name"] for room in first_day.findall("room")] == [
        "Hội trường chính", HALL]
    assert [e.attrib["id"] for e in first_day.findall("room")[0].findall("event")] == [
        str(welcome)]
    assert xml_event(root, welcome).findtext("room") == "Hội trường chính"
    document = schedule_json(client)
    assert [room["name"] for room in document["schedule"]["conference"]["rooms"]] == [
        "Hội trường chính", HALL]
    assert json_event(document, welcome)["room"] == "Hội trường chính"


def test_topic_materials_become_links(client, demo):
    with demo.app_context():
        topic = db.session.scalar(select(Topic).where(Topic.number == "1"))
        link = TopicMaterial(topic_id=topic.id, title="Tài liệu tham khảo",
                             url="https://example.org/tai-lieu.pdf")
        upload = TopicMaterial(topic_id=topic.id, title="Bài giảng", stored_name="abc.pdf",
                               original_name="bai-giang.pdf", content_type="application/pdf")
        db.session.add_all([link, upload])
        db.session.flush()
        upload_id = upload.id
        conference = db.session.scalar(select(Conference))
        publishing.publish(conference, None, "")
        db.session.commit()
    topic_1 = sessions_in_order(demo)[3]
    event = xml_event(schedule_xml(client), topic_1.id)
    expected = [("https://example.org/tai-lieu.pdf", "Tài liệu tham khảo"),
                (f"{AGENDA_URL}materials/{upload_id}", "Bài giảng")]
    assert [(link.attrib["href"], link.text) for link in event.findall("links/link")] == expected
    assert json_event(schedule_json(client), topic_1.id)["links"] == [
        {"url": url, "title": title} for url, title in expected]


# ---------------------------------------------------------------- HTTP


def test_unpublished_conference_has_no_schedule(client, demo):
    with demo.app_context():
        db.session.add(Conference(
            slug="nhap", title="Nháp", first_day=date(2025, 7, 1), last_day=date(2025, 7, 1),
        ))
        db.session.commit()
    assert client.get("/c/nhap/schedule.xml").status_code == 404
    assert client.get("/c/nhap/schedule.json").status_code == 404
    assert client.get("/c/khong-co/schedule.xml").status_code == 404


def test_restricted_conference_schedule_is_kept_from_strangers(client, demo):
    with demo.app_context():
        db.session.scalar(select(Conference)).visibility = Visibility.RESTRICTED
        db.session.commit()
    for url in (XML, JSON):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login"), url
    # Apps cannot sign in, so the agenda page of a restricted conference offers no schedule.
    page = logged_in(client, ORGANISER).get(f"/c/{SLUG}/").get_data(as_text=True)
    assert "schedule.xml" not in page and "schedule.json" not in page
    assert client.get(XML).status_code == 200


@pytest.mark.parametrize("url", [XML, JSON])
def test_conditional_requests_get_304_until_the_next_publication(client, demo, url):
    first = client.get(url)
    etag = first.headers["ETag"]
    assert etag.startswith('"v1-')
    assert first.headers["Cache-Control"] == "public, max-age=900"
    again = client.get(url, headers={"If-None-Match": etag})
    assert (again.status_code, again.data) == (304, b"")
    assert again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == "public, max-age=900"
    modified = first.headers["Last-Modified"]
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get(url).data == first.data
    change_session(demo, 3, title="Tên mới")
    fresh = client.get(url, headers={"If-None-Match": etag})
    assert fresh.status_code == 200
    assert fresh.headers["ETag"].startswith('"v2-')


def test_xml_json_and_ics_have_different_etags(client, demo):
    etags = {client.get(url).headers["ETag"] for url in (XML, JSON, f"/c/{SLUG}/agenda.ics")}
    assert len(etags) == 3
    ics = client.get(f"/c/{SLUG}/agenda.ics")
    assert ics.headers["Content-Disposition"] == f'attachment; filename="{SLUG}.ics"'
    assert client.get(f"/c/{SLUG}/agenda.ics",
                      headers={"If-None-Match": ics.headers["ETag"]}).status_code == 304


def test_schedule_is_vietnamese_whatever_the_reader_language(client, demo):
    before = client.get(XML).data
    token = csrf_token(client, f"/c/{SLUG}/")
    client.post("/language", data={"lang": "en", "next": f"/c/{SLUG}/", "csrf_token": token})
    assert '<html lang="en">' in client.get(f"/c/{SLUG}/").get_data(as_text=True)
    assert client.get(XML).data == before
    change_session(demo, 5, status=SessionStatus.CANCELLED)
    # Built while the reader's language is English: still the Vietnamese labels.
    root = ET.fromstring(client.get(XML).data)
    assert xml_event(root, sessions_in_order(demo)[5].id).findtext("title").startswith(
        "[Đã hủy] ")
    assert xml_event(root, sessions_in_order(demo)[1].id).findtext("track") == "Khai mạc"


def test_agenda_page_links_to_both_schedules(client, demo):
    page = client.get(f"/c/{SLUG}/").get_data(as_text=True)
    assert (f'Lịch cho ứng dụng hội nghị: <a href="/c/{SLUG}/schedule.xml">frab XML</a> · '
            f'<a href="/c/{SLUG}/schedule.json">JSON</a>') in page


def test_the_timeslot_is_a_grid_every_session_falls_on(demo):
    """Sessions at 07:30, 09:00 and 10:30 share a 90-minute step: capped at an hour it
    must still divide it (30 minutes), or 07:30 would fall between two slots."""
    from dataclasses import replace
    from datetime import datetime, timedelta

    from confmgr.calendar.frab import timeslot_minutes

    with demo.app_context():
        agenda = publishing.published_agenda(db.session.scalar(select(Conference)))
        first = agenda.sessions[0]

        def at(*starts: tuple[int, int], minutes: int = 90):
            return tuple(replace(first, starts_at=begin, ends_at=begin + timedelta(minutes=minutes))
                         for begin in (datetime(2025, 6, 14, h, m, tzinfo=first.tz)
                                       for h, m in starts))

        assert timeslot_minutes(at((7, 30), (9, 0), (10, 30))) == 30
        assert timeslot_minutes(at((8, 0), (10, 0), minutes=120)) == 60
        assert timeslot_minutes(at((8, 0), (8, 45), minutes=45)) == 15
        assert timeslot_minutes(at((8, 0), (8, 50), minutes=50)) == 10


def test_two_presenters_whose_names_differ_by_a_mark_are_two_people(client, demo):
    """"Hùng" and "Hưng" are two names: their ids were made from the name folded, and apps
    merged them into one speaker."""
    names = ("Nguyễn Văn Hùng", "Nguyễn Văn Hưng")
    with demo.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
        sessions = db.session.scalars(
            select(AgendaSession).order_by(AgendaSession.starts_at)).all()[7:9]
        for session, name in zip(sessions, names):
            presenter = Presenter(conference_id=conference.id, name=name)
            db.session.add(presenter)
            session.presenters = [presenter]
        ids = [s.id for s in sessions]
        publishing.publish(conference, None, "")
        db.session.commit()
    document = json.loads(client.get(f"/c/{SLUG}/schedule.json").data)
    persons = {event["id"]: event["persons"]
               for day in document["schedule"]["conference"]["days"]
               for events in day["rooms"].values() for event in events}
    first, second = (persons[i][0] for i in ids)
    assert (first["public_name"], second["public_name"]) == names
    assert first["id"] != second["id"]
