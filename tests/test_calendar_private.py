"""Private feeds behind secret tokens: points, delegates, restricted conferences, chosen sessions."""
from __future__ import annotations

import re

import pytest
from icalendar import Calendar
from sqlalchemy import select

from confmgr.accounts.models import User, conference_organisers
from confmgr.calendar.models import FeedToken
from confmgr.conferences.models import AgendaVersion, Conference
from confmgr.db import db
from confmgr.demo.loader import SLUG
from confmgr.enums import Visibility
from confmgr.points.models import BroadcastPoint
from confmgr.roster.models import Participant
from tests.helpers import COORDINATOR, ORGANISER, flashes, logged_in, post_form, run_at_once
from tests.test_calendar import HCM, parse_with_ical_js, sessions_in_order

TOKEN_URL = re.compile(r"http://localhost/feeds/([A-Za-z0-9_-]{43})\.ics")
ROTATE_URL = re.compile(r"/feeds/(\d+)/rotate")
STREAM = "https://hop.example.vn/j/06811?pwd=a,b;c"


def feed_token_on(page: str) -> str:
    tokens = set(TOKEN_URL.findall(page))
    assert len(tokens) == 1, tokens
    return tokens.pop()


def set_stream(app, code: str, url: str) -> None:
    with app.app_context():
        point = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == code))
        point.stream_url = url
        db.session.commit()


def person_at(app, code: str) -> tuple[int, str]:
    with app.app_context():
        person = db.session.scalars(
            select(Participant).join(BroadcastPoint, Participant.point_id == BroadcastPoint.id)
            .where(BroadcastPoint.code == code).order_by(Participant.id)).first()
        return person.id, person.full_name


# ---------------------------------------------------------------- broadcast point feeds


def test_point_feed_carries_the_points_address_and_stream_link(client, demo):
    set_stream(demo, "06811", STREAM)
    logged_in(client, COORDINATOR)
    page = client.get(f"/manage/c/{SLUG}/points/06811").get_data(as_text=True)
    token = feed_token_on(page)
    assert f"webcal://localhost/feeds/{token}.ics" in page

    anonymous = demo.test_client()
    response = anonymous.get(f"/feeds/{token}.ics")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, max-age=900"
    location = ("Điểm cầu Uông Bí, Trụ sở Đảng ủy – HĐND – UBND phường Uông Bí, "
                "tỉnh Quảng Ninh")
    calendar = Calendar.from_ical(response.data)
    assert all(str(e["LOCATION"]) == location for e in calendar.events)
    assert all(str(e["CONFERENCE"]) == STREAM for e in calendar.events)
    parsed = parse_with_ical_js(response.data)
    assert parsed["name"].endswith(" — Điểm cầu Uông Bí")
    sessions = sessions_in_order(demo)
    assert [e["uid"] for e in parsed["events"]] == [f"{s.uid}@confmgr" for s in sessions]
    opening = parsed["events"][1]
    assert (opening["startUtc"], opening["startLocal"]) == (
        "2025-06-14T01:00:00.000Z", "2025-06-14T08:00:00")
    # Setting a stream link straight in the database leaves the place's count and date
    # alone: the events stay dated by the publication.
    with demo.app_context():
        published = db.session.scalar(select(AgendaVersion.published_at))
    assert opening["dtstamp"] == opening["lastModified"] == published.strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")
    assert opening["location"] == location
    assert opening["conference"] == STREAM
    assert f"Đường truyền: {STREAM}" in opening["description"]


