"""Broadcast points: files without rows, codes that lost their zeros, exports that read back,
compliance counts, coordinators without points, the connection-test form, two organisers
changing points at once and trees too deep."""
from __future__ import annotations

import io
import re
import threading
from html import unescape

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from confmgr.accounts.models import User
from confmgr.audit.models import AuditEntry
from confmgr.conferences.models import Conference
from confmgr.db import db
from confmgr.demo.loader import SLUG
from confmgr.enums import PointLevel
from confmgr.points import importing as point_import
from confmgr.points import official
from confmgr.points.models import BroadcastPoint
from confmgr.roster import categories
from confmgr.roster import importing as delegate_import
from confmgr.roster.models import Participant
from confmgr.spreadsheets import Row, Table, read_table
from tests.conftest import csrf_token
from tests.helpers import (
    COORDINATOR,
    ORGANISER,
    field_errors,
    flashes,
    logged_in,
    post_form,
)
from tests.test_points import (
    HEAD,
    POINTS,
    count_points,
    csv_file,
    import_errors,
    point,
    upload,
    xlsx_file,
)

NO_ROWS = "Tệp không có dòng dữ liệu nào dưới dòng tiêu đề."


# ---------------------------------------------------------------- a file with headings only


def test_a_points_file_with_headings_and_no_rows_is_explained(client, demo):
    logged_in(client, ORGANISER)
    for file in (xlsx_file([HEAD]), csv_file([HEAD]),
                 xlsx_file([["DANH SÁCH ĐIỂM CẦU"], HEAD, ["", "", "", "", "", "", ""]])):
        page = upload(client, file)
        assert import_errors(page) == [("—", "—", NO_ROWS)]
    assert count_points(demo) == 11


# ---------------------------------------------------------------- codes Excel made numbers


