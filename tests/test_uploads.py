"""Uploads that try to hurt the server, and exports that must not hurt the reader.

A spreadsheet cell that starts with = + - @ (or a tab or carriage return) is run as a
formula by Excel; every CSV we write defuses it with a leading apostrophe, every XLSX
writes it as a text cell that stays text when edited.
"""
from __future__ import annotations

import csv
import io
import struct
import zipfile
import zlib

import pytest
from flask_babel import force_locale
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from confmgr.audit.services import record
from confmgr.conferences.models import AgendaSession
from confmgr.db import db
from confmgr.demo.loader import SLUG
from confmgr.i18n import format_number
from confmgr.points import importing as point_import
from confmgr.points.models import BroadcastPoint
from confmgr.questions.models import Question
from confmgr.roster import importing
from confmgr.roster.models import Participant
from confmgr.spreadsheets import TableError, read_table, safe_cell
from tests.helpers import ADMIN, ORGANISER, bearer, logged_in, post_form

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
NOT_AN_XLSX = "Tệp không phải là tệp Excel (.xlsx) hợp lệ."


def xlsx(rows: list[list], merges: tuple[str, ...] = ()) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    for cells in merges:  # real merges, as Excel writes them
        workbook.active.merge_cells(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read(data: bytes):
    return read_table(data, "ds.xlsx", importing.COLUMNS, max_rows=importing.MAX_ROWS,
                      max_bytes=importing.MAX_BYTES)


def refusal(data: bytes) -> list[str]:
    with pytest.raises(TableError) as refused:
        read(data)
    return [error.message for error in refused.value.errors]


def with_sheet(sheet_xml: bytes) -> bytes:
    """A real workbook whose sheet is replaced by ``sheet_xml``, compressed as usual."""
    original = zipfile.ZipFile(io.BytesIO(xlsx([["Họ và tên"], ["Nguyễn Văn A"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
        for entry in original.infolist():
            content = original.read(entry)
            if entry.filename == "xl/worksheets/sheet1.xml":
                content = sheet_xml
            copy.writestr(entry.filename, content)
    return out.getvalue()


def declare(data: bytes, name: str, size: int, crc: int) -> bytes:
    """The zip with ``name``'s declared size and CRC rewritten, its content left as is."""
    data = bytearray(data)
    encoded = name.encode()
    local = data.find(b"PK\x03\x04" + data[4:4])  # first local header
    while local != -1:
        name_length = struct.unpack_from("<H", data, local + 26)[0]
        if bytes(data[local + 30:local + 30 + name_length]) == encoded:
            struct.pack_into("<I", data, local + 14, crc)
            struct.pack_into("<I", data, local + 22, size)
        local = data.find(b"PK\x03\x04", local + 4)
    central = data.find(b"PK\x01\x02")
    while central != -1:
        name_length = struct.unpack_from("<H", data, central + 28)[0]
        if bytes(data[central + 46:central + 46 + name_length]) == encoded:
            struct.pack_into("<I", data, central + 16, crc)
            struct.pack_into("<I", data, central + 24, size)
        central = data.find(b"PK\x01\x02", central + 4)
    return bytes(data)


def test_a_zip_bomb_is_refused_before_it_is_inflated():
    # 60 MB of one repeated row compresses to a few tens of kilobytes.
    row = b'<row r="2"><c r="A2" t="inlineStr"><is><t>Nguyen Van A</t></is></c></row>'
    bomb = with_sheet(b"<worksheet><sheetData>" + row * 800_000 + b"</sheetData></worksheet>")
    assert len(bomb) < 1_000_000
    assert refusal(bomb) == ["Tệp Excel giải nén quá lớn; có thể là tệp độc hại."]


def test_a_zip_that_understates_its_sizes_is_refused():
    row = b'<row r="2"><c r="A2" t="inlineStr"><is><t>Nguyen Van A</t></is></c></row>'
    sheet = b"<worksheet><sheetData>" + row * 100_000 + b"</sheetData></worksheet>"
    honest = with_sheet(sheet)
    # Declared at 2 KB: the ratio check sees nothing wrong; reading finds the lie.
    forged = declare(honest, "xl/worksheets/sheet1.xml", 2048, zlib.crc32(sheet))
    assert refusal(forged) == [NOT_AN_XLSX]
    # Even with a CRC that matches the first 2 KB, only those 2 KB are ever read.
    forged = declare(honest, "xl/worksheets/sheet1.xml", 2048, zlib.crc32(sheet[:2048]))
    assert refusal(forged) == [NOT_AN_XLSX]


def test_control_characters_in_cells_are_dropped():
    data = "Họ và tên,Chức vụ\nNguyễn\x00 Văn An,Bí\x7f thư\n".encode()
    rows = read_table(data, "ds.csv", importing.COLUMNS, max_rows=importing.MAX_ROWS,
                      max_bytes=importing.MAX_BYTES)
    assert [(row.values["full_name"], row.values["position"]) for row in rows] == [
        ("Nguyễn Văn An", "Bí thư")]


def test_a_nul_in_a_form_or_an_address_is_refused(client, demo):
    logged_in(client, ORGANISER)
    assert client.get(f"/manage/c/{SLUG}/points?q=uong%00bi").status_code == 400
    response = post_form(client, f"/manage/c/{SLUG}/points/06811/delegates/new",
                         {"full_name": "Nguyễn\x00Văn A"})
    assert response.status_code == 400
    with demo.app_context():
        assert db.session.scalar(select(Participant.id).where(
            Participant.full_name.like("Nguyễn%Văn A"))) is None


def test_a_nul_in_a_path_is_not_found_before_any_query(client, demo):
    """PostgreSQL refuses a NUL in a parameter with an error: a slug, code or token holding
    one is answered 404, signed in or not, on pages and in the API."""
    assert client.get(f"/c/{SLUG}%00/").status_code == 404
    assert client.get("/feeds/" + "a" * 30 + "%00.ics").status_code == 404
    logged_in(client, ORGANISER)
    assert client.get(f"/manage/c/{SLUG}/points/22%00/delegates").status_code == 404
    answer = client.get(f"/api/v1/conferences/{SLUG}/points/22%00",
                        headers=bearer(demo, ORGANISER[0]))
    assert (answer.status_code, answer.mimetype) == (404, "application/problem+json")


def test_a_formula_addressed_far_away_costs_one_row_not_a_million():
    """Formulas saved without values read as empty, so the rows calamine leaves out are
    added back to be named; a cell at the sheet's last row and column must not make that
    a million rows of sixteen thousand cells."""
    from confmgr.spreadsheets import _xlsx_grid

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Họ và tên", "Chức vụ"])
    sheet.append(["Nguyễn Văn An", "Bí thư"])
    sheet["A30"] = "=1+1"
    sheet["Z2"] = "=1+1"  # beyond every heading: fills no column
    buffer = io.BytesIO()
    workbook.save(buffer)
    merged_to, grid = _xlsx_grid(buffer.getvalue(), importing.MAX_ROWS)
    assert merged_to == (0, "")
    assert [(number, cells) for number, cells in grid] == [
        (1, ["Họ và tên", "Chức vụ"]), (2, ["Nguyễn Văn An", "Bí thư"]), (30, ["=", None])]
    with pytest.raises(TableError) as refused:
        read(buffer.getvalue())
    assert [(e.row, e.column, e.message) for e in refused.value.errors] == [
        (30, "Họ và tên", "Ô chứa công thức; hãy dán giá trị thay vì công thức.")]
    # Far down the sheet, the cell is named as lying far from the table, before any grid.
    sheet["A1048576"] = "=1+1"
    buffer = io.BytesIO()
    workbook.save(buffer)
    with pytest.raises(TableError) as refused:
        _xlsx_grid(buffer.getvalue(), importing.MAX_ROWS)
    assert [(e.row, e.message) for e in refused.value.errors] == [
        (0, "Ô A1048576 có dữ liệu nhưng nằm xa bảng; hãy xóa ô đó (hoặc cả hàng, cả cột "
            "của nó) rồi tải lên lại.")]


def test_an_honest_workbook_still_reads():
    rows = read(xlsx([["Họ và tên", "Chức vụ"], ["Nguyễn Văn An", "Bí thư"]]))
    assert [(row.number, row.values["full_name"], row.values["position"]) for row in rows] == [
        (2, "Nguyễn Văn An", "Bí thư")]


def test_two_headings_for_one_column_refuse_the_file():
    data = "Họ và tên,Điện thoại,Số điện thoại\nNguyễn Văn An,0912000111,0987000222\n"
    with pytest.raises(TableError) as refused:
        read_table(data.encode(), "ds.csv", importing.COLUMNS, max_rows=importing.MAX_ROWS,
                   max_bytes=importing.MAX_BYTES)
    assert [(e.row, e.column, e.message) for e in refused.value.errors] == [
        (0, "", "Cột «Điện thoại» và cột «Số điện thoại» cùng là «Điện thoại»; "
                "hãy chỉ giữ một cột.")]


def test_a_csv_row_wider_than_any_spreadsheet_is_refused(app):
    """A few megabytes of commas made a heading row of hundreds of thousands of columns,
    each read and checked: a worker busy for minutes (benchmark uploads.wide_heading_row
    reads the widest row taken)."""
    from confmgr.spreadsheets import MAX_COLUMNS

    wide = ("Họ và tên" + "," * MAX_COLUMNS + "\nNguyễn Văn A\n").encode()
    with app.test_request_context(), pytest.raises(TableError) as refused:
        read_table(wide, "ds.csv", importing.COLUMNS, max_rows=importing.MAX_ROWS,
                   max_bytes=importing.MAX_BYTES)
    assert [error.message for error in refused.value.errors] == [
        "Dòng 1 có 16.385 cột, nhiều hơn bảng tính nào mở được (16.384); hãy kiểm tra dấu "
        "phân cách của tệp."]
    with app.test_request_context():
        taken = read_table(("Họ và tên" + ",a" * (MAX_COLUMNS - 1) + "\nNguyễn Văn A\n")
                           .encode(), "ds.csv", importing.COLUMNS,
                           max_rows=importing.MAX_ROWS, max_bytes=importing.MAX_BYTES)
    assert len(taken) == 1 and taken.ignored[:2] == ("a (cột B)", "a (cột C)")


def test_a_fallback_heading_fills_its_column_only_where_no_other_does():
    """"Di động" is the phone where no "Điện thoại" is; beside one, it is a column not read,
    and what its cells hold stays with the row, by heading (or letters, with none)."""
    rows = read(xlsx([["Họ và tên", "Di động"], ["Nguyễn Văn An", "0987000222"]]))
    assert [(row.values, row.others) for row in rows] == [
        ({"full_name": "Nguyễn Văn An", "phone": "0987000222"}, ())]
    assert rows.ignored == ()
    rows = read(xlsx([["Họ và tên", "Điện thoại", "Di động", "Quê quán", None, "Quê quán"],
                      ["Nguyễn Văn An", "0912000111", "0987000222", "Huế", "x", "Hà Nội"],
                      ["Lê Văn Bình", "0912000112", "", "", "", "", "thừa"]]))
    assert [(row.values, row.others) for row in rows] == [
        ({"full_name": "Nguyễn Văn An", "phone": "0912000111"},
         (("Di động", "0987000222"), ("Quê quán (cột D)", "Huế"), ("cột E", "x"),
          ("Quê quán (cột F)", "Hà Nội"))),
        ({"full_name": "Lê Văn Bình", "phone": "0912000112"}, (("cột G", "thừa"),))]
    # A heading that two columns have, with each one's letters, that what each holds is
    # told apart; a column without one, by its letters, where it holds data.
    assert rows.ignored == ("Di động", "Quê quán (cột D)", "Quê quán (cột F)", "cột E", "cột G")
    assert rows.unheaded == ("cột E", "cột G")
    assert rows.heading_of("Quê quán (cột F)") == "Quê quán"
    assert rows.unread(["QUE QUAN"]) == ["Di động", "cột E", "cột G"]
    # Two fallbacks and none of ours: either would drop the other, as two of ours would.
    assert refusal(xlsx([["Họ và tên", "Số ĐT", "Di động"], ["A", "", "0912000002"]])) == [
        "Cột «Số ĐT» và cột «Di động» cùng là «Điện thoại»; hãy chỉ giữ một cột."]


def test_a_message_names_ten_unread_headings_at_most_each_cut_short(app):
    from confmgr.spreadsheets import listed_headings, unread_message

    with app.test_request_context():
        assert unread_message([]) == ""
        assert listed_headings(["A", "B"]) == "«A», «B»"
        long = "x" * 61
        assert listed_headings([long, *map(str, range(12))]) == (
            f"«{'x' * 59}…», «0», «1», «2», «3», «4», «5», «6», «7», «8» và 3 cột khác")


def test_a_defused_cell_reads_back_as_typed():
    """safe_cell's apostrophe comes off on the way in, in CSV and XLSX alike (old XLSX
    exports carry it too)."""
    written = [["Họ và tên", "Điện thoại", "Ghi chú"],
               ["Nguyễn Văn An", safe_cell("+84912000999"), "'không đổi"],
               ["Trần Thị Bình", "0912000111", safe_cell("-")]]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(written)
    assert written[1][1] == "'+84912000999"
    for data, name in ((buffer.getvalue().encode("utf-8-sig"), "ds.csv"), (xlsx(written), "ds.xlsx")):
        rows = read_table(data, name, importing.COLUMNS, max_rows=importing.MAX_ROWS,
                          max_bytes=importing.MAX_BYTES)
        assert [(row.values["phone"], row.values["note"]) for row in rows] == [
            ("+84912000999", "'không đổi"), ("0912000111", "-")]
    # A defused formula is the text after the apostrophe, never a formula.
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["Họ và tên", "Ghi chú"],
                                  ["Nguyễn Văn An", safe_cell("=> gọi lại trước hội nghị")]])
    for data, name in ((buffer.getvalue().encode("utf-8-sig"), "ds.csv"),
                       (xlsx([["Họ và tên", "Ghi chú"],
                              ["Nguyễn Văn An", "'=> gọi lại trước hội nghị"]]), "ds.xlsx")):
        rows = read_table(data, name, importing.COLUMNS, max_rows=importing.MAX_ROWS,
                          max_bytes=importing.MAX_BYTES)
        assert [(row.values["full_name"], row.values["note"]) for row in rows] == [
            ("Nguyễn Văn An", "=> gọi lại trước hội nghị")]


@pytest.mark.parametrize("name, data", [
    ("ds.xlsx", lambda: xlsx([["Họ và tên", "Ghi chú"], ["Nguyễn Văn An", "=1+1"]])),
    ("ds.csv", lambda: "Họ và tên,Ghi chú\nNguyễn Văn An,=1+1\n".encode()),
    ("ds.csv", lambda: "Họ và tên,Ghi chú\nNguyễn Văn An, =1+1\n".encode()),
])
def test_a_cell_typed_as_a_formula_is_still_refused(name, data):
    with pytest.raises(TableError) as refused:
        read_table(data(), name, importing.COLUMNS, max_rows=importing.MAX_ROWS,
                   max_bytes=importing.MAX_BYTES)
    assert [(e.row, e.column, e.message) for e in refused.value.errors] == [
        (2, "Ghi chú", "Ô chứa công thức; hãy dán giá trị thay vì công thức.")]


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
FORMULA_REFUSED = (2, "Ghi chú", "Ô chứa công thức; hãy dán giá trị thay vì công thức.")


def other_writer(rows: str, after: str = "") -> bytes:
    """A sheet as other software writes it: the namespace under a prefix (as .NET's Open
    XML SDK does), attributes in another order, references left out."""
    return with_sheet(f'<x:worksheet xmlns:x="{MAIN}"><x:sheetData>{rows}</x:sheetData>'
                      f'{after}</x:worksheet>'.encode())


def text(value: str, ref: str = "") -> str:
    where = f' r="{ref}"' if ref else ""
    return f'<x:c s="0" t="inlineStr"{where}><x:is><x:t>{value}</x:t></x:is></x:c>'


HEADINGS = f'<x:row r="1">{text("Họ và tên", "A1")}{text("Ghi chú", "B1")}</x:row>'


@pytest.mark.parametrize("row", [
    # The reference after another attribute.
    f'<x:row r="2">{text("Nguyễn Văn An", "A2")}<x:c t="str" r="B2"><x:f>1+1</x:f></x:c></x:row>',
    # No references at all: the row follows row 1, the cell its neighbour.
    f'<x:row>{text("Nguyễn Văn An")}<x:c t="str"><x:f>1+1</x:f></x:c></x:row>',
])
def test_a_formula_is_found_however_the_sheet_is_written(row):
    """A formula saved without its value reads as an empty cell: in a paper attendance
    list, an absentee read as present."""
    with pytest.raises(TableError) as refused:
        read(other_writer(HEADINGS + row))
    assert [(e.row, e.column, e.message) for e in refused.value.errors] == [FORMULA_REFUSED]


def test_a_merge_and_the_row_limit_hold_however_the_sheet_is_written():
    rows = HEADINGS + "".join(f'<x:row r="{n}">{text(f"Người {n}", f"A{n}")}</x:row>'
                              for n in range(2, 5))
    merges = '<x:mergeCells count="1"><x:mergeCell ref="A2:A3"/></x:mergeCells>'
    assert [row.number for row in read(other_writer(rows))] == [2, 3, 4]
    assert refusal(other_writer(rows, merges)) == [merged_at("A2:A3")]
    many = HEADINGS + "".join(f"<x:row>{text(f'Người {n}')}</x:row>"
                              for n in range(importing.MAX_ROWS + 10))
    assert refusal(other_writer(many)) == [
        f"Tệp có hơn {format_number(importing.MAX_ROWS)} dòng dữ liệu; hãy chia nhỏ tệp."]


@pytest.mark.parametrize("row", ['<x:row r="²">', '<x:row r="2x">'])
def test_a_row_numbered_with_anything_but_digits_is_refused(row):
    data = other_writer(HEADINGS + f"{row}{text('Nguyễn Văn An')}</x:row>")
    assert refusal(data) == [NOT_AN_XLSX]


def test_a_sheet_declaring_a_document_type_is_refused():
    """Excel never writes one; entities declared there could multiply the sheet."""
    laughs = '<!DOCTYPE x [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
    sheet = HEADINGS.replace("Họ và tên", "Họ và tên &b;")
    data = with_sheet((laughs + f'<x:worksheet xmlns:x="{MAIN}"><x:sheetData>{sheet}'
                       '</x:sheetData></x:worksheet>').encode())
    assert refusal(data) == [NOT_AN_XLSX]


def test_an_xlsx_text_cell_beginning_like_a_formula_is_text():
    """What our XLSX exports write (and what Excel saves for a cell typed with a leading
    '): a text cell, read as its text."""
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["Họ và tên", "Ghi chú"])
    note = WriteOnlyCell(sheet, value="=> gọi lại")
    note.data_type, note.quotePrefix = "s", True
    sheet.append(["Nguyễn Văn An", note])
    buffer = io.BytesIO()
    workbook.save(buffer)
    rows = read(buffer.getvalue())
    assert [(row.number, row.values["note"]) for row in rows] == [(2, "=> gọi lại")]


# ---------------------------------------------------------------- lists as offices send them


def read_csv(text: str, columns=importing.COLUMNS):
    return read_table(text.encode(), "ds.csv", columns, max_rows=importing.MAX_ROWS,
                      max_bytes=importing.MAX_BYTES)


def csv_refusal(text: str, columns=importing.COLUMNS) -> list[str]:
    with pytest.raises(TableError) as refused:
        read_csv(text, columns)
    return [error.message for error in refused.value.errors]


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_a_csv_separated_by_semicolons_or_tabs_reads_though_a_heading_has_a_comma(delimiter):
    """Excel set up for Vietnam writes ";"; the comma in a heading must not make it ","."""
    text = delimiter.join(["Họ và tên", "Chức vụ", "Đơn vị (xã, phường)", "Điện thoại"]) + "\n"
    text += delimiter.join(["Nguyễn Văn An", "Bí thư", "Xã Đông Ngũ, huyện Tiên Yên",
                            "0912345678"]) + "\n"
    text += delimiter.join(["Trần Thị Bình", "Chủ tịch, UBND", "", ""]) + "\n"
    rows = read_csv(text)
    assert [(row.number, row.values) for row in rows] == [
        (2, {"full_name": "Nguyễn Văn An", "position": "Bí thư", "phone": "0912345678"}),
        (3, {"full_name": "Trần Thị Bình", "position": "Chủ tịch, UBND", "phone": ""})]


def test_the_delimiter_is_the_one_that_names_the_tables_own_columns():
    # A comma file whose cells hold semicolons is still a comma file.
    rows = read_csv('Họ và tên,Ghi chú\nNguyễn Văn An,"Sáng; chiều"\nLê Thị Hoa,Chiều;tối\n')
    assert [(row.values["full_name"], row.values["note"]) for row in rows] == [
        ("Nguyễn Văn An", "Sáng; chiều"), ("Lê Thị Hoa", "Chiều;tối")]
    # The points table knows other headings; an address with commas does not mislead it.
    text = ("Mã điểm cầu;Tên điểm cầu;Cấp;Địa chỉ, số nhà\n"
            "06811;Phường Uông Bí, TP. Uông Bí;Xã;Số 1, đường Trần Hưng Đạo\n")
    rows = read_table(text.encode(), "diem-cau.csv", point_import.COLUMNS,
                      max_rows=100, max_bytes=10**6)
    assert [(row.number, row.values) for row in rows] == [
        (2, {"code": "06811", "name": "Phường Uông Bí, TP. Uông Bí", "level": "Xã"})]
    # No delimiter names a known column: refused as before, naming what is missing.
    assert csv_refusal("Tên;Số điện thoại, di động\nNguyễn Văn An;0912345678\n") == [
        "Thiếu cột: «Họ và tên». Hãy dùng tệp mẫu."]


OFFICIAL_LIST = [
    ["DANH SÁCH ĐẠI BIỂU DỰ HỘI NGHỊ TẬP HUẤN", None, None, None],
    [None, None, None, None],
    ["STT", "Họ và tên", "Chức vụ", "Đơn vị"],
    [1, "Nguyễn Văn An", "Bí thư Đảng ủy", "Đảng ủy phường"],
    [2, None, None, None],  # numbered in advance, never filled
    [3, "Trần Thị Bình", "Chủ tịch UBND", "UBND phường"],
    [4, None, None, None],
    [5, None, None, None],
]


def test_an_official_list_with_a_title_above_its_headings_reads():
    expected = [(4, "Nguyễn Văn An", "Đảng ủy phường"), (6, "Trần Thị Bình", "UBND phường")]
    rows = read(xlsx(OFFICIAL_LIST))
    assert [(row.number, row.values["full_name"], row.values["unit"]) for row in rows] == expected
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(
        [["" if cell is None else cell for cell in row] for row in OFFICIAL_LIST])
    rows = read_csv(buffer.getvalue())
    assert [(row.number, row.values["full_name"], row.values["unit"]) for row in rows] == expected


def test_errors_under_a_title_name_the_rows_of_the_sheet():
    table = [*OFFICIAL_LIST[:5], [3, "=A1", "Chủ tịch UBND", "UBND phường"]]
    with pytest.raises(TableError) as refused:
        read(xlsx(table))
    assert [(e.row, e.column, e.message) for e in refused.value.errors] == [
        (6, "Họ và tên", "Ô chứa công thức; hãy dán giá trị thay vì công thức.")]


def test_an_official_list_previews_with_its_own_row_numbers(client, demo):
    from tests.test_roster import preview, row_errors

    logged_in(client, ORGANISER)
    table = [*OFFICIAL_LIST[:4], [2, "Lê Thị Hoa", "", "", "0912"], *OFFICIAL_LIST[5:]]
    table[2] = [*table[2], "Điện thoại"]
    page = preview(client, io.BytesIO(xlsx(table)))
    assert row_errors(page) == {"4": [], "5": [
        "Điện thoại: Số điện thoại phải có 10 hoặc 11 chữ số, bắt đầu bằng 0 (hoặc +84)."], "6": []}


MERGED = "Tệp có ô gộp (merge). Hãy bỏ gộp ô để mỗi ô một giá trị."


def merged_at(cells: str) -> str:
    return f"Tệp có ô gộp (merge) ở {cells}. Hãy bỏ gộp ô để mỗi ô một giá trị."

#: An official list as offices send it: title, subtitle and date merged across the columns.
MERGED_TITLE = [
    ["DANH SÁCH ĐẠI BIỂU DỰ HỘI NGHỊ TẬP HUẤN", None, None, None],
    ["Cán bộ chủ chốt cấp xã", None, None, None],
    [None, None, "Hà Nội, ngày 14 tháng 6 năm 2025", None],
    ["STT", "Họ và tên", "Chức vụ", "Đơn vị"],
    [1, "Nguyễn Văn An", "Bí thư Đảng ủy", "Đảng ủy phường"],
    [2, "Trần Thị Bình", "Chủ tịch UBND", "UBND phường"],
]
TITLE_MERGES = ("A1:D1", "A2:D2", "C3:D3")


def test_a_title_merged_across_the_columns_above_the_headings_reads():
    expected = [(5, "Nguyễn Văn An", "Đảng ủy phường"), (6, "Trần Thị Bình", "UBND phường")]
    rows = read(xlsx(MERGED_TITLE, TITLE_MERGES))
    assert [(row.number, row.values["full_name"], row.values["unit"]) for row in rows] == expected
    # A merge over two rows ending just above the headings is still above them.
    rows = read(xlsx(MERGED_TITLE, ("A1:D3",)))
    assert [(row.number, row.values["full_name"], row.values["unit"]) for row in rows] == expected


@pytest.mark.parametrize("merge", [
    "B4:C4",  # in the heading row: the second heading reads empty
    "A4:A5",  # a heading over two rows, as two-level headings have
    "B5:B6",  # a name for two delegates
    "D6:E6",  # the last data row, into a column no heading names
    "A20:D20",  # far below the data: refused all the same
])
def test_a_merge_that_reaches_the_heading_row_or_below_is_refused(merge):
    # Named, so that it can be found in a long list.
    assert refusal(xlsx(MERGED_TITLE, (*TITLE_MERGES[:2], merge))) == [merged_at(merge)]
    assert refusal(xlsx(MERGED_TITLE, (merge,))) == [merged_at(merge)]


def test_a_title_merged_down_over_the_headings_leaves_them_missing():
    """Merging keeps the first cell's value only, so the headings are gone, as the sheet
    itself shows: the message says what is missing."""
    assert refusal(xlsx(MERGED_TITLE, ("A3:D4",))) == ["Thiếu cột: «Họ và tên». Hãy dùng tệp mẫu."]


def test_a_merge_written_otherwise_than_excel_writes_it_is_refused():
    """Its rows cannot be told, so where it lies cannot be either."""
    def cell(ref: str, text: str) -> str:
        return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'

    sheet = ('<worksheet><sheetData>'
             f'<row r="1">{cell("A1", "DANH SÁCH ĐẠI BIỂU")}</row>'
             f'<row r="2">{cell("A2", "Họ và tên")}</row>'
             f'<row r="3">{cell("A3", "Nguyễn Văn An")}</row>'
             '</sheetData>{merges}</worksheet>')
    merged = '<mergeCells count="1"><mergeCell ref="{ref}"/></mergeCells>'
    assert [row.number for row in read(with_sheet(sheet.format(
        merges=merged.format(ref="A1:C1")).encode()))] == [3]
    for ref in ("A1", "A:C", "$A$1:$C$1"):
        assert refusal(with_sheet(sheet.format(merges=merged.format(ref=ref)).encode())) == [MERGED]


def test_the_heading_row_is_looked_for_among_the_first_ten_non_empty_rows():
    title = [[f"Dòng tiêu đề {n}"] for n in range(1, 10)]
    rows = read(xlsx([*title, [None], ["Họ và tên"], ["Nguyễn Văn An"]]))
    assert [(row.number, row.values["full_name"]) for row in rows] == [(12, "Nguyễn Văn An")]
    # Ten rows above it: the first row stays the heading row, and the message says so.
    assert refusal(xlsx([*title, ["Dòng tiêu đề 10"], ["Họ và tên"], ["Nguyễn Văn An"]])) == [
        "Thiếu cột: «Họ và tên». Hãy dùng tệp mẫu."]
    assert refusal(xlsx([["DANH SÁCH ĐIỂM CẦU"], ["Mã điểm cầu", "Tên"], ["06811", "Uông Bí"]])) \
        == ["Thiếu cột: «Họ và tên». Hãy dùng tệp mẫu."]
    with pytest.raises(TableError) as refused:
        read_table(xlsx([["DANH SÁCH ĐIỂM CẦU"], ["Mã điểm cầu", "Tên"]]), "ds.xlsx",
                   point_import.COLUMNS, max_rows=100, max_bytes=10**6)
    assert [e.message for e in refused.value.errors] == [
        "Thiếu cột: «Mã điểm cầu», «Tên điểm cầu», «Cấp». Hãy dùng tệp mẫu."]


def test_the_row_limit_counts_data_rows_not_the_title():
    table = [["DANH SÁCH ĐẠI BIỂU"], ["Ngày 14/6/2025"], ["Họ và tên"],
             ["Nguyễn Văn An"], ["Lê Thị Hoa"], ["Trần Thị Bình"]]
    rows = read_table(xlsx(table), "ds.xlsx", importing.COLUMNS, max_rows=3, max_bytes=10**6)
    assert [row.number for row in rows] == [4, 5, 6]
    with pytest.raises(TableError) as refused:
        read_table(xlsx([*table, ["Phan Văn Long"]]), "ds.xlsx", importing.COLUMNS,
                   max_rows=3, max_bytes=10**6)
    assert [e.message for e in refused.value.errors] == [
        "Tệp có hơn 3 dòng dữ liệu; hãy chia nhỏ tệp."]


def test_a_row_with_only_a_cell_no_column_reads_is_still_a_row_without_a_number_column():
    """Only a row number makes an otherwise empty row empty: any other cell, even under a
    heading the table does not read, may be a delegate whose name went missing."""
    assert [(row.number, row.values) for row in read(xlsx(
        [["Mã số", "Họ và tên"], ["5", None], ["6", "Nguyễn Văn An"]]))] == [
        (2, {"full_name": ""}), (3, {"full_name": "Nguyễn Văn An"})]
    assert [(row.number, row.values) for row in read(xlsx(
        [["STT", "Họ và tên"], ["5", None], ["6", "Nguyễn Văn An"]]))] == [
        (3, {"full_name": "Nguyễn Văn An"})]


# ---------------------------------------------------------------- every export defuses formulas

PLANTED = {
    "point": '=HYPERLINK("http://x","bấm")',
    "name": "=cmd|' /C calc'!A0",
    "position": "+Phó Chủ tịch",
    "unit": "-Sở Nội vụ",
    "note": "@SUM(A1:A9)",
    "question": "=Câu hỏi độc",
    "answer": "\tTrả lời",
    "audit": "=audit",
}


def plant(app) -> dict:
    with app.app_context():
        point = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "06811"))
        point.name = PLANTED["point"]
        person = db.session.scalar(select(Participant).where(Participant.point_id == point.id)
                                   .order_by(Participant.id))
        person.full_name, person.position = PLANTED["name"], PLANTED["position"]
        person.unit, person.note = PLANTED["unit"], PLANTED["note"]
        question = db.session.scalar(select(Question).where(
            Question.published_at.is_not(None)).order_by(Question.id))
        question.body, question.answer = PLANTED["question"], PLANTED["answer"]
        record("participant.update", target=person, conference_id=person.conference_id,
               point_id=point.id, name=PLANTED["audit"])
        db.session.commit()
        return {"slug": SLUG, "code": "06811",
                "session_id": db.session.scalar(select(AgendaSession.id).order_by(
                    AgendaSession.starts_at))}


def cells(response) -> list[tuple[str, bool]]:
    """Every text cell of a CSV or XLSX download, and whether Excel would run it."""
    assert response.status_code == 200, response.request.path
    if response.mimetype == "text/csv":
        text = response.get_data(as_text=True)
        assert text.startswith("\ufeff")
        return [(cell, cell.startswith(FORMULA_START))
                for row in csv.reader(io.StringIO(text[1:])) for cell in row]
    assert response.mimetype.endswith("spreadsheetml.sheet"), response.mimetype
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    for name in archive.namelist():
        if name.startswith("xl/worksheets/"):
            assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)
    workbook = load_workbook(io.BytesIO(response.get_data()))
    # A text cell that looks like a formula must be a text cell marked to stay text when
    # edited (Excel's quote prefix): shown as typed, never run.
    return [(cell.value, cell.data_type != "s" or (cell.value.startswith(FORMULA_START)
                                                   and not cell.quotePrefix))
            for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row
            if isinstance(cell.value, str)]


