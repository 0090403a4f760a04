"""Broadcast points: official creation, finding, importing, exporting, coordinators, tests."""
from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from confmgr.accounts.models import User
from confmgr.audit.models import AuditEntry
from confmgr.conferences.models import Conference
from confmgr.db import db
from confmgr.demo.loader import SLUG
from confmgr.enums import ConnectionTestStatus, PointLevel
from confmgr.points import listing, official
from confmgr.points.models import BroadcastPoint
from tests.conftest import csrf_token, login
from tests.helpers import COORDINATOR, ORGANISER, field_errors, flashes, logged_in, post_form

POINTS = f"/manage/c/{SLUG}/points"
QUANG_NINH_COMMUNES = sum(1 for c in official.communes_by_code().values() if c.province_code == "22")


def point(app, code: str, slug: str = SLUG) -> BroadcastPoint:
    with app.app_context():
        found = db.session.scalar(
            select(BroadcastPoint).join(Conference).where(Conference.slug == slug,
                                                          BroadcastPoint.code == code))
        db.session.expunge_all()
        return found


def count_points(app, slug: str = SLUG) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(BroadcastPoint).join(Conference)
                                 .where(Conference.slug == slug))


def new_conference(app, slug: str = "quoc-gia") -> None:
    with app.app_context():
        conference = Conference(slug=slug, title="Toàn quốc", first_day=date(2026, 1, 5),
                                last_day=date(2026, 1, 5))
        db.session.add(conference)
        db.session.flush()
        organiser = db.session.scalar(select(User).where(User.email == ORGANISER[0]))
        organiser.conferences.append(conference)
        db.session.commit()


def point_of_another_level(app, slug: str, code: str, name: str) -> None:
    """A point of the level "Khác" (a ministry's, say) in the conference ``slug``."""
    with app.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == slug))
        db.session.add(BroadcastPoint(conference_id=conference.id, code=code, name=name,
                                      level=PointLevel.OTHER))
        db.session.commit()


# ---------------------------------------------------------------- the official list


def test_the_official_list_has_34_provinces_and_3321_communes():
    provinces = official.provinces()
    assert len(provinces) == 34
    assert sum(len(p.communes) for p in provinces.values()) == 3321
    assert provinces["22"].name == "Tỉnh Quảng Ninh"
    assert official.communes_by_code()["06811"].name == "Phường Uông Bí"


def test_create_everything_once_then_nothing_more(client, demo):
    new_conference(demo)
    with demo.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == "quoc-gia"))
        created = official.create_official_points(conference, all_communes=True)
        db.session.commit()
        assert (created.provinces, created.communes) == (34, 3321)
        again = official.create_official_points(conference, all_communes=True)
        assert (again.provinces, again.communes) == (0, 0)
        db.session.commit()
    assert count_points(demo, "quoc-gia") == 3355
    uong_bi = point(demo, "06811", "quoc-gia")
    assert (uong_bi.name, uong_bi.level, uong_bi.province_code, uong_bi.admin_unit_code) == (
        "Phường Uông Bí", PointLevel.COMMUNE, "22", "06811")
    assert point(demo, "22", "quoc-gia").id == uong_bi.parent_id
    assert uong_bi.search_text == "phuong uong bi 06811"


def test_create_from_the_page_keeps_what_exists(client, demo):
    logged_in(client, ORGANISER)
    response = post_form(client, f"{POINTS}/official", {"scope": "provinces"},
                         follow_redirects=True)
    # The demo already has five provincial points.
    assert ("Đã thêm 29 điểm cầu tỉnh và 0 điểm cầu xã; các điểm cầu đã có được giữ nguyên."
            in flashes(response.get_data(as_text=True)))
    assert point(demo, "48").parent_id == point(demo, "TW").id
    response = post_form(client, f"{POINTS}/official", {"scope": "communes", "provinces": ["22"]},
                         follow_redirects=True)
    assert (f"Đã thêm 0 điểm cầu tỉnh và {QUANG_NINH_COMMUNES - 3} điểm cầu xã; các điểm cầu "
            "đã có được giữ nguyên." in flashes(response.get_data(as_text=True)))
    assert point(demo, "06811").name == "Điểm cầu Uông Bí"  # the demo's own point, untouched
    assert count_points(demo) == 11 + 29 + QUANG_NINH_COMMUNES - 3
    page = post_form(client, f"{POINTS}/official", {"scope": "communes"}).get_data(as_text=True)
    assert field_errors(page, "provinces") == ["Hãy chọn ít nhất một tỉnh."]


# ---------------------------------------------------------------- finding points


def codes(page: str) -> list[str]:
    return re.findall(r'<input class="form-check-input" type="checkbox" name="code" value="([^"]+)"',
                      page)


def test_points_standing_for_official_units_are_not_made_twice(client, demo):
    """An organiser's own codes for a commune and a province (with their official units)
    are those points: creating the official ones adds neither again, and the province's
    communes hang under the organiser's province point. A province asked twice is asked
    once."""
    new_conference(demo)
    with demo.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == "quoc-gia"))
        da_nang = BroadcastPoint(conference_id=conference.id, code="DN", name="Đà Nẵng",
                                 level=PointLevel.PROVINCE, admin_unit_code="48",
                                 province_code="48")
        db.session.add(da_nang)
        db.session.flush()
        hai_chau = official.provinces()["48"].communes[0]
        db.session.add(BroadcastPoint(conference_id=conference.id, code="DN-1",
                                      name="Điểm cầu của tôi", level=PointLevel.COMMUNE,
                                      admin_unit_code=hai_chau.code, province_code="48",
                                      parent_id=da_nang.id))
        # A point of another level with a province's unit stands for no province point.
        db.session.add(BroadcastPoint(conference_id=conference.id, code="TK-22",
                                      name="Tổ kỹ thuật", level=PointLevel.OTHER,
                                      admin_unit_code="22", province_code="22"))
        db.session.commit()
        created = official.create_official_points(conference, communes_of=["48", "48"])
        db.session.commit()
        assert (created.provinces, created.communes) == (33, 93)
        assert point(demo, "48", "quoc-gia") is None
        assert point(demo, hai_chau.code, "quoc-gia") is None
        assert point(demo, "22", "quoc-gia").level == PointLevel.PROVINCE
        parents = set(db.session.scalars(select(BroadcastPoint.parent_id).where(
            BroadcastPoint.conference_id == conference.id,
            BroadcastPoint.level == PointLevel.COMMUNE)))
        assert parents == {da_nang.id}
        again = official.create_official_points(conference, communes_of=["48"])
        assert (again.provinces, again.communes) == (0, 0)


def test_a_province_whose_code_another_point_has_gets_no_communes_under_that_point(
        client, demo):
    """A ministry's point numbered 22 stands for no province: Quảng Ninh's communes were
    hung under it (and its coordinator reached them all) and the province left out,
    unsaid. Now they wait for a province point of Quảng Ninh, and the organiser is told."""
    new_conference(demo)
    point_of_another_level(demo, "quoc-gia", "22", "Bộ số 22")
    logged_in(client, ORGANISER)
    response = post_form(client, "/manage/c/quoc-gia/points/official", {
        "scope": "communes", "provinces": ["22", "48"]}, follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [
        "Đã thêm 33 điểm cầu tỉnh và 94 điểm cầu xã; các điểm cầu đã có được giữ nguyên.",
        "Chưa tạo điểm cầu cho Tỉnh Quảng Ninh và các xã, phường ở đó: mã tỉnh đã là mã của "
        "một điểm cầu không phải cấp tỉnh. Hãy thêm điểm cầu tỉnh với mã khác, mã đơn vị hành "
        "chính là mã tỉnh, rồi tạo lại."]
    with demo.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == "quoc-gia"))
        ministry = point(demo, "22", "quoc-gia")
        assert db.session.scalar(select(func.count()).select_from(BroadcastPoint).where(
            BroadcastPoint.parent_id == ministry.id)) == 0
        assert db.session.scalar(select(func.count()).select_from(BroadcastPoint).where(
            BroadcastPoint.conference_id == conference.id,
            BroadcastPoint.province_code == "22")) == 0


