"""The JSON API: tokens, permissions per resource, problems, pages, ETags, idempotent check-ins."""
from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from confmgr.accounts.models import User
from confmgr.api import tokens
from confmgr.attendance import reports
from confmgr.attendance.models import Attendance, AttendanceChange, CheckInReceipt
from confmgr.conferences.models import AgendaSession, Conference
from confmgr.db import db, utcnow
from confmgr.demo.loader import SLUG
from confmgr.enums import AttendanceStatus, CheckInMethod, RegistrationStatus, TokenScope
from confmgr.points.models import BroadcastPoint
from confmgr.roster import services as roster_services
from confmgr.roster.models import Participant
from tests.helpers import (
    COORDINATOR,
    ORGANISER,
    bearer,
    count_queries,
    flashes,
    logged_in,
    ministry_point,
    post_form,
    race,
)

API = "/api/v1"
CONF = f"{API}/conferences/{SLUG}"
PRESENTER_EMAIL = "baocaovien@example.org"
QUANG_NINH_CODES = ["22", "06811", "06688", "06793"]


@pytest.fixture
def organiser(demo):
    return bearer(demo, ORGANISER[0])


@pytest.fixture
def coordinator(demo):
    return bearer(demo, COORDINATOR[0])


def ids_of(app, model, **where) -> list[int]:
    with app.app_context():
        query = select(model.id)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return list(db.session.scalars(query.order_by(model.id)))


def point_id(app, code: str) -> int:
    return ids_of(app, BroadcastPoint, code=code)[0]


def delegates_of(app, code: str) -> list[int]:
    return ids_of(app, Participant, point_id=point_id(app, code),
                  status=RegistrationStatus.REGISTERED)


def session_ids(app) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(AgendaSession.id).order_by(AgendaSession.starts_at)))


def lately_closed(app, hours_ago: float = 3) -> int:
    """The last session, moved to have ended ``hours_ago`` (as published): with the default
    its check-in closed an hour ago, and a device that was offline may still send."""
    with app.app_context():
        session = db.session.get(AgendaSession, session_ids(app)[-1])
        ends = datetime.now(timezone.utc) - timedelta(hours=hours_ago)
        session.starts_at, session.ends_at = ends - timedelta(hours=1), ends
        session.published_starts_at, session.published_ends_at = session.starts_at, ends
        db.session.commit()
        return session.id


def assert_problem(response, status: int, **expected):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["type"] == "about:blank"
    assert body["instance"] == response.request.path
    for name, value in expected.items():
        assert body[name] == value
    return body


# ---------------------------------------------------------------- tokens