#: Every download, by how it is asked for; (who, method, address).
EXPORTS = [
    (ORGANISER, "GET", "/manage/c/{slug}/points/export.csv"),
    (ORGANISER, "GET", "/manage/c/{slug}/points/export.xlsx"),
    (ORGANISER, "GET", "/manage/c/{slug}/points/template.xlsx"),
    (ORGANISER, "GET", "/manage/c/{slug}/points/{code}/delegates/export.csv"),
    (ORGANISER, "GET", "/manage/c/{slug}/points/{code}/delegates/export.xlsx"),
    (ORGANISER, "GET", "/manage/c/{slug}/points/{code}/delegates/template.xlsx"),
    (ORGANISER, "GET", "/manage/c/{slug}/delegates?export=csv"),
    (ORGANISER, "GET", "/manage/c/{slug}/delegates?export=xlsx"),
    (ORGANISER, "GET", "/manage/c/{slug}/attendance/report.csv"),
    (ORGANISER, "GET", "/manage/c/{slug}/attendance/report.xlsx"),
    (ORGANISER, "GET", "/manage/c/{slug}/attendance/report.csv?province=22"),
    (ORGANISER, "GET", "/manage/c/{slug}/attendance/participants.csv"),
    (ORGANISER, "GET",
     "/manage/c/{slug}/points/{code}/attendance/{session_id}/import/template.csv"),
    (ORGANISER, "GET", "/c/{slug}/questions.xlsx"),
    (ORGANISER, "POST", "/manage/c/{slug}/coordinators/bulk"),
    (ORGANISER, "GET", "/manage/c/{slug}/audit.csv"),
    (ORGANISER, "GET", "/manage/c/{slug}/audit.xlsx"),
    (ADMIN, "GET", "/manage/audit.csv"),
    (ADMIN, "GET", "/manage/audit.xlsx"),
]