@pytest.mark.parametrize("text", ["uong bi", "UÔNG BÍ", "Uong  Bi", "uông bí", "06811"])
def test_search_ignores_diacritics_and_case(client, demo, text):
    logged_in(client, ORGANISER)
    page = client.get(POINTS, query_string={"q": text}).get_data(as_text=True)
    assert codes(page) == ["06811"]


def test_a_name_longer_when_folded_is_saved_and_found(client, demo):
    """Folding splits a Hangul syllable in two: 300 of them make a search text of 604."""
    logged_in(client, ORGANISER)
    answer = post_form(client, f"{POINTS}/new", {"code": "KR1", "name": "가" * 300,
                                                 "level": "other"})
    assert answer.status_code == 302
    with demo.app_context():
        assert len(db.session.scalar(select(BroadcastPoint.search_text).where(
            BroadcastPoint.code == "KR1"))) == 604
    page = client.get(POINTS, query_string={"q": "가가"}).get_data(as_text=True)
    assert codes(page) == ["KR1"]


def test_filters_and_pages(client, demo):
    new_conference(demo)
    with demo.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == "quoc-gia"))
        official.create_official_points(conference, communes_of=["22"])
        db.session.commit()
        conference_id = conference.id
        found = listing.find_points(conference_id, listing.PointQuery(province="22", level="commune"))
        assert found.total == QUANG_NINH_COMMUNES and found.pages == -(-QUANG_NINH_COMMUNES // 50)
        second = listing.find_points(conference_id, listing.PointQuery(province="22", page=2))
        assert [p.code for p in second.items] == sorted(
            ["22"] + [c.code for c in official.provinces()["22"].communes])[50:100]
        hạ_long = listing.find_points(conference_id, listing.PointQuery(text="ha long"))
        assert [p.name for p in hạ_long.items] == ["Phường Hạ Long"]
        untested = listing.find_points(conference_id, listing.PointQuery(test_status="passed"))
        assert untested.total == 0
    logged_in(client, ORGANISER)
    page = client.get("/manage/c/quoc-gia/points",
                      query_string={"province": "22", "level": "province"}).get_data(as_text=True)
    assert codes(page) == ["22"]


def test_registration_progress_filter(demo):
    with demo.app_context():
        conference_id = db.session.scalar(select(Conference.id))
        complete = listing.find_points(conference_id, listing.PointQuery(progress="complete"))
        # The demo registers exactly the expected number at every point.
        assert complete.total == 11
        assert listing.find_points(conference_id, listing.PointQuery(progress="none")).total == 0


# ---------------------------------------------------------------- coordinators and the tree


def test_coordinator_lists_and_edits_only_their_subtree(client, demo):
    logged_in(client, COORDINATOR)
    page = client.get(POINTS).get_data(as_text=True)
    assert "Điểm cầu Uông Bí" in page and "Điểm cầu phường Hạ Long" in page
    assert "Điểm cầu Thành phố Hà Nội" not in page and "Điểm cầu phường Ba Đình" not in page
    hidden = client.get(POINTS, query_string={"q": "ba dinh"}).get_data(as_text=True)
    assert "<p class=\"small text-body-secondary\">0 điểm cầu</p>" in hidden
    response = post_form(client, f"{POINTS}/06811/edit", {
        "name": "Tên mới", "level": "province", "address": "Số 1 Quang Trung, Uông Bí",
        "technical_officer_name": "Lê Văn Kỹ", "technical_officer_phone": "0912 345 678",
        "chair_name": "Mai Vũ Tuấn", "stream_url": "https://meet.example.vn/uongbi",
    })
    assert response.status_code == 302
    edited = point(demo, "06811")
    assert (edited.address, edited.technical_officer_phone, edited.stream_url) == (
        "Số 1 Quang Trung, Uông Bí", "0912 345 678", "https://meet.example.vn/uongbi")
    assert (edited.name, edited.level) == ("Điểm cầu Uông Bí", PointLevel.COMMUNE)
    assert client.get(f"{POINTS}/01/edit").status_code == 403
    assert client.get(f"{POINTS}/00004").status_code == 403
    for url in (f"{POINTS}/official", f"{POINTS}/import", f"{POINTS}/export.csv",
                f"{POINTS}/new", f"/manage/c/{SLUG}/coordinators",
                f"/manage/c/{SLUG}/connection-tests"):
        assert client.get(url).status_code == 403, url


def test_a_coordinators_home_page_lists_their_granted_point_first_and_a_few_below(
        client, demo, monkeypatch):
    """A province's coordinator reaches hundreds of points: the home page names the first
    few, theirs first, and links to the whole list."""
    from confmgr.dashboard import views as dashboard

    logged_in(client, COORDINATOR)

    def listed(page: str) -> list[str]:
        return re.findall(r'<li><a href="[^"]+">[^<]+</a> <span class="text-body-secondary '
                          r'small">\(([^)]+)\)</span></li>', page)

    page = client.get("/manage/").get_data(as_text=True)
    assert listed(page) == ["22", "06688", "06793", "06811"]
    assert "all-points" not in page
    monkeypatch.setattr(dashboard, "HOME_POINTS", 2)
    page = client.get("/manage/").get_data(as_text=True)
    assert listed(page) == ["22", "06688"]
    assert (f'<a class="all-points small" href="/manage/c/{SLUG}/points">Xem cả 4 điểm cầu</a>'
            in page)
    # Granted Uông Bí as well as the province above it: still four points, not five.
    from confmgr.accounts.models import point_coordinators

    with demo.app_context():
        db.session.execute(point_coordinators.insert().values(
            user_id=db.session.scalar(select(User.id).where(User.email == COORDINATOR[0])),
            point_id=point(demo, "06811").id))
        db.session.commit()
    page = client.get("/manage/").get_data(as_text=True)
    assert listed(page) == ["06811", "22"]
    assert (f'<a class="all-points small" href="/manage/c/{SLUG}/points">Xem cả 4 điểm cầu</a>'
            in page)


def test_a_stream_link_with_a_line_break_is_refused_on_the_edit_page(client, demo):
    logged_in(client, COORDINATOR)
    before = point(demo, "06811").stream_url
    response = post_form(client, f"{POINTS}/06811/edit", {
        "name": "Điểm cầu Uông Bí", "level": "commune",
        "stream_url": "https://meet.example.vn/uongbi\r\nBEGIN:VALARM",
    })
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "stream_url") == [
        "Đường truyền không được chứa dấu cách, dấu xuống dòng hay ký tự điều khiển."]
    assert point(demo, "06811").stream_url == before
    # One rule for the form and the import: a host of the point's own network, which the
    # import takes, no longer stops the form from saving (URL() wanted a domain's ending).
    for link, errors in (("http://hoinghi-qn:8080/phong1", None),
                         ("ftp://hoinghi-qn/phong1",
                          ["Đường truyền phải bắt đầu bằng http:// hoặc https://."])):
        response = post_form(client, f"{POINTS}/06811/edit", {
            "name": "Điểm cầu Uông Bí", "level": "commune", "stream_url": link,
            "technical_officer_phone": "0912 000 111"})
        if errors is None:
            assert response.status_code == 302, link
        else:
            assert field_errors(response.get_data(as_text=True), "stream_url") == errors
    assert point(demo, "06811").stream_url == "http://hoinghi-qn:8080/phong1"


