"""A point's private feed tells calendar clients when the point's address or link changed."""
from __future__ import annotations

from datetime import datetime

from icalendar import Calendar
from sqlalchemy import select

from confmgr.conferences.models import AgendaVersion
from confmgr.db import db
from confmgr.demo.loader import SLUG
from confmgr.points.models import BroadcastPoint
from tests.conftest import csrf_token
from tests.helpers import COORDINATOR, ORGANISER, flashes, logged_in, post_form
from tests.test_calendar import change_session, parse_with_ical_js
from tests.test_calendar_private import feed_token_on
from tests.test_points import csv_file

POINTS = f"/manage/c/{SLUG}/points"
NAME = "Điểm cầu Uông Bí"
ADDRESS = "Trụ sở Đảng ủy – HĐND – UBND phường Uông Bí, tỉnh Quảng Ninh"
NEW_ADDRESS = "Số 1 Quang Trung, phường Uông Bí, tỉnh Quảng Ninh"
NEW_STREAM = "https://hop.example.vn/j/uongbi-moi"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def iso(moment: datetime) -> str:
    """The same instant as ical.js reports a DATE-TIME."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def published_at(app, number: int = 1) -> datetime:
    with app.app_context():
        return db.session.scalar(select(AgendaVersion.published_at)
                                 .where(AgendaVersion.number == number))


def place_of(app, code: str) -> tuple[int, datetime | None, str, str]:
    with app.app_context():
        point = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == code))
        return point.place_revision, point.place_changed_at, point.address, point.stream_url


def organiser_form(app, code: str, **changes) -> dict[str, str]:
    """What the organiser's edit page sends back for a point, with ``changes``."""
    with app.app_context():
        point = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == code))
        values = {name: getattr(point, name) or "" for name in (
            "name", "admin_unit_code", "address", "host_unit", "chair_name", "chair_position",
            "technical_officer_name", "technical_officer_phone", "stream_url", "access_code")}
        values.update(code=point.code, level=point.level.value,
                      parent_code=point.parent.code if point.parent else "",
                      expected_delegates=str(point.expected_delegates))
        if point.headcount_only:
            values["headcount_only"] = "y"
    return {**values, **changes}


def point_token(client) -> str:
    logged_in(client, COORDINATOR)
    return feed_token_on(client.get(f"{POINTS}/06811").get_data(as_text=True))


def read_feed(client, token: str) -> tuple[list[tuple], list[tuple], str]:
    """Each event's (SEQUENCE, DTSTAMP, LAST-MODIFIED, LOCATION, CONFERENCE) as icalendar
    reads it, the same as ical.js does, and the ETag."""
    response = client.get(f"/feeds/{token}.ics")
    assert response.status_code == 200
    events = Calendar.from_ical(response.data).events
    by_icalendar = [(e["SEQUENCE"], e["DTSTAMP"].to_ical().decode(),
                     e["LAST-MODIFIED"].to_ical().decode(), str(e["LOCATION"]),
                     str(e.get("CONFERENCE", ""))) for e in events]
    by_ical_js = [(e["sequence"], e["dtstamp"], e["lastModified"], e["location"],
                   e["conference"])
                  for e in parse_with_ical_js(response.data)["events"]]
    return by_icalendar, by_ical_js, response.headers["ETag"]