def test_every_export_is_listed_here(app):
    """A new download route must join EXPORTS, and so this sweep."""
    listed = {address.split("?")[0].replace("{code}", "<code>").replace("{slug}", "<slug>")
              .replace("{session_id}", "<int:session_id>") for _who, _method, address in EXPORTS}
    routes = set()
    for rule in app.url_map.iter_rules():
        for kind in ("csv", "xlsx"):
            address = rule.rule.replace("<any(csv, xlsx):kind>", kind).replace(
                "<any(xlsx, csv):kind>", kind)
            if address.endswith((".csv", ".xlsx")):
                routes.add(address)
    assert routes <= listed, sorted(routes - listed)


def test_every_export_defuses_formulas(app, demo):
    places = plant(demo)
    present: set[str] = set()
    for account, method, template in EXPORTS:
        address = template.format(**places)
        client = logged_in(demo.test_client(), account)
        if method == "POST":
            response = post_form(client, address, {"code": "06811"})
        else:
            response = client.get(address)
        found = cells(response)
        dangerous = [cell for cell, live in found if live]
        assert dangerous == [], (address, dangerous)
        present.update(cell for cell, _live in found)
    # Each planted value came out somewhere (defused, or inside a longer cell), so the
    # sweep saw real data.
    missing = {key for key, value in PLANTED.items()
               if not any(value in cell for cell in present)}
    assert missing == set()


