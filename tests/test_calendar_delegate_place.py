"""A delegate's own feed follows the place of their point and their moves between points;
the HTTP dates of a point's and a delegate's feed follow the place too."""
from __future__ import annotations

from datetime import datetime, timezone

from icalendar import Calendar

from confmgr.db import db
from confmgr.demo.loader import SLUG
from confmgr.roster.models import Participant
from tests.helpers import COORDINATOR, ORGANISER, logged_in, post_form
from tests.test_calendar import parse_with_ical_js
from tests.test_calendar_private import feed_token_on, person_at
from tests.test_point_feed_place import organiser_form, place_of, published_at, stamp

POINTS = f"/manage/c/{SLUG}/points"
UONG_BI = "Điểm cầu Uông Bí"
HA_LONG = "Điểm cầu phường Hạ Long"
# Every change below happens at a moment of its own, well after the demo's publication,
# each in a second of its own so that HTTP dates (whole seconds) tell them apart.
FIRST_ADDRESS_AT = datetime(2031, 3, 2, 7, 15, 30, 400000, tzinfo=timezone.utc)
SECOND_ADDRESS_AT = datetime(2031, 3, 2, 9, 0, 5, tzinfo=timezone.utc)
FIRST_MOVE_AT = datetime(2031, 3, 3, 1, 2, 3, 999999, tzinfo=timezone.utc)
HA_LONG_ADDRESS_AT = datetime(2031, 3, 4, 10, 20, 30, tzinfo=timezone.utc)
MOVE_BACK_AT = datetime(2031, 3, 5, 23, 59, 59, 100, tzinfo=timezone.utc)
OTHER_MOVE_AT = datetime(2031, 3, 6, 12, 0, 0, tzinfo=timezone.utc)


def at(monkeypatch, moment: datetime) -> None:
    """Make the point edits and the delegate moves that follow happen at ``moment``."""
    for module in ("confmgr.points.importing", "confmgr.points.services",
                   "confmgr.roster.services"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: moment)


def delegate_token(client, code: str, person_id: int) -> str:
    page = client.get(f"{POINTS}/{code}/delegates/{person_id}/edit").get_data(as_text=True)
    return feed_token_on(page)


def read_feed(client, token: str, **headers: str):
    """Each event's (SEQUENCE, DTSTAMP, LAST-MODIFIED, LOCATION) as icalendar reads it, the
    same as ical.js reads it, and the response."""
    response = client.get(f"/feeds/{token}.ics", headers=headers)
    assert response.status_code == 200
    by_icalendar = [(e["SEQUENCE"], e["DTSTAMP"].to_ical().decode(),
                     e["LAST-MODIFIED"].to_ical().decode(), str(e["LOCATION"]))
                    for e in Calendar.from_ical(response.data).events]
    assert len(by_icalendar) == 16
    by_ical_js = [(e["sequence"], e["dtstamp"], e["lastModified"], e["location"])
                  for e in parse_with_ical_js(response.data)["events"]]
    return set(by_icalendar), set(by_ical_js), response