def test_text_saved_on_the_edit_page_is_normalised_so_a_round_trip_changes_nothing(
        client, demo):
    """Decomposed letters and doubled spaces from a paste are stored as an import stores
    them: exporting the point and importing it back leaves its place revision alone."""
    import unicodedata

    logged_in(client, ORGANISER)
    before = point(demo, "06811")
    address = unicodedata.normalize("NFD", "Số 1  Quang Trung,\u00a0Uông Bí ")
    response = post_form(client, f"{POINTS}/06811/edit", {
        "name": unicodedata.normalize("NFD", " Điểm cầu  Uông Bí"), "level": "commune",
        "parent_code": "22", "address": address,
        "host_unit": unicodedata.normalize("NFD", "UBND phường Uông Bí"),
        "stream_url": before.stream_url,
    })
    assert response.status_code == 302
    saved = point(demo, "06811")
    assert (saved.name, saved.address, saved.host_unit) == (
        "Điểm cầu Uông Bí", "Số 1 Quang Trung, Uông Bí", "UBND phường Uông Bí")
    assert saved.place_revision == before.place_revision + 1
    exported = client.get(f"{POINTS}/export.csv", query_string={"province": "22"})
    upload(client, (io.BytesIO(exported.get_data()), "diem-cau.csv"))
    assert point(demo, "06811").place_revision == saved.place_revision
    # The export's own read-only columns are skipped without a word, and a list sent back
    # as it was downloaded updates nothing.
    assert flashes(client.get(POINTS).get_data(as_text=True)) == [
        "Đã nhập: 0 điểm cầu mới, 0 điểm cầu cập nhật."]


def test_a_point_import_names_the_columns_it_did_not_read(client, demo):
    logged_in(client, ORGANISER)
    upload(client, csv_file([["Mã điểm cầu", "Tên điểm cầu", "Cấp", "Số điện thoại", "Tỉnh"],
                             ["QN-MOI", "Điểm cầu mới", "Khác", "0912345678", "Quảng Ninh"]]))
    assert flashes(client.get(POINTS).get_data(as_text=True)) == [
        "Đã nhập: 1 điểm cầu mới, 0 điểm cầu cập nhật.",
        "Không nhập các cột: «Số điện thoại». Nếu cần giữ những thông tin này, hãy đặt tên "
        "cột như trong tệp mẫu."]


def test_create_one_coordinator_and_log_in(client, demo):
    logged_in(client, ORGANISER)
    page = post_form(client, f"/manage/c/{SLUG}/coordinators", {
        "display_name": "Trần Thị Hà", "login": "ha.tran@example.org", "point_codes": "00004, 00070",
    }).get_data(as_text=True)
    password = re.search(r'<strong class="password">([^<]+)</strong>', page).group(1)
    assert len(password) == 12
    # The conference's own log shows it.
    log = client.get(f"/manage/c/{SLUG}/audit?action=coordinator.create").get_data(as_text=True)
    assert "ha.tran@example.org" in log and "00004, 00070" in log
    page = post_form(client, f"/manage/c/{SLUG}/coordinators", {
        "display_name": "X", "login": "y@example.org", "point_codes": "00004, 99999",
    }).get_data(as_text=True)
    assert field_errors(page, "point_codes") == ["Không có điểm cầu mã: 99999."]
    client.post("/logout", data={"csrf_token": csrf_token(client, "/manage/")})
    assert login(client, "ha.tran@example.org", password).status_code == 302
    assert client.get(f"{POINTS}/00070").status_code == 200
    assert client.get(f"{POINTS}/01").status_code == 403
    # Locked, the account still holds its grants, and the list says it cannot sign in.
    with demo.app_context():
        from confmgr.accounts.models import User

        db.session.scalar(select(User).where(User.email == "ha.tran@example.org")
                          ).active = False
        db.session.commit()
    organiser = logged_in(demo.test_client(), ORGANISER)
    listed = organiser.get(f"/manage/c/{SLUG}/coordinators?q=ha.tran").get_data(as_text=True)
    locked = ('<td>ha.tran@example.org <span class="badge text-bg-secondary account-locked">'
              'Đã khóa</span></td>')
    assert listed.count(locked) == 2  # both of its points


def test_an_existing_coordinator_is_given_more_points_once_asked(client, demo):
    """The login of a coordinator already: only "taken", and no page gave an account a
    second point (or a new conference's). Now the form names the account and what it
    holds, and gives the points only when "Giao thêm điểm cầu" is pressed."""
    logged_in(client, ORGANISER)
    url = f"/manage/c/{SLUG}/coordinators"
    sent = {"display_name": "Điều phối Quảng Ninh", "login": "QuangNinh@example.org",
            "point_codes": "01, 00004"}
    page = post_form(client, url, sent).get_data(as_text=True)
    assert field_errors(page, "login") == [
        "Tên đăng nhập quangninh@example.org đã có: tài khoản của Điều phối điểm cầu Quảng Ninh "
        "(điều phối 22 ở hội nghị này). Để giao thêm các điểm cầu đã nhập cho tài khoản đó, "
        "bấm «Giao thêm điểm cầu»."]
    assert ('<button class="btn btn-outline-primary" name="grant_to" '
            'value="quangninh@example.org">Giao thêm điểm cầu</button>') in page
    coordinator = logged_in(demo.test_client(), COORDINATOR)
    assert coordinator.get(f"{POINTS}/01").status_code == 403  # asked, not given
    # Pressed for another login than the one typed: asked again, nothing given.
    post_form(client, url, {**sent, "grant_to": "someone@example.org"})
    assert coordinator.get(f"{POINTS}/01").status_code == 403
    answer = post_form(client, url, {**sent, "grant_to": "quangninh@example.org"},
                       follow_redirects=True)
    assert flashes(answer.get_data(as_text=True)) == [
        "Đã giao thêm 2 điểm cầu cho quangninh@example.org: 00004, 01."]
    assert coordinator.get(f"{POINTS}/01").status_code == 200
    answer = post_form(client, url, {**sent, "grant_to": "quangninh@example.org"},
                       follow_redirects=True)
    assert flashes(answer.get_data(as_text=True)) == [
        "quangninh@example.org đã điều phối các điểm cầu này từ trước."]
    from tests.test_audit import audit_rows

    log = client.get(f"/manage/c/{SLUG}/audit?action=coordinator.grant").get_data(as_text=True)
    assert [row[2:] for row in audit_rows(log)] == [[
        "Giao thêm điểm cầu cho điều phối viên", "",
        "Tài khoản: quangninh@example.org",
        "Tên đăng nhập: quangninh@example.org | Điểm cầu: 00004, 01"]]
    # An organiser's account is given nothing, nor named: its login is taken, no more.
    page = post_form(client, url, {**sent, "login": ORGANISER[0], "grant_to": ORGANISER[0]})
    assert field_errors(page.get_data(as_text=True), "login") == [
        f"Tên đăng nhập {ORGANISER[0]} đã có người dùng."]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_login_taken_while_the_form_was_being_saved_is_told_on_its_field(client, demo):
    """The form found the login free, then an administrator's request created it before
    this one wrote it: the unique key broke, a server error. Now the form says it is taken.
    (Accounts made for one conference are made one after another; on SQLite the form's
    hold of the conference holds the whole database, so nothing comes in between.)"""
    from confmgr.accounts.services import create_user
    from confmgr.enums import Role
    from tests.helpers import race

    logged_in(client, ORGANISER)
    token = csrf_token(client)
    pages = []

    def create_by_form():
        pages.append(client.post(f"/manage/c/{SLUG}/coordinators", data={
            "display_name": "Trần Thị Hà", "login": "ha.tran@example.org",
            "point_codes": "00004", "csrf_token": token}))

    def create_by_another():
        create_user("ha.tran@example.org", "mot-mat-khau-dai", "Người khác", Role.ORGANISER)

    errors = race(demo, create_by_form, lambda statement: statement.lstrip().startswith(
        "SELECT users.") and "users.email =" in statement, create_by_another)
    assert errors == {}
    assert pages[0].status_code == 200
    assert field_errors(pages[0].get_data(as_text=True), "login") == [
        "Tên đăng nhập ha.tran@example.org đã có người dùng."]
    with demo.app_context():
        assert db.session.scalars(select(User.display_name).where(
            User.email == "ha.tran@example.org")).all() == ["Người khác"]