def test_a_code_typed_as_a_number_updates_the_point_it_means(client, demo):
    """6811 in a number cell is the point and commune 06811, not a new point beside it."""
    logged_in(client, ORGANISER)
    response = client.post(f"{POINTS}/import", data={
        "csrf_token": post_csrf(client),
        "file": xlsx_file([HEAD, [6811, "Điểm cầu Uông Bí (sửa)", "Xã", 22, 6811, "", 40]])},
        content_type="multipart/form-data", follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [
        "Đã nhập: 0 điểm cầu mới, 1 điểm cầu cập nhật."]
    assert count_points(demo) == 11
    uong_bi = point(demo, "06811")
    assert (uong_bi.name, uong_bi.admin_unit_code, uong_bi.province_code,
            uong_bi.expected_delegates) == ("Điểm cầu Uông Bí (sửa)", "06811", "22", 40)
    assert point(demo, "6811") is None


def test_new_points_get_back_the_zeros_of_official_codes_and_parents(client, demo):
    logged_in(client, ORGANISER)
    response = client.post(f"{POINTS}/import", data={
        "csrf_token": post_csrf(client),
        "file": xlsx_file([HEAD,
                           [6652, "Điểm cầu phường Hà Tu", "Xã", 22, "", "", 30],
                           ["UB-1", "Tổ kỹ thuật Uông Bí", "Khác", 6811, "", "", ""],
                           [1, "Điểm cầu Hà Nội", "Tỉnh", "TW", "", "", ""]])},
        content_type="multipart/form-data", follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [
        "Đã nhập: 2 điểm cầu mới, 1 điểm cầu cập nhật."]
    assert count_points(demo) == 13
    ha_tu = point(demo, "06652")
    assert (ha_tu.name, ha_tu.level, ha_tu.admin_unit_code, ha_tu.province_code) == (
        "Điểm cầu phường Hà Tu", PointLevel.COMMUNE, "06652", "22")
    with demo.app_context():
        parent = db.session.scalar(select(BroadcastPoint.code).where(
            BroadcastPoint.children.any(BroadcastPoint.code == "UB-1")))
    assert parent == "06811"
    assert point(demo, "UB-1").province_code == "22"
    assert point(demo, "01").name == "Điểm cầu Hà Nội"


def test_a_point_code_takes_zeros_back_only_to_be_a_point_of_its_level(client, demo):
    """A ministry numbered 1 is a point of its own, not the province point 01 (whose name
    and level it overwrote)."""
    logged_in(client, ORGANISER)
    response = client.post(f"{POINTS}/import", data={
        "csrf_token": post_csrf(client),
        "file": xlsx_file([HEAD, [1, "Bộ Y tế", "Khác", "TW", "", "", ""]])},
        content_type="multipart/form-data", follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [
        "Đã nhập: 1 điểm cầu mới, 0 điểm cầu cập nhật."]
    assert count_points(demo) == 12
    assert (point(demo, "1").name, point(demo, "1").level) == ("Bộ Y tế", PointLevel.OTHER)
    assert (point(demo, "01").name, point(demo, "01").level) == (
        "Điểm cầu Thành phố Hà Nội", PointLevel.PROVINCE)


def test_an_access_code_that_lost_its_zeros_in_excel_keeps_them(client, demo):
    """A meeting room's code "000123" comes back as 123 from a list Excel saved: the
    point keeps its code; any other code is taken as typed."""
    with demo.app_context():
        for code, access in (("06811", "000123"), ("06688", "0045")):
            db.session.scalar(select(BroadcastPoint).where(
                BroadcastPoint.code == code)).access_code = access
        db.session.commit()
    logged_in(client, ORGANISER)
    heading = ["Mã điểm cầu", "Tên điểm cầu", "Cấp", "Mã điểm cầu cấp trên", "Mã truy cập"]
    upload(client, xlsx_file([heading,
                              [6811, "Điểm cầu Uông Bí", "Xã", 22, 123],
                              [6688, "Điểm cầu phường Hạ Long", "Xã", 22, 46]]))
    assert (point(demo, "06811").access_code, point(demo, "06688").access_code) == (
        "000123", "46")


def zero_padded_workbook(rows: list[list], padded_column: int) -> bytes:
    """An XLSX file whose column ``padded_column`` (from 1) is formatted "00000", as Excel
    users keep codes' zeros, below the heading row."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for row in range(2, len(rows) + 1):
        sheet.cell(row=row, column=padded_column).number_format = "00000"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_numbers_formatted_to_show_zeros_are_read_as_shown():
    """Excel shows 77 as 00077 in a column formatted "00000": that is what the list says.
    A number with a fraction, text, or a number of another format is read as it is."""
    from confmgr.points.importing import COLUMNS

    heading = ["Mã điểm cầu", "Tên điểm cầu", "Cấp", "Mã truy cập"]
    data = zero_padded_workbook(
        [heading, ["A1", "Một", "Xã", 77], ["A2", "Hai", "Xã", 1234567],
         ["A3", "Ba", "Xã", 12.5], ["A4", "Bốn", "Xã", "0042"], ["A5", "Năm", "Xã", 0]],
        padded_column=4)
    table = read_table(data, "ds.xlsx", COLUMNS, max_rows=100, max_bytes=10**6)
    assert [row.values["access_code"] for row in table] == [
        "00077", "1234567", "12.5", "0042", "00000"]
    unformatted = xlsx_file([heading, ["A1", "Một", "Xã", 77]])[0].getvalue()
    table = read_table(unformatted, "ds.xlsx", COLUMNS, max_rows=100, max_bytes=10**6)
    assert [row.values["access_code"] for row in table] == ["77"]


def test_a_new_access_code_keeps_the_zeros_its_format_shows(client, demo):
    logged_in(client, ORGANISER)
    heading = ["Mã điểm cầu", "Tên điểm cầu", "Cấp", "Mã điểm cầu cấp trên", "Mã truy cập"]
    upload(client, (io.BytesIO(zero_padded_workbook(
        [heading, ["06811", "Điểm cầu Uông Bí", "Xã", "22", 77]], padded_column=5)),
        "diem-cau.xlsx"))
    assert point(demo, "06811").access_code == "00077"


def test_a_technical_officers_mobile_typed_as_a_number_gets_its_zero_back(client, demo):
    """As in the delegates' import: Excel makes 0912345678 the number 912345678."""
    logged_in(client, ORGANISER)
    upload(client, xlsx_file([["Mã điểm cầu", "Tên điểm cầu", "Cấp", "Mã điểm cầu cấp trên",
                               "Điện thoại cán bộ kỹ thuật"],
                              ["X9", "Điểm X9", "Khác", "TW", 912345678],
                              ["X10", "Điểm X10", "Khác", "TW", "02033123456"]]))
    assert point(demo, "X9").technical_officer_phone == "0912345678"
    assert point(demo, "X10").technical_officer_phone == "02033123456"


def test_a_unit_whose_lost_zeros_cannot_be_told_is_refused_with_a_hint(client, demo):
    """4 may be the province 04 or the commune 00004: a point of another level is told."""
    logged_in(client, ORGANISER)
    page = upload(client, xlsx_file([HEAD, ["BO-X", "Bộ X", "Khác", "TW", 4, "", ""]]))
    assert import_errors(page) == [(
        "2", "Mã đơn vị hành chính",
        "Mã 4 không có trong danh mục 2025; có lẽ đã mất số 0 ở đầu (00004, 04?): Excel bỏ số 0 "
        "khi cột không định dạng là Văn bản (Text).")]
    assert count_points(demo) == 11


def test_a_parent_whose_lost_zeros_cannot_be_told_is_refused_with_a_hint(client, demo):
    """Cao Bằng's point 04 and Ba Đình's 00004 both become 4 in a number cell: the parent
    4 was said not to exist, though both do."""
    logged_in(client, ORGANISER)
    page = upload(client, xlsx_file([HEAD, ["04", "Điểm cầu tỉnh Cao Bằng", "Tỉnh", "TW", "04",
                                            "", ""],
                                     ["BO-X", "Bộ X", "Khác", 4, "", "", ""]]))
    assert import_errors(page) == [(
        "3", "Mã điểm cầu cấp trên",
        "Không có điểm cầu mã 4 trong hội nghị này; có lẽ đã mất số 0 ở đầu (00004, 04?): "
        "Excel bỏ số 0 khi cột không định dạng là Văn bản (Text).")]
    assert count_points(demo) == 11


def test_a_code_typed_without_zeros_on_the_form_is_not_taken_for_another(client, demo):
    """Only spreadsheets drop zeros: the form's "6811" stays a code of its own."""
    logged_in(client, ORGANISER)
    response = post_form(client, f"{POINTS}/new", {
        "code": "6811", "name": "Điểm X", "level": "other", "parent_code": "22",
        "expected_delegates": "0"})
    assert response.status_code == 302
    assert point(demo, "6811").name == "Điểm X"
    assert point(demo, "06811").name == "Điểm cầu Uông Bí"


def test_a_code_that_is_the_address_of_one_of_the_lists_pages_is_refused(client, demo):
    """/points/new, /points/import…: a point of such a code could never be opened (its
    link opened the form or started a download), nor reached by its coordinator."""
    import re as regex

    from confmgr.points.importing import RESERVED_CODES

    fixed = set()
    for rule in demo.url_map.iter_rules():
        found = regex.search(r"/points/([^/<]+)(?:<any\(([^)]*)\):kind>)?$", rule.rule)
        if found:
            kinds = found.group(2).split(", ") if found.group(2) else [""]
            fixed |= {found.group(1) + kind for kind in kinds}
    assert fixed == RESERVED_CODES
    logged_in(client, ORGANISER)
    for code in sorted(RESERVED_CODES):
        page = post_form(client, f"{POINTS}/new", {
            "code": code, "name": "Điểm X", "level": "other", "expected_delegates": "0"}
        ).get_data(as_text=True)
        assert field_errors(page, "code") == [
            f"Mã «{code}» trùng địa chỉ một trang của danh sách điểm cầu; hãy chọn mã khác."]
    page = upload(client, csv_file([HEAD, ["new", "Điểm X", "Khác", "", "", "", "0"]]))
    assert import_errors(page) == [(
        "2", "Mã điểm cầu",
        "Mã «new» trùng địa chỉ một trang của danh sách điểm cầu; hãy chọn mã khác.")]
    assert count_points(demo) == 11


def test_a_province_no_longer_on_the_list_shows_every_point_and_says_why(client, demo):
    """An old bookmark (Hải Dương, 30, merged in 2025) listed "0 điểm cầu" with the box
    reading "all provinces"; as the other lists do, the whole list is shown, with a word
    why; a file of such a province is not made."""
    logged_in(client, ORGANISER)
    for url in (POINTS, f"/manage/c/{SLUG}/connection-tests"):
        page = client.get(url, query_string={"province": "30"}).get_data(as_text=True)
        assert flashes(page) == ["Không có tỉnh, thành phố mã «30» trong danh mục hiện "
                                 "hành: đây là số liệu cả nước."], url
    page = client.get(POINTS, query_string={"province": "30"}).get_data(as_text=True)
    assert "11 điểm cầu" in page
    assert client.get(f"{POINTS}/export.csv", query_string={"province": "30"}
                      ).status_code == 404


def test_the_templates_hold_headings_only_and_the_import_pages_show_an_example(client, demo):
    """The points template's example row was the real point 22 with blank contacts: left
    in a filled template it blanked Quảng Ninh's link and access code. The delegates'
    registered a made-up delegate. The example is shown on the import page instead."""
    from confmgr.points.importing import COLUMNS
    from tests.test_roster import UONG_BI, preview

    with demo.app_context():
        quang_ninh = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "22"))
        quang_ninh.access_code = "QN-2025"
        db.session.commit()
    logged_in(client, ORGANISER)
    template = client.get(f"{POINTS}/template.xlsx").get_data()
    rows = list(load_workbook(io.BytesIO(template)).active.values)
    assert rows == [tuple(column.heading for column in COLUMNS)]
    assert import_errors(upload(client, (io.BytesIO(template), "mau.xlsx"))) == [
        ("—", "—", NO_ROWS)]
    assert point(demo, "22").access_code == "QN-2025"
    page = client.get(f"{POINTS}/import").get_data(as_text=True)
    example = re.search(r'<div class="table-responsive small import-example">(.*?)</div>',
                        page, re.S).group(1)
    assert re.findall(r"<td>([^<]*)</td>", example)[:4] == [
        "22", "Điểm cầu tỉnh Quảng Ninh", "Tỉnh", "TW"]

    template = client.get(f"{UONG_BI}/template.xlsx").get_data()
    assert list(load_workbook(io.BytesIO(template)).active.values) == [
        ("STT", "Họ và tên", "Chức vụ", "Đơn vị", "Thành phần", "Điện thoại", "Email",
         "Ghi chú")]
    page = preview(client, io.BytesIO(template), "mau.xlsx")
    assert "Tệp không có đại biểu nào: hãy điền danh sách dưới dòng tiêu đề." in unescape(page)
    example = re.search(r'<div class="table-responsive small import-example">(.*?)</div>',
                        client.get(f"{UONG_BI}/import").get_data(as_text=True), re.S).group(1)
    assert re.findall(r"<td>([^<]*)</td>", example) == [
        "1", "Nguyễn Văn An", "Bí thư Đảng ủy", "Đảng ủy phường Uông Bí", "", "0912345678",
        "", ""]


def test_the_point_form_reads_expected_delegates_as_the_import_does(client, demo):
    """"1.200" is a thousand and two hundred, as a Vietnamese list writes it: the import
    took it, the form refused it as no whole number."""
    logged_in(client, ORGANISER)
    response = post_form(client, f"{POINTS}/new", {
        "code": "BNV-1", "name": "Điểm X", "level": "other", "expected_delegates": "1.200"})
    assert response.status_code == 302
    assert point(demo, "BNV-1").expected_delegates == 1200
    for typed, message in (("-3", "Phải là số nguyên không âm."),
                           ("mười", "Phải là số nguyên không âm."),
                           ("2000000", "Nhiều nhất 1.000.000 đại biểu.")):
        page = post_form(client, f"{POINTS}/BNV-1/edit", {
            "name": "Điểm X", "level": "other", "expected_delegates": typed}
        ).get_data(as_text=True)
        assert field_errors(page, "expected_delegates") == [message], typed
    assert point(demo, "BNV-1").expected_delegates == 1200


# ---------------------------------------------------------------- exports read back


def test_a_point_named_like_a_formula_exports_and_reads_back(client, demo):
    with demo.app_context():
        uong_bi = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "06811"))
        uong_bi.name = "=> Điểm cầu Uông Bí"
        db.session.commit()
    logged_in(client, ORGANISER)
    for kind in ("xlsx", "csv"):
        exported = client.get(f"{POINTS}/export.{kind}", query_string={"province": "22"})
        if kind == "xlsx":
            sheet = load_workbook(io.BytesIO(exported.data)).active
            cell = next(row[1] for row in sheet.iter_rows(min_row=2) if row[0].value == "06811")
            assert (cell.value, cell.data_type, cell.quotePrefix) == (
                "=> Điểm cầu Uông Bí", "s", True)
        else:
            assert "06811,'=> Điểm cầu Uông Bí," in exported.get_data(as_text=True)
        response = client.post(f"{POINTS}/import", data={
            "csrf_token": post_csrf(client),
            "file": (io.BytesIO(exported.data), f"diem-cau.{kind}")},
            content_type="multipart/form-data", follow_redirects=True)
        assert flashes(response.get_data(as_text=True)) == [
            "Đã nhập: 0 điểm cầu mới, 0 điểm cầu cập nhật."]
        assert point(demo, "06811").name == "=> Điểm cầu Uông Bí"