def test_rows_that_only_carry_a_format_are_not_data_rows(app):
    """A column set to Text far down (as the hint on lost zeros advises) makes rows with a
    format and no value: a list of one delegate is not "more than 1,000 rows"."""
    workbook = Workbook()
    workbook.active.append(["Họ và tên", "Điện thoại"])
    workbook.active.append(["Nguyễn Văn An", "0912345678"])
    for row in range(3, 1_500):
        workbook.active.cell(row=row, column=2).number_format = "@"
    buffer = io.BytesIO()
    workbook.save(buffer)
    with app.test_request_context():
        rows = read_table(buffer.getvalue(), "ds.xlsx", importing.COLUMNS, max_rows=1_000,
                          max_bytes=10**6)
    assert [(row.number, row.values["full_name"], row.values["phone"]) for row in rows] == [
        (2, "Nguyễn Văn An", "0912345678")]


def test_the_row_limit_is_written_as_the_reader_writes_numbers(app):
    table = [["Họ và tên"], *([["Nguyễn Văn An"]] * 1_001)]
    for language, message in (("vi", "Tệp có hơn 1.000 dòng dữ liệu; hãy chia nhỏ tệp."),
                              ("en", "The file has more than 1,000 data rows; split it.")):
        with app.test_request_context(), force_locale(language), \
                pytest.raises(TableError) as refused:
            read_table(xlsx(table), "ds.xlsx", importing.COLUMNS, max_rows=1_000,
                       max_bytes=10**6)
        assert [e.message for e in refused.value.errors] == [message]
    assert format_number(1_000) == "1.000"  # outside the app, as in a file check by hand