def test_bulk_coordinators_as_a_csv_to_hand_out(client, demo):
    logged_in(client, ORGANISER)
    response = post_form(client, f"/manage/c/{SLUG}/coordinators/bulk",
                         {"code": ["06811", "06688", "22"]})
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    # Quảng Ninh already has its demo coordinator.
    assert [row[:3] for row in rows] == [
        ["Mã điểm cầu", "Tên điểm cầu", "Tên đăng nhập"],
        ["06688", "Điểm cầu phường Hạ Long", f"06688@{SLUG}"],
        ["06811", "Điểm cầu Uông Bí", f"06811@{SLUG}"],
    ]
    # Nothing left to create: no empty list to hand out, and nothing in the log.
    with demo.app_context():
        logged = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "coordinator.create_many"))
        # Each account, as one made alone: which login went to which point.
        assert sorted(db.session.execute(select(BroadcastPoint.code, AuditEntry.details).join(
            BroadcastPoint, BroadcastPoint.id == AuditEntry.point_id).where(
            AuditEntry.action == "coordinator.create")).all()) == [
            ("06688", {"login": f"06688@{SLUG}", "points": ["06688"]}),
            ("06811", {"login": f"06811@{SLUG}", "points": ["06811"]})]
    again = post_form(client, f"/manage/c/{SLUG}/coordinators/bulk",
                      {"code": ["06811"], "province": "22"})
    assert again.status_code == 302
    assert again.headers["Location"] == f"/manage/c/{SLUG}/points?province=22"
    assert flashes(client.get(again.headers["Location"]).get_data(as_text=True)) == [
        "Không tạo tài khoản nào: các điểm cầu đã chọn đều đã có điều phối viên."]
    unmatched = post_form(client, f"/manage/c/{SLUG}/coordinators/bulk", {"q": "không có"})
    assert flashes(client.get(unmatched.headers["Location"]).get_data(as_text=True)) == [
        "Không có điểm cầu nào được chọn hoặc khớp bộ lọc."]
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "coordinator.create_many")) == logged == 1
    client.post("/logout", data={"csrf_token": csrf_token(client, "/manage/")})
    assert login(client, f"06811@{SLUG}", rows[2][3]).status_code == 302
    assert client.get(f"{POINTS}/06811").status_code == 200
    assert client.get(f"{POINTS}/06688").status_code == 403  # a sibling, not below


def test_points_whose_codes_differ_in_case_each_get_a_coordinator(client, demo):
    """Logins are lower case: "HN-A" and "hn-a" would share one, and one point went
    without an account, unsaid."""
    from confmgr.points.services import save_point

    with demo.app_context():
        conference = db.session.scalar(select(Conference))
        for code in ("HN-A", "hn-a"):
            save_point(conference, None, {"code": code, "name": f"Điểm {code}",
                                          "level": "Khác", "parent_code": "01",
                                          "expected_delegates": "0"})
        db.session.commit()
    logged_in(client, ORGANISER)
    response = post_form(client, f"/manage/c/{SLUG}/coordinators/bulk",
                         {"code": ["HN-A", "hn-a"]})
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True)[1:])))
    assert sorted(row[2] for row in rows[1:]) == [f"hn-a-2@{SLUG}", f"hn-a@{SLUG}"]
    for code, _name, login_name, password, *_rest in rows[1:]:
        client.post("/logout", data={"csrf_token": csrf_token(client, "/manage/")})
        assert login(client, login_name, password).status_code == 302
        assert client.get(f"{POINTS}/{code}").status_code == 200


def test_a_point_with_a_long_name_gets_a_coordinator_named_to_fit(client, demo):
    """A point's name may take 300 characters, an account's 200: PostgreSQL refused the
    whole batch (a 500, no CSV), SQLite stored it too long."""
    from confmgr.accounts.models import User
    from confmgr.points.services import save_point

    long_name = "Điểm cầu Trung tâm Chính trị " + "x" * 250
    with demo.app_context():
        save_point(db.session.scalar(select(Conference)), None, {
            "code": "DAI", "name": long_name, "level": "Khác", "parent_code": "01",
            "expected_delegates": "0"})
        db.session.commit()
    logged_in(client, ORGANISER)
    response = post_form(client, f"/manage/c/{SLUG}/coordinators/bulk", {"code": ["DAI"]})
    assert response.status_code == 200
    with demo.app_context():
        made = db.session.scalar(select(User.display_name).where(User.email == f"dai@{SLUG}"))
    assert made == f"Điều phối {long_name}"[:200]


def test_pages_handing_out_passwords_are_never_cached(client, demo):
    logged_in(client, ORGANISER)
    shown = post_form(client, f"/manage/c/{SLUG}/coordinators", {
        "display_name": "Trần Thị Hà", "login": "ha.tran@example.org", "point_codes": "00004",
    })
    assert '<strong class="password">' in shown.get_data(as_text=True)
    assert shown.headers["Cache-Control"] == "no-store"
    bulk = post_form(client, f"/manage/c/{SLUG}/coordinators/bulk", {"code": ["06811"]})
    assert bulk.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert bulk.headers["Cache-Control"] == "no-store"


def test_a_points_page_lists_and_counts_only_registered_delegates(client, demo):
    def listed() -> tuple[int, list[str]]:
        page = client.get(f"{POINTS}/06811").get_data(as_text=True)
        count = int(re.search(r"Danh sách đại biểu \((\d+)\)", page).group(1))
        table = page.split("Danh sách đại biểu")[1]
        return count, re.findall(r"<tr><td>\d+</td><td>([^<]+)</td>", table)

    logged_in(client, ORGANISER)
    count, names = listed()
    assert count == len(names) == 35
    with demo.app_context():
        from confmgr.roster.models import Participant
        from confmgr.roster.services import withdraw

        person = db.session.scalar(
            select(Participant).join(BroadcastPoint, BroadcastPoint.id == Participant.point_id)
            .where(BroadcastPoint.code == "06811").order_by(Participant.id).limit(1))
        gone = person.full_name
        withdraw(person, organiser=True)
        db.session.commit()
    count, after = listed()
    assert count == len(after) == 34
    assert after == [name for name in names if name != gone]


def test_a_points_page_lists_its_delegates_in_vietnamese_order(client, demo):
    """Tên, then họ, then tên đệm, as the roster lists them; not in the order registered."""
    from confmgr.roster.models import Participant
    from confmgr.roster.sorting import name_key

    with demo.app_context():
        uong_bi = db.session.scalar(select(BroadcastPoint.id).where(BroadcastPoint.code == "06811"))
        by_id = list(db.session.scalars(select(Participant.full_name).where(
            Participant.point_id == uong_bi).order_by(Participant.id)))
    logged_in(client, ORGANISER)
    page = client.get(f"{POINTS}/06811").get_data(as_text=True)
    names = re.findall(r"<tr><td>\d+</td><td>([^<]+)</td>", page.split("Danh sách đại biểu")[1])
    assert names == sorted(by_id, key=name_key)
    assert names != by_id
    assert len(names) == 35


# ---------------------------------------------------------------- connection tests