def test_a_delegate_note_beginning_with_equals_exports_and_reads_back(client, demo):
    note = "=> gọi lại trước hội nghị"
    with demo.app_context():
        person = db.session.scalar(select(Participant).join(BroadcastPoint).where(
            BroadcastPoint.code == "06811").order_by(Participant.id))
        person.note = note
        name = person.full_name
        db.session.commit()
    logged_in(client, ORGANISER)
    for kind in ("xlsx", "csv"):
        exported = client.get(f"{POINTS}/06811/delegates/export.{kind}").data
        if kind == "xlsx":
            sheet = load_workbook(io.BytesIO(exported)).active
            assert note in [row[7] for row in sheet.iter_rows(values_only=True)]
        rows = read_table(exported, f"ds.{kind}", delegate_import.COLUMNS,
                          max_rows=delegate_import.MAX_ROWS, max_bytes=delegate_import.MAX_BYTES)
        assert [(row.values["full_name"], row.values["note"]) for row in rows
                if row.values["note"]] == [(name, note)]


# ---------------------------------------------------------------- compliance


def test_the_compliance_heading_counts_points_not_shortfalls(client, demo):
    """Three required categories the five commune points lack: five points, fifteen rows."""
    with demo.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
        for rank, name in enumerate(("Khách mời", "Phóng viên", "Cán bộ kỹ thuật"), start=90):
            categories.require(categories.add_category(conference, name, rank),
                               PointLevel.COMMUNE, 1)
        db.session.commit()
        missing, total = categories.shortfalls(conference, limit=2)
        assert total == 5
        # A page is a number of points, each with all its shortfalls.
        assert [(m.point_code, m.category) for m in missing] == [
            ("00004", "Khách mời"), ("00004", "Phóng viên"), ("00004", "Cán bộ kỹ thuật"),
            ("00070", "Khách mời"), ("00070", "Phóng viên"), ("00070", "Cán bộ kỹ thuật")]
        missing, total = categories.shortfalls(conference, limit=2, offset=4)
        assert total == 5
        assert {m.point_code for m in missing} == {"06811"}
    logged_in(client, ORGANISER)
    page = client.get(f"/manage/c/{SLUG}/compliance").get_data(as_text=True)
    assert "Điểm cầu chưa đủ thành phần bắt buộc (5)" in page
    assert page.count('<tr><td>') == 15
    assert "Mọi điểm cầu đã đủ thành phần bắt buộc." not in page
    # A page past the last (a bookmark) does not say that every point is complete.
    past = client.get(f"/manage/c/{SLUG}/compliance?page=2").get_data(as_text=True)
    assert "Điểm cầu chưa đủ thành phần bắt buộc (5)" in past
    assert "Mọi điểm cầu đã đủ thành phần bắt buộc." not in past