def test_text_stored_with_a_line_break_before_a_formula_is_never_run(app):
    """An old import or an API client may have stored a carriage return or a line feed
    before a formula: the CSV cell starts with ' and the XLSX cell is text."""
    from confmgr.spreadsheets import xlsx_response

    stored = ["\r=HYPERLINK(\"http://evil.example\")", "\n@SUM(A1)", "\r\n+1", "giữa\r=1"]
    assert [safe_cell(value) for value in stored] == [
        "\n'=HYPERLINK(\"http://evil.example\")", "\n'@SUM(A1)", "\n'+1", "giữa\n'=1"]
    with app.test_request_context():
        response = xlsx_response("x.xlsx", "Trang", ["Ghi chú"], [[value] for value in stored])
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    cells = [sheet.cell(row=r, column=1) for r in range(2, 6)]
    assert [(c.value, c.data_type, c.quotePrefix) for c in cells] == [
        ("\n=HYPERLINK(\"http://evil.example\")", "s", True), ("\n@SUM(A1)", "s", True),
        ("\n+1", "s", True), ("giữa\n=1", "s", False)]
    sheet_xml = zipfile.ZipFile(io.BytesIO(response.get_data())).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml


def test_a_formula_behind_spaces_or_in_full_width_is_defused_and_reads_back(app):
    """A spreadsheet may trim leading spaces (a no-break one too) before reading a cell,
    and some take an input method's full-width "＝" for "=": such text is kept as text
    too, and our own CSV reads back as it was typed."""
    from confmgr.spreadsheets import Column, csv_response, xlsx_response

    stored = [" =1+1", "\u00a0\u00a0-2+3", "\u3000@SUM(A1)", "＝HYPERLINK(\"http://x\")",
              "＋1", "－1", "＠A1", "Giá 1 = 2", " Phó Chủ tịch"]
    assert [safe_cell(value) for value in stored] == [
        "' =1+1", "'\u00a0\u00a0-2+3", "'\u3000@SUM(A1)", "'＝HYPERLINK(\"http://x\")",
        "'＋1", "'－1", "'＠A1", "Giá 1 = 2", " Phó Chủ tịch"]
    with app.test_request_context():
        workbook = xlsx_response("x.xlsx", "Trang", ["Ghi chú"], [[v] for v in stored])
        text = csv_response("x.csv", ["Ghi chú"], [[v] for v in stored]).get_data()
        read = read_table(text, "x.csv", [Column("note", "Ghi chú", required=True)],
                          max_rows=100, max_bytes=10**6)
    sheet = load_workbook(io.BytesIO(workbook.get_data())).active
    assert [sheet.cell(row=r, column=1).quotePrefix for r in range(2, 11)] == [
        True, True, True, True, True, True, True, False, False]
    assert [row.values["note"] for row in read] == [
        "=1+1", "-2+3", "@SUM(A1)", "＝HYPERLINK(\"http://x\")", "＋1", "－1", "＠A1",
        "Giá 1 = 2", "Phó Chủ tịch"]