def test_connection_tests_slots_results_and_overview(client, demo):
    logged_in(client, ORGANISER)
    response = post_form(client, f"/manage/c/{SLUG}/connection-tests", {
        "day": "2025-06-13", "start": "14:00", "end": "16:00", "note": "Các điểm cầu tỉnh",
    })
    assert response.status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/manage/")})
    logged_in(client, COORDINATOR)
    page = post_form(client, f"{POINTS}/06811/connection-test", {"status": "failed", "note": ""},
                     follow_redirects=True).get_data(as_text=True)
    # Beside the form, with the choice kept: on a phone the top of the page is out of sight.
    section = page.split('id="connection-test"')[1].split("</section>")[0]
    assert ('<div id="note-errors" class="invalid-feedback" role="alert"><div>Hãy ghi lý do '
            'không đạt.</div></div>') in section
    assert re.search(r'<input checked[^>]*value="failed"', section)
    page = post_form(client, f"{POINTS}/06811/connection-test", {"note": "?"}).get_data(
        as_text=True)
    assert ('<div id="status-errors" class="invalid-feedback d-block" role="alert"><div>Hãy '
            'chọn Đạt hoặc Không đạt.</div></div>') in page
    # Shown at the address posted to, which takes only POST: the language switch leads
    # to the point's page.
    back = re.search(r'name="next" value="([^"]*)"', page).group(1)
    assert back == f"{POINTS}/06811/connection-test"
    assert post_form(client, "/language", {"lang": "vi", "next": back}
                     ).headers["Location"] == f"{POINTS}/06811"
    post_form(client, f"{POINTS}/06811/connection-test",
              {"status": "failed", "note": "Mất tiếng ở điểm cầu"})
    post_form(client, f"{POINTS}/22/connection-test", {"status": "passed", "note": ""})
    assert post_form(client, f"{POINTS}/01/connection-test",
                     {"status": "passed"}).status_code == 403
    uong_bi = point(demo, "06811")
    assert (uong_bi.connection_test_status, uong_bi.connection_test_note) == (
        ConnectionTestStatus.FAILED, "Mất tiếng ở điểm cầu")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/manage/")})
    logged_in(client, ORGANISER)
    page = client.get(f"/manage/c/{SLUG}/connection-tests").get_data(as_text=True)
    assert "Đạt: 1" in page and "Không đạt: 1" in page and "Chưa chạy thử: 9" in page
    # Not passed: the passed point is not listed, whatever the filter names if not a status.
    for listed in (page, client.get(f"/manage/c/{SLUG}/connection-tests?test=bogus"
                                    ).get_data(as_text=True)):
        assert "Điểm cầu chưa đạt (10)" in listed and f'{POINTS}/22"' not in listed
    passed = client.get(f"/manage/c/{SLUG}/connection-tests?test=passed").get_data(as_text=True)
    assert "Điểm cầu (1)" in passed and f'{POINTS}/22"' in passed
    assert "Các điểm cầu tỉnh" in page
    assert "Mất tiếng ở điểm cầu" in page
    assert f'href="tel:{uong_bi.technical_officer_phone}"' in page
    assert 'points/22"' not in page  # it passed


# ---------------------------------------------------------------- import


TONES = "\u0300\u0301\u0303\u0309\u0323"


def as_cp1258(text: str) -> bytes:
    """Text as old Vietnamese Windows saves it: letters composed, tone marks apart."""
    import unicodedata

    out = []
    for char in text:
        parts = unicodedata.normalize("NFD", char)
        tones = "".join(c for c in parts if c in TONES)
        out.append(unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONES)) + tones)
    return "".join(out).encode("cp1258")


def csv_file(rows: list[list[str]], encoding: str = "utf-8-sig") -> tuple[io.BytesIO, str]:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    text = buffer.getvalue()
    data = as_cp1258(text) if encoding == "cp1258" else text.encode(encoding)
    return io.BytesIO(data), "diem-cau.csv"


def xlsx_file(rows: list[list], *, sheets: int = 1, merge: str | None = None):
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    for index in range(1, sheets):
        workbook.create_sheet(f"Trang {index + 1}")
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer, "diem-cau.xlsx"


HEAD = ["Mã điểm cầu", "Tên điểm cầu", "Cấp", "Mã điểm cầu cấp trên", "Mã đơn vị hành chính",
        "Điện thoại cán bộ kỹ thuật", "Số đại biểu dự kiến"]


def upload(client, file) -> str:
    return client.post(f"{POINTS}/import", data={"csrf_token": csrf_token(client), "file": file},
                       content_type="multipart/form-data").get_data(as_text=True)