# ---------------------------------------------------------------- coordinators


def test_a_coordinator_needs_at_least_one_point(client, demo):
    logged_in(client, ORGANISER)
    response = post_form(client, f"/manage/c/{SLUG}/coordinators", {
        "display_name": "Trần Thị Hà", "login": "ha.tran@example.org", "point_codes": " , "})
    page = response.get_data(as_text=True)
    assert field_errors(page, "point_codes") == ["Hãy nhập ít nhất một mã điểm cầu."]
    assert 'class="password"' not in page
    # No password on it: only what every signed-in page says (confmgr/security.py).
    assert response.headers["Cache-Control"] == "private, no-store"
    with demo.app_context():
        from confmgr.accounts.models import User

        assert db.session.scalar(select(User).where(User.email == "ha.tran@example.org")) is None
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "coordinator.create")) == 0


def test_a_coordinator_login_already_taken_is_named_on_its_field(client, demo):
    """A coordinator's, with what it holds and the way to give it more points; another
    account's as taken, no more (see test_points for the giving)."""
    logged_in(client, ORGANISER)
    page = post_form(client, f"/manage/c/{SLUG}/coordinators", {
        "display_name": "X", "login": "quangninh@example.org", "point_codes": "06811"}
    ).get_data(as_text=True)
    assert field_errors(page, "login")[0].startswith(
        "Tên đăng nhập quangninh@example.org đã có: tài khoản của Điều phối điểm cầu Quảng "
        "Ninh (điều phối 22 ở hội nghị này).")
    assert 'class="password"' not in page
    page = post_form(client, f"/manage/c/{SLUG}/coordinators", {
        "display_name": "X", "login": "admin@example.org", "point_codes": "06811"}
    ).get_data(as_text=True)
    assert field_errors(page, "login") == ["Tên đăng nhập admin@example.org đã có người dùng."]
    assert 'class="password"' not in page and 'name="grant_to"' not in page