def test_a_token_made_in_the_settings_acts_as_its_user_until_revoked(demo, client):
    logged_in(client, ORGANISER)
    form = client.get("/account/tokens").get_data(as_text=True)
    once = re.search(r'name="once" type="hidden" value="([^"]+)"', form).group(1)
    made = post_form(client, "/account/tokens", {"name": "Sở Nội vụ", "scope": "read",
                                                 "days": "", "once": once})
    assert (made.status_code, made.headers["Cache-Control"]) == (200, "no-store")
    page = made.get_data(as_text=True)
    secret = page.split('id="new-token">')[1].split("<")[0]
    assert secret.startswith("cmt_") and len(secret) == 47
    # Shown once: the list afterwards shows only its first characters.
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert secret not in listing and secret[:10] in listing and "Sở Nội vụ" in listing

    api = demo.test_client()  # no session cookie: the token alone speaks
    me = api.get(f"{API}/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200
    assert me.get_json() == {"id": me.get_json()["id"], "email": ORGANISER[0],
                             "display_name": "Ban Tổ chức hội nghị", "role": "organiser",
                             "token_scope": "read"}

    with demo.app_context():
        token_id = db.session.scalar(select(tokens.ApiToken.id).where(
            tokens.ApiToken.name == "Sở Nội vụ"))
    post_form(client, f"/account/tokens/{token_id}/revoke", {})
    assert_problem(api.get(f"{API}/me", headers={"Authorization": f"Bearer {secret}"}), 401)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_token_made_while_the_password_changes_does_not_outlive_it(demo, client,
                                                                    database_url):
    """The password change revoked every token it found; one made at that moment, by a
    sign-in the change ended, was committed after it and kept the way in. Now the token's
    request waits for the change and finds its sign-in gone."""
    from confmgr.accounts.services import change_password, find_user

    logged_in(client, ORGANISER)
    form = client.get("/account/tokens").get_data(as_text=True)
    once = re.search(r'name="once" type="hidden" value="([^"]+)"', form).group(1)
    answers = []

    def signed_in_checked(statement: str) -> bool:  # the request's own sign-in, found
        return statement.startswith("SELECT users.id") and "sign_ins" in statement

    errors = race(demo, lambda: answers.append(post_form(
        client, "/account/tokens", {"name": "Máy điểm danh", "scope": "write", "days": "",
                                    "once": once})),
        signed_in_checked,
        lambda: change_password(find_user(ORGANISER[0]), "mật-khẩu-mới-dài-2026"))
    assert errors == {}
    assert (answers[0].status_code, answers[0].headers["Location"]) == (
        302, "/login")
    with demo.app_context():
        assert db.session.scalars(select(tokens.ApiToken.name).where(
            tokens.ApiToken.revoked_at.is_(None))).all() == []


def test_the_tokens_page_shows_times_in_the_configured_zone(demo, client):
    from datetime import datetime, timezone

    logged_in(client, ORGANISER)
    form = client.get("/account/tokens").get_data(as_text=True)
    once = re.search(r'name="once" type="hidden" value="([^"]+)"', form).group(1)
    post_form(client, "/account/tokens", {"name": "Sở Nội vụ", "scope": "read", "days": "",
                                          "once": once})
    with demo.app_context():
        db.session.scalar(select(tokens.ApiToken)).created_at = datetime(
            2025, 6, 14, 1, 0, tzinfo=timezone.utc)
        db.session.commit()
    assert "<td>08:00 14/06/2025</td>" in client.get("/account/tokens").get_data(as_text=True)
    demo.config["BABEL_DEFAULT_TIMEZONE"] = "UTC"
    assert "<td>01:00 14/06/2025</td>" in client.get("/account/tokens").get_data(as_text=True)


def test_tokens_are_refused_when_missing_wrong_expired_or_of_an_inactive_user(demo, client):
    missing = client.get(f"{API}/me")
    assert_problem(missing, 401)
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="confmgr"'
    assert_problem(client.get(f"{API}/me", headers={"Authorization": "Bearer cmt_nope"}), 401)
    assert_problem(client.get(f"{API}/me", headers={"Authorization": "Basic eDp5"}), 401)
    expired = bearer(demo, ORGANISER[0], expires_at=utcnow() - timedelta(seconds=1))
    assert_problem(client.get(f"{API}/me", headers=expired), 401)
    live = bearer(demo, COORDINATOR[0])
    assert client.get(f"{API}/me", headers=live).status_code == 200
    with demo.app_context():
        db.session.scalar(select(User).where(User.email == COORDINATOR[0])).active = False
        db.session.commit()
    assert_problem(client.get(f"{API}/me", headers=live), 401)


def test_a_logged_in_browser_session_does_not_open_the_api(demo, client):
    logged_in(client, ORGANISER)
    assert_problem(client.get(f"{API}/me"), 401)


def test_a_read_only_token_cannot_write(demo, client):
    reader = bearer(demo, ORGANISER[0], TokenScope.READ)
    assert client.get(f"{CONF}/points/22", headers=reader).status_code == 200
    response = client.post(f"{CONF}/points/22/participants", headers=reader,
                           json={"full_name": "Nguyễn Văn Đọc"})
    assert_problem(response, 403, detail="Token này chỉ được đọc.")
    assert ids_of(demo, Participant, full_name="Nguyễn Văn Đọc") == []


def test_only_the_owner_revokes_a_token(demo, client):
    bearer(demo, COORDINATOR[0])
    with demo.app_context():
        token_id = db.session.scalar(select(tokens.ApiToken.id))
    logged_in(client, ORGANISER)
    assert post_form(client, f"/account/tokens/{token_id}/revoke", {}).status_code == 404
    response = client.post(f"/account/tokens/{token_id}/revoke")  # no CSRF token
    assert response.status_code == 400
    with demo.app_context():
        assert db.session.get(tokens.ApiToken, token_id).revoked_at is None


# ---------------------------------------------------------------- problems


def test_every_error_is_a_problem_document_in_the_callers_language(demo, client, organiser):
    assert_problem(client.get(f"{API}/nowhere", headers=organiser), 404)
    assert_problem(client.delete(f"{API}/me", headers=organiser), 405)
    # An id too long for the database is no address at all, whatever the method.
    for method in ("GET", "PATCH"):
        assert_problem(client.open(f"{CONF}/participants/9223372036854775808", method=method,
                                   headers=organiser, json={}), 404)
    body = assert_problem(client.get(f"{CONF}/points?limit=0&level=moon", headers=organiser),
                          422)
    assert [(e["parameter"], e["detail"]) for e in body["errors"]] == [
        ("limit", "Phải từ 1 trở lên."),
        ("level", "Phải là một trong: 'main', 'province', 'commune', 'other'.")]
    english = {**organiser, "Accept-Language": "en-GB,en;q=0.8"}
    body = assert_problem(client.get(f"{API}/conferences/khong-co", headers=english), 404)
    assert body["detail"] == "There is no conference «khong-co»."
    # NUL cannot be stored by PostgreSQL: refused where it stands, on both databases.
    body = assert_problem(client.get(f"{CONF}/points?province=2%002", headers=organiser), 422)
    assert body["errors"] == [{"detail": "Có ký tự NUL (mã 0), không lưu được.",
                               "parameter": "province"}]
    body = assert_problem(client.post(f"{CONF}/points/22/participants", headers=organiser,
                                      json={"full_name": "Nguyễn\u0000Văn A"}), 422)
    assert body["errors"] == [{"detail": "Có ký tự NUL (mã 0), không lưu được.",
                               "pointer": "/full_name"}]
    raw = client.post(f"{CONF}/checkins", headers=organiser, data="{not json",
                      content_type="application/json")
    assert_problem(raw, 400)
    # A lone surrogate (valid JSON escape, no character): our words, not pydantic's English.
    body = assert_problem(client.post(
        f"{CONF}/points/22/participants", headers=organiser,
        data='{"full_name": "A\\ud800B"}', content_type="application/json"), 422)
    assert body["errors"] == [{"detail": "Phải là chuỗi ký tự.", "pointer": "/full_name"}]


def test_a_deeply_nested_body_is_a_problem_not_a_server_error(demo, client, organiser):
    too_deep = "[" * 100_000 + "]" * 100_000
    response = client.post(f"{CONF}/checkins", headers=organiser, data=too_deep,
                           content_type="application/json")
    assert_problem(response, 400, detail="Thân yêu cầu lồng nhau quá sâu.", errors=[])
    # Deep enough to exhaust a recursive walk, shallow enough for the JSON parser.
    deep = "[" * 600 + "]" * 600
    response = client.post(f"{CONF}/checkins", headers=organiser, data=deep,
                           content_type="application/json")
    assert_problem(response, 422, errors=[{"detail": "Phải là một đối tượng JSON.",
                                           "pointer": ""}])
    response = client.post(f"{CONF}/checkins", headers=organiser,
                           json={"checkins": [[[["\u0000"]]]] + [[]] * 3})
    assert_problem(response, 422, errors=[
        {"detail": "Có ký tự NUL (mã 0), không lưu được.", "pointer": "/checkins/0/0/0/0"}])


def test_a_body_over_the_limit_is_told_as_a_body_with_its_limit(demo, client, organiser):
    """A batch of 500 check-ins takes about 100 KiB: past 256 KiB a body is refused unread.
    The refusal spoke of a file sent, to a caller who sent none, and not of the limit."""
    too_big = '{"checkins": [' + "0," * 140_000 + "0]}"
    assert_problem(client.post(f"{CONF}/checkins", headers=organiser, data=too_big,
                               content_type="application/json"), 413,
                   detail="Thân yêu cầu quá lớn (tối đa 256 KiB).", errors=[])
    document = client.get(f"{API}/openapi.json").get_json()
    responses = document["paths"]["/conferences/{slug}/checkins"]["post"]["responses"]
    assert responses["413"]["description"] == "Thân yêu cầu quá lớn."


def test_a_body_is_bounded_and_so_is_its_list_of_errors(demo, client, organiser):
    """A body of thousands of unknown members is told of its first hundred."""
    unknown = {f"k{number}": 0 for number in range(5_000)}
    body = assert_problem(client.post(f"{CONF}/points/22/participants", headers=organiser,
                                      json={"full_name": "Nguyễn Văn A", **unknown}), 422)
    assert len(body["errors"]) == 101
    assert body["errors"][:2] == [
        {"detail": "Trường này không được dùng ở đây.", "pointer": "/k0"},
        {"detail": "Trường này không được dùng ở đây.", "pointer": "/k1"}]
    assert body["errors"][100] == {"detail": "Còn 4900 lỗi nữa không liệt kê.", "pointer": ""}
    # A NUL is pointed at as RFC 6901 says: "/" in a member's name written "~1".
    body = assert_problem(client.post(f"{CONF}/points/22/participants", headers=organiser,
                                      json={"full_name": "A", "a/b~c": "x\u0000"}), 422)
    assert body["errors"] == [{"detail": "Có ký tự NUL (mã 0), không lưu được.",
                               "pointer": "/a~1b~0c"}]
    # Thousands of NULs are told of their first hundred too.
    body = assert_problem(client.post(f"{CONF}/checkins", headers=organiser,
                                      json={"checkins": ["\u0000"] * 3_000}), 422)
    assert len(body["errors"]) == 101
    assert body["errors"][99:] == [
        {"detail": "Có ký tự NUL (mã 0), không lưu được.", "pointer": "/checkins/99"},
        {"detail": "Còn 2900 lỗi nữa không liệt kê.", "pointer": ""}]


# ---------------------------------------------------------------- the agenda


def test_the_agenda_is_the_published_one(demo, client, organiser):
    sessions = client.get(f"{CONF}/sessions", headers=organiser).get_json()["items"]
    with demo.app_context():
        live = list(db.session.scalars(select(AgendaSession).order_by(AgendaSession.starts_at)))
        first = live[0]
        assert [s["id"] for s in sessions] == [s.id for s in live]
        assert sessions[0]["starts_at"] == first.starts_at.isoformat().replace("+00:00", "Z")
        # An unpublished edit stays out of the API until it is published.
        first.title = "Bản nháp chưa công bố"
        db.session.commit()
    again = client.get(f"{CONF}/sessions", headers=organiser).get_json()["items"]
    assert again[0]["title"] == sessions[0]["title"] != "Bản nháp chưa công bố"
    topics = client.get(f"{CONF}/topics", headers=organiser).get_json()["items"]
    assert [t["number"] for t in topics] == sorted({t["number"] for t in topics},
                                                   key=[t["number"] for t in topics].index)
    assert all(t["session_ids"] for t in topics)
    presenters = client.get(f"{CONF}/presenters", headers=organiser).get_json()["items"]
    assert len({(p["name"], p["unit"]) for p in presenters}) == len(presenters)


def test_an_unpublished_agenda_is_not_served(demo, client, organiser):
    with demo.app_context():
        conference = db.session.scalar(select(Conference))
        from confmgr.conferences.models import AgendaVersion
        db.session.execute(AgendaVersion.__table__.delete())
        db.session.commit()
        assert conference is not None
    assert_problem(client.get(f"{CONF}/sessions", headers=organiser), 404,
                   detail="Chương trình hội nghị chưa được công bố.")


# ---------------------------------------------------------------- points and permissions


def test_coordinators_see_their_own_points_and_nothing_else(demo, client, coordinator):
    codes = [p["code"] for p in client.get(f"{CONF}/points", headers=coordinator)
             .get_json()["items"]]
    assert sorted(codes) == sorted(QUANG_NINH_CODES)
    uong_bi = client.get(f"{CONF}/points/06811", headers=coordinator).get_json()
    assert (uong_bi["name"], uong_bi["parent_code"], uong_bi["level"]) == (
        "Điểm cầu Uông Bí", "22", "commune")
    # Another province's point is as unknown as one that does not exist.
    unknown = {"detail": "Không có điểm cầu nào mã «01».", "errors": []}
    assert_problem(client.get(f"{CONF}/points/01", headers=coordinator), 404, **unknown)
    assert_problem(client.get(f"{CONF}/points/01/participants", headers=coordinator), 404,
                   **unknown)
    assert_problem(client.post(f"{CONF}/points/01/participants", headers=coordinator,
                               json={"full_name": "Nguyễn Văn A"}), 404, **unknown)
    assert_problem(client.get(f"{CONF}/points/zz", headers=coordinator), 404,
                   detail="Không có điểm cầu nào mã «zz».", errors=[])
    hanoi_delegate = delegates_of(demo, "01")[0]
    assert_problem(client.get(f"{CONF}/participants/{hanoi_delegate}", headers=coordinator), 404)
    assert_problem(client.patch(f"{CONF}/participants/{hanoi_delegate}", headers=coordinator,
                                json={"phone": "0912345678"}), 404)
    assert_problem(client.post(f"{CONF}/participants/{hanoi_delegate}/withdraw",
                               headers=coordinator), 404)
    assert_problem(client.get(f"{CONF}/reports/sessions", headers=coordinator), 403)


def test_presenters_reach_the_agenda_but_not_points_or_delegates(demo, client):
    presenter = bearer(demo, PRESENTER_EMAIL)
    assert client.get(f"{CONF}/sessions", headers=presenter).status_code == 200
    assert_problem(client.get(f"{CONF}/points", headers=presenter), 403)
    assert_problem(client.get(f"{CONF}/categories", headers=presenter), 403)
    assert_problem(client.get(f"{CONF}/points/22", headers=presenter), 404,
                   detail="Không có điểm cầu nào mã «22».")
    assert_problem(client.get(f"{CONF}/reports/sessions", headers=presenter), 403)


def test_a_coordinator_of_another_conference_reaches_no_point_here(demo, client):
    with demo.app_context():
        other = Conference(slug="hoi-nghi-khac", title="Hội nghị khác",
                           first_day=date(2026, 1, 5), last_day=date(2026, 1, 5))
        db.session.add(other)
        db.session.flush()
        point = BroadcastPoint(conference_id=other.id, code="X1", name="Điểm cầu X1",
                               level="province")
        user = User(email="x1@example.org", password_hash="x", display_name="Điều phối X1",
                    role="coordinator", points=[point])
        db.session.add_all([point, user])
        db.session.commit()
    stranger = bearer(demo, "x1@example.org")
    for address in ("/categories", "/points", "/reports/sessions/1/points"):
        assert_problem(client.get(CONF + address, headers=stranger), 403)
    batch = {"checkins": [{"id": str(uuid.uuid4()), "participant_id": 1, "session_id": 1}]}
    assert_problem(client.post(f"{CONF}/checkins", headers=stranger, json=batch), 403)
    assert client.get(f"{API}/conferences/hoi-nghi-khac/points", headers=stranger).get_json()[
        "items"][0]["code"] == "X1"


def test_a_restricted_conference_does_not_exist_for_outsiders(demo, client):
    with demo.app_context():
        db.session.add(User(email="khac@example.org", password_hash="x", display_name="Khác",
                            role="organiser"))
        conference = db.session.scalar(select(Conference))
        conference.visibility = "restricted"
        db.session.commit()
    outsider = bearer(demo, "khac@example.org")
    assert_problem(client.get(CONF, headers=outsider), 404)
    assert client.get(f"{API}/conferences", headers=outsider).get_json() == {
        "items": [], "next": None}


def test_an_unpublished_conference_does_not_exist_for_outsiders(demo, client, organiser):
    from confmgr.conferences.editing import ConferenceFields, create_conference
    from confmgr.conferences.publishing import publish

    with demo.app_context():
        db.session.add(User(email="khac@example.org", password_hash="x", display_name="Khác",
                            role="organiser"))
        user = db.session.scalar(select(User).where(User.email == ORGANISER[0]))
        create_conference(ConferenceFields(
            slug="hn-nhap", title="Hội nghị chưa công bố", organising_unit="Ban Tổ chức",
            description="", timezone="Asia/Ho_Chi_Minh", first_day=date(2026, 12, 1),
            last_day=date(2026, 12, 1)), user)
        db.session.commit()
    outsider = bearer(demo, "khac@example.org")
    draft = f"{API}/conferences/hn-nhap"
    assert_problem(client.get(draft, headers=outsider), 404,
                   detail="Không có hội nghị «hn-nhap».")
    assert_problem(client.get(f"{draft}/sessions", headers=outsider), 404,
                   detail="Không có hội nghị «hn-nhap».")
    own = client.get(draft, headers=organiser)
    assert (own.status_code, own.get_json()["agenda_version"]) == (200, None)
    with demo.app_context():
        publish(db.session.scalar(select(Conference).where(Conference.slug == "hn-nhap")),
                db.session.scalar(select(User).where(User.email == ORGANISER[0])))
        db.session.commit()
    published = client.get(draft, headers=outsider)
    assert published.status_code == 200
    assert (published.get_json()["slug"], published.get_json()["agenda_version"]) == (
        "hn-nhap", 1)


def test_the_conference_list_reads_every_agenda_version_in_one_query(demo, client, organiser):
    from confmgr.conferences.editing import ConferenceFields, create_conference
    from confmgr.conferences.publishing import publish

    def listed() -> tuple[dict[str, int | None], int]:
        with count_queries(demo) as statements:
            items = client.get(f"{API}/conferences", headers=organiser).get_json()["items"]
        return {c["slug"]: c["agenda_version"] for c in items}, list(statements)

    listed()  # the process's first request asks once whether any user exists
    alone, statements_for_one = listed()
    with demo.app_context():
        user = db.session.scalar(select(User).where(User.email == ORGANISER[0]))
        demo_version = alone[SLUG]
        for slug in ("hn-mot", "hn-hai"):
            create_conference(ConferenceFields(
                slug=slug, title=slug, organising_unit="Ban Tổ chức", description="",
                timezone="Asia/Ho_Chi_Minh", first_day=date(2026, 12, 1),
                last_day=date(2026, 12, 1)), user)
        db.session.commit()
        second = db.session.scalar(select(Conference).where(Conference.slug == "hn-hai"))
        publish(second, user)
        second.title = "Hội nghị hai, sửa tên"
        publish(second, user)
        db.session.commit()
    found, statements_for_three = listed()
    assert found == {SLUG: demo_version, "hn-mot": None, "hn-hai": 2}
    assert demo_version is not None
    assert len(statements_for_three) == len(statements_for_one)


def test_lists_come_in_pages_followed_by_next(demo, client, organiser):
    seen, url = [], f"{CONF}/points?limit=4"
    while url:
        response = client.get(url, headers=organiser)
        body = response.get_json()
        assert len(body["items"]) <= 4
        if body["next"]:
            assert response.headers["Link"] == f'<{body["next"]}>; rel="next"'
        else:
            assert "Link" not in response.headers
        seen += [p["id"] for p in body["items"]]
        url = body["next"]
    assert seen == ids_of(demo, BroadcastPoint)
    province = client.get(f"{CONF}/points?province=22&level=commune", headers=organiser)
    assert [p["code"] for p in province.get_json()["items"]] == ["06811", "06688", "06793"] or \
        sorted(p["code"] for p in province.get_json()["items"]) == ["06688", "06793", "06811"]


def test_answers_carry_an_etag_and_unchanged_ones_are_304(demo, client, organiser):
    first = client.get(f"{CONF}/points/06811", headers=organiser)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    again = client.get(f"{CONF}/points/06811", headers={**organiser, "If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    client.post(f"{CONF}/points/06811/participants", headers=organiser,
                json={"full_name": "Trần Thị Mới"})
    changed = client.get(f"{CONF}/points/06811", headers={**organiser, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_a_get_whose_if_match_fails_answers_a_problem_document(demo, client, organiser):
    """A GET with an If-Match naming another version was answered 412 with the resource
    itself as application/json, a status the document did not mention."""
    url = f"{CONF}/points/06811"
    etag = client.get(url, headers=organiser).headers["ETag"]
    for sent in ('"not-this"', f"W/{etag}"):  # If-Match compares strongly
        assert_problem(client.get(url, headers={**organiser, "If-Match": sent}), 412,
                       detail="Đã có người khác thay đổi mục này từ lần bạn đọc; hãy lấy lại "
                              "bản mới rồi thử lại.", errors=[])
    for sent in (etag, "*"):
        assert client.get(url, headers={**organiser, "If-Match": sent}).status_code == 200
    document = client.get(f"{API}/openapi.json")
    assert_problem(client.get(f"{API}/openapi.json", headers={"If-Match": '"not-this"'}), 412)
    responses = document.get_json()["paths"]["/conferences/{slug}/points/{code}"]["get"][
        "responses"]
    assert responses["412"]["content"] == {"application/problem+json": {
        "schema": {"$ref": "#/components/schemas/Problem"}}}
    assert list(responses["200"]["headers"]) == ["ETag"]


def test_head_carries_the_etag_and_cache_control_of_get(demo, client, organiser):
    """HEAD answers had no ETag and no Cache-Control of their own: a client checking for a
    change with HEAD could not tell, and a shared cache was not told to keep out."""
    got = client.get(f"{CONF}/points/06811", headers=organiser)
    head = client.head(f"{CONF}/points/06811", headers=organiser)
    assert (head.status_code, head.data) == (200, b"")
    assert (head.headers["ETag"], head.headers["Cache-Control"]) == (
        got.headers["ETag"], "private, no-cache")
    again = client.head(f"{CONF}/points/06811",
                        headers={**organiser, "If-None-Match": got.headers["ETag"]})
    assert again.status_code == 304


# ---------------------------------------------------------------- delegates


def test_delegates_are_registered_edited_and_withdrawn(demo, client, coordinator):
    before = client.get(f"{CONF}/points/06811", headers=coordinator).get_json()
    created = client.post(f"{CONF}/points/06811/participants", headers=coordinator, json={
        "full_name": "  Nguyễn   Văn Quang ", "position": "Phó Chủ tịch UBND phường",
        "phone": "+84 912.345.678", "email": "Quang@Example.org"})
    assert created.status_code == 201, created.get_data(as_text=True)
    person = created.get_json()
    assert created.headers["Location"].endswith(f"{CONF}/participants/{person['id']}")
    assert {k: person[k] for k in ("point_code", "full_name", "phone", "email", "status",
                                   "warnings")} == {
        "point_code": "06811", "full_name": "Nguyễn Văn Quang", "phone": "0912345678",
        "email": "quang@example.org", "status": "registered",
        # Uông Bí expects 35 and the demo registered all 35: the 36th is over the number.
        "warnings": ["Điểm cầu đã đăng ký 36 đại biểu, nhiều hơn số dự kiến 35."]}
    after = client.get(f"{CONF}/points/06811", headers=coordinator).get_json()
    assert after["registered_count"] == before["registered_count"] + 1

    again = client.post(f"{CONF}/points/06688/participants", headers=coordinator,
                        json={"full_name": "Nguyễn Văn Quang", "phone": "0912345678"})
    body = assert_problem(again, 422)
    assert [e["pointer"] for e in body["errors"]] == ["/full_name"]
    assert "Điểm cầu Uông Bí" in body["errors"][0]["detail"]

    url = f"{CONF}/participants/{person['id']}"
    patched = client.patch(url, headers=coordinator, json={"unit": "UBND phường Uông Bí"})
    assert patched.status_code == 200
    assert (patched.get_json()["unit"], patched.get_json()["phone"]) == (
        "UBND phường Uông Bí", "0912345678")
    for _ in range(2):  # withdrawing twice is the same as once
        withdrawn = client.post(f"{url}/withdraw", headers=coordinator)
        assert withdrawn.get_json()["status"] == "withdrawn"
    final = client.get(f"{CONF}/points/06811", headers=coordinator).get_json()
    assert final["registered_count"] == before["registered_count"]


def test_a_registration_sent_again_with_its_id_registers_once(demo, client, coordinator):
    """A commune device that lost the 201 sends the same registration again: with a name
    only there was no phone or email to find it by, and a second delegate came in."""
    sent = {"full_name": "Lê Văn Lặp", "unit": "UBND phường",
            "client_id": "6f1c2a9e-8b7d-4c6e-9a51-2d0f4b7e6c13"}
    url = f"{CONF}/points/06811/participants"
    before = client.get(f"{CONF}/points/06811", headers=coordinator).get_json()
    first = client.post(url, headers=coordinator, json=sent)
    again = client.post(url, headers=coordinator, json={**sent, "client_id": sent[
        "client_id"].upper()})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json()["id"] == first.get_json()["id"]
    assert (first.get_json()["replayed"], again.get_json()["replayed"]) == (False, True)
    assert again.get_json()["warnings"] == []
    assert again.headers["Location"] == first.headers["Location"]
    after = client.get(f"{CONF}/points/06811", headers=coordinator).get_json()
    assert after["registered_count"] == before["registered_count"] + 1
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(Participant).where(
            Participant.full_name == "Lê Văn Lặp")) == 1
    # The same id with another delegate is a mistake of the sender's, not a replay.
    body = assert_problem(client.post(url, headers=coordinator, json={
        **sent, "full_name": "Lê Thị Khác"}), 422)
    assert body["errors"] == [{"detail": "Mã này đã được dùng cho một lần đăng ký khác.",
                               "pointer": "/client_id"}]
    document = client.get(f"{API}/openapi.json").get_json()
    created = document["paths"]["/conferences/{slug}/points/{code}/participants"]["post"][
        "responses"]["201"]
    assert created["headers"] == {"Location": {
        "description": "Địa chỉ của đại biểu vừa đăng ký.", "schema": {"type": "string"}}}


def test_a_patch_keeps_what_another_change_wrote_after_it_read_the_delegate(
        demo, database_url):
    """A PATCH of the note alone read the delegate before holding the row: a phone
    corrected and committed in between (another device, the web form) was written back
    to its old value."""
    from sqlalchemy import create_engine, text

    from confmgr.roster import services as roster

    with demo.app_context():
        person = db.session.scalar(select(Participant).join(BroadcastPoint).where(
            BroadcastPoint.code == "06811").order_by(Participant.id).limit(1))
        person_id, old_phone = person.id, person.phone
        other = create_engine(database_url)
        with other.begin() as connection:
            connection.execute(text("UPDATE participants SET phone = '0912000002' "
                                    "WHERE id = :id"), {"id": person_id})
        other.dispose()
        assert person.phone == old_phone  # what this request read
        roster.hold_for_edit(person, None)
        roster.patch_held(person, {"note": "chỉ sửa ghi chú"}, organiser=False)
        db.session.commit()
    with demo.app_context():
        stored = db.session.get(Participant, person_id)
        assert (stored.phone, stored.note) == ("0912000002", "chỉ sửa ghi chú")


def test_patch_with_a_stale_if_match_is_refused_not_applied(demo, client, coordinator):
    """Device A read a delegate, device B changed the note, then A sent its PATCH with the
    ETag it had read in If-Match: the If-Match was ignored and A's note replaced B's."""
    url = f"{CONF}/participants/{delegates_of(demo, '06811')[0]}"
    read_by_a = client.get(url, headers=coordinator).headers["ETag"]
    by_b = client.patch(url, headers=coordinator, json={"note": "B"})
    assert by_b.status_code == 200
    stale = client.patch(url, headers={**coordinator, "If-Match": read_by_a},
                         json={"note": "A"})
    assert_problem(stale, 412, detail="Đã có người khác thay đổi mục này từ lần bạn đọc; "
                                      "hãy lấy lại bản mới rồi thử lại.", errors=[])
    current = client.get(url, headers=coordinator)
    assert current.get_json()["note"] == "B"
    # The PATCH answer's ETag is the delegate's as it now is.
    assert by_b.headers["ETag"] == current.headers["ETag"]
    fresh = client.patch(url, headers={**coordinator, "If-Match": current.headers["ETag"]},
                         json={"note": "A"})
    assert fresh.status_code == 200 and fresh.get_json()["note"] == "A"
    assert client.patch(url, headers={**coordinator, "If-Match": "*"},
                        json={"note": "C"}).get_json()["note"] == "C"
    assert client.patch(url, headers=coordinator, json={"note": "D"}).get_json()["note"] == "D"
    document = client.get(f"{API}/openapi.json").get_json()
    patch = document["paths"]["/conferences/{slug}/participants/{person_id}"]["patch"]
    assert [(p["name"], p["in"], p["required"]) for p in patch["parameters"]
            if p["in"] == "header"] == [("If-Match", "header", False)]
    assert "412" in patch["responses"] and list(patch["responses"]["200"]["headers"]) == [
        "ETag"]


def test_an_if_match_is_weighed_against_the_delegate_as_held_for_the_write(
        demo, client, coordinator, database_url, monkeypatch):
    """The If-Match must be compared with the delegate once held, not as read before: a
    change committed in between would otherwise pass for the version the caller had."""
    from sqlalchemy import create_engine, text

    person_id = delegates_of(demo, "06811")[0]
    url = f"{CONF}/participants/{person_id}"
    etag = client.get(url, headers=coordinator).headers["ETag"]
    hold_person = roster_services.hold_person
    changed = []

    def changed_just_before(person):
        if not changed:  # another device's change, committed after this request read
            other = create_engine(database_url)
            with other.begin() as connection:
                connection.execute(text("UPDATE participants SET note = 'B' WHERE id = :id"),
                                   {"id": person_id})
            other.dispose()
            changed.append(person_id)
        hold_person(person)

    monkeypatch.setattr(roster_services, "hold_person", changed_just_before)
    response = client.patch(url, headers={**coordinator, "If-Match": etag}, json={"note": "A"})
    assert_problem(response, 412)
    assert client.get(url, headers=coordinator).get_json()["note"] == "B"


def test_the_document_does_not_offer_null_for_a_name_that_null_cannot_clear(demo, client,
                                                                            coordinator):
    """The document said a PATCH's full_name may be null, "null clears", but null for the
    name was always refused: a delegate cannot be left without one."""
    url = f"{CONF}/participants/{delegates_of(demo, '06811')[0]}"
    name = client.get(url, headers=coordinator).get_json()["full_name"]
    body = assert_problem(client.patch(url, headers=coordinator, json={"full_name": None}), 422)
    assert body["errors"] == [{"detail": "Phải là chuỗi ký tự.", "pointer": "/full_name"}]
    assert client.get(url, headers=coordinator).get_json()["full_name"] == name
    assert client.patch(url, headers=coordinator, json={"position": None}).get_json()[
        "position"] == ""
    document = client.get(f"{API}/openapi.json").get_json()
    members = document["components"]["schemas"]["ParticipantPatch"]["properties"]
    assert members["full_name"] == {"maxLength": 200, "title": "Full Name", "type": "string"}
    assert {"type": "null"} in members["position"]["anyOf"]
    patch = document["paths"]["/conferences/{slug}/participants/{person_id}"]["patch"]
    assert patch["description"] == (
        "Chỉ các trường được gửi thay đổi; trường không gửi giữ nguyên; null xóa giá trị, "
        "trừ full_name (đại biểu phải có họ tên).")


def test_after_registration_closes_only_organisers_withdraw(demo, client, coordinator,
                                                            organiser):
    with demo.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
        conference.registration_closes_at = utcnow() - timedelta(hours=1)
        person_id = db.session.scalar(select(Participant.id).join(BroadcastPoint).where(
            BroadcastPoint.code == "06811").order_by(Participant.id).limit(1))
        db.session.commit()
    url = f"{CONF}/participants/{person_id}/withdraw"
    body = assert_problem(client.post(url, headers=coordinator), 422)
    [error] = body["errors"]
    assert list(error) == ["detail"]  # the whole request, no member of it
    assert error["detail"].startswith("Đăng ký đã đóng lúc ")
    assert error["detail"].endswith(". Chỉ ban tổ chức rút tên đại biểu được.")
    with demo.app_context():
        assert db.session.get(Participant, person_id).status == RegistrationStatus.REGISTERED
    assert client.post(url, headers=organiser).get_json()["status"] == "withdrawn"


def test_bad_delegates_are_refused_member_by_member(demo, client, coordinator):
    response = client.post(f"{CONF}/points/06811/participants", headers=coordinator, json={
        "full_name": "Nguyễn Văn 3", "email": "không-phải-email", "nickname": "Ba"})
    body = assert_problem(response, 422)
    assert [e["pointer"] for e in body["errors"]] == ["/nickname"]
    response = client.post(f"{CONF}/points/06811/participants", headers=coordinator, json={
        "full_name": "Nguyễn Văn 3", "email": "không-phải-email", "phone": "12"})
    body = assert_problem(response, 422)
    assert {e["pointer"]: e["detail"] for e in body["errors"]} == {
        "/full_name": "Họ và tên không được có chữ số.",
        "/phone": "Số điện thoại phải có 10 hoặc 11 chữ số, bắt đầu bằng 0 (hoặc +84).",
        "/email": "Email không hợp lệ."}
    response = client.post(f"{CONF}/points/06811/participants", headers=coordinator,
                           json=["not", "an", "object"])
    assert assert_problem(response, 422)["errors"][0]["pointer"] == ""
    assert ids_of(demo, Participant, full_name="Nguyễn Văn 3") == []


# ---------------------------------------------------------------- check-ins


def counters(app, session_id: int, code: str) -> tuple[int, int]:
    """(present, attendance rows) of one session at one point."""
    with app.app_context():
        pid = point_id(app, code)
        rows = db.session.scalar(select(func.count()).select_from(Attendance).where(
            Attendance.session_id == session_id, Attendance.point_id == pid))
        present = sum(r.tally.present for r in reports.by_point(
            db.session.get(Conference, db.session.scalar(select(Conference.id))), session_id)
            if r.code == code)
        return present, rows


def test_a_retried_batch_of_check_ins_is_counted_once(demo, client, coordinator):
    session_id = lately_closed(demo)
    people = delegates_of(demo, "06811")[:3]
    before = counters(demo, session_id, "06811")
    batch = {"checkins": [{"id": str(uuid.uuid4()), "participant_id": p,
                           "session_id": session_id} for p in people]}
    first = client.post(f"{CONF}/checkins", headers=coordinator, json=batch)
    assert first.status_code == 200, first.get_data(as_text=True)
    assert [(r["participant_id"], r["status"], r["changed"], r["replayed"])
            for r in first.get_json()["results"]] == [(p, "present", True, False) for p in people]
    after = counters(demo, session_id, "06811")
    assert after == (before[0] + 3, before[1] + 3)

    for _ in range(2):  # the device lost the answer and sends the same batch again
        retry = client.post(f"{CONF}/checkins", headers=coordinator, json=batch)
        assert [(r["changed"], r["replayed"]) for r in retry.get_json()["results"]] == [
            (True, True)] * 3
    assert counters(demo, session_id, "06811") == after
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(CheckInReceipt)) == 3
        assert db.session.scalar(select(func.count()).select_from(AttendanceChange).where(
            AttendanceChange.session_id == session_id,
            AttendanceChange.participant_id.in_(people))) == 3

    # The same id for another check-in is a mistake, not a replay.
    reused = {"checkins": [{**batch["checkins"][0], "status": "late"}]}
    body = assert_problem(client.post(f"{CONF}/checkins", headers=coordinator, json=reused), 422)
    assert [e["pointer"] for e in body["errors"]] == ["/checkins/0/id"]

    # Sent again after the delegate moved to a point out of the sender's reach, it is still
    # answered as received, and a new check-in beside it goes in.
    with demo.app_context():
        roster_services.move(db.session.get(Participant, people[0]),
                             db.session.get(BroadcastPoint, point_id(demo, "01")))
        db.session.commit()
    newcomer = {"id": str(uuid.uuid4()), "participant_id": delegates_of(demo, "06811")[3],
                "session_id": session_id}
    moved = client.post(f"{CONF}/checkins", headers=coordinator,
                        json={"checkins": [batch["checkins"][0], newcomer]})
    assert moved.status_code == 200, moved.get_data(as_text=True)
    assert [(r["changed"], r["replayed"]) for r in moved.get_json()["results"]] == [
        (True, True), (True, False)]


def test_one_delegates_check_ins_in_a_batch_stand_in_the_order_they_were_taken(
        demo, client, coordinator):
    """A device's queue sent out of order (a retried tap behind a later one): the one
    sent last stood, though taken first."""
    session_id = lately_closed(demo)
    person = delegates_of(demo, "06811")[0]
    with demo.app_context():
        ends = db.session.get(AgendaSession, session_id).published_ends_at
    batch = {"checkins": [
        {"id": str(uuid.uuid4()), "participant_id": person, "session_id": session_id,
         "status": "absent", "taken_at": (ends - timedelta(minutes=20)).isoformat()},
        {"id": str(uuid.uuid4()), "participant_id": person, "session_id": session_id,
         "status": "present", "taken_at": (ends - timedelta(minutes=50)).isoformat()}]}
    answer = client.post(f"{CONF}/checkins", headers=coordinator, json=batch)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert [(r["status"], r["changed"]) for r in answer.get_json()["results"]] == [
        ("absent", True), ("present", True)]
    with demo.app_context():
        assert db.session.scalar(select(Attendance.status).where(
            Attendance.participant_id == person,
            Attendance.session_id == session_id)) == AttendanceStatus.ABSENT


def test_a_check_in_a_device_took_before_a_later_change_at_the_point_changes_nothing(
        demo, client, coordinator):
    """A phone offline for a while sends "present" taken five minutes ago; the coordinator
    had since marked the delegate absent on the sheet: the later word stands, and the
    phone is told so, then and on every retry. Between two devices, too, the check-in
    taken last stands, whichever reaches the server last."""
    from tests.test_attendance_web import open_session

    session_id = open_session(demo)
    person = delegates_of(demo, "06811")[0]
    logged_in(client, COORDINATOR)
    tap = post_form(client, f"/manage/c/{SLUG}/points/06811/attendance/{session_id}",
                    {"mark": f"{person}:absent"})
    assert tap.status_code == 302

    def held() -> tuple:
        with demo.app_context():
            row = db.session.execute(select(Attendance.status, Attendance.recorded_at).where(
                Attendance.participant_id == person,
                Attendance.session_id == session_id)).one()
            logged = db.session.scalar(select(func.count()).select_from(AttendanceChange)
                                       .where(AttendanceChange.participant_id == person,
                                              AttendanceChange.session_id == session_id))
            return row.status, row.recorded_at, logged

    def sent(status: str, taken_at: datetime) -> dict:
        return {"id": str(uuid.uuid4()), "participant_id": person, "session_id": session_id,
                "status": status, "taken_at": taken_at.isoformat()}

    def outcome(batch: dict) -> list[tuple]:
        answer = client.post(f"{CONF}/checkins", headers=coordinator, json=batch)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return [(r["status"], r["changed"], r["replayed"], r["superseded"])
                for r in answer.get_json()["results"]]

    tapped = held()
    assert tapped[0] == AttendanceStatus.ABSENT and tapped[2] == 1
    counted = counters(demo, session_id, "06811")
    stale = {"checkins": [sent("present", utcnow() - timedelta(minutes=5))]}
    assert outcome(stale) == [("present", False, False, True)]
    assert held() == tapped and counters(demo, session_id, "06811") == counted
    assert outcome(stale) == [("present", False, True, True)]  # a retry: told the same
    with demo.app_context():
        assert db.session.get(CheckInReceipt, stale["checkins"][0]["id"]).superseded

    # Taken after the tap, it goes in, as of when it was taken.
    taken = utcnow()
    assert outcome({"checkins": [sent("late", taken)]}) == [("late", True, False, False)]
    assert held() == (AttendanceStatus.LATE, taken, 2)
    # A second device's check-in, taken between the tap and that one, reaches the server
    # last: the one taken last still stands.
    between = {"checkins": [sent("excused", taken - timedelta(microseconds=1))]}
    assert outcome(between) == [("excused", False, False, True)]
    assert held() == (AttendanceStatus.LATE, taken, 2)
    # The coordinator's next tap is the latest word.
    post_form(client, f"/manage/c/{SLUG}/points/06811/attendance/{session_id}",
              {"mark": f"{person}:present"})
    assert held()[0::2] == (AttendanceStatus.PRESENT, 3)


def test_a_coordinators_device_stands_over_a_delegates_own_scan_made_after_it(
        demo, client, coordinator):
    """The coordinator's phone, offline, marks a delegate late at the door; a minute later
    the delegate scans their own badge. A delegate's scan never undoes the coordinator's
    word: the device's check-in, sent after the scan, was "superseded" and the delegate
    stayed present on their own word. It stands now, and one that says the same confirms
    the scan, as it would have sent first."""
    from confmgr.attendance import codes
    from tests.conftest import csrf_token
    from tests.test_attendance_web import open_session

    session_id = open_session(demo)
    late, seen = delegates_of(demo, "06811")[:2]
    with demo.app_context():
        codes.ensure_codes(db.session.get(BroadcastPoint, point_id(demo, "06811")))
        db.session.commit()
        scans = [db.session.get(Participant, person).checkin_code for person in (late, seen)]
    taken = utcnow() - timedelta(minutes=1)
    phone = demo.test_client()  # the delegate's own, not signed in
    for code in scans:
        assert phone.post(f"/q/{code}", data={"session": str(session_id), "csrf_token":
                                               csrf_token(phone, f"/q/{code}")}).status_code == 302
    answer = client.post(f"{CONF}/checkins", headers=coordinator, json={"checkins": [
        {"id": str(uuid.uuid4()), "participant_id": person, "session_id": session_id,
         "status": status, "taken_at": taken.isoformat()}
        for person, status in ((late, "late"), (seen, "present"))]})
    assert [(r["status"], r["changed"], r["superseded"])
            for r in answer.get_json()["results"]] == [
        ("late", True, False), ("present", False, False)]
    with demo.app_context():
        assert db.session.execute(select(
            Attendance.participant_id, Attendance.status, Attendance.method).where(
            Attendance.session_id == session_id).order_by(Attendance.participant_id)).all() == [
            (late, AttendanceStatus.LATE, CheckInMethod.API),
            (seen, AttendanceStatus.PRESENT, CheckInMethod.API)]


def test_all_present_pressed_after_a_device_took_its_check_in_does_not_stand_over_it(
        demo, client, coordinator):
    """A device, offline, records a delegate excused; the coordinator then presses "all
    present" on the sheet, which fills in whom nobody has recorded. Had the device's
    check-in come first, it would have been left alone: sent after, it stands too."""
    from tests.test_attendance_web import open_session

    session_id = open_session(demo)
    excused, other = delegates_of(demo, "06811")[2:4]
    taken = utcnow() - timedelta(minutes=1)
    logged_in(client, COORDINATOR)
    post_form(client, f"/manage/c/{SLUG}/points/06811/attendance/{session_id}/all-present", {})
    answer = client.post(f"{CONF}/checkins", headers=coordinator, json={"checkins": [{
        "id": str(uuid.uuid4()), "participant_id": excused, "session_id": session_id,
        "status": "excused", "taken_at": taken.isoformat()}]})
    assert [(r["changed"], r["superseded"]) for r in answer.get_json()["results"]] == [
        (True, False)]
    with demo.app_context():
        assert dict(db.session.execute(select(Attendance.participant_id, Attendance.method)
                                       .where(Attendance.session_id == session_id,
                                              Attendance.participant_id.in_([excused, other])))
                    .all()) == {excused: CheckInMethod.API, other: CheckInMethod.ALL_PRESENT}
        assert db.session.scalar(select(Attendance.status).where(
            Attendance.participant_id == excused,
            Attendance.session_id == session_id)) == AttendanceStatus.EXCUSED
        # The log says how each came in.
        assert db.session.execute(select(AttendanceChange.new_status, AttendanceChange.method)
                                  .where(AttendanceChange.participant_id == excused,
                                         AttendanceChange.session_id == session_id)
                                  .order_by(AttendanceChange.id)).all() == [
            (AttendanceStatus.PRESENT, CheckInMethod.ALL_PRESENT),
            (AttendanceStatus.EXCUSED, CheckInMethod.API)]


def test_a_tap_saying_what_all_present_filled_in_stands_over_an_older_device_check_in(
        demo, client, coordinator):
    """"All present", then a device (offline) takes the delegate absent, then the
    coordinator taps present on the sheet: their latest word. The tap changed nothing and
    the row stayed "all present", which no device's check-in gives way to: the older
    "absent" undid the tap."""
    from tests.test_attendance_web import open_session

    session_id = open_session(demo)
    person = delegates_of(demo, "06811")[0]
    logged_in(client, COORDINATOR)
    sheet = f"/manage/c/{SLUG}/points/06811/attendance/{session_id}"
    post_form(client, f"{sheet}/all-present", {})
    with demo.app_context():
        filled = db.session.scalar(select(Attendance.recorded_at).where(
            Attendance.participant_id == person, Attendance.session_id == session_id))
    assert post_form(client, sheet, {"mark": f"{person}:present"}).status_code == 302
    answer = client.post(f"{CONF}/checkins", headers=coordinator, json={"checkins": [{
        "id": str(uuid.uuid4()), "participant_id": person, "session_id": session_id,
        "status": "absent", "taken_at": (filled + timedelta(microseconds=1)).isoformat()}]})
    assert [(r["changed"], r["superseded"]) for r in answer.get_json()["results"]] == [
        (False, True)]
    with demo.app_context():
        assert db.session.execute(select(Attendance.status, Attendance.method).where(
            Attendance.participant_id == person, Attendance.session_id == session_id)
        ).one() == (AttendanceStatus.PRESENT, CheckInMethod.MANUAL)


def test_a_device_whose_clock_runs_slow_says_when_it_sent_and_its_times_are_set_right(
        demo, client, coordinator):
    """A phone whose clock runs ten minutes slow took a check-in a moment after the
    coordinator's tap: by its clock, ten minutes before it. Sent with when it was sent by
    that clock (``sent_at``), its time is set right, and it stands; without, it was taken
    for older than the tap. A time set right still cannot come after the batch."""
    from tests.test_attendance_web import open_session

    session_id = open_session(demo)
    person = delegates_of(demo, "06811")[0]
    logged_in(client, COORDINATOR)
    assert post_form(client, f"/manage/c/{SLUG}/points/06811/attendance/{session_id}",
                     {"mark": f"{person}:absent"}).status_code == 302
    slow = timedelta(minutes=10)

    def sent(status: str, **batch) -> list[tuple]:
        taken = utcnow() - slow  # the device's clock, a moment after the tap
        answer = client.post(f"{CONF}/checkins", headers=coordinator, json={**batch,
            "checkins": [{"id": str(uuid.uuid4()), "participant_id": person,
                          "session_id": session_id, "status": status,
                          "taken_at": taken.isoformat()}]})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return [(r["changed"], r["superseded"]) for r in answer.get_json()["results"]]

    assert sent("present") == [(False, True)]
    before = utcnow()
    assert sent("present", sent_at=(utcnow() - slow).isoformat()) == [(True, False)]
    with demo.app_context():
        recorded = db.session.scalar(select(Attendance.recorded_at).where(
            Attendance.participant_id == person, Attendance.session_id == session_id))
    assert before - timedelta(seconds=5) < recorded <= utcnow()
    # Sent "before" it was taken by the device's own clock: after the batch, refused.
    answer = client.post(f"{CONF}/checkins", headers=coordinator, json={
        "sent_at": (utcnow() - timedelta(hours=1)).isoformat(), "checkins": [{
            "id": str(uuid.uuid4()), "participant_id": person, "session_id": session_id,
            "taken_at": utcnow().isoformat()}]})
    assert [e["pointer"] for e in answer.get_json()["errors"]] == ["/checkins/0/taken_at"]
    # A clock off by more than a day is not set right but refused, on the member at fault
    # (in year 1, its times were moved past 9999: a server error).
    for sent_at in ("0001-01-03T00:00:00Z", "9999-12-29T00:00:00Z",
                    (utcnow() + timedelta(days=1, minutes=1)).isoformat()):
        body = assert_problem(client.post(f"{CONF}/checkins", headers=coordinator, json={
            "sent_at": sent_at, "checkins": [{
                "id": str(uuid.uuid4()), "participant_id": person, "session_id": session_id,
                "taken_at": "7974-06-01T00:00:00Z"}]}), 422)
        [error] = body["errors"]
        assert error["pointer"] == "/sent_at"
        assert re.fullmatch(r"Giờ gửi \d\d:\d\d \d\d/\d\d/\d{1,4} lệch hơn một ngày so với "
                            r"máy chủ \(\d\d:\d\d \d\d/\d\d/\d{4}\): đồng hồ của máy gửi đang "
                            r"sai; hãy chỉnh lại rồi gửi lại\.", error["detail"]), error


def test_a_check_in_that_changes_nothing_is_still_the_latest_word(demo, client, coordinator):
    """Device Z said present ten minutes ago; device Y present two minutes ago, which
    changed nothing and left the row's time at ten; device X, offline, absent five minutes
    ago, sent last, was then applied, though Y's word came after it. So with a paper list
    that confirms what a device said ("Không đổi"): an older device check-in sent after it
    undid it."""
    from tests.test_attendance_web import open_session

    session_id = open_session(demo)
    person = delegates_of(demo, "06811")[3]
    now = utcnow()

    def sent(status: str, minutes_ago: int) -> tuple[bool, bool]:
        answer = client.post(f"{CONF}/checkins", headers=coordinator, json={"checkins": [{
            "id": str(uuid.uuid4()), "participant_id": person, "session_id": session_id,
            "status": status, "taken_at": (now - timedelta(minutes=minutes_ago)).isoformat()}]})
        [result] = answer.get_json()["results"]
        return result["changed"], result["superseded"]

    assert sent("present", 10) == (True, False)
    assert sent("present", 2) == (False, False)
    assert sent("absent", 5) == (False, True)
    with demo.app_context():
        assert db.session.execute(select(Attendance.status, Attendance.recorded_at).where(
            Attendance.participant_id == person, Attendance.session_id == session_id)
        ).one() == (AttendanceStatus.PRESENT, now - timedelta(minutes=2))


def test_a_paper_list_that_says_what_a_device_said_stands_over_older_check_ins(
        demo, client, coordinator):
    """A device's "present" is in; the paper list, uploaded after the session, says present
    too ("Không đổi"); another device, offline until now, sends "absent" taken before the
    upload: the list is the later word."""
    from tests.test_attendance_import import confirm, ended_session, preview, token_in
    from tests.test_attendance_web import people_at

    session_id = ended_session(demo)
    with demo.app_context():
        ends = db.session.get(AgendaSession, session_id).published_ends_at
    person, name = people_at(demo, "06811")[0]

    def sent(status: str, taken_at: datetime) -> tuple[bool, bool]:
        answer = client.post(f"{CONF}/checkins", headers=coordinator, json={"checkins": [{
            "id": str(uuid.uuid4()), "participant_id": person, "session_id": session_id,
            "status": status, "taken_at": taken_at.isoformat()}]})
        [result] = answer.get_json()["results"]
        return result["changed"], result["superseded"]

    assert sent("present", ends - timedelta(minutes=50)) == (True, False)
    logged_in(client, COORDINATOR)
    page = preview(client, session_id, [["Họ và tên", "Điểm danh"], [name, "có mặt"]])
    assert "0 ghi mới, 0 sửa, 1 không đổi" in page
    assert confirm(client, session_id, token_in(page)).status_code == 302
    assert sent("absent", ends - timedelta(minutes=20)) == (False, True)
    with demo.app_context():
        assert db.session.scalar(select(Attendance.status).where(
            Attendance.participant_id == person,
            Attendance.session_id == session_id)) == AttendanceStatus.PRESENT


def test_a_batch_long_after_check_in_closed_goes_in_as_a_paper_list(demo, client,
                                                                    coordinator):
    """A device offline for a day may still send; after that, the point's list is checked
    by its coordinator as a paper list. A batch received in time is still answered."""
    session_id = lately_closed(demo, hours_ago=23)  # closed 21 hours ago: still taken
    person, other = delegates_of(demo, "06811")[:2]
    sent = {"checkins": [{"id": str(uuid.uuid4()), "participant_id": person,
                          "session_id": session_id}]}
    assert client.post(f"{CONF}/checkins", headers=coordinator, json=sent).status_code == 200
    session_id = lately_closed(demo, hours_ago=28)  # closed 26 hours ago: too late
    with demo.app_context():
        closes = db.session.get(AgendaSession, session_id).published_ends_at \
            + timedelta(minutes=120)
        title = db.session.get(AgendaSession, session_id).title
    at = closes.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%H:%M %d/%m/%Y")
    late = {"checkins": [{"id": str(uuid.uuid4()), "participant_id": other,
                          "session_id": session_id}]}
    body = assert_problem(client.post(f"{CONF}/checkins", headers=coordinator, json=late), 422)
    assert [(e["pointer"], e["detail"]) for e in body["errors"]] == [(
        "/checkins/0/session_id",
        f"Điểm danh phiên «{title}» đã đóng lúc {at}, quá lâu để nhận từ máy gửi chậm; "
        "hãy tải lên danh sách giấy.")]
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(CheckInReceipt)) == 1
    # The batch that went in is still answered as received when sent again.
    again = client.post(f"{CONF}/checkins", headers=coordinator, json=sent)
    assert [(r["changed"], r["replayed"]) for r in again.get_json()["results"]] == [(True, True)]


def test_a_batch_long_after_a_cancelled_session_or_a_break_says_why_it_takes_none(
        demo, client, coordinator):
    """A paper list would be refused as well: the answer says the session is cancelled,
    or is a break, whenever the check-in comes."""
    from confmgr.enums import SessionKind, SessionStatus
    from tests.test_attendance_web import publish_agenda

    session_id = lately_closed(demo, hours_ago=30)
    with demo.app_context():
        session = db.session.get(AgendaSession, session_id)
        session.status = SessionStatus.CANCELLED
        title = session.title
        publish_agenda()
        pause = db.session.scalars(select(AgendaSession).where(
            AgendaSession.published_kind == SessionKind.BREAK)
            .order_by(AgendaSession.starts_at)).first()
        pause_id, pause_title = pause.id, pause.title
    person = delegates_of(demo, "06811")[0]
    for sent_to, detail in ((session_id, f"Phiên «{title}» đã bị hủy: không điểm danh."),
                            (pause_id, f"«{pause_title}» là giờ nghỉ: không điểm danh.")):
        batch = {"checkins": [{"id": str(uuid.uuid4()), "participant_id": person,
                               "session_id": sent_to}]}
        body = assert_problem(client.post(f"{CONF}/checkins", headers=coordinator,
                                          json=batch), 422)
        assert [(e["pointer"], e["detail"]) for e in body["errors"]] == [
            ("/checkins/0/session_id", detail)]


def test_a_device_says_when_it_took_each_check_in(demo, client, coordinator):
    """A device that was offline sends when it took each check-in: the delegate came in
    then, on the chart of check-ins over time, not when the batch arrived. A time after the
    batch reached the server (a clock that is wrong), outside the session's check-in hours
    or without its zone is refused, where it is."""
    session_id = lately_closed(demo)  # ended 3 hours ago; check-in closed 1 hour ago
    person, other = delegates_of(demo, "06811")[:2]
    with demo.app_context():
        session = db.session.get(AgendaSession, session_id)
        starts, title = session.published_starts_at, session.title
        conference = db.session.get(Conference, session.conference_id)
        opens = starts - timedelta(minutes=conference.checkin_opens_minutes)
        closes = session.published_ends_at + timedelta(
            minutes=conference.checkin_closes_minutes)
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    taken = (starts + timedelta(minutes=12)).replace(microsecond=0)

    def sent(when, who=person) -> dict:
        check_in = {"id": str(uuid.uuid4()), "participant_id": who, "session_id": session_id}
        if when is not None:
            check_in["taken_at"] = when
        return {"checkins": [check_in]}

    def local(moment) -> str:
        return moment.astimezone(zone).strftime("%H:%M %d/%m/%Y")

    now = datetime.now(timezone.utc)
    for when, detail in (
            (now + timedelta(hours=1),
             f"Giờ ghi {local(now + timedelta(hours=1))} muộn hơn lúc máy chủ nhận "),
            (closes + timedelta(minutes=10), f"Giờ ghi {local(closes + timedelta(minutes=10))} "
             f"ngoài giờ điểm danh phiên «{title}» (từ {local(opens)} đến {local(closes)})."),
            (opens - timedelta(minutes=1), f"Giờ ghi {local(opens - timedelta(minutes=1))} "
             f"ngoài giờ điểm danh phiên «{title}» (từ {local(opens)} đến {local(closes)})."),
    ):
        body = assert_problem(client.post(f"{CONF}/checkins", headers=coordinator,
                                          json=sent(when.isoformat())), 422)
        [error] = body["errors"]
        assert error["pointer"] == "/checkins/0/taken_at"
        assert error["detail"].startswith(detail), error["detail"]
    for unread in (taken.replace(tzinfo=None).isoformat(), "9999-12-31T23:00:00-05:00"):
        body = assert_problem(client.post(f"{CONF}/checkins", headers=coordinator,
                                          json=sent(unread)), 422)
        assert [(e["pointer"], e["detail"]) for e in body["errors"]] == [(
            "/checkins/0/taken_at",
            "Phải là thời điểm ISO 8601 có múi giờ, ví dụ 2025-06-14T08:05:00+07:00.")]
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(CheckInReceipt)) == 0

    # In the zone the device keeps, as ISO 8601 says; the other delegate's time is unsaid.
    answer = client.post(f"{CONF}/checkins", headers=coordinator,
                         json=sent(taken.astimezone(zone).isoformat()))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    received = datetime.now(timezone.utc)
    assert client.post(f"{CONF}/checkins", headers=coordinator,
                       json=sent(None, other)).status_code == 200
    with demo.app_context():
        arrived = dict(db.session.execute(select(Attendance.participant_id, Attendance.arrived_at)
                                          .where(Attendance.session_id == session_id)).all())
        assert arrived[person] == taken
        assert received <= arrived[other] <= datetime.now(timezone.utc)
        chart = reports.checkins_over_time(db.session.get(Conference, conference.id),
                                           db.session.get(AgendaSession, session_id))
    # Five-minute buckets from the opening: the first delegate in the one holding the
    # minute they were taken; the other came in, as far as anyone knows, after check-in
    # closed, where the chart ends.
    start = opens.replace(second=0, microsecond=0)
    expected_bucket = start + timedelta(
        minutes=5 * ((taken - start) // timedelta(minutes=5)))
    assert [(moment, count) for moment, count in chart if count] == [(expected_bucket, 1)]


def test_a_batch_with_one_bad_check_in_records_nothing(demo, client, coordinator):
    session_id = lately_closed(demo)
    mine = delegates_of(demo, "06688")[0]
    hanoi = delegates_of(demo, "01")[0]
    before = counters(demo, session_id, "06688")
    batch = {"checkins": [
        {"id": str(uuid.uuid4()), "participant_id": mine, "session_id": session_id},
        {"id": str(uuid.uuid4()), "participant_id": hanoi, "session_id": session_id},
        {"id": str(uuid.uuid4()), "participant_id": mine, "session_id": 999999},
        {"id": "not-a-uuid", "participant_id": mine, "session_id": session_id},
    ]}
    body = assert_problem(client.post(f"{CONF}/checkins", headers=coordinator, json=batch), 422)
    assert [e["pointer"] for e in body["errors"]] == ["/checkins/3/id"]
    del batch["checkins"][3]
    body = assert_problem(client.post(f"{CONF}/checkins", headers=coordinator, json=batch), 422)
    assert [(e["pointer"], e["detail"]) for e in body["errors"]] == [
        ("/checkins/1/participant_id", "Không có đại biểu này ở các điểm cầu bạn phụ trách."),
        ("/checkins/2/session_id", "Không có phiên này trong hội nghị.")]
    # JSON's true and 1.0 are not ids, though Python would read either as 1.
    batch = {"checkins": [
        {"id": str(uuid.uuid4()), "participant_id": True, "session_id": session_id},
        {"id": str(uuid.uuid4()), "participant_id": mine, "session_id": float(session_id)},
    ]}
    body = assert_problem(client.post(f"{CONF}/checkins", headers=coordinator, json=batch), 422)
    assert [(e["pointer"], e["detail"]) for e in body["errors"]] == [
        ("/checkins/0/participant_id", "Phải là số nguyên."),
        ("/checkins/1/session_id", "Phải là số nguyên.")]
    assert counters(demo, session_id, "06688") == before
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(CheckInReceipt)) == 0


def test_attendance_and_reports_read_back_what_was_recorded(demo, client, organiser,
                                                            coordinator):
    session_id = lately_closed(demo)
    person = delegates_of(demo, "06793")[0]

    def quang_ninh():
        provinces = client.get(f"{CONF}/reports/sessions/{session_id}/provinces",
                               headers=organiser).get_json()["provinces"]
        return next(p for p in provinces if p["code"] == "22")

    before = quang_ninh()
    client.post(f"{CONF}/checkins", headers=coordinator, json={"checkins": [
        {"id": str(uuid.uuid4()), "participant_id": person, "session_id": session_id,
         "status": "late"}]})
    rows = client.get(f"{CONF}/points/06793/attendance?session_id={session_id}",
                      headers=coordinator).get_json()["items"]
    assert [(r["participant_id"], r["status"]) for r in rows if r["participant_id"] == person] \
        == [(person, "late")]

    national = client.get(f"{CONF}/reports/sessions", headers=organiser).get_json()
    with demo.app_context():
        conference = db.session.scalar(select(Conference))
        expected = {s.id: t for s, t in reports.session_totals(conference)}
    assert {s["session_id"]: (s["tally"]["late"], s["tally"]["registered"])
            for s in national["sessions"]} == {
        i: (t.late, t.registered) for i, t in expected.items()}

    mine = client.get(f"{CONF}/reports/sessions/{session_id}/points", headers=coordinator)
    assert sorted(p["code"] for p in mine.get_json()["items"]) == sorted(QUANG_NINH_CODES)
    all_points = client.get(f"{CONF}/reports/sessions/{session_id}/points?limit=3",
                            headers=organiser).get_json()
    assert len(all_points["items"]) == 3 and "after=" in all_points["next"]
    after = quang_ninh()
    assert after["name"] == "Tỉnh Quảng Ninh"
    assert after["tally"] == {**before["tally"], "late": before["tally"]["late"] + 1,
                              "attended": before["tally"]["attended"] + 1,
                              "not_recorded": before["tally"]["not_recorded"] - 1,
                              "rate": after["tally"]["rate"]}
    assert after["tally"]["rate"] > before["tally"]["rate"]


def test_the_openapi_document_lists_every_operation(demo, client):
    document = client.get(f"{API}/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    operations = {(method.upper(), path) for path, item in document["paths"].items()
                  for method in item}
    routes = {(method, rule.rule.removeprefix(API).replace("<int:", "<").replace("<", "{")
               .replace(">", "}")) for rule in demo.url_map.iter_rules()
              if rule.endpoint.startswith("api.") and rule.endpoint != "api.docs"
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert operations == routes
    page = client.get(f"{API}/docs").get_data(as_text=True)
    assert "POST /conferences/{slug}/checkins" in page and "<script" not in page.split(
        "<main")[1].split("</main>")[0]


def test_the_document_speaks_the_language_its_reader_asks_for(client):
    """Summaries, descriptions and tags in the language of Accept-Language; names stay."""
    english = client.get(f"{API}/openapi.json", headers={"Accept-Language": "en"})
    vietnamese = client.get(f"{API}/openapi.json", headers={"Accept-Language": "vi"})
    assert "Accept-Language" in english.headers["Vary"].split(", ")
    assert english.headers["ETag"] != vietnamese.headers["ETag"]
    batch = {language: answer.get_json()["paths"]["/conferences/{slug}/checkins"]["post"]
             for language, answer in (("en", english), ("vi", vietnamese))}
    assert (batch["en"]["summary"], batch["en"]["tags"]) == ("Check-ins in a batch",
                                                             ["Attendance"])
    assert (batch["vi"]["summary"], batch["vi"]["tags"]) == ("Điểm danh theo lô",
                                                             ["Điểm danh"])
    assert batch["en"]["responses"]["429"]["description"] == (
        "Too many requests; wait the seconds given in Retry-After.")
    schemas = {language: answer.get_json()["components"]["schemas"]
               for language, answer in (("en", english), ("vi", vietnamese))}
    assert schemas["en"]["CheckInResult"]["properties"]["replayed"]["description"] == (
        "This id was received before; nothing was recorded again.")
    assert schemas["vi"]["CheckInResult"]["properties"]["replayed"]["description"] == (
        "Đã nhận mã này trước đó; không ghi lại lần nữa.")
    # A member named "description" is a schema, not words to translate.
    assert schemas["en"]["SessionOut"]["properties"]["description"] == (
        schemas["vi"]["SessionOut"]["properties"]["description"])
    english_words = english.get_data(as_text=True).encode().decode("unicode_escape")
    assert re.findall(r"[à-ỹđĐ]", english_words) == []


def test_the_document_describes_its_own_answers(client):
    first = client.get(f"{API}/openapi.json")
    document = first.get_json()
    own = document["paths"]["/openapi.json"]["get"]
    assert sorted(own["responses"]) == ["200", "304", "412", "422", "429", "503"]
    assert own["responses"]["200"]["content"] == {
        "application/json": {"schema": {"type": "object"}}}
    assert first.headers["Cache-Control"] == "public, max-age=300"
    again = client.get(f"{API}/openapi.json", headers={"If-None-Match": first.headers["ETag"]})
    assert (again.status_code, again.data) == (304, b"")
    # Public or not, every operation shares the API's limits.
    assert [op["operationId"] for item in document["paths"].values() for op in item.values()
            if "429" not in op["responses"]] == []


# ---------------------------------------------------------------- who may do what, in one table

ROLES = ("admin", "organiser", "coordinator", "presenter", "outsider")
#: For each request, the status each role gets (the demo conference is public).
MATRIX = [
    ("GET", "/me", (200, 200, 200, 200, 200)),
    ("GET", "/conferences/{slug}", (200, 200, 200, 200, 200)),
    ("GET", "/conferences/{slug}/sessions", (200, 200, 200, 200, 200)),
    ("GET", "/conferences/{slug}/topics", (200, 200, 200, 200, 200)),
    ("GET", "/conferences/{slug}/presenters", (200, 200, 200, 200, 200)),
    ("GET", "/conferences/{slug}/categories", (200, 200, 200, 403, 403)),
    ("GET", "/conferences/{slug}/points", (200, 200, 200, 403, 403)),
    ("GET", "/conferences/{slug}/points/22", (200, 200, 200, 404, 404)),
    ("GET", "/conferences/{slug}/points/01", (200, 200, 404, 404, 404)),
    ("GET", "/conferences/{slug}/points/22/participants", (200, 200, 200, 404, 404)),
    ("GET", "/conferences/{slug}/points/01/participants", (200, 200, 404, 404, 404)),
    ("GET", "/conferences/{slug}/participants/{uong_bi_delegate}", (200, 200, 200, 404, 404)),
    ("GET", "/conferences/{slug}/participants/{hanoi_delegate}", (200, 200, 404, 404, 404)),
    ("GET", "/conferences/{slug}/points/22/attendance?session_id={session}",
     (200, 200, 200, 404, 404)),
    ("GET", "/conferences/{slug}/reports/sessions", (200, 200, 403, 403, 403)),
    ("GET", "/conferences/{slug}/reports/sessions/{session}/provinces",
     (200, 200, 403, 403, 403)),
    ("GET", "/conferences/{slug}/reports/sessions/{session}/points", (200, 200, 200, 403, 403)),
    ("POST", "/conferences/{slug}/points/06811/participants", (201, 201, 201, 404, 404)),
    ("POST", "/conferences/{slug}/points/01/participants", (201, 201, 404, 404, 404)),
    ("PATCH", "/conferences/{slug}/participants/{uong_bi_delegate}", (200, 200, 200, 404, 404)),
    ("POST", "/conferences/{slug}/checkins", (200, 200, 200, 403, 403)),
    ("POST", "/conferences/{slug}/participants/{uong_bi_delegate}/withdraw",
     (200, 200, 200, 404, 404)),
]


def test_each_role_gets_exactly_what_it_may(demo, client):
    with demo.app_context():
        db.session.add(User(email="khac@example.org", password_hash="x", display_name="Khác",
                            role="organiser"))
        db.session.commit()
    emails = {"admin": "admin@example.org", "organiser": ORGANISER[0],
              "coordinator": COORDINATOR[0], "presenter": PRESENTER_EMAIL,
              "outsider": "khac@example.org"}
    headers = {role: bearer(demo, email) for role, email in emails.items()}
    places = {"slug": SLUG, "uong_bi_delegate": delegates_of(demo, "06811")[0],
              "hanoi_delegate": delegates_of(demo, "01")[0], "session": lately_closed(demo)}
    names = iter(f"Nguyễn Thị {letter}" for letter in "ABCDEFGHIKLMNOPQ")
    got = []
    for method, template, _expected in MATRIX:
        url = API + template.format(**places)
        row = []
        for role in ROLES:
            body = None
            if method == "POST" and url.endswith("/participants"):
                body = {"full_name": next(names)}
            elif url.endswith("/checkins"):
                body = {"checkins": [{"id": str(uuid.uuid4()), "session_id": places["session"],
                                      "participant_id": places["uong_bi_delegate"]}]}
            elif method == "PATCH":
                body = {"note": f"sửa bởi {role}"}
            response = client.open(url, method=method, headers=headers[role], json=body)
            row.append(response.status_code)
        got.append((method, template, tuple(row)))
    assert got == MATRIX


# ---------------------------------------------------------------- reviewed edge cases


def test_the_api_reference_follows_the_language_chosen_on_the_site(demo, client, organiser):
    page = client.get(f"{API}/docs", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="vi">' in page and "<title>Tài liệu API · confmgr</title>" in page
    post_form(client, "/language", {"lang": "en", "next": f"{API}/docs"})
    page = client.get(f"{API}/docs").get_data(as_text=True)
    assert '<html lang="en">' in page and "<title>API documentation · confmgr</title>" in page
    # What the operations and their members say, too: no Vietnamese is left.
    assert "<strong>Check-ins in a batch</strong>" in page
    assert "Each check-in carries an id (a UUID) the sending device makes up." in page
    assert "<code>401</code> The token is missing or not valid." in page
    assert "Điểm danh" not in page and "Mã tỉnh" not in page
    main = page.split("<main")[1].split("</main>")[0]
    assert re.findall(r"[à-ỹđĐ]", main) == []
    # A call with a token still reads Accept-Language (none here: Vietnamese), not the session.
    assert_problem(client.get(f"{API}/conferences/khong-co", headers=organiser), 404,
                   detail="Không có hội nghị «khong-co».")


def test_the_attendance_of_a_session_that_takes_none_is_not_found(demo, client, organiser):
    with demo.app_context():
        breaks = list(db.session.scalars(select(AgendaSession.id).where(
            AgendaSession.kind == "break").order_by(AgendaSession.starts_at)))
    assert len(breaks) == 3
    for session_id in (999999, breaks[0]):
        assert_problem(client.get(f"{CONF}/points/22/attendance?session_id={session_id}",
                                  headers=organiser), 404,
                       detail="Không có phiên điểm danh này.", errors=[])
    taken = session_ids(demo)[-1]
    assert client.get(f"{CONF}/points/22/attendance?session_id={taken}",
                      headers=organiser).status_code == 200


def test_a_province_not_on_the_official_list_is_refused(demo, client, organiser):
    session_id = session_ids(demo)[-1]
    unknown = [{"detail": "Không có tỉnh/thành nào mã «zz» trong danh mục chính thức.",
                "parameter": "province"}]
    for address in ("/points", "/reports/sessions", f"/reports/sessions/{session_id}/points"):
        assert_problem(client.get(f"{CONF}{address}?province=zz", headers=organiser), 422,
                       detail="Dữ liệu gửi lên không hợp lệ.", errors=unknown)
        assert client.get(f"{CONF}{address}?province=22", headers=organiser).status_code == 200
        assert client.get(f"{CONF}{address}?province=", headers=organiser).status_code == 200


def test_the_points_outside_every_province_are_asked_for_as_none(demo, client, organiser):
    """As on the report pages: the main venue (40 delegates) and a central ministry's
    point with its one delegate, in no province, apart from every province's."""
    with demo.app_context():
        ministry_point(["Lê Văn Một"])
    session_id = session_ids(demo)[-1]
    points = client.get(f"{CONF}/points?province=none", headers=organiser).get_json()
    assert [(p["code"], p["province_code"]) for p in points["items"]] == [
        ("TW", None), ("BYT", None)]
    sessions = client.get(f"{CONF}/reports/sessions?province=none", headers=organiser).get_json()
    assert sessions["province"] == "none"
    assert {s["tally"]["registered"] for s in sessions["sessions"]} == {41}
    reported = client.get(f"{CONF}/reports/sessions/{session_id}/points?province=none",
                          headers=organiser).get_json()
    assert sorted((p["code"], p["province_code"], p["tally"]["registered"])
                  for p in reported["items"]) == [("BYT", "", 1), ("TW", "", 40)]


def test_a_repeated_parameter_is_refused_not_reduced_to_its_first(demo, client, organiser):
    body = assert_problem(client.get(f"{CONF}/points?limit=1&limit=abc&level=main&after=0"
                                     "&after=1", headers=organiser), 422,
                          detail="Dữ liệu gửi lên không hợp lệ.")
    assert body["errors"] == [
        {"detail": "Tham số này chỉ được gửi một lần.", "parameter": "limit"},
        {"detail": "Tham số này chỉ được gửi một lần.", "parameter": "after"}]
    assert_problem(client.get(f"{CONF}/points?limit=1&limit=1", headers=organiser), 422,
                   errors=[{"detail": "Tham số này chỉ được gửi một lần.",
                            "parameter": "limit"}])
    assert len(client.get(f"{CONF}/points?limit=1", headers=organiser).get_json()["items"]) == 1


def test_a_body_with_a_member_twice_is_refused_not_reduced_to_its_last(demo, client,
                                                                       coordinator):
    """A body member sent twice was silently reduced to its last value (a delegate named
    after the second full_name was registered), though a parameter sent twice is refused."""
    def send(url: str, raw: str):
        return client.post(url, headers=coordinator, data=raw.encode(),
                           content_type="application/json")

    before = client.get(f"{CONF}/points/06811", headers=coordinator).get_json()
    body = assert_problem(send(f"{CONF}/points/06811/participants",
                               '{"full_name": "Nguyễn Văn An", "note": "", '
                               '"full_name": "Lê Văn Bình", "full_name": "Lê Văn Bình"}'),
                          422, detail="Dữ liệu gửi lên không hợp lệ.")
    assert body["errors"] == [{"detail": "Trường này chỉ được gửi một lần.",
                               "pointer": "/full_name"}]
    after = client.get(f"{CONF}/points/06811", headers=coordinator).get_json()
    assert after["registered_count"] == before["registered_count"]
    check_in = ('{"id": "6f1c2a9e-8b7d-4c6e-9a51-2d0f4b7e6c13", "participant_id": 1, '
                '"session_id": 1, "status": "present"%s}')
    body = assert_problem(send(f"{CONF}/checkins", '{"checkins": [%s, %s]}' % (
        check_in % "", check_in % ', "participant_id": 2, "a/b": 0, "a/b": 1')), 422)
    assert [e["pointer"] for e in body["errors"]] == [
        "/checkins/1/participant_id", "/checkins/1/a~1b"]
    # A pointer names what the body holds once read: the value kept, the last.
    body = assert_problem(send(f"{CONF}/checkins", '{"checkins": [%s], "checkins": []}' % (
        check_in % ', "session_id": 2')), 422)
    assert [e["pointer"] for e in body["errors"]] == ["/checkins"]
    many = ", ".join(f'"k{number}": 0, "k{number}": 1' for number in range(150))
    body = assert_problem(send(f"{CONF}/points/06811/participants", "{%s}" % many), 422)
    assert len(body["errors"]) == 101
    assert body["errors"][100] == {"detail": "Còn 50 lỗi nữa không liệt kê.", "pointer": ""}
    # A name JSON escapes as a lone surrogate, which no answer can hold: told, not a 500.
    body = assert_problem(send(f"{CONF}/points/06811/participants",
                               '{"full_name": "A", "\\ud800": 1, "\\ud800": 2}'), 422)
    assert body["errors"] == [{"detail": "Trường này chỉ được gửi một lần.",
                               "pointer": "/\ufffd"}]


def test_a_number_too_long_to_read_is_named_as_such(demo, client, organiser):
    def send(number: str):
        return client.post(f"{CONF}/points/22/participants", headers=organiser,
                           data='{"full_name": "Nguyễn Văn A", "category_id": %s}' % number,
                           content_type="application/json")

    for number in ("9" * 5000, "-" + "9" * 1001):
        assert_problem(send(number), 400, errors=[],
                       detail="Thân yêu cầu có một số nguyên dài quá 1000 chữ số.")
    # Long, but readable: refused where it stands, like any other number out of range.
    body = assert_problem(send("9" * 1000), 422)
    assert body["errors"] == [{"detail": "Phải không quá 2147483647.", "pointer": "/category_id"}]
    assert_problem(client.post(f"{CONF}/checkins", headers=organiser, data="{not json",
                               content_type="application/json"), 400,
                   detail="Thân yêu cầu phải là JSON (Content-Type: application/json).")
    assert_problem(client.post(f"{CONF}/checkins", headers=organiser, data='{"checkins": []}',
                               content_type="text/plain"), 400,
                   detail="Thân yêu cầu phải là JSON (Content-Type: application/json).")


def test_a_new_token_is_made_once_and_shown_once_with_its_expiry(demo, client):
    logged_in(client, ORGANISER)

    def once() -> str:
        page = client.get("/account/tokens").get_data(as_text=True)
        return re.search(r'name="once" type="hidden" value="([^"]+)"', page).group(1)

    sent = {"name": "Sở Nội vụ", "scope": "read", "days": "30", "once": once()}
    made = post_form(client, "/account/tokens", sent)
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    secret = re.search(r'id="new-token">([^<]+)<', made.get_data(as_text=True)).group(1)
    # The secret is in that page only: not in the session's cookie.
    assert secret not in made.headers.get("Set-Cookie", "")
    with client.session_transaction() as browser:
        assert secret not in str(dict(browser))
    again = post_form(client, "/account/tokens", sent, follow_redirects=True)  # resubmitted
    page = again.get_data(as_text=True)
    assert flashes(page) == ["Biểu mẫu này đã được gửi một lần: không tạo thêm token."]
    assert secret not in page and 'id="new-token"' not in page
    post_form(client, "/account/tokens", {"name": "Không hết hạn", "scope": "read", "days": "",
                                          "once": once()})
    with demo.app_context():
        made = list(db.session.execute(select(tokens.ApiToken.name, tokens.ApiToken.expires_at)
                                       .order_by(tokens.ApiToken.id)))
    assert [name for name, _expires in made] == ["Sở Nội vụ", "Không hết hạn"]
    expires = made[0][1].astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%H:%M %d/%m/%Y")
    page = client.get("/account/tokens").get_data(as_text=True)
    assert "<th>Hết hạn lúc</th>" in page
    when = r"\d\d:\d\d \d\d/\d\d/\d{4}"
    # Each row: made at, expires at, last used.
    assert re.findall(rf"<td>{when}</td>\s*<td>({when}|Không hết hạn)</td>\s*<td>(?:—|{when})</td>",
                      page) == ["Không hết hạn", expires]


def test_the_api_reference_tables_scroll_on_a_narrow_screen(demo, client):
    page = client.get(f"{API}/docs").get_data(as_text=True)
    tables = page.count("<table")
    assert tables > 20
    assert len(re.findall(r'<div class="table-responsive">\s*<table', page)) == tables


# ---------------------------------------------------------------- edges found in review


def close_registration(app) -> None:
    with app.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
        conference.registration_closes_at = utcnow() - timedelta(minutes=1)
        db.session.commit()


def test_a_taken_at_late_in_year_9999_is_refused_not_a_server_error(demo, client):
    """9999-12-31T23:00Z is a UTC time, but the message refusing it wrote it in the
    conference's zone (UTC+7): year 10000, which no date holds (a 500)."""
    coordinator = bearer(demo, COORDINATOR[0])
    session_id = lately_closed(demo)
    person = delegates_of(demo, "06811")[0]
    response = client.post(f"{CONF}/checkins", headers=coordinator, json={"checkins": [{
        "id": str(uuid.uuid4()), "participant_id": person, "session_id": session_id,
        "taken_at": "9999-12-31T23:00:00Z"}]})
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert [e["pointer"] for e in response.get_json()["errors"]] == ["/checkins/0/taken_at"]


def test_one_registration_id_sent_to_two_points_at_once_registers_one_delegate(demo):
    """A device sends the same registration to two points at the same moment (its point
    was changed meanwhile): the second finds the first and is told the id was used for
    another registration, rather than breaking the id's uniqueness with a server
    error."""
    client_id = str(uuid.uuid4())

    def send(code: str):
        def registering():
            found = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == code))
            roster_services.register(found, roster_services.PersonFields(
                full_name="Lê Văn Hai Nơi"), organiser=True, client_id=client_id)
        return registering

    errors = race(demo, send("06811"), lambda statement: "participants.client_id =" in statement,
                  send("06688"))
    assert list(errors) == ["other"]
    assert [(p.field, p.message) for p in errors["other"].problems] == [
        ("client_id", "Mã này đã được dùng cho một lần đăng ký khác.")]
    with demo.app_context():
        registered = db.session.execute(select(Participant.full_name, BroadcastPoint.code).join(
            BroadcastPoint).where(Participant.client_id == client_id)).all()
        assert registered == [("Lê Văn Hai Nơi", "06811")]


def test_a_registration_sent_again_after_a_move_or_a_correction_is_answered_as_replayed(
        demo, client):
    """Between the lost 201 and the device's retry an organiser moved the delegate, or
    corrected their name's spelling: the retry was judged by the delegate as they are now
    and refused as "used for another registration", so the device would make a new id
    and register them twice. It is the same registration, answered with the delegate
    where they are."""
    coordinator, organiser = bearer(demo, COORDINATOR[0]), bearer(demo, ORGANISER[0])
    url = f"{CONF}/points/06811/participants"
    moved = {"full_name": "Lê Văn Chuyển", "client_id": str(uuid.uuid4())}
    first = client.post(url, headers=coordinator, json=moved)
    with demo.app_context():
        roster_services.move(db.session.get(Participant, first.get_json()["id"]),
                             db.session.get(BroadcastPoint, point_id(demo, "06688")))
        db.session.commit()
    again = client.post(url, headers=coordinator, json=moved)
    assert again.status_code == 201, again.get_data(as_text=True)
    assert {key: again.get_json()[key] for key in ("id", "point_code", "replayed")} == {
        "id": first.get_json()["id"], "point_code": "06688", "replayed": True}

    misspelt = {"full_name": "Nguyen Van Sua", "phone": "0912000101",
                "client_id": str(uuid.uuid4())}
    first = client.post(url, headers=coordinator, json=misspelt)
    fixed = client.patch(f"{CONF}/participants/{first.get_json()['id']}", headers=organiser,
                         json={"full_name": "Nguyễn Văn Sửa"})
    assert fixed.status_code == 200
    again = client.post(url, headers=coordinator, json=misspelt)
    assert again.status_code == 201, again.get_data(as_text=True)
    assert {key: again.get_json()[key] for key in ("id", "full_name", "replayed")} == {
        "id": first.get_json()["id"], "full_name": "Nguyễn Văn Sửa", "replayed": True}


def test_another_namesake_sent_under_a_used_registration_id_is_refused(demo, client):
    """A second Nguyễn Văn Hùng of the same point, with another phone, sent under an id
    used already, was answered as the first one sent again and never registered."""
    coordinator = bearer(demo, COORDINATOR[0])
    url = f"{CONF}/points/06811/participants"
    client_id = str(uuid.uuid4())
    first = client.post(url, headers=coordinator, json={
        "full_name": "Nguyễn Văn Hùng", "phone": "0912000101", "client_id": client_id})
    assert first.status_code == 201
    body = assert_problem(client.post(url, headers=coordinator, json={
        "full_name": "Nguyễn Văn Hùng", "phone": "0912000202", "client_id": client_id}), 422)
    assert body["errors"] == [{"detail": "Mã này đã được dùng cho một lần đăng ký khác.",
                               "pointer": "/client_id"}]
    with demo.app_context():
        assert db.session.execute(select(Participant.phone).where(
            Participant.full_name == "Nguyễn Văn Hùng")).scalars().all() == ["0912000101"]


def test_a_registration_retried_after_registration_closed_is_answered_as_replayed(
        demo, client):
    """The device registered the delegate just before closing time and lost the 201; its
    retry with the same client_id, just after, is answered with that delegate, as
    check-ins sent again are, not refused because registration has closed."""
    coordinator = bearer(demo, COORDINATOR[0])
    sent = {"full_name": "Lê Văn Gửi Lại", "client_id": str(uuid.uuid4())}
    url = f"{CONF}/points/06811/participants"
    first = client.post(url, headers=coordinator, json=sent)
    assert first.status_code == 201
    close_registration(demo)
    again = client.post(url, headers=coordinator, json=sent)
    assert again.status_code == 201, again.get_data(as_text=True)
    assert (again.get_json()["id"], again.get_json()["replayed"]) == (first.get_json()["id"], True)


def test_the_document_names_the_link_of_every_list_and_the_busy_answer_of_every_operation(
        client):
    """Lists send the next page's Link and any answer may be a busy database's 503 with
    Retry-After; the document said neither."""
    document = client.get(f"{API}/openapi.json").get_json()
    operations = [operation for path in document["paths"].values()
                  for operation in path.values()]
    assert all("503" in operation["responses"] for operation in operations)
    listed = document["paths"]["/conferences/{slug}/points/{code}/participants"]["get"]
    assert listed["responses"]["200"]["headers"]["Link"] == {
        "description": 'Địa chỉ trang sau, như trường next (rel="next"); không có ở trang '
                       "cuối.", "schema": {"type": "string"}}
    one = document["paths"]["/conferences/{slug}/participants/{person_id}"]["get"]
    assert set(one["responses"]["200"]["headers"]) == {"ETag"}


def test_a_text_too_long_is_told_in_characters_not_items(demo, client):
    """Every delegate field of POST and PATCH said "More than 200 items" of a long text."""
    coordinator = bearer(demo, COORDINATOR[0])
    response = client.post(f"{CONF}/points/06811/participants", headers=coordinator,
                           json={"full_name": "Nguyễn " + "A" * 200, "note": "x" * 2001})
    assert {e["pointer"]: e["detail"] for e in assert_problem(response, 422)["errors"]} == {
        "/full_name": "Dài quá 200 ký tự.", "/note": "Dài quá 2000 ký tự."}
    patched = client.patch(f"{CONF}/participants/{delegates_of(demo, '06811')[0]}",
                           headers={**coordinator, "Accept-Language": "en"},
                           json={"phone": "0" * 41})
    assert assert_problem(patched, 422)["errors"] == [
        {"detail": "Longer than 40 characters.", "pointer": "/phone"}]


def test_a_name_typed_decomposed_counts_as_stored_like_on_the_web_form(demo, client):
    """The web forms compose text (NFC) before their length limits; the API counted the
    decomposed letters some keyboards type, refusing a 167-letter name as over 200."""
    coordinator = bearer(demo, COORDINATOR[0])
    composed = ("Nguyễn Thị Hồng Ngọc " * 8).strip()
    decomposed = unicodedata.normalize("NFD", composed)
    assert len(composed) <= 200 < len(decomposed)
    response = client.post(f"{CONF}/points/06811/participants", headers=coordinator,
                           json={"full_name": decomposed})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["full_name"] == composed


def test_changes_that_change_nothing_leave_updated_at_and_the_etag_alone(demo, client):
    """Withdrawing again changes nothing, nor does an empty PATCH; both moved updated_at,
    so a client asking with If-None-Match was sent the delegate again."""
    coordinator = bearer(demo, COORDINATOR[0])
    listed = client.get(f"{CONF}/points/06811/participants?limit=1", headers=coordinator)
    url = f"{CONF}/participants/{listed.get_json()['items'][0]['id']}"
    withdrawn = client.post(f"{url}/withdraw", headers=coordinator)
    assert withdrawn.status_code == 200
    before = client.get(url, headers=coordinator)
    assert client.post(f"{url}/withdraw", headers=coordinator).status_code == 200
    assert client.patch(url, headers=coordinator, json={}).status_code == 200
    after = client.get(url, headers=coordinator)
    assert after.get_json()["updated_at"] == before.get_json()["updated_at"]
    assert client.get(url, headers={**coordinator, "If-None-Match": before.headers["ETag"]}
                      ).status_code == 304