def import_errors(page: str) -> list[tuple[str, str, str]]:
    from html import unescape

    table = page.split('<table class="table table-sm import-errors">')[1].split("</table>")[0]
    return [tuple(unescape(c) for c in row) for row in
            re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", table)]


def test_a_province_point_taken_to_another_province_over_its_communes_is_refused(
        client, demo):
    """Quảng Ninh's point re-filed under Hải Phòng's code while Quảng Ninh's communes
    stay under it: they hung under a point of another province, counted in it, and
    neither the points list's own export nor a commune's form could be saved again."""
    logged_in(client, ORGANISER)
    page = upload(client, csv_file([HEAD, ["22", "Điểm cầu tỉnh Quảng Ninh", "Tỉnh", "TW",
                                           "31", "", "30"]]))
    assert import_errors(page) == [("2", "Mã đơn vị hành chính", (
        "Điểm cầu 22 còn các điểm cầu xã, phường của Tỉnh Quảng Ninh ở dưới (06688, 06793, "
        "06811): hãy chuyển chúng sang điểm cầu cấp trên khác trước."))]
    assert (point(demo, "22").province_code, point(demo, "06811").province_code) == ("22", "22")


def test_communes_however_deep_below_a_point_taken_to_another_province_are_caught(
        client, demo):
    """Only the moved point's own children were looked at: Uông Bí, two levels below a
    cluster taken to Hà Nội, stayed in Quảng Ninh under points of Hà Nội, out of its
    coordinator's reach, and its own form could not be saved again. The refusal names the
    cell that moved them: the parent, the cluster standing for no unit."""
    logged_in(client, ORGANISER)
    assert "import-errors" not in upload(client, csv_file([
        HEAD,
        ["KV1", "Cụm Hạ Long", "Khác", "22", "", "", ""],
        ["KV1-A", "Cụm Hạ Long A", "Khác", "KV1", "", "", ""],
        ["06811", "Điểm cầu Uông Bí", "Xã", "KV1-A", "06811", "", ""],
    ]))
    refusal = [("2", "Mã điểm cầu cấp trên", (
        "Điểm cầu KV1 còn các điểm cầu xã, phường của Tỉnh Quảng Ninh ở dưới (06811): hãy "
        "chuyển chúng sang điểm cầu cấp trên khác trước."))]
    page = upload(client, csv_file([HEAD, ["KV1", "Cụm Hạ Long", "Khác", "01", "", "", ""]]))
    assert import_errors(page) == refusal
    # The cluster's child in the file as it was, following it: still told on the cluster.
    page = upload(client, csv_file([HEAD, ["KV1", "Cụm Hạ Long", "Khác", "01", "", "", ""],
                                    ["KV1-A", "Cụm Hạ Long A", "Khác", "KV1", "", "", ""]]))
    assert import_errors(page) == refusal
    assert [point(demo, code).province_code for code in ("KV1", "KV1-A", "06811")] == [
        "22", "22", "22"]
    # Judged where the file puts them: a Hà Nội ward under the cluster's child, which
    # follows the cluster to Hà Nội, is right once Uông Bí has gone elsewhere.
    page = upload(client, csv_file([
        HEAD,
        ["06811", "Điểm cầu Uông Bí", "Xã", "22", "06811", "", ""],
        ["KV1", "Cụm Hạ Long", "Khác", "01", "", "", ""],
        ["00004", "Điểm cầu phường Ba Đình", "Xã", "KV1-A", "00004", "", ""],
    ]))
    assert "import-errors" not in page, import_errors(page)
    assert [point(demo, code).province_code for code in ("KV1-A", "00004", "06811")] == [
        "01", "01", "22"]


def test_import_reports_every_bad_row_and_writes_nothing(client, demo):
    new_conference(demo, "khac")
    point_of_another_level(demo, "khac", "KHAC", "Ở hội nghị khác")
    logged_in(client, ORGANISER)
    page = upload(client, csv_file([
        HEAD,
        ["99", "Tỉnh không có", "Tỉnh", "TW", "99", "", ""],
        ["A1", "Điểm A", "Khác", "TW", "", "", "10"],
        ["A1", "Điểm A lần hai", "Khác", "TW", "", "", ""],
        ["00004", "Phường Ba Đình", "Xã", "22", "00004", "", ""],
        ["B1", "Điểm B", "Khác", "KHAC", "", "", ""],
        ["C1", "", "Khác", "", "", "abc", "-3"],
    ]))
    assert import_errors(page) == [
        ("2", "Mã đơn vị hành chính", "Không có tỉnh mã 99 trong danh mục 2025."),
        ("4", "Mã điểm cầu", "Mã A1 trùng với dòng 3."),
        ("5", "Mã điểm cầu cấp trên",
         "Phường Ba Đình thuộc Thành phố Hà Nội, không thuộc Tỉnh Quảng Ninh của điểm cầu 22."),
        ("6", "Mã điểm cầu cấp trên", "Không có điểm cầu mã KHAC trong hội nghị này."),
        ("7", "Tên điểm cầu", "Thiếu tên điểm cầu."),
        ("7", "Số đại biểu dự kiến", "Phải là số nguyên không âm."),
        ("7", "Điện thoại cán bộ kỹ thuật", "Số điện thoại không hợp lệ."),
    ]
    assert "Chưa nhập gì: tệp có 7 lỗi." in page
    assert count_points(demo) == 11
    # Thousands written the Vietnamese way are read; a number past any point's is a slip.
    page = upload(client, csv_file([HEAD, ["A1", "Điểm A", "Khác", "TW", "", "", "2000000"]]))
    assert import_errors(page) == [("2", "Số đại biểu dự kiến", "Nhiều nhất 1.000.000 đại biểu.")]
    upload(client, csv_file([HEAD, ["A1", "Điểm A", "Khác", "TW", "", "", "1.200"]]))
    assert point(demo, "A1").expected_delegates == 1200


def test_import_refuses_a_loop_of_parents(client, demo):
    logged_in(client, ORGANISER)
    page = upload(client, csv_file([
        HEAD,
        ["X1", "Điểm X1", "Khác", "22", "", "", ""],
        ["22", "Điểm cầu tỉnh Quảng Ninh", "Tỉnh", "X1", "22", "", ""],
    ]))
    assert import_errors(page) == [
        ("2", "Mã điểm cầu cấp trên", "Các điểm cầu cấp trên tạo thành vòng: X1 → 22 → X1."),
        ("3", "Mã điểm cầu cấp trên", "Các điểm cầu cấp trên tạo thành vòng: 22 → X1 → 22."),
    ]
    # Through points already there: TW is above 22, which is above 06811.
    page = upload(client, csv_file([HEAD, ["TW", "Điểm cầu Trung ương", "Khác", "06811", "",
                                           "", ""]]))
    assert import_errors(page) == [("2", "Mã điểm cầu cấp trên",
                                    "Các điểm cầu cấp trên tạo thành vòng: TW → 06811 → 22 → TW.")]
    assert count_points(demo) == 11


def test_import_refuses_a_stream_link_with_a_line_break(client, demo):
    logged_in(client, ORGANISER)
    page = upload(client, csv_file([
        [*HEAD, "Đường truyền"],
        ["X1", "Điểm X1", "Khác", "22", "", "", "", "https://meet.example.vn/x1"],
        ["X2", "Điểm X2", "Khác", "22", "", "", "",
         "https://meet.example.vn/x2\r\nBEGIN:VALARM"],
    ]))
    assert import_errors(page) == [
        ("3", "Đường truyền",
         "Đường truyền không được chứa dấu cách, dấu xuống dòng hay ký tự điều khiển.")]
    assert count_points(demo) == 11


def test_import_adds_and_updates_all_at_once(client, demo):
    logged_in(client, ORGANISER)
    file = xlsx_file([
        HEAD,
        ["06658", "Phường Cao Xanh", "Xã", "22", "", "0987654321", 40],
        ["BNV", "Bộ Nội vụ", "Khác", "TW", "", "", 20],
        ["BNV-1", "Vụ Chính quyền địa phương", "Khác", "BNV", "", "", 5],
        ["06811", "Điểm cầu Uông Bí", "Xã", "22", "06811", "0911222333", 35],
    ])
    page = client.post(f"{POINTS}/import", data={"csrf_token": csrf_token(client), "file": file},
                       content_type="multipart/form-data", follow_redirects=True)
    assert ("Đã nhập: 3 điểm cầu mới, 1 điểm cầu cập nhật."
            in flashes(page.get_data(as_text=True)))
    cao_xanh, child = point(demo, "06658"), point(demo, "BNV-1")
    assert (cao_xanh.province_code, cao_xanh.admin_unit_code, cao_xanh.parent_id) == (
        "22", "06658", point(demo, "22").id)
    assert child.parent_id == point(demo, "BNV").id and child.expected_delegates == 5
    assert point(demo, "06811").technical_officer_phone == "0911222333"
    assert count_points(demo) == 14


def test_an_update_from_a_short_file_keeps_the_fields_it_lacks(client, demo):
    stored = {"address": "Số 1 Quang Trung", "host_unit": "UBND thành phố Uông Bí",
              "chair_name": "Nguyễn Văn An", "chair_position": "Chủ tịch",
              "technical_officer_name": "Lê Văn Bình", "technical_officer_phone": "0912000111",
              "stream_url": "https://meet.example.vn/uongbi", "access_code": "UB-2026",
              "expected_delegates": 42}
    with demo.app_context():
        uong_bi = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "06811"))
        for field, value in stored.items():
            setattr(uong_bi, field, value)
        db.session.commit()
    before = point(demo, "06811")
    logged_in(client, ORGANISER)
    page = client.post(f"{POINTS}/import", data={"csrf_token": csrf_token(client), "file": csv_file([
        ["Mã điểm cầu", "Tên điểm cầu", "Cấp"], ["06811", "Điểm cầu thành phố Uông Bí", "Xã"],
    ])}, content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "Đã nhập: 0 điểm cầu mới, 1 điểm cầu cập nhật." in flashes(page)
    after = point(demo, "06811")
    assert after.name == "Điểm cầu thành phố Uông Bí"
    assert {field: getattr(after, field) for field in stored} == stored
    assert (after.parent_id, after.admin_unit_code, after.province_code, after.level) == (
        before.parent_id, before.admin_unit_code, before.province_code, before.level)


def test_counts_by_category_move_with_a_point_to_another_province(client, demo):
    from confmgr.roster.models import PointCategoryRegistration as Counted

    def counted() -> dict[str, list[tuple[int, str, int]]]:
        with demo.app_context():
            rows = db.session.execute(
                select(BroadcastPoint.code, Counted.category_ref, Counted.province_code,
                       Counted.registered)
                .join(BroadcastPoint, BroadcastPoint.id == Counted.point_id)
                .order_by(BroadcastPoint.code, Counted.category_ref)).all()
        by_point: dict[str, list[tuple[int, str, int]]] = {}
        for code, ref, province, registered in rows:
            by_point.setdefault(code, []).append((ref, province, registered))
        return by_point

    before = counted()
    assert {province for _ref, province, _n in before["06811"]} == {"22"}
    logged_in(client, ORGANISER)
    page = client.post(f"{POINTS}/import", data={"csrf_token": csrf_token(client), "file": csv_file([
        HEAD, ["06811", "Điểm cầu Uông Bí", "Khác", "01", "00004", "", ""],
    ])}, content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "Đã nhập: 0 điểm cầu mới, 1 điểm cầu cập nhật." in flashes(page)
    assert point(demo, "06811").province_code == "01"
    after = counted()
    assert after["06811"] == [(ref, "01", n) for ref, _province, n in before["06811"]]
    assert {code: rows for code, rows in after.items() if code != "06811"} == {
        code: rows for code, rows in before.items() if code != "06811"}


@pytest.mark.parametrize("make, message", [
    (lambda: xlsx_file([HEAD, ["X", "=1+1", "Khác", "", "", "", ""]]), None),
    (lambda: xlsx_file([HEAD, ["X", "Điểm", "Khác", "", "", "", ""]], merge="A2:B2"),
     "Tệp có ô gộp (merge) ở A2:B2. Hãy bỏ gộp ô để mỗi ô một giá trị."),
    (lambda: xlsx_file([HEAD], sheets=2),
     "Tệp có 2 trang tính; hãy để danh sách trong một trang tính duy nhất."),
    (lambda: csv_file([HEAD, ["X", "Điểm cầu Đắk Lắk", "Khác", "", "", "", ""]], "cp1258"),
     "Tệp được lưu bằng mã Windows-1258 (tiếng Việt), không phải UTF-8. Hãy lưu lại dưới dạng "
     "«CSV UTF-8 (Comma delimited)»."),
    # UTF-16 with its byte-order mark, and without it (else named Windows-1258), in
    # either byte order; plain ASCII too, which would otherwise read as UTF-8 with NULs.
    *((lambda encoding=encoding, text=text: csv_file([HEAD, ["X", text, "Khác", "", "",
                                                             "", ""]], encoding),
       "Tệp được lưu bằng mã UTF-16. Hãy lưu lại dưới dạng «CSV UTF-8 (Comma delimited)».")
      for encoding in ("utf-16", "utf-16-le", "utf-16-be")
      for text in ("Điểm cầu Đắk Lắk", "Diem cau")),
    (lambda: csv_file([["Mã điểm cầu", "Cấp"], ["X", "Khác"]]),
     "Thiếu cột: «Tên điểm cầu». Hãy dùng tệp mẫu."),
    (lambda: (io.BytesIO(b"PK\x03\x04 not really"), "diem-cau.xlsx"),
     "Tệp không phải là tệp Excel (.xlsx) hợp lệ."),
    (lambda: (io.BytesIO(b"x"), "diem-cau.pdf"), "Chỉ nhận tệp .xlsx hoặc .csv."),
])
def test_import_refuses_untrustworthy_files(client, demo, make, message):
    logged_in(client, ORGANISER)
    errors = import_errors(upload(client, make()))
    if message is None:  # a formula
        assert errors == [("2", "Tên điểm cầu",
                           "Ô chứa công thức; hãy dán giá trị thay vì công thức.")]
    else:
        assert errors == [("—", "—", message)]
    assert count_points(demo) == 11


# ---------------------------------------------------------------- export


def test_export_csv_and_xlsx_defend_against_formulas(client, demo):
    with demo.app_context():
        hanoi = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "01"))
        hanoi.chair_name = '=HYPERLINK("http://evil.example","bấm")'
        db.session.commit()
    logged_in(client, ORGANISER)
    response = client.get(f"{POINTS}/export.csv", query_string={"province": "01"})
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0][:3] == ["Mã điểm cầu", "Tên điểm cầu", "Cấp"]
    assert [row[0] for row in rows[1:]] == ["00004", "00070", "01"]
    assert rows[3][7] == '\'=HYPERLINK("http://evil.example","bấm")'
    response = client.get(f"{POINTS}/export.xlsx", query_string={"province": "01"})
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].font.b is True
    assert [sheet.cell(row=r, column=1).value for r in range(2, 6)] == [
        "00004", "00070", "01", None]
    # A text cell, shown as typed and kept as text when edited: never run.
    assert sheet.cell(row=4, column=8).value == '=HYPERLINK("http://evil.example","bấm")'
    assert sheet.cell(row=4, column=8).data_type == "s"
    assert sheet.cell(row=4, column=8).quotePrefix is True
    sheet_xml = zipfile.ZipFile(io.BytesIO(response.data)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml


def test_a_page_number_no_database_could_reach_is_the_first_page(client, demo):
    logged_in(client, ORGANISER)
    first = client.get(f"{POINTS}?page=1").get_data(as_text=True)
    assert first.count("<tr>") == 12  # the heading row and the demo's 11 points
    for page in ("99999999999999999999", "²", "-3", "abc"):
        response = client.get(f"{POINTS}?page={page}")
        assert response.status_code == 200
        assert response.get_data(as_text=True).count("<tr>") == 12


def test_every_point_gets_its_province_from_its_unit_its_parent_or_what_it_had(demo):
    """The main venue (no unit, no parent) keeps its province, none, when saved unchanged; a unit
    gives the province whatever the level; a point whose parent is new in the same file
    takes that parent's."""
    from confmgr.points import importing
    from confmgr.points.services import save_point
    from confmgr.spreadsheets import Row, Table

    with demo.app_context():
        conference = db.session.scalar(select(Conference))
        main = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "TW"))
        save_point(conference, main, {"code": "TW", "name": main.name, "level": "Trung ương",
                                      "parent_code": "", "admin_unit_code": "",
                                      "expected_delegates": str(main.expected_delegates)})
        rows = [{"code": "QN-SO", "name": "Sở Nội vụ Quảng Ninh", "level": "Khác",
                 "parent_code": "22", "admin_unit_code": ""},
                {"code": "QN-SO-PB", "name": "Phòng B của Sở", "level": "Khác",
                 "parent_code": "QN-SO", "admin_unit_code": ""},
                {"code": "BO-QN", "name": "Bộ X tại Quảng Ninh", "level": "Khác",
                 "parent_code": "TW", "admin_unit_code": "22"},
                {"code": "TW2", "name": "Điểm cầu chính 2", "level": "Trung ương",
                 "parent_code": "", "admin_unit_code": "01"}]
        importing.import_points(conference, Table(
            [Row(n, v) for n, v in enumerate(rows, start=2)], rows[0]))
        db.session.commit()
        provinces = db.session.execute(
            select(BroadcastPoint.code, BroadcastPoint.province_code)
            .where(BroadcastPoint.code.in_(["TW", "QN-SO", "QN-SO-PB", "BO-QN", "TW2"]))).all()
        assert dict(provinces) == {
            "TW": None, "QN-SO": "22", "QN-SO-PB": "22", "BO-QN": "22", "TW2": "01"}