def test_the_coordinators_page_is_paged_and_searched_and_says_how_many(client, demo):
    """A national conference has tens of thousands of coordinators: the list pages a
    hundred at a time, never stops short without a word, and finds one by point or person."""
    from confmgr.accounts import coordinators

    with demo.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
        db.session.add_all([BroadcastPoint(conference_id=conference.id, code=f"X{n:03d}",
                                           name=f"Điểm cầu thôn {n}", level=PointLevel.OTHER)
                            for n in range(1, 121)])
        db.session.flush()
        made = db.session.scalars(select(BroadcastPoint).where(
            BroadcastPoint.conference_id == conference.id, BroadcastPoint.code.like("X%"))
            .order_by(BroadcastPoint.code)).all()
        coordinators.create_for_points(conference, made)
        db.session.commit()
        before = coordinators.grants(conference.id, coordinators.GrantQuery()).total
        assert before == 121  # and the demo's own, Quảng Ninh's
    logged_in(client, ORGANISER)
    url = f"/manage/c/{SLUG}/coordinators"

    def listed(page: str) -> list[str]:
        body = page.split("<tbody>")[1].split("</tbody>")[0]
        return re.findall(r"<tr><td>([^ <]+) – ", body)

    first = client.get(url).get_data(as_text=True)
    assert "121 lượt giao điểm cầu cho điều phối viên" in first
    assert listed(first) == ["22"] + [f"X{n:03d}" for n in range(1, 100)]
    assert f'href="{url}?page=2"' in first
    second = client.get(url, query_string={"page": 2}).get_data(as_text=True)
    assert listed(second) == [f"X{n:03d}" for n in range(100, 121)]
    found = client.get(url, query_string={"q": "THON 12"}).get_data(as_text=True)
    assert "2 lượt giao điểm cầu cho điều phối viên" in found  # thôn 12 and thôn 120
    assert listed(found) == ["X012", "X120"]
    by_person = client.get(url, query_string={"q": "quangninh@"}).get_data(as_text=True)
    assert listed(by_person) == ["22"]


