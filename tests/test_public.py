"""The public pages: published conferences and their agenda, in Vietnamese and English."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from confmgr.accounts.models import User
from confmgr.conferences import publishing
from confmgr.conferences.models import AgendaSession, Conference
from confmgr.db import db
from confmgr.demo.loader import SLUG
from confmgr.enums import ConferenceStatus, SessionKind, Visibility
from tests.conftest import csrf_token, login

AGENDA = f"/c/{SLUG}/"


def rows(page: str) -> list[tuple[str, str, str]]:
    """(start, end, title) of each agenda row, as shown."""
    pattern = re.compile(
        r'<time datetime="[^"]+">(\d\d:\d\d)</time> – <time datetime="[^"]+">(\d\d:\d\d)</time>'
        r'.*?<span class="session-title">(.*?)</span>',
        re.S,
    )
    return pattern.findall(page)


def test_index_lists_published_conferences_only(client, demo):
    with demo.app_context():
        db.session.add(Conference(
            slug="nhap", title="Hội nghị còn nháp", first_day=date(2025, 7, 1),
            last_day=date(2025, 7, 1), status=ConferenceStatus.DRAFT,
        ))
        db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert f'href="{AGENDA}"' in page
    assert "Hội nghị còn nháp" not in page
    assert "14/06/2025 – 15/06/2025" in page


def test_the_agenda_names_its_time_zone_by_offset_and_name(client, demo):
    page = client.get(AGENDA).get_data(as_text=True)
    assert "Giờ UTC+07:00 (Asia/Ho_Chi_Minh)" in page


def test_agenda_shows_days_and_local_times(client, demo):
    response = client.get(AGENDA)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Thứ Bảy, 14/06/2025" in page
    assert "Chủ nhật, 15/06/2025" in page
    shown = rows(page)
    assert len(shown) == 16
    assert shown[0] == ("07:30", "08:00", "Đón tiếp đại biểu, kiểm tra đường truyền các điểm cầu")
    assert shown[1] == ("08:00", "08:30", "Phát biểu khai mạc hội nghị")
    assert shown[3] == (
        "09:15", "10:15",
        "Chuyên đề 1: Công tác tổ chức xây dựng Đảng; tổ chức cơ sở Đảng, bộ máy và hoạt động "
        "cấp ủy cấp xã (mới)",
    )
    assert shown[-1] == ("15:30", "16:00", "Bế mạc hội nghị")
    # The machine-readable time is the UTC instant: 08:00 in Hà Nội is 01:00 UTC.
    assert '<time datetime="2025-06-14T01:00:00+00:00">08:00</time>' in page
    assert "Nguyễn Xuân Thắng" in page and "Thủ tướng Chính phủ" in page
    # The day-1 sessions come before the day-2 heading.
    assert page.index("Bế mạc hội nghị") > page.index("Chủ nhật, 15/06/2025")
    assert page.index("Phát biểu khai mạc") < page.index("Chủ nhật, 15/06/2025")
    assert '<link rel="alternate" type="text/calendar"' in page


def test_language_switch_to_english_and_back(client, demo):
    token = csrf_token(client, AGENDA)
    response = client.post("/language", data={"lang": "en", "next": AGENDA, "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == AGENDA
    page = client.get(AGENDA).get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Saturday, 14/06/2025" in page
    # What the organisers typed stays Vietnamese, and says so to screen readers.
    assert '<span class="session-title">Topic 1: <span lang="vi">Công tác tổ chức' in page
    assert '<h1 class="h3" lang="vi">Hội nghị toàn quốc tập huấn' in page
    assert '<ul class="list-unstyled small mb-0 presenters" lang="vi">' in page
    assert "Sign in" in page
    assert rows(page)[1][:2] == ("08:00", "08:30")
    client.post("/language", data={"lang": "vi", "next": AGENDA, "csrf_token": token})
    page = client.get(AGENDA).get_data(as_text=True)
    assert '<html lang="vi">' in page and "Thứ Bảy, 14/06/2025" in page
    assert 'lang="vi"' not in page.replace('<html lang="vi">', "").replace(
        'value="vi" lang="vi"', "")


def test_language_switch_ignores_unknown_languages_and_foreign_targets(client, demo):
    token = csrf_token(client)
    response = client.post(
        "/language", data={"lang": "fr", "next": "https://evil.example/", "csrf_token": token}
    )
    assert response.headers["Location"] == "/"
    assert '<html lang="vi">' in client.get("/").get_data(as_text=True)
    # A line break in the page's own address (copied into the form) is no header to send.
    response = client.post("/language", data={"lang": "en", "next": "/\nx",
                                              "csrf_token": token})
    assert (response.status_code, response.headers["Location"]) == (302, "/")


def test_the_language_switch_on_a_refused_switch_leads_to_a_readable_page(client, demo):
    """A switch sent from a tab left open before signing in is refused (its token is
    stale): the refusal stands at /language, and its own switch led to GET /language, a
    405 page. An address of one part that takes only POST leads home, as /logout does."""
    refused = client.post("/language", data={"lang": "en", "next": "/", "csrf_token": "old"})
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert 'name="next" value="/language"' in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    for stood_at in ("/language", "/logout"):
        response = client.post("/language", data={"lang": "en", "next": stood_at,
                                                  "csrf_token": token})
        assert (response.status_code, response.headers["Location"]) == (302, "/")


def test_never_published_agenda_is_seen_only_by_its_organisers(client, demo):
    with demo.app_context():
        conference = Conference(
            slug="nhap", title="Hội nghị còn nháp", first_day=date(2025, 7, 1),
            last_day=date(2025, 7, 1),
        )
        db.session.add(conference)
        organiser = db.session.scalar(select(User).where(User.email == "organiser@example.org"))
        organiser.conferences.append(conference)
        db.session.commit()
    assert client.get("/c/nhap/").status_code == 404
    assert "nhap" not in client.get("/").get_data(as_text=True)
    login(client, "quangninh@example.org", "demo-quangninh-2025")
    assert client.get("/c/nhap/").status_code == 404  # a coordinator is not an organiser
    client.post("/logout", data={"csrf_token": csrf_token(client, "/manage/")})
    login(client, "organiser@example.org", "demo-organiser-2025")
    page = client.get("/c/nhap/").get_data(as_text=True)
    assert "Bản nháp: chỉ ban tổ chức xem được trang này." in page


def test_unknown_conference_is_404(client, demo):
    assert client.get("/c/khong-co/").status_code == 404


def test_error_pages_are_the_sites_own(client, demo):
    response = client.get("/c/khong-co/")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Không tìm thấy trang này." in page and 'href="/"' in page
    token = csrf_token(client)
    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": token})
    assert "This page does not exist." in client.get("/c/khong-co/").get_data(as_text=True)


def test_printable_programme_stays_vietnamese_for_english_readers(client, demo):
    token = csrf_token(client)
    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": token})
    page = client.get(f"/c/{SLUG}/print").get_data(as_text=True)
    assert "<h2>THỨ BẢY, 14/06/2025</h2>" in page
    assert '<link rel="icon" href="data:,">' in page  # no request for a missing favicon


def test_printable_programme_says_where_each_session_is(client, demo):
    page = client.get(f"/c/{SLUG}/print").get_data(as_text=True)
    room = "Hội trường chính, Học viện Chính trị quốc gia Hồ Chí Minh"
    assert page.count(f'<div class="room">Địa điểm: {room}</div>') == 16


def test_static_files_have_addresses_naming_their_content_and_are_kept_a_year(client, demo):
    import hashlib
    from pathlib import Path

    from tests.helpers import ORGANISER, logged_in

    logged_in(client, ORGANISER)
    page = client.get(f"/manage/c/{SLUG}/").get_data(as_text=True)  # with htmx
    addresses = re.findall(r'"(/static/[^"?]+)\?v=([0-9a-f]{12})"', page)
    assert {path for path, _ in addresses} >= {"/static/vendor/bootstrap/bootstrap.min.css",
                                              "/static/css/app.css",
                                              "/static/vendor/htmx/htmx.min.js"}
    static = Path(demo.static_folder)
    for path, version in addresses:
        content = (static / path.removeprefix("/static/")).read_bytes()
        assert version == hashlib.blake2s(content, digest_size=6).hexdigest()
        response = client.get(f"{path}?v={version}")
        assert response.status_code == 200 and response.data == content
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # Without its version, or with another one, a file is asked about again every time.
    path, version = addresses[0]
    assert client.get(path).headers["Cache-Control"] == "no-cache"
    assert client.get(f"{path}?v=000000000000").headers["Cache-Control"] == "no-cache"
    assert client.get("/static/../confmgr/__init__.py?v=1").status_code == 404


def test_static_versions_are_read_once_unless_debugging(tmp_path):
    """A deployed process names its files as deployed (a new release restarts it); a
    developer's edit shows at once."""
    import hashlib

    from confmgr import assets

    (tmp_path / "app.css").write_text("body{}")
    deployed = assets._deployed_digest(str(tmp_path), "app.css")
    assert deployed == hashlib.blake2s(b"body{}", digest_size=6).hexdigest()
    (tmp_path / "app.css").write_text("body{color:red}")
    assert assets._deployed_digest(str(tmp_path), "app.css") == deployed
    assert assets.digest_of(str(tmp_path), "app.css") == hashlib.blake2s(
        b"body{color:red}", digest_size=6).hexdigest()