def test_an_organiser_puts_a_point_in_headcount_mode_and_a_coordinator_cannot(client, demo):
    """"Most commune points report only numbers": set on the point's form or by a file,
    before the point records anything (names and numbers would then both count)."""
    logged_in(client, COORDINATOR)
    post_form(client, f"{POINTS}/06688/edit", {"name": "Điểm cầu phường Hạ Long",
                                               "level": "commune", "headcount_only": "y"})
    assert point(demo, "06688").headcount_only is False
    client.post("/logout", data={"csrf_token": csrf_token(client, "/manage/")})
    logged_in(client, ORGANISER)
    page = post_form(client, f"{POINTS}/06688/edit", {
        "name": "Điểm cầu phường Hạ Long", "level": "commune", "parent_code": "22",
        "admin_unit_code": "06688", "expected_delegates": "25", "headcount_only": "y"}
    ).get_data(as_text=True)
    assert field_errors(page, "headcount_only") == [
        "Điểm cầu 06688 đã có số liệu điểm danh nên không đổi cách báo cáo được nữa."]
    assert point(demo, "06688").headcount_only is False
    # A code pasted with an invisible space: saved without it, and the page shown is its own.
    response = post_form(client, f"{POINTS}/new", {
        "code": "QN-\u200bMOI", "name": "Điểm cầu mới", "level": "other", "parent_code": "22",
        "expected_delegates": "30", "headcount_only": "y"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"{POINTS}/QN-MOI"
    assert point(demo, "QN-MOI").headcount_only is True
    sheet = client.get(f"{POINTS}/QN-MOI/attendance?session=4").get_data(as_text=True)
    assert 'name="count_0"' in sheet  # the headcount form, not the list of names

    heading = ["Mã điểm cầu", "Tên điểm cầu", "Cấp", "Chỉ báo số lượng"]
    page = upload(client, csv_file([heading, ["QN-MOI", "Điểm cầu mới", "Khác", ""],
                                    ["06793", "Điểm cầu Cẩm Phả", "Xã", "chắc thế"]]))
    assert import_errors(page) == [
        ("3", "Chỉ báo số lượng", "Ghi «có» nếu điểm cầu chỉ báo số lượng, hoặc để trống.")]
    page = upload(client, csv_file([heading, ["QN-MOI", "Điểm cầu mới", "Khác", ""],
                                    ["06811", "Điểm cầu Uông Bí", "Xã", "có"]]))
    assert import_errors(page) == [("3", "Chỉ báo số lượng", (
        "Điểm cầu 06811 đã có số liệu điểm danh nên không đổi cách báo cáo được nữa."))]
    assert point(demo, "QN-MOI").headcount_only is True  # nothing written
    upload(client, csv_file([heading, ["QN-MOI", "Điểm cầu mới", "Khác", ""],
                             ["06811", "Điểm cầu Uông Bí", "Xã", ""]]))
    assert point(demo, "QN-MOI").headcount_only is False
    exported = client.get(f"{POINTS}/export.csv").get_data(as_text=True)
    rows = {row[0]: row for row in csv.reader(io.StringIO(exported[1:]))}
    column = rows["Mã điểm cầu"].index("Chỉ báo số lượng")
    assert (rows["QN-MOI"][column], rows["06811"][column]) == ("", "")


def test_bulk_coordinators_with_nothing_ticked_serve_the_filtered_points_only(client, demo):
    """The filter is a form of its own: the bulk form must carry it, or every point of a
    national conference got an account."""

    logged_in(client, ORGANISER)
    page = client.get(POINTS, query_string={"province": "22"}).get_data(as_text=True)
    bulk = page.split('action="/manage/c/' + SLUG + '/coordinators/bulk"')[1].split("</form>")[0]
    carried = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', bulk))
    assert carried.pop("csrf_token") and carried == {"province": "22"}
    response = post_form(client, f"/manage/c/{SLUG}/coordinators/bulk", carried)
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True)[1:])))
    # Quảng Ninh's four points, less the one the demo's coordinator already holds.
    assert [row[0] for row in rows[1:]] == ["06688", "06793", "06811"]