def test_text_beginning_with_an_apostrophe_before_a_formula_reads_back_as_stored(app):
    """A reader of our files drops the apostrophe put before a formula; text that itself
    begins with apostrophes before one gets one more, so it comes back whole."""
    from confmgr.spreadsheets import Column, csv_response, xlsx_response

    stored = ["'=Võ Văn Dấu", "''+1", "'Anh Thư", "=1", "Bình thường"]
    assert [safe_cell(value) for value in stored] == [
        "''=Võ Văn Dấu", "'" + "''+1", "'Anh Thư", "'=1", "Bình thường"]
    columns = [Column("note", "Ghi chú", required=True)]
    with app.test_request_context():
        for name, response in (
                ("x.csv", csv_response("x.csv", ["Ghi chú"], [[v] for v in stored])),
                ("x.xlsx", xlsx_response("x.xlsx", "Trang", ["Ghi chú"], [[v] for v in stored]))):
            read = read_table(response.get_data(), name, columns, max_rows=100,
                              max_bytes=10**6)
            assert (name, [row.values["note"] for row in read]) == (name, stored)


def test_headings_are_as_safe_as_the_rows(app):
    """A heading may carry a name someone typed (a session's title in a report)."""
    from confmgr.spreadsheets import csv_response, xlsx_response

    headings = ["Mã", "=HYPERLINK(\"http://evil.example\")"]
    with app.test_request_context():
        text = csv_response("x.csv", headings, [["1", "2"]]).get_data(as_text=True)
        workbook = xlsx_response("x.xlsx", "Trang", headings, [["1", "2"]]).get_data()
    assert list(csv.reader(io.StringIO(text.lstrip("\ufeff")))) == [
        ["Mã", "'=HYPERLINK(\"http://evil.example\")"], ["1", "2"]]
    heading = load_workbook(io.BytesIO(workbook)).active.cell(row=1, column=2)
    assert (heading.value, heading.data_type, heading.quotePrefix, heading.font.b) == (
        "=HYPERLINK(\"http://evil.example\")", "s", True, True)
    assert b"<f>" not in zipfile.ZipFile(io.BytesIO(workbook)).read("xl/worksheets/sheet1.xml")