def published_conference(app, slug: str, zone: str, days: list[date],
                         session_days: list[date]) -> None:
    """A published conference over ``days``, with a session at 08:00 on ``session_days``."""
    tz = ZoneInfo(zone)
    with app.app_context():
        conference = Conference(slug=slug, title="Hội nghị", timezone=zone,
                                first_day=days[0], last_day=days[-1])
        db.session.add(conference)
        db.session.flush()
        for day in session_days:
            db.session.add(AgendaSession(
                conference_id=conference.id, kind=SessionKind.OTHER, title=f"Phiên {day:%d}",
                starts_at=datetime.combine(day, time(8), tz).astimezone(timezone.utc),
                ends_at=datetime.combine(day, time(9), tz).astimezone(timezone.utc)))
        db.session.flush()
        publishing.publish(conference, None, "")
        db.session.commit()


def test_a_day_without_sessions_is_said_so_on_the_printed_programme(client, demo):
    published_conference(demo, "ba-ngay", "Asia/Ho_Chi_Minh",
                         [date(2025, 7, 1), date(2025, 7, 3)],
                         [date(2025, 7, 1), date(2025, 7, 3)])
    page = client.get("/c/ba-ngay/print").get_data(as_text=True)
    second_day = page[page.index("THỨ TƯ, 02/07/2025"):page.index("THỨ NĂM, 03/07/2025")]
    assert '<p class="no-sessions">Chưa có phiên nào trong ngày.</p>' in second_day
    assert "<table" not in second_day