def test_a_code_of_dots_alone_is_refused_in_the_form_and_in_a_file(client, demo):
    """"." and ".." are steps of an address that a browser resolves away: a point coded so
    could never be opened."""
    logged_in(client, ORGANISER)
    message = ("Mã chỉ gồm chữ cái không dấu (A–Z), số và . _ - (tối đa 40 ký tự), có ít "
               "nhất một chữ hoặc số.")
    for code in (".", "..", "ĐN-01"):
        page = post_form(client, f"{POINTS}/new", {
            "code": code, "name": "Điểm cầu chấm", "level": "other",
            "expected_delegates": "3"}).get_data(as_text=True)
        assert field_errors(page, "code") == [message]
    page = upload(client, csv_file([["Mã điểm cầu", "Tên điểm cầu", "Cấp"],
                                    ["..", "Điểm cầu chấm", "Khác"], ["A.1", "Điểm A.1", "Khác"]]))
    assert import_errors(page) == [("2", "Mã điểm cầu", message)]
    assert count_points(demo) == 11


def test_a_point_links_its_parent_only_for_who_may_open_it(client, demo):
    """The province's coordinator sees the main venue it hangs under named, not a link that
    would answer 403; an organiser gets the link."""
    with demo.app_context():
        parent = db.session.scalar(select(BroadcastPoint).where(
            BroadcastPoint.code == "22")).parent
        parent_name, parent_code = parent.name, parent.code
    link = f'<a href="{POINTS}/{parent_code}">{parent_name}</a>'
    logged_in(client, COORDINATOR)
    page = client.get(f"{POINTS}/22").get_data(as_text=True)
    assert f" · {parent_name}</p>" in page and link not in page
    assert client.get(f"{POINTS}/{parent_code}").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/manage/")})
    logged_in(client, ORGANISER)
    assert link in client.get(f"{POINTS}/22").get_data(as_text=True)


def test_a_point_whose_only_coordinator_is_deactivated_gets_a_new_account(client, demo):
    """A locked account coordinates nothing: the bulk creation gives the point another."""
    with demo.app_context():
        db.session.scalar(select(User).where(User.email == COORDINATOR[0])).active = False
        db.session.commit()
    logged_in(client, ORGANISER)
    response = post_form(client, f"/manage/c/{SLUG}/coordinators/bulk", {"code": ["22"]})
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True)[1:])))
    assert [row[:3] for row in rows[1:]] == [["22", "Điểm cầu tỉnh Quảng Ninh", f"22@{SLUG}"]]


def test_a_commune_under_the_main_venue_or_moved_by_a_file_keeps_its_province(client, demo):
    """The main venue stands for no province: a commune joins it directly, counted in its
    own province. A file without the unit column moving a commune of its own code under
    another province's point is refused as one with the column is; and a point's own code
    stands for its unit only when of its level's kind."""
    with demo.app_context():
        conference_id = db.session.scalar(select(Conference.id).where(Conference.slug == SLUG))
        db.session.add(BroadcastPoint(
            conference_id=conference_id, code="QN-HALAM", name="Điểm cầu xã Hạ Lam",
            level=PointLevel.COMMUNE, admin_unit_code="06676", province_code="22",
            parent_id=db.session.scalar(select(BroadcastPoint.id).where(
                BroadcastPoint.code == "22"))))
        db.session.commit()
    logged_in(client, ORGANISER)
    heading = ["Mã điểm cầu", "Tên điểm cầu", "Cấp", "Mã điểm cầu cấp trên"]
    refused = ("2", "Mã điểm cầu cấp trên", "Phường Hà Lầm thuộc Tỉnh Quảng Ninh, không "
               "thuộc Thành phố Hà Nội của điểm cầu 01.")
    for columns, row in ((heading, ["QN-HALAM", "Điểm cầu xã Hạ Lam", "Xã", "01"]),
                         ([*heading, "Mã đơn vị hành chính"],
                          ["QN-HALAM", "Điểm cầu xã Hạ Lam", "Xã", "01", "06676"])):
        assert import_errors(upload(client, csv_file([columns, row]))) == [refused]
    assert (point(demo, "QN-HALAM").province_code, point(demo, "QN-HALAM").parent_id) == (
        "22", point(demo, "22").id)

    page = upload(client, csv_file([heading, ["06676", "Điểm cầu phường Hà Lầm", "Xã", "TW"],
                                   ["48", "Điểm cầu Đà Nẵng", "Xã", "TW"]]))
    assert "import-errors" not in page
    ha_lam, da_nang = point(demo, "06676"), point(demo, "48")
    assert (ha_lam.admin_unit_code, ha_lam.province_code) == ("06676", "22")
    assert (da_nang.admin_unit_code, da_nang.province_code) == (None, None)


def test_a_points_chair_is_shown_by_what_is_known_of_them(client, demo):
    """A chair known by position only read "—, Bí thư Đảng ủy phường"."""
    with demo.app_context():
        point = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "06811"))
        point.chair_name, point.chair_position = "", "Bí thư Đảng ủy phường"
        db.session.commit()
    logged_in(client, ORGANISER)
    page = client.get(f"/manage/c/{SLUG}/points/06811").get_data(as_text=True)
    assert re.search(r"Chủ trì điểm cầu</dt><dd[^>]*>(.*?)</dd>", page).group(1) == (
        "Bí thư Đảng ủy phường")