# ---------------------------------------------------------------- the connection-test form


def test_the_connection_test_form_names_its_fields_and_marks_the_one_at_fault(client, demo):
    logged_in(client, ORGANISER)
    page = client.get(f"{POINTS}/06811").get_data(as_text=True)
    form = page.split('id="connection-test"')[1].split("</form>")[0]
    assert '<legend class="form-label small mb-0">Kết quả</legend>' in form
    assert '<label class="form-label small mb-0" for="note">Ghi chú</label>' in form
    assert re.search(r'<textarea aria-describedby="note-help" class="form-control '
                     r'form-control-sm" id="note"', form)
    assert "placeholder" not in form
    assert "is-invalid" not in form

    page = post_form(client, f"{POINTS}/06811/connection-test",
                     {"status": "failed", "note": ""}).get_data(as_text=True)
    form = page.split('id="connection-test"')[1].split("</form>")[0]
    assert re.search(r'<textarea aria-describedby="note-help note-errors" class="form-control '
                     r'form-control-sm is-invalid" id="note"', form)
    assert unescape(re.search(r'<div id="note-errors"[^>]*>(.*?)</div></div>', form).group(1)) \
        == "<div>Hãy ghi lý do không đạt."
    assert "status-errors" not in form

    page = post_form(client, f"{POINTS}/06811/connection-test",
                     {"note": "x" * 2001}).get_data(as_text=True)
    form = page.split('id="connection-test"')[1].split("</form>")[0]
    assert '<fieldset class="col-md-3" aria-describedby="status-errors">' in form
    assert form.count('class="form-check-input is-invalid"') == 2
    assert ('<div id="status-errors" class="invalid-feedback d-block" role="alert"><div>Hãy '
            'chọn Đạt hoặc Không đạt.</div></div>') in form
    # The note's own fault is named beside the note, not passed off as the result's.
    assert ('<div id="note-errors" class="invalid-feedback" role="alert"><div>Không được dài '
            'quá 2000 ký tự.</div></div>') in form