def iso(moment: datetime) -> str:
    """How ical.js reports a DATE-TIME: whole seconds, as written in the feed."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def moves_of(app, person_id: int) -> tuple[int, datetime | None, str]:
    with app.app_context():
        person = db.session.get(Participant, person_id)
        return person.place_revision_offset, person.moved_at, person.point.code


def move(organiser, code: str, person_id: int, destination: str) -> None:
    response = post_form(organiser, f"{POINTS}/{code}/delegates/{person_id}/move",
                         {"point_code": destination})
    assert response.status_code == 302


def change_address(app, organiser, code: str, address: str) -> None:
    response = post_form(organiser, f"{POINTS}/{code}/edit",
                         organiser_form(app, code, address=address))
    assert response.status_code == 302


def test_a_delegates_feed_rises_with_their_points_place_and_with_every_move(
        client, demo, monkeypatch):
    person_id, _name = person_at(demo, "06811")
    other_id, _other = person_at(demo, "06688")
    logged_in(client, COORDINATOR)
    token = delegate_token(client, "06811", person_id)
    other_token = delegate_token(client, "06688", other_id)
    organiser = logged_in(demo.test_client(), ORGANISER)
    published = stamp(published_at(demo))
    uong_bi = f"{UONG_BI}, {place_of(demo, '06811')[2]}"
    ha_long = f"{HA_LONG}, {place_of(demo, '06688')[2]}"

    events, events_js, first = read_feed(client, token)
    assert events == {(0, published, published, uong_bi)}
    published_js = iso(published_at(demo))
    assert events_js == {(0, published_js, published_js, uong_bi)}
    assert first.headers["Last-Modified"] == published_at(demo).strftime(
        "%a, %d %b %Y %H:%M:%S GMT")

    # The point's address changes twice: the delegate's calendar follows each time.
    at(monkeypatch, FIRST_ADDRESS_AT)
    change_address(demo, organiser, "06811", "Số 1 Quang Trung, phường Uông Bí")
    uong_bi = f"{UONG_BI}, Số 1 Quang Trung, phường Uông Bí"
    events, events_js, response = read_feed(client, token, **{
        "If-None-Match": first.headers["ETag"],
        "If-Modified-Since": first.headers["Last-Modified"]})
    assert events == {(1, "20310302T071530Z", "20310302T071530Z", uong_bi)}
    assert events_js == {(1, "2031-03-02T07:15:30.000Z", "2031-03-02T07:15:30.000Z", uong_bi)}
    assert response.headers["Last-Modified"] == "Sun, 02 Mar 2031 07:15:30 GMT"
    assert response.headers["ETag"].startswith('"v1-1930202130-')

    at(monkeypatch, SECOND_ADDRESS_AT)
    change_address(demo, organiser, "06811", "Số 2 Quang Trung, phường Uông Bí")
    uong_bi = f"{UONG_BI}, Số 2 Quang Trung, phường Uông Bí"
    events, events_js, response = read_feed(client, token)
    assert events == {(2, "20310302T090005Z", "20310302T090005Z", uong_bi)}
    assert events_js == {(2, "2031-03-02T09:00:05.000Z", "2031-03-02T09:00:05.000Z", uong_bi)}
    assert place_of(demo, "06811")[:2] == (2, SECOND_ADDRESS_AT)

    # Moved to a point whose place never changed (its count is 0): one more, not fewer.
    at(monkeypatch, FIRST_MOVE_AT)
    move(organiser, "06811", person_id, "06688")
    assert moves_of(demo, person_id) == (3, FIRST_MOVE_AT, "06688")
    events, events_js, response = read_feed(client, token)
    assert events == {(3, "20310303T010203Z", "20310303T010203Z", ha_long)}
    assert events_js == {(3, "2031-03-03T01:02:03.000Z", "2031-03-03T01:02:03.000Z", ha_long)}
    assert response.headers["Last-Modified"] == "Mon, 03 Mar 2031 01:02:03 GMT"

    # The new point's place changes: followed there too.
    at(monkeypatch, HA_LONG_ADDRESS_AT)
    change_address(demo, organiser, "06688", "Số 9 Trần Hưng Đạo, phường Hạ Long")
    ha_long = f"{HA_LONG}, Số 9 Trần Hưng Đạo, phường Hạ Long"
    events, events_js, _response = read_feed(client, token)
    assert events == {(4, "20310304T102030Z", "20310304T102030Z", ha_long)}
    assert events_js == {(4, "2031-03-04T10:20:30.000Z", "2031-03-04T10:20:30.000Z", ha_long)}

    # Back to the first point (count 2): 5, not the point's own 2.
    at(monkeypatch, MOVE_BACK_AT)
    move(organiser, "06688", person_id, "06811")
    assert moves_of(demo, person_id) == (3, MOVE_BACK_AT, "06811")
    events, events_js, response = read_feed(client, token)
    assert events == {(5, "20310305T235959Z", "20310305T235959Z", uong_bi)}
    assert events_js == {(5, "2031-03-05T23:59:59.000Z", "2031-03-05T23:59:59.000Z", uong_bi)}
    assert response.headers["Last-Modified"] == "Wed, 05 Mar 2031 23:59:59 GMT"

    # A delegate of the second point (its count now 1, theirs too) moved to the first
    # (count 2): one more than before the move.
    events, _js, _response = read_feed(client, other_token)
    assert events == {(1, "20310304T102030Z", "20310304T102030Z", ha_long)}
    at(monkeypatch, OTHER_MOVE_AT)
    move(organiser, "06688", other_id, "06811")
    assert moves_of(demo, other_id) == (0, OTHER_MOVE_AT, "06811")
    events, events_js, _response = read_feed(client, other_token)
    assert events == {(2, "20310306T120000Z", "20310306T120000Z", uong_bi)}
    assert events_js == {(2, "2031-03-06T12:00:00.000Z", "2031-03-06T12:00:00.000Z", uong_bi)}


def test_moving_from_a_point_with_fewer_place_changes_still_raises_the_sequence(
        client, demo, monkeypatch):
    person_id, _name = person_at(demo, "06688")
    logged_in(client, COORDINATOR)
    token = delegate_token(client, "06688", person_id)
    organiser = logged_in(demo.test_client(), ORGANISER)
    at(monkeypatch, FIRST_ADDRESS_AT)
    change_address(demo, organiser, "06811", "Số 1 Quang Trung, phường Uông Bí")
    at(monkeypatch, SECOND_ADDRESS_AT)
    change_address(demo, organiser, "06811", "Số 2 Quang Trung, phường Uông Bí")
    assert {e[0] for e in read_feed(client, token)[0]} == {0}

    # From count 0 to a point at count 2: the offset goes below zero, the sum to 1.
    at(monkeypatch, FIRST_MOVE_AT)
    move(organiser, "06688", person_id, "06811")
    assert moves_of(demo, person_id) == (-1, FIRST_MOVE_AT, "06811")
    events, events_js, _response = read_feed(client, token)
    uong_bi = f"{UONG_BI}, Số 2 Quang Trung, phường Uông Bí"
    assert events == {(1, "20310303T010203Z", "20310303T010203Z", uong_bi)}
    assert events_js == {(1, "2031-03-03T01:02:03.000Z", "2031-03-03T01:02:03.000Z", uong_bi)}


def test_a_refused_move_changes_nothing_in_the_feed(client, demo, monkeypatch):
    person_id, _name = person_at(demo, "06811")
    logged_in(client, COORDINATOR)
    token = delegate_token(client, "06811", person_id)
    before = client.get(f"/feeds/{token}.ics")
    organiser = logged_in(demo.test_client(), ORGANISER)
    at(monkeypatch, FIRST_MOVE_AT)
    move(organiser, "06811", person_id, "khong-co")  # no such point: refused
    move(organiser, "06811", person_id, "06811")  # already there: nothing to do
    assert moves_of(demo, person_id) == (0, None, "06811")
    again = client.get(f"/feeds/{token}.ics", headers={"If-None-Match": before.headers["ETag"]})
    assert again.status_code == 304


def test_a_points_feed_is_dated_by_its_last_change_of_place(client, demo, monkeypatch):
    logged_in(client, COORDINATOR)
    token = feed_token_on(client.get(f"{POINTS}/06811").get_data(as_text=True))
    first = client.get(f"/feeds/{token}.ics")
    published = published_at(demo)
    assert first.headers["Last-Modified"] == published.strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert first.headers["ETag"].startswith(f'"v1-{int(published.timestamp())}-')
    published_js = iso(published)
    assert {(e["dtstamp"], e["lastModified"])
            for e in parse_with_ical_js(first.data)["events"]} == {(published_js, published_js)}

    at(monkeypatch, FIRST_ADDRESS_AT)
    organiser = logged_in(demo.test_client(), ORGANISER)
    change_address(demo, organiser, "06811", "Số 1 Quang Trung, phường Uông Bí")
    # A client polling by date, by tag or by both gets the new feed.
    for headers in ({"If-Modified-Since": first.headers["Last-Modified"]},
                    {"If-None-Match": first.headers["ETag"]},
                    {"If-Modified-Since": first.headers["Last-Modified"],
                     "If-None-Match": first.headers["ETag"]}):
        response = client.get(f"/feeds/{token}.ics", headers=headers)
        assert response.status_code == 200
        assert response.headers["Last-Modified"] == "Sun, 02 Mar 2031 07:15:30 GMT"
        assert response.headers["ETag"].startswith('"v1-1930202130-')
        assert {(e["sequence"], e["dtstamp"], e["lastModified"])
                for e in parse_with_ical_js(response.data)["events"]} == {
            (1, "2031-03-02T07:15:30.000Z", "2031-03-02T07:15:30.000Z")}
    held = client.get(f"/feeds/{token}.ics", headers={"If-None-Match": response.headers["ETag"]})
    assert held.status_code == 304
    assert held.headers["ETag"] == response.headers["ETag"]


def test_public_feeds_keep_the_publication_date(client, demo, monkeypatch):
    at(monkeypatch, FIRST_ADDRESS_AT)
    organiser = logged_in(client, ORGANISER)
    change_address(demo, organiser, "06811", "Số 1 Quang Trung, phường Uông Bí")
    response = demo.test_client().get(f"/c/{SLUG}/agenda.ics")
    published = published_at(demo)
    assert response.headers["Last-Modified"] == published.strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert demo.test_client().get(f"/c/{SLUG}/agenda.ics", headers={
        "If-Modified-Since": response.headers["Last-Modified"]}).status_code == 304