def test_a_new_address_then_a_new_link_raise_the_point_feeds_sequence_and_stamps(client, demo):
    token = point_token(client)
    published = stamp(published_at(demo))
    before, before_js, etag = read_feed(client, token)
    assert set(before) == {(0, published, published, f"{NAME}, {ADDRESS}", "")}
    assert len(before) == 16
    published_js = iso(published_at(demo))
    assert set(before_js) == {(0, published_js, published_js, f"{NAME}, {ADDRESS}", None)}

    # The organiser gives the point a new address.
    organiser = logged_in(demo.test_client(), ORGANISER)
    response = post_form(organiser, f"{POINTS}/06811/edit",
                         organiser_form(demo, "06811", address=NEW_ADDRESS))
    assert response.status_code == 302
    revision, moved_at, address, _stream = place_of(demo, "06811")
    assert (revision, address) == (1, NEW_ADDRESS)
    assert moved_at > published_at(demo)
    moved = stamp(moved_at)
    after, after_js, new_etag = read_feed(client, token)
    assert set(after) == {(1, moved, moved, f"{NAME}, {NEW_ADDRESS}", "")}
    assert set(after_js) == {(1, iso(moved_at), iso(moved_at), f"{NAME}, {NEW_ADDRESS}", None)}
    assert new_etag != etag
    assert client.get(f"/feeds/{token}.ics",
                      headers={"If-None-Match": etag}).status_code == 200

    # The coordinator gives it a new stream link: the join link follows, and so do the
    # sequence and the stamps.
    response = post_form(client, f"{POINTS}/06811/edit", {
        "name": NAME, "level": "commune", "address": NEW_ADDRESS, "stream_url": NEW_STREAM})
    assert response.status_code == 302
    revision, linked_at, _address, stream = place_of(demo, "06811")
    assert (revision, stream) == (2, NEW_STREAM)
    assert linked_at > moved_at
    linked = stamp(linked_at)
    after, after_js, _etag = read_feed(client, token)
    assert set(after) == {(2, linked, linked, f"{NAME}, {NEW_ADDRESS}", NEW_STREAM)}
    assert set(after_js) == {(2, iso(linked_at), iso(linked_at), f"{NAME}, {NEW_ADDRESS}",
                              NEW_STREAM)}

    # A later publication that moves one session adds its own sequence to the point's.
    change_session(demo, 3, title="Phiên thảo luận đổi tên")
    second = stamp(published_at(demo, 2))
    events, events_js, _etag = read_feed(client, token)
    assert [e[:3] for e in events][2:5] == [(2, linked, linked), (3, second, second),
                                            (2, linked, linked)]
    assert [e[:3] for e in events_js][2:5] == [
        (2, iso(linked_at), iso(linked_at)),
        (3, iso(published_at(demo, 2)), iso(published_at(demo, 2))),
        (2, iso(linked_at), iso(linked_at))]


def test_a_save_that_keeps_the_address_and_link_moves_nothing(client, demo):
    token = point_token(client)
    first = client.get(f"/feeds/{token}.ics")
    organiser = logged_in(demo.test_client(), ORGANISER)
    response = post_form(organiser, f"{POINTS}/06811/edit",
                         organiser_form(demo, "06811", chair_name="Nguyễn Văn Mới"))
    assert response.status_code == 302
    response = post_form(client, f"{POINTS}/06811/edit", {
        "name": NAME, "level": "commune", "address": ADDRESS,
        "technical_officer_phone": "0912 345 678"})
    assert response.status_code == 302
    assert place_of(demo, "06811") == (0, None, ADDRESS, "")
    again = client.get(f"/feeds/{token}.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert client.get(f"/feeds/{token}.ics").data == first.data


def test_an_import_that_changes_the_address_raises_the_point_feeds_sequence(client, demo):
    token = point_token(client)
    published = stamp(published_at(demo))
    organiser = logged_in(demo.test_client(), ORGANISER)
    heading = ["Mã điểm cầu", "Tên điểm cầu", "Cấp", "Địa chỉ"]

    def upload(*rows: list[str]) -> list[str]:
        return flashes(organiser.post(
            f"{POINTS}/import", data={"csrf_token": csrf_token(organiser),
                                      "file": csv_file([heading, *rows])},
            content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True))

    # The same address again (and another point's new one) leaves this feed alone, and
    # only the other point counts as updated.
    assert "Đã nhập: 0 điểm cầu mới, 1 điểm cầu cập nhật." in upload(
        ["06811", NAME, "Xã", ADDRESS], ["06688", "Điểm cầu phường Hạ Long", "Xã", "Số 2"])
    assert place_of(demo, "06811") == (0, None, ADDRESS, "")
    assert place_of(demo, "06688")[0] == 1
    events, _js, _etag = read_feed(client, token)
    assert set(events) == {(0, published, published, f"{NAME}, {ADDRESS}", "")}

    assert "Đã nhập: 0 điểm cầu mới, 1 điểm cầu cập nhật." in upload(
        ["06811", NAME, "Xã", NEW_ADDRESS])
    revision, moved_at, address, _stream = place_of(demo, "06811")
    assert (revision, address) == (1, NEW_ADDRESS)
    moved = stamp(moved_at)
    events, events_js, _etag = read_feed(client, token)
    assert set(events) == {(1, moved, moved, f"{NAME}, {NEW_ADDRESS}", "")}
    assert set(events_js) == {(1, iso(moved_at), iso(moved_at), f"{NAME}, {NEW_ADDRESS}",
                               None)}


def test_other_feeds_keep_the_sessions_own_sequence_and_stamps(client, demo):
    organiser = logged_in(client, ORGANISER)
    post_form(organiser, f"{POINTS}/06811/edit",
              organiser_form(demo, "06811", address=NEW_ADDRESS))
    published = published_at(demo).replace(microsecond=0)
    events = Calendar.from_ical(client.get(f"/c/{SLUG}/agenda.ics").data).events
    assert {(e["SEQUENCE"], e["DTSTAMP"].dt, e["LAST-MODIFIED"].dt) for e in events} == {
        (0, published, published)}