def test_days_across_a_change_of_the_clocks_name_each_offset(client, demo):
    """Paris leaves summer time on 26/10/2025: the second day's sessions are at UTC+01:00,
    which the header named UTC+02:00 from the first day alone."""
    published_conference(demo, "paris", "Europe/Paris", [date(2025, 10, 25), date(2025, 10, 26)],
                         [date(2025, 10, 25), date(2025, 10, 26)])
    page = client.get("/c/paris/").get_data(as_text=True)
    assert "Giờ UTC+02:00 / UTC+01:00 (Europe/Paris)" in page
    assert "Giờ UTC+07:00 (Asia/Ho_Chi_Minh)" in client.get(f"/c/{SLUG}/").get_data(
        as_text=True)


def test_the_description_keeps_its_lines_and_the_feed_says_its_language(client, demo):
    with demo.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
        conference.description = "Thành phần: cán bộ cấp xã.\nHình thức: trực tuyến."
        publishing.publish(conference, None, "")
        db.session.commit()
    page = client.get(f"/c/{SLUG}/").get_data(as_text=True)
    assert ('<p class="white-space-pre conference-description">Thành phần: cán bộ cấp xã.\n'
            'Hình thức: trực tuyến.</p>') in page
    assert '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="vi">' in client.get(
        f"/c/{SLUG}/changelog.atom").get_data(as_text=True)
    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": csrf_token(client)})
    feed = client.get(f"/c/{SLUG}/changelog.atom").get_data(as_text=True)
    assert '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">' in feed
    assert "Agenda changes" in feed


def test_a_restricted_conference_never_published_is_unknown_to_strangers(client, demo):
    """It sent them to sign in, which told anyone the address was taken; once published,
    it asks them to sign in as before."""
    with demo.app_context():
        db.session.add(Conference(slug="nhap-han-che", title="Nháp", visibility=Visibility.RESTRICTED,
                                  first_day=date(2025, 7, 1), last_day=date(2025, 7, 1)))
        db.session.commit()
    for path in ("/c/nhap-han-che/", "/c/nhap-han-che/changelog", "/c/nhap-han-che/agenda.ics"):
        assert client.get(path).status_code == 404, path
    with demo.app_context():
        publishing.publish(db.session.scalar(select(Conference).where(
            Conference.slug == "nhap-han-che")), None, "")
        db.session.commit()
    response = client.get("/c/nhap-han-che/")
    assert (response.status_code, response.headers["Location"].split("?")[0]) == (302, "/login")


def test_the_list_of_conferences_says_one_day_once_and_orders_them_as_published(client, demo):
    """A one-day conference read "01/07/2025 – 01/07/2025", one without an organising
    unit began with "· ", and the list was ordered by the days being edited."""
    published_conference(demo, "mot-ngay", "Asia/Ho_Chi_Minh", [date(2025, 7, 1)],
                         [date(2025, 7, 1)])
    with demo.app_context():
        draft = db.session.scalar(select(Conference).where(Conference.slug == "mot-ngay"))
        draft.first_day = draft.last_day = date(2025, 1, 1)  # not yet published
        db.session.commit()
    page = client.get("/").get_data(as_text=True)
    lines = re.findall(r'<div class="small text-body-secondary">(.*?)</div>', page)
    assert lines[0] == "01/07/2025"
    assert lines[1].endswith(" · 14/06/2025 – 15/06/2025")