def test_the_connection_test_history_says_who_recorded_each_result(client, demo):
    """The history listed each result's time, status and note, but not who recorded it,
    though that is kept: which coordinator or organiser to ask was not to be seen."""
    with demo.app_context():
        names = dict(db.session.execute(select(User.email, User.display_name)).all())
    for account, status, note in ((COORDINATOR, "failed", "Mất tiếng"),
                                  (ORGANISER, "passed", "")):
        logged_in(client, account)
        post_form(client, f"{POINTS}/06811/connection-test", {"status": status, "note": note})
        client.post("/logout", data={"csrf_token": csrf_token(client, "/manage/")})
    logged_in(client, ORGANISER)
    page = client.get(f"{POINTS}/06811").get_data(as_text=True)
    history = page.split('id="connection-test"')[1].split("</section>")[0]
    results = [unescape(item).split(": ", 1)[1]  # after the time
               for item in re.findall(r"<li>(.*?)</li>", history)]
    assert results == [
        f"Đạt (do {names[ORGANISER[0]]} ghi)",
        f"Không đạt — Mất tiếng (do {names[COORDINATOR[0]]} ghi)"]


# ---------------------------------------------------------------- the official list


def test_the_official_list_page_writes_its_date_in_full(client, demo):
    logged_in(client, ORGANISER)
    page = client.get(f"{POINTS}/official").get_data(as_text=True)
    assert "áp dụng từ 01/07/2025." in page
    assert "01/7/2025" not in page


def post_csrf(client) -> str:
    from tests.conftest import csrf_token

    return csrf_token(client)


# ---------------------------------------------------------------- two organisers at once


def while_another_is_uncommitted(demo, write, answer):
    """``answer()`` (a request) run while ``write(conference)``, another organiser's change,
    is made and not yet committed: given a second, then the other commits."""
    demo.config["PROPAGATE_EXCEPTIONS"] = False  # a fault is a 500 here, not a traceback
    answered = []
    with demo.app_context():
        conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
        write(conference)
        other = threading.Thread(target=lambda: answered.append(answer()))
        other.start()
        other.join(timeout=1)
        db.session.commit()
    other.join()
    return answered[0]


def file_of(*rows: list[str]) -> Table:
    return Table([Row(number, dict(zip(("code", "name", "level", "parent_code"), row)))
                  for number, row in enumerate(rows, start=2)],
                 ("code", "name", "level", "parent_code"))


@pytest.mark.parametrize("by", ["file", "form"])
def test_two_imports_at_once_cannot_make_a_loop_of_parents(client, demo, by):
    """One file put A under B while another put B under A: each was checked against the
    tree before the other wrote, both were written, and A → B → A made every walk of the
    tree (a coordinator's reach) endless. The second now waits for the first and is refused."""
    logged_in(client, ORGANISER)
    upload(client, csv_file([HEAD[:4], ["A", "Điểm A", "Khác", "TW"],
                             ["B", "Điểm B", "Khác", "TW"]]))

    def b_under_a():
        if by == "file":
            return upload(client, csv_file([HEAD[:4], ["B", "Điểm B", "Khác", "A"]]))
        return post_form(client, f"{POINTS}/B/edit", {
            "name": "Điểm B", "level": "other", "parent_code": "A"}).get_data(as_text=True)

    page = while_another_is_uncommitted(demo, lambda conference: point_import.import_points(
        conference, file_of(["A", "Điểm A", "Khác", "B"])), b_under_a)
    if by == "file":
        assert import_errors(page) == [
            ("2", "Mã điểm cầu cấp trên", "Các điểm cầu cấp trên tạo thành vòng: B → A → B.")]
    else:
        assert field_errors(page, "parent_code") == [
            "Điểm cầu cấp trên không thể là một điểm cầu nằm dưới điểm cầu này."]
    assert point(demo, "A").parent_id == point(demo, "B").id
    assert point(demo, "B").parent_id == point(demo, "TW").id


def test_two_imports_adding_the_same_new_code_at_once_give_no_server_error(client, demo):
    """Both read that BNV was new and both inserted it: the second import ended in a 500
    (a unique violation). It now waits for the first and updates the point it added."""
    logged_in(client, ORGANISER)
    response = while_another_is_uncommitted(
        demo, lambda conference: point_import.import_file(
            conference, file_of(["BNV", "Bộ Nội vụ", "Khác", "TW"])),
        lambda: client.post(f"{POINTS}/import", data={
            "csrf_token": csrf_token(client),
            "file": csv_file([HEAD[:4], ["BNV", "Bộ Nội vụ (Vụ Tổ chức)", "Khác", "TW"]])},
            content_type="multipart/form-data", follow_redirects=True))
    assert response.status_code == 200
    assert flashes(response.get_data(as_text=True)) == [
        "Đã nhập: 0 điểm cầu mới, 1 điểm cầu cập nhật."]
    assert point(demo, "BNV").name == "Bộ Nội vụ (Vụ Tổ chức)"
    assert count_points(demo) == 12