def test_point_feed_follows_the_points_details(client, demo):
    logged_in(client, COORDINATOR)
    token = feed_token_on(client.get(f"/manage/c/{SLUG}/points/06811").get_data(as_text=True))
    first = client.get(f"/feeds/{token}.ics")
    set_stream(demo, "06811", "https://hop.example.vn/moi")
    second = client.get(f"/feeds/{token}.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    assert "https://hop.example.vn/moi" in second.get_data(as_text=True)


def test_rotating_a_token_revokes_the_old_address(client, demo):
    logged_in(client, COORDINATOR)
    page = client.get(f"/manage/c/{SLUG}/points/06811").get_data(as_text=True)
    old, token_id = feed_token_on(page), ROTATE_URL.search(page).group(1)
    assert client.post(f"/feeds/{token_id}/rotate").status_code == 400  # no CSRF token
    response = post_form(client, f"/feeds/{token_id}/rotate",
                         {"next": f"/manage/c/{SLUG}/points/06811"}, follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [
        "Đã đổi địa chỉ bí mật: địa chỉ cũ không còn dùng được, "
        "hãy đăng ký lại bằng địa chỉ mới."]
    new = feed_token_on(response.get_data(as_text=True))
    assert new != old
    assert client.get(f"/feeds/{old}.ics").status_code == 404
    assert client.get(f"/feeds/{new}.ics").status_code == 200
    with demo.app_context():
        rows = db.session.scalars(select(FeedToken).order_by(FeedToken.id)).all()
        assert [(r.token, r.revoked_at is not None) for r in rows] == [(old, True), (new, False)]


def point_and_conference(app, code: str) -> tuple[int, int]:
    with app.app_context():
        point = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == code))
        return point.id, point.conference_id


def active_tokens_of_point(app, point_id: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(FeedToken.token).where(
            FeedToken.point_id == point_id, FeedToken.revoked_at.is_(None))))


def test_the_database_keeps_one_active_address_an_owner(demo):
    """Two first visits at once each issued an address and were each shown their own:
    rotating revoked only the one the page showed, and the other went on serving the
    feed, stream link included. Now a second active token of one owner cannot be stored;
    a revoked one beside it can."""
    from sqlalchemy.exc import IntegrityError

    from confmgr.calendar import tokens
    from confmgr.db import utcnow
    from confmgr.enums import FeedKind

    point_id, conference_id = point_and_conference(demo, "06811")

    def token(**extra) -> FeedToken:
        return FeedToken(token=tokens.secrets.token_urlsafe(32), kind=FeedKind.POINT,
                         conference_id=conference_id, point_id=point_id, **extra)

    with demo.app_context():
        db.session.add_all([token(), token(revoked_at=utcnow())])
        db.session.commit()
        db.session.add(token())
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
    assert len(active_tokens_of_point(demo, point_id)) == 1


def test_first_visits_at_once_are_shown_one_address(demo):
    """Each request found no token and issued one at the same moment: the second's insert
    gives way to the first's, and both are shown the first's."""
    import threading

    from confmgr.calendar import tokens
    from confmgr.enums import FeedKind

    point_id, conference_id = point_and_conference(demo, "06811")
    ids = {"user_id": None, "point_id": point_id, "participant_id": None}
    visits = 4
    start = threading.Barrier(visits)
    shown: list[str] = []

    def visit() -> None:
        with demo.app_context():
            assert tokens._current(FeedKind.POINT, conference_id, ids) is None
            start.wait()
            tokens._issue(FeedKind.POINT, conference_id, ids)
            shown.append(tokens._current(FeedKind.POINT, conference_id, ids).token)
            db.session.commit()
            db.session.remove()

    run_at_once(*[visit] * visits)
    assert len(shown) == visits and set(shown) == set(active_tokens_of_point(demo, point_id))
    assert len(set(shown)) == 1


def test_rotations_at_once_leave_one_new_address(client, demo):
    """Two people rotating the point's address at the same moment: the old address answers
    404 and both are shown the one successor."""
    import threading

    from confmgr.calendar import tokens
    from confmgr.accounts.models import User as Account

    logged_in(client, COORDINATOR)
    page = client.get(f"/manage/c/{SLUG}/points/06811").get_data(as_text=True)
    old, token_id = feed_token_on(page), int(ROTATE_URL.search(page).group(1))
    point_id, _conference_id = point_and_conference(demo, "06811")
    people = 2
    start = threading.Barrier(people)
    shown: list[str] = []

    def rotate() -> None:
        with demo.app_context():
            row = db.session.get(FeedToken, token_id)
            by = db.session.scalar(select(Account).where(Account.email == COORDINATOR[0]))
            start.wait()
            shown.append(tokens.rotate(row, by).token)
            db.session.commit()
            db.session.remove()

    run_at_once(*[rotate] * people)
    assert len(set(shown)) == 1 and shown[0] != old
    assert active_tokens_of_point(demo, point_id) == shown[:1]
    assert client.get(f"/feeds/{old}.ics").status_code == 404
    assert client.get(f"/feeds/{shown[0]}.ics").status_code == 200
    page = client.get(f"/manage/c/{SLUG}/points/06811").get_data(as_text=True)
    assert feed_token_on(page) == shown[0]