@pytest.mark.parametrize("quoted", ['"Dự buổi sáng', '"Dự" buổi sáng'])
def test_a_stray_quote_in_a_csv_is_named_not_swallowing_the_rows_below(app, quoted):
    """Hand-edited, a cell may open a quote it never closes (or go on after the closing
    one): read loosely, every row below went into that cell unseen, or past csv's field
    limit the upload failed. Refused, naming the row."""
    lines = ["Họ và tên,Điện thoại,Ghi chú", f"Trần Văn An,0912000000,{quoted}"]
    lines += [f"Nguyễn Văn Tư,09{n:08d}," for n in range(50)]
    with app.test_request_context(), pytest.raises(TableError) as refused:
        read_table("\n".join(lines).encode(), "ds.csv", importing.COLUMNS, max_rows=100,
                   max_bytes=10**6)
    assert [(e.row, e.message) for e in refused.value.errors] == [(0, (
        'Dòng 2: một ô mở dấu ngoặc kép (") mà không đóng, hoặc có chữ ngay sau dấu đóng; '
        "từ đó tệp không đọc được. Hãy sửa dòng này."))]
    # Past csv's field limit it is the same message, not a server error.
    lines += [f"Nguyễn Văn Tư Số Mười Hai,09{n:08d},Chuyên viên phòng văn hóa" for n in range(3000)]
    with app.test_request_context(), pytest.raises(TableError) as refused:
        read_table("\n".join(lines).encode(), "ds.csv", importing.COLUMNS, max_rows=20_000,
                   max_bytes=10**7)
    assert refused.value.errors[0].message.startswith("Dòng 2: một ô mở dấu ngoặc kép")
    # A cell that is simply that long, on its own line, is named as such.
    lines = ["Họ và tên,Điện thoại,Ghi chú", "Trần Văn An,0912000000,ổn",
             "Lê Văn Bình,0912000001," + "ghi chú rất dài " * 9_000]
    with app.test_request_context(), pytest.raises(TableError) as refused:
        read_table("\n".join(lines).encode(), "ds.csv", importing.COLUMNS, max_rows=100,
                   max_bytes=10**7)
    assert [(e.row, e.message) for e in refused.value.errors] == [
        (0, "Dòng 3: một ô dài hơn 131.072 ký tự; hãy rút ngắn ô đó.")]


def test_a_download_that_fails_at_its_start_fails_before_its_answer_begins(app):
    """A query that fails as an export starts raises in the view, so the browser gets an
    error page rather than a 200 and a broken file; a download that works comes whole."""
    from confmgr.spreadsheets import csv_response, xlsx_response

    def failing_rows():
        raise RuntimeError("the database went away")
        yield  # a generator, as the exports' row readers are

    with app.test_request_context():
        with pytest.raises(RuntimeError):
            csv_response("x.csv", ["A"], failing_rows())
        with pytest.raises(RuntimeError):
            xlsx_response("x.xlsx", "A", ["A"], failing_rows())
        response = csv_response("x.csv", ["A", "B"], iter([["1", "=2"], ["3", "4"]]))
        assert response.get_data(as_text=True) == "\ufeffA,B\r\n1,'=2\r\n3,4\r\n"
        response = xlsx_response("x.xlsx", "Trang", ["A"], iter([[1], [2]]))
        sheet = load_workbook(io.BytesIO(response.get_data()))["Trang"]
        assert [[c.value for c in row] for row in sheet.iter_rows()] == [["A"], [1], [2]]