def test_two_clicks_on_create_official_points_at_once_give_no_server_error(client, demo):
    """Both clicks read which provinces were missing and both inserted them: the second
    ended in a 500 (a unique violation). It now waits for the first and adds nothing."""
    logged_in(client, ORGANISER)
    response = while_another_is_uncommitted(
        demo, official.create_official_points,
        lambda: post_form(client, f"{POINTS}/official", {"scope": "provinces"},
                          follow_redirects=True))
    assert response.status_code == 200
    assert flashes(response.get_data(as_text=True)) == [
        "Đã thêm 0 điểm cầu tỉnh và 0 điểm cầu xã; các điểm cầu đã có được giữ nguyên."]
    assert count_points(demo) == 11 + 29  # the demo had five provinces' points


# ---------------------------------------------------------------- a tree too deep


def test_a_file_of_points_one_under_another_1000_deep_gives_no_server_error(client, demo):
    """Each point under the one before: the province of each was found by recursion, which
    failed past Python's limit (a 500), and 900 levels took 15 seconds. Points deeper than
    ten levels are now refused, each row named, and nothing is written."""
    demo.config["PROPAGATE_EXCEPTIONS"] = False
    logged_in(client, ORGANISER)
    rows, parent = [HEAD[:4]], "TW"  # TW is the first level
    for i in range(1000):
        rows.append([f"D{i}", f"Đơn vị {i}", "Khác", parent])
        parent = f"D{i}"
    page = upload(client, csv_file(rows))
    assert "Chưa nhập gì: tệp có 991 lỗi." in page
    errors = import_errors(page)
    assert len(errors) == 991
    assert errors[0] == ("11", "Mã điểm cầu cấp trên", "Điểm cầu này sẽ ở cấp thứ 11 tính từ "
                                                       "điểm cầu trên cùng; tối đa 10 cấp.")
    assert errors[-1] == ("1001", "Mã điểm cầu cấp trên", "Điểm cầu này sẽ ở cấp thứ 1001 tính "
                                                          "từ điểm cầu trên cùng; tối đa 10 cấp.")
    assert count_points(demo) == 11
    # Ten levels are taken, and a move that would send the points below one too deep is
    # refused on the row that moves it.
    upload(client, csv_file(rows[:10]))
    assert count_points(demo) == 11 + 9
    page = upload(client, csv_file([HEAD[:4], ["D0", "Đơn vị 0", "Khác", "06811"]]))
    assert import_errors(page) == [(
        "2", "Mã điểm cầu cấp trên", "Chuyển điểm cầu này về đây sẽ đưa điểm cầu D8 bên dưới "
                                     "nó xuống cấp thứ 12; tối đa 10 cấp.")]


def test_the_import_templates_keep_typed_codes_and_phones_as_text(client, demo):
    """Their columns were General: someone filling a template in Excel typed the access code
    00123 and it came in as 123, with nothing to tell (zeros go back only where the code is
    known)."""
    from tests.helpers import COORDINATOR, ORGANISER, logged_in

    def formats(url: str) -> dict[str, str]:
        sheet = load_workbook(io.BytesIO(client.get(url).data)).active
        return {cell.value: sheet.column_dimensions[cell.column_letter].number_format
                for cell in sheet[1]}

    logged_in(client, ORGANISER)
    assert formats(f"/manage/c/{SLUG}/points/template.xlsx") == {
        "Mã điểm cầu": "@", "Tên điểm cầu": "General", "Cấp": "General",
        "Mã điểm cầu cấp trên": "@", "Mã đơn vị hành chính": "@", "Địa chỉ": "General",
        "Đơn vị chủ trì": "General", "Người chủ trì": "General",
        "Chức vụ người chủ trì": "General", "Cán bộ kỹ thuật": "General",
        "Điện thoại cán bộ kỹ thuật": "@", "Đường truyền": "General", "Mã truy cập": "@",
        "Số đại biểu dự kiến": "General", "Chỉ báo số lượng": "General"}
    logged_in(client, COORDINATOR)
    assert formats(f"/manage/c/{SLUG}/points/06811/delegates/template.xlsx") == {
        "STT": "General", "Họ và tên": "General", "Chức vụ": "General", "Đơn vị": "General",
        "Thành phần": "General", "Điện thoại": "@", "Email": "General", "Ghi chú": "General"}