def test_only_people_who_reach_the_point_may_rotate_its_token(client, demo):
    logged_in(client, ORGANISER)
    page = client.get(f"/manage/c/{SLUG}/points/01").get_data(as_text=True)
    token, token_id = feed_token_on(page), ROTATE_URL.search(page).group(1)
    other = logged_in(demo.test_client(), COORDINATOR)  # Quảng Ninh's, not Hà Nội's
    assert post_form(other, f"/feeds/{token_id}/rotate", {}).status_code == 404
    anonymous = demo.test_client()
    assert anonymous.post(f"/feeds/{token_id}/rotate").status_code in (302, 400)
    assert client.get(f"/feeds/{token}.ics").status_code == 200


def test_a_renamed_conference_is_no_304_under_a_token_that_stays(client, demo):
    """A private feed keeps its address when the conference's address changes, but every
    link in it changes: a client holding the old body must get the new one."""
    from confmgr.calendar import tokens
    from confmgr.enums import FeedKind

    with demo.app_context():
        conference = db.session.scalar(select(Conference))
        user = db.session.scalar(select(User).where(User.email == ORGANISER[0]))
        url = f"/feeds/{tokens.active_token(FeedKind.CONFERENCE, conference, user=user).token}.ics"
        db.session.commit()
    held = client.get(url)
    assert f"http://localhost/c/{SLUG}/#s".encode() in held.data
    with demo.app_context():
        db.session.scalar(select(Conference)).slug = "tap-huan-2025-moi"
        db.session.commit()
    fresh = client.get(url, headers={"If-None-Match": held.headers["ETag"]})
    assert fresh.status_code == 200
    assert b"http://localhost/c/tap-huan-2025-moi/#s" in fresh.data
    assert f"/c/{SLUG}/".encode() not in fresh.data
    assert client.get(url, headers={"If-None-Match": fresh.headers["ETag"]}).status_code == 304


def test_unknown_tokens_are_not_found(client, demo):
    assert client.get("/feeds/" + "x" * 43 + ".ics").status_code == 404
    assert client.get("/feeds/short.ics").status_code == 404


def test_unpublished_conference_offers_no_point_feed(client, demo):
    with demo.app_context():
        conference = db.session.scalar(select(Conference))
        point = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "22"))
        from confmgr.calendar.tokens import active_token
        from confmgr.enums import ConferenceStatus, FeedKind

        token = active_token(FeedKind.POINT, conference, point=point).token
        db.session.execute(AgendaVersion.__table__.delete())
        conference.status = ConferenceStatus.DRAFT
        db.session.commit()
    assert client.get(f"/feeds/{token}.ics").status_code == 404
    logged_in(client, COORDINATOR)
    page = client.get(f"/manage/c/{SLUG}/points/22").get_data(as_text=True)
    assert "/feeds/" not in page


# ---------------------------------------------------------------- a delegate's own feed


def test_delegate_feed_is_named_for_them_and_placed_at_their_point(client, demo):
    person_id, name = person_at(demo, "06811")
    logged_in(client, COORDINATOR)
    page = client.get(f"/manage/c/{SLUG}/points/06811/delegates/{person_id}/edit")
    token = feed_token_on(page.get_data(as_text=True))
    parsed = parse_with_ical_js(client.get(f"/feeds/{token}.ics").data)
    assert parsed["name"].endswith(f" — {name}")
    assert parsed["events"][0]["location"].startswith("Điểm cầu Uông Bí, ")
    with demo.app_context():
        published = db.session.scalar(select(AgendaVersion.published_at))
    published_iso = published.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert {(e["sequence"], e["dtstamp"], e["lastModified"]) for e in parsed["events"]} == {
        (0, published_iso, published_iso)}

    # Moved to another point, the same address follows them there, dated by the move.
    organiser = logged_in(demo.test_client(), ORGANISER)
    post_form(organiser, f"/manage/c/{SLUG}/points/06811/delegates/{person_id}/move",
              {"point_code": "06688"})
    parsed = parse_with_ical_js(client.get(f"/feeds/{token}.ics").data)
    assert parsed["events"][0]["location"].startswith("Điểm cầu phường Hạ Long, ")
    with demo.app_context():
        moved_iso = db.session.get(Participant, person_id).moved_at.strftime(
            "%Y-%m-%dT%H:%M:%S.000Z")
    assert {(e["sequence"], e["dtstamp"], e["lastModified"]) for e in parsed["events"]} == {
        (1, moved_iso, moved_iso)}

    # Withdrawn, they have no calendar any more.
    post_form(organiser, f"/manage/c/{SLUG}/points/06688/delegates/{person_id}/withdraw", {})
    assert client.get(f"/feeds/{token}.ics").status_code == 404


# ---------------------------------------------------------------- restricted conferences


def restrict(app) -> None:
    with app.app_context():
        db.session.scalar(select(Conference)).visibility = Visibility.RESTRICTED
        db.session.commit()


def test_restricted_conference_is_hidden_from_strangers(client, demo):
    restrict(demo)
    for url in (f"/c/{SLUG}/", f"/c/{SLUG}/agenda.ics", f"/c/{SLUG}/print",
                f"/c/{SLUG}/changelog", f"/c/{SLUG}/days/2025-06-14.ics"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login"), url
    assert SLUG not in client.get("/").get_data(as_text=True)


def test_restricted_conference_gives_each_reader_a_secret_address(client, demo):
    restrict(demo)
    logged_in(client, COORDINATOR)
    page = client.get(f"/c/{SLUG}/").get_data(as_text=True)
    token = feed_token_on(page)
    assert f'href="webcal://localhost/feeds/{token}.ics"' in page
    assert f"webcal://localhost/c/{SLUG}/agenda.ics" not in page
    anonymous = demo.test_client()
    parsed = parse_with_ical_js(anonymous.get(f"/feeds/{token}.ics").data)
    assert len(parsed["events"]) == 16

    # An organiser whose grant is withdrawn loses the address with the access.
    organiser = logged_in(demo.test_client(), ORGANISER)
    organiser_token = feed_token_on(organiser.get(f"/c/{SLUG}/").get_data(as_text=True))
    assert organiser_token != token
    with demo.app_context():
        organiser = db.session.scalar(select(User).where(User.email == ORGANISER[0]))
        db.session.execute(conference_organisers.delete().where(
            conference_organisers.c.user_id == organiser.id))
        db.session.commit()
    assert anonymous.get(f"/feeds/{organiser_token}.ics").status_code == 404
    assert anonymous.get(f"/feeds/{token}.ics").status_code == 200


def test_organiser_restricts_a_conference_in_its_form(client, demo):
    logged_in(client, ORGANISER)
    form = client.get(f"/manage/c/{SLUG}/edit").get_data(as_text=True)
    assert 'name="visibility"' in form
    with demo.app_context():
        conference = db.session.scalar(select(Conference))
        data = {"title": conference.title, "slug": SLUG, "organising_unit": "",
                "description": "", "timezone": "Asia/Ho_Chi_Minh", "first_day": "2025-06-14",
                "last_day": "2025-06-15", "visibility": "restricted",
                "checkin_opens_minutes": "30", "checkin_closes_minutes": "45"}
    assert post_form(client, f"/manage/c/{SLUG}/edit", data).status_code == 302
    with demo.app_context():
        conference = db.session.scalar(select(Conference))
        assert conference.visibility == Visibility.RESTRICTED
        assert (conference.checkin_opens_minutes, conference.checkin_closes_minutes) == (30, 45)
    data["visibility"] = "secret"
    assert post_form(client, f"/manage/c/{SLUG}/edit", data).status_code == 200
    page = post_form(client, f"/manage/c/{SLUG}/edit", {**data, "visibility": "public",
                                                        "checkin_opens_minutes": "-5"})
    from tests.helpers import field_errors
    assert field_errors(page.get_data(as_text=True), "checkin_opens_minutes") == [
        "Số phải từ 0 đến 1440."]


# ---------------------------------------------------------------- chosen sessions


def choose(client, uid: str, chosen: bool = True):
    """Press the session's button, as it reads: choose it, or take it out."""
    return post_form(client, f"/c/{SLUG}/my/{uid}", {"chosen": "1" if chosen else "0"})


def test_a_choice_pressed_twice_stays_as_the_button_said(client, demo):
    """The button toggled: a double click, Back and press again, or a second tab took the
    session back out (and two presses at once broke the key on PostgreSQL)."""
    from confmgr.calendar import tokens

    sessions = sessions_in_order(demo)
    logged_in(client, COORDINATOR)
    page = client.get(f"/c/{SLUG}/").get_data(as_text=True)
    row = page[page.index(f'id="s{sessions[2].id}"'):page.index(f'id="s{sessions[3].id}"')]
    assert '<input type="hidden" name="chosen" value="1">' in row

    def chosen() -> set[str]:
        with demo.app_context():
            user = db.session.scalar(select(User).where(User.email == COORDINATOR[0]))
            return tokens.chosen_uids(user, db.session.scalar(select(Conference)))

    assert [choose(client, sessions[2].uid).status_code for _ in range(2)] == [302, 302]
    assert chosen() == {sessions[2].uid}
    page = client.get(f"/c/{SLUG}/").get_data(as_text=True)
    row = page[page.index(f'id="s{sessions[2].id}"'):page.index(f'id="s{sessions[3].id}"')]
    assert '<input type="hidden" name="chosen" value="0">' in row
    assert [choose(client, sessions[2].uid, False).status_code for _ in range(2)] == [302, 302]
    assert chosen() == set()
    assert post_form(client, f"/c/{SLUG}/my/{sessions[2].uid}", {}).status_code == 400



def test_signed_in_readers_build_a_calendar_of_chosen_sessions(client, demo):
    sessions = sessions_in_order(demo)
    logged_in(client, COORDINATOR)
    page = client.get(f"/c/{SLUG}/").get_data(as_text=True)
    assert page.count("☆ Chọn vào lịch của tôi") == 16
    for index in (9, 3):
        response = choose(client, sessions[index].uid)
        assert response.headers["Location"] == f"/c/{SLUG}/#s{sessions[index].id}"
    page = client.get(f"/c/{SLUG}/").get_data(as_text=True)
    assert page.count("★ Đã chọn — bỏ chọn") == 2

    mine = client.get(f"/c/{SLUG}/my").get_data(as_text=True)
    token = feed_token_on(mine)
    feed = demo.test_client().get(f"/feeds/{token}.ics")
    parsed = parse_with_ical_js(feed.data)
    assert [e["uid"] for e in parsed["events"]] == [
        f"{sessions[3].uid}@confmgr", f"{sessions[9].uid}@confmgr"]

    choose(client, sessions[3].uid, False)  # taken out
    again = demo.test_client().get(f"/feeds/{token}.ics",
                                   headers={"If-None-Match": feed.headers["ETag"]})
    assert again.status_code == 200
    assert [e["uid"] for e in parse_with_ical_js(again.data)["events"]] == [
        f"{sessions[9].uid}@confmgr"]
    assert choose(client, "not-a-session").status_code == 404


def test_a_cancelled_session_is_offered_to_no_new_calendar(client, demo):
    """Calendars that hold it keep it, marked cancelled; it can be taken out of them."""
    from confmgr.conferences import editing, publishing
    from confmgr.conferences.models import AgendaSession
    from confmgr.calendar import tokens

    sessions = sessions_in_order(demo)
    logged_in(client, COORDINATOR)
    choose(client, sessions[4].uid)
    with demo.app_context():
        for index in (4, 5):
            editing.cancel_session(db.session.get(AgendaSession, sessions[index].id))
        publishing.publish(db.session.scalar(select(Conference)), None, "Hủy hai phiên")
        db.session.commit()

    page = client.get(f"/c/{SLUG}/").get_data(as_text=True)
    assert page.count('class="small d-print-none session-feed"') == 14
    starts = [page.index(f'id="s{session.id}"') for session in sessions[4:7]]
    chosen_row, cancelled_row = page[starts[0]:starts[1]], page[starts[1]:starts[2]]
    assert "session-feed" not in chosen_row and "★ Đã chọn — bỏ chọn" in chosen_row
    assert "session-feed" not in cancelled_row and "session-choice" not in cancelled_row

    def chosen() -> set[str]:
        with demo.app_context():
            user = db.session.scalar(select(User).where(User.email == COORDINATOR[0]))
            return tokens.chosen_uids(user, db.session.scalar(select(Conference)))

    response = choose(client, sessions[5].uid)
    assert response.headers["Location"] == f"/c/{SLUG}/#s{sessions[5].id}"
    assert flashes(client.get(f"/c/{SLUG}/").get_data(as_text=True)) == [
        "Phiên này đã hủy nên không thêm vào lịch được."]
    assert chosen() == {sessions[4].uid}
    choose(client, sessions[4].uid, False)
    assert chosen() == set()


def test_anonymous_readers_see_no_choice_buttons(client, demo):
    page = client.get(f"/c/{SLUG}/").get_data(as_text=True)
    assert "☆ Chọn vào lịch của tôi" not in page
    assert client.get(f"/c/{SLUG}/my").status_code == 302


def test_every_feed_reads_the_same_in_both_parsers(client, demo):
    """Each kind of feed, parsed by icalendar and by ical.js: the same events, same instants."""
    from datetime import timezone

    sessions = sessions_in_order(demo)
    person = person_at(demo, "06811")[0]
    logged_in(client, COORDINATOR)
    choose(client, sessions[2].uid)
    feeds = {
        "conference": f"/c/{SLUG}/agenda.ics",
        "day": f"/c/{SLUG}/days/2025-06-14.ics",
        "session": f"/c/{SLUG}/sessions/{sessions[5].uid}.ics",
        "point": "/feeds/" + feed_token_on(
            client.get(f"/manage/c/{SLUG}/points/06811").get_data(as_text=True)) + ".ics",
        "delegate": "/feeds/" + feed_token_on(client.get(
            f"/manage/c/{SLUG}/points/06811/delegates/{person}/edit").get_data(as_text=True))
        + ".ics",
        "chosen": "/feeds/" + feed_token_on(
            client.get(f"/c/{SLUG}/my").get_data(as_text=True)) + ".ics",
    }
    truth = {f"{s.uid}@confmgr": (s.starts_at, s.ends_at) for s in sessions}
    counts = {}
    for kind, url in feeds.items():
        body = demo.test_client().get(url).data
        by_icalendar = {str(e["UID"]): (e.start.astimezone(timezone.utc),
                                        e.end.astimezone(timezone.utc))
                        for e in Calendar.from_ical(body).events}
        by_ical_js = {e["uid"]: (e["startUtc"], e["endUtc"])
                      for e in parse_with_ical_js(body)["events"]}
        assert by_icalendar.keys() == by_ical_js.keys(), kind
        for uid, (start, end) in by_icalendar.items():
            assert (start, end) == truth[uid], (kind, uid)
            assert by_ical_js[uid] == (start.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                                       end.strftime("%Y-%m-%dT%H:%M:%S.000Z")), (kind, uid)
        counts[kind] = len(by_icalendar)
    day_one = sum(1 for s in sessions if s.starts_at.astimezone(HCM).date().day == 14)
    assert counts == {"conference": 16, "day": day_one, "session": 1, "point": 16,
                      "delegate": 16, "chosen": 1}


# ---------------------------------------------------------------- caching and injection


def test_a_stored_stream_link_with_a_line_break_stays_on_its_own_line(client, demo):
    # Stored before links were checked, or written straight into the database.
    set_stream(demo, "06811", "https://hop.example.vn/j/06811\r\nBEGIN:VALARM")
    logged_in(client, COORDINATOR)
    token = feed_token_on(client.get(f"/manage/c/{SLUG}/points/06811").get_data(as_text=True))
    body = demo.test_client().get(f"/feeds/{token}.ics?alarm=15").data
    lines = body.replace(b"\r\n ", b"").decode("utf-8").split("\r\n")
    # The reminders asked for, one an event, and no other.
    assert lines.count("BEGIN:VALARM") == lines.count("TRIGGER:-PT15M") == 16
    assert lines.count("CONFERENCE;VALUE=URI;FEATURE=VIDEO;LABEL=Đường truyền:"
                       "https://hop.example.vn/j/06811BEGIN:VALARM") == 16

    plain = demo.test_client().get(f"/feeds/{token}.ics").data
    lines = plain.replace(b"\r\n ", b"").decode("utf-8").split("\r\n")
    assert "BEGIN:VALARM" not in lines
    calendar = Calendar.from_ical(plain)
    assert all(not event.subcomponents for event in calendar.events)
    pause = sessions_in_order(demo)[4]  # no presenter, no topic, no description
    event = next(e for e in calendar.events if str(e["UID"]) == f"{pause.uid}@confmgr")
    assert str(event["CONFERENCE"]) == "https://hop.example.vn/j/06811BEGIN:VALARM"
    assert str(event["DESCRIPTION"]) == (
        "Điểm cầu: Điểm cầu Uông Bí, Trụ sở Đảng ủy – HĐND – UBND phường Uông Bí, "
        "tỉnh Quảng Ninh\n\n"
        "Đường truyền: https://hop.example.vn/j/06811\nBEGIN:VALARM\n\n"
        f"http://localhost/c/{SLUG}/#s{pause.id}")
    assert [line for line in lines if line.endswith(f"#s{pause.id}")] == [
        "DESCRIPTION:Điểm cầu: Điểm cầu Uông Bí\\, Trụ sở Đảng ủy – HĐND – UBND phường "
        "Uông Bí\\, tỉnh Quảng Ninh\\n\\nĐường truyền: https://hop.example.vn/j/06811\\n"
        f"BEGIN:VALARM\\n\\nhttp://localhost/c/{SLUG}/#s{pause.id}",
        f"URL;VALUE=URI:http://localhost/c/{SLUG}/#s{pause.id}"]


@pytest.mark.parametrize("address", [
    "/agenda.ics", "/days/2025-06-14.ics", "/sessions/{uid}.ics", "/schedule.xml",
    "/schedule.json",
])
def test_restricted_conference_answers_are_kept_from_shared_caches(client, demo, address):
    url = f"/c/{SLUG}" + address.format(uid=sessions_in_order(demo)[1].uid)
    public = client.get(url)
    assert (public.status_code, public.headers["Cache-Control"]) == (200, "public, max-age=900")
    restrict(demo)
    logged_in(client, ORGANISER)
    restricted = client.get(url)
    assert restricted.status_code == 200
    assert restricted.headers["Cache-Control"] == "private, max-age=900"
    again = client.get(url, headers={"If-None-Match": restricted.headers["ETag"]})
    assert (again.status_code, again.headers["Cache-Control"]) == (304, "private, max-age=900")


def test_a_private_feed_changed_between_publications_is_not_judged_by_its_date(client, demo):
    sessions = sessions_in_order(demo)
    logged_in(client, COORDINATOR)
    choose(client, sessions[3].uid)
    token = feed_token_on(client.get(f"/c/{SLUG}/my").get_data(as_text=True))
    first = demo.test_client().get(f"/feeds/{token}.ics")
    assert first.headers["Cache-Control"] == "private, max-age=900"
    modified = first.headers["Last-Modified"]

    choose(client, sessions[9].uid)  # no new publication
    # A client that keeps only the date: the feed changed although the version did not.
    again = demo.test_client().get(f"/feeds/{token}.ics",
                                   headers={"If-Modified-Since": modified})
    assert again.status_code == 200
    assert again.headers["Last-Modified"] == modified
    assert [e["uid"] for e in parse_with_ical_js(again.data)["events"]] == [
        f"{sessions[3].uid}@confmgr", f"{sessions[9].uid}@confmgr"]
    # The ETag still spares a client that holds this very feed.
    held = demo.test_client().get(f"/feeds/{token}.ics",
                                  headers={"If-None-Match": again.headers["ETag"]})
    assert held.status_code == 304


def test_a_subscription_is_named_by_the_published_title_not_a_draft(client, demo):
    """The point's and the delegate's subscription links name the calendar as the feed
    names itself: by the title last published, not one still being edited."""
    from html import unescape
    from urllib.parse import parse_qs, urlsplit

    with demo.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
        published = conference.title
        conference.title = "Tên nháp chưa công bố"
        person = db.session.scalar(select(Participant.id).join(
            BroadcastPoint, BroadcastPoint.id == Participant.point_id)
            .where(BroadcastPoint.code == "06811").order_by(Participant.id))
        db.session.commit()
    logged_in(client, ORGANISER)
    names = []
    for page in (f"/manage/c/{SLUG}/points/06811",
                 f"/manage/c/{SLUG}/points/06811/delegates/{person}/edit"):
        text = client.get(page).get_data(as_text=True)
        link = unescape(re.search(r'class="subscribe-outlook" href="([^"]+)"', text).group(1))
        names.append(parse_qs(urlsplit(link).query)["name"][0])
    assert [name.split(" — ")[0] for name in names] == [published, published]
    assert names[0] == f"{published} — Điểm cầu Uông Bí"
