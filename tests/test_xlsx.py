"""The streamed XLSX writer, read back by two parsers of other projects: openpyxl (Python)
and calamine (Rust), as Excel's users' files are read."""
from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, datetime, timedelta, timezone
from xml.etree import ElementTree

import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from confmgr import xlsx
from confmgr.spreadsheets import safe_cell
from confmgr.xlsx import Percent


def written(sheets) -> bytes:
    return b"".join(xlsx.stream(sheets))


def test_values_styles_and_the_frozen_heading_read_back_as_written():
    data = written([("Đại biểu", ["STT", "Họ và tên", "=Tỷ lệ", "Ghi chú"], [
        [1, "Nguyễn Văn An", Percent(0.953), "  hai dấu cách trước"],
        [2, "Lê <Thị> & Hoa", 12.5, "=HYPERLINK(\"http://x\")"],
        [3, "Trần\x07 Văn\x00 Bình\uffff", None, "#N/A"],
        [4, "", True, "-1 là chữ"],
    ])])
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Đại biểu"]
    sheet = book["Đại biểu"]
    assert sheet.freeze_panes == "A2"
    assert [[cell.value for cell in row] for row in sheet.iter_rows()] == [
        ["STT", "Họ và tên", "=Tỷ lệ", "Ghi chú"],
        [1, "Nguyễn Văn An", 0.953, "  hai dấu cách trước"],
        [2, "Lê <Thị> & Hoa", 12.5, "=HYPERLINK(\"http://x\")"],
        [3, "Trần Văn Bình", None, "#N/A"],
        [4, None, True, "-1 là chữ"],
    ]
    heading = sheet["A1"], sheet["C1"]
    assert [(c.font.b, c.quotePrefix, c.data_type) for c in heading] == [
        (True, False, "s"), (True, True, "s")]
    assert sheet["C2"].number_format == "0.0%" and sheet["C3"].number_format == "General"
    # What a spreadsheet would run is text, kept text when edited; not a formula.
    assert [(c.data_type, c.quotePrefix) for c in (sheet["D3"], sheet["D4"], sheet["D5"])] == [
        ("s", True), ("s", True), ("s", True)]
    assert (sheet["D2"].data_type, sheet["D2"].quotePrefix) == ("s", False)
    calamine = CalamineWorkbook.from_filelike(io.BytesIO(data))
    assert calamine.sheet_names == ["Đại biểu"]
    assert calamine.get_sheet_by_index(0).to_python() == [
        ["STT", "Họ và tên", "=Tỷ lệ", "Ghi chú"],
        [1.0, "Nguyễn Văn An", 0.953, "  hai dấu cách trước"],
        [2.0, "Lê <Thị> & Hoa", 12.5, "=HYPERLINK(\"http://x\")"],
        [3.0, "Trần Văn Bình", "", "#N/A"],
        [4.0, "", True, "-1 là chữ"],
    ]


def test_columns_are_as_wide_as_their_heading_and_longest_text_within_bounds():
    data = written([("Đại biểu", ["STT", "Họ và tên", "Tỷ lệ", "Ghi chú"], [
        [1, "Nguyễn Văn An", Percent(0.5), "x" * 100],
        [22, "Lê Thị Hoa", Percent(1), "hai dòng\nmột dòng dài hơn"],
    ])])
    sheet = load_workbook(io.BytesIO(data))["Đại biểu"]
    # The heading (bold: two more) or the longest text, one more for the margin; a long
    # note stops at 60 and a short column stays at least 6.
    assert {letter: sheet.column_dimensions[letter].width for letter in "ABCD"} == {
        "A": 7, "B": 14, "C": 8, "D": 61}


def test_dates_and_times_are_cells_excel_sorts_shown_day_first():
    """As the clock of the zone they carry shows them: Excel knows no zones."""
    hanoi = timezone(timedelta(hours=7))
    session = datetime(2025, 6, 14, 7, 30, tzinfo=hanoi)
    logged = xlsx.ToTheSecond.of(datetime(2026, 11, 29, 15, 30, 22, 900, tzinfo=hanoi))
    data = written([("Giờ", ["Bắt đầu", "Lúc", "Ngày"],
                     [[session, logged, date(2025, 6, 15)]])])
    sheet = load_workbook(io.BytesIO(data))["Giờ"]
    assert [(c.value, c.number_format) for c in sheet[2]] == [
        (datetime(2025, 6, 14, 7, 30), "dd/mm/yyyy hh:mm"),
        (datetime(2026, 11, 29, 15, 30, 22), "dd/mm/yyyy hh:mm:ss"),
        (datetime(2025, 6, 15), "dd/mm/yyyy")]
    assert [safe_cell(v) for v in (session, logged, date(2025, 6, 15))] == [
        "14/06/2025 07:30", "29/11/2026 15:30:22", "15/06/2025"]


def test_every_part_is_well_formed_xml_and_declared():
    data = written([("Một", ["A"], [[1]]), ("Hai", ["B"], [])])
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    names = archive.namelist()
    assert sorted(names) == ["[Content_Types].xml", "_rels/.rels", "xl/_rels/workbook.xml.rels",
                             "xl/styles.xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml",
                             "xl/worksheets/sheet2.xml"]
    for name in names:
        ElementTree.fromstring(archive.read(name))
    types = archive.read("[Content_Types].xml").decode()
    assert types.count("spreadsheetml.worksheet+xml") == 2
    assert load_workbook(io.BytesIO(data)).sheetnames == ["Một", "Hai"]


def test_sheet_titles_are_cut_cleaned_and_unique():
    title = "Theo điểm cầu: tỉnh/thành phố [mới]*?"
    data = written([(title, ["A"], [[1]]), (title, ["A"], [[2]]), ("", ["A"], [])])
    assert load_workbook(io.BytesIO(data)).sheetnames == [
        "Theo điểm cầu  tỉnh thành phố", "Theo điểm cầu  tỉnh thành p (2)", "Sheet"]


def test_titles_excel_refuses_are_mended_and_a_workbook_needs_a_sheet():
    data = written([("'Trích dẫn'", ["A"], [[1]]), ("History", ["A"], [[2]]),
                    ("'", ["A"], [[3]])])
    assert load_workbook(io.BytesIO(data)).sheetnames == ["Trích dẫn", "History (2)", "Sheet"]
    with pytest.raises(ValueError):
        written([])


def test_numbers_of_any_kind_and_text_with_a_lone_surrogate_read_back():
    from enum import IntEnum

    class Level(IntEnum):
        PROVINCE = 2

    data = written([("Số", ["A", "B", "C"], [[Level.PROVINCE, Percent(0.5), "Hoa\ud83d lá"]])])
    row = [cell.value for cell in next(load_workbook(io.BytesIO(data))["Số"].iter_rows(min_row=2))]
    assert row == [2, 0.5, "Hoa lá"]


def test_a_sheet_past_excels_row_limit_goes_on_in_the_next(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_SHEET_ROWS", 4)  # the heading row and three rows a sheet
    data = written([("Đại biểu", ["STT", "Họ và tên"],
                     ([n, f"Người {n}"] for n in range(1, 9))), ("Khác", ["X"], [[1]])])
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Đại biểu", "Đại biểu (2)", "Đại biểu (3)", "Khác"]
    assert [[[c.value for c in row] for row in book[name].iter_rows()]
            for name in book.sheetnames[:3]] == [
        [["STT", "Họ và tên"], [1, "Người 1"], [2, "Người 2"], [3, "Người 3"]],
        [["STT", "Họ và tên"], [4, "Người 4"], [5, "Người 5"], [6, "Người 6"]],
        [["STT", "Họ và tên"], [7, "Người 7"], [8, "Người 8"]],
    ]
    # Exactly full: no empty sheet after it.
    full = written([("Đủ", ["A"], ([n] for n in range(3)))])
    assert load_workbook(io.BytesIO(full)).sheetnames == ["Đủ"]


def test_a_sheet_nearing_what_a_plain_zip_entry_holds_goes_on_in_the_next(monkeypatch):
    """Long before a million rows, a sheet of long texts could pass the 2 GB a zip entry
    holds without Zip64: it goes on in the next sheet, every row kept once."""
    monkeypatch.setattr(xlsx, "MAX_SHEET_BYTES", 1_200)
    monkeypatch.setattr(xlsx, "PIECE_BYTES", 300)  # written to the zip in several pieces
    rows = [[n, "chữ " * 40] for n in range(1, 13)]
    data = written([("Dài", ["STT", "Nội dung"], iter(rows))])
    book = load_workbook(io.BytesIO(data))
    archive = zipfile.ZipFile(io.BytesIO(data))
    sizes = [archive.getinfo(f"xl/worksheets/sheet{n}.xml").file_size
             for n in range(1, len(book.sheetnames) + 1)]
    assert len(sizes) > 2 and max(sizes) <= 1_200
    assert book.sheetnames[:3] == ["Dài", "Dài (2)", "Dài (3)"]
    read_back = [[c.value for c in row] for name in book.sheetnames
                 for row in book[name].iter_rows(min_row=2)]
    assert read_back == rows
    # A row longer than the limit alone still gets a sheet of its own, not an endless loop.
    monkeypatch.setattr(xlsx, "MAX_SHEET_BYTES", 10)
    book = load_workbook(io.BytesIO(written([("Một", ["A"], [["x" * 50], ["y"]])])))
    assert [[c.value for c in row] for name in book.sheetnames
            for row in book[name].iter_rows(min_row=2)] == [["x" * 50], ["y"]]


def test_the_file_goes_out_in_pieces_while_rows_are_still_coming():
    consumed = []

    def rows():
        for n in range(60_000):
            consumed.append(n)
            yield [n, f"Đại biểu số {n} của điểm cầu xã", "Cán bộ, công chức", n * 7]

    pieces = xlsx.stream([("Đại biểu", ["STT", "Họ và tên", "Thành phần", "Số"], rows())])
    first = next(pieces)
    assert first[:2] == b"PK" and len(consumed) < 60_000
    rest = b"".join(pieces)
    assert len(consumed) == 60_000
    sheet = load_workbook(io.BytesIO(first + rest), read_only=True)["Đại biểu"]
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 60_001
    assert rows[-1] == (59_999, "Đại biểu số 59999 của điểm cầu xã", "Cán bộ, công chức",
                        419_993)


# ---------------------------------------------------------------- CSV cells, long cells, typed columns


#: Text a coordinator may type in a note, and the cells a CSV reader splitting lines on
#: ";" (Excel set up for Vietnam) or on line breaks would see begin in it.
SPLIT_FORMULAS = [
    ("Họp;=HYPERLINK(CHAR(104)&CHAR(116));", "Họp;'=HYPERLINK(CHAR(104)&CHAR(116));"),
    ("dòng 1\n+1+1;x", "dòng 1\n'+1+1;x"),
    ("=A1; -2; @B\n＝C", "'=A1;' -2;' @B\n'＝C"),
    ("Hà Nội; Quảng Ninh\n2 người", "Hà Nội; Quảng Ninh\n2 người"),
    ("';=x", "';'=x"),
]


@pytest.mark.parametrize("typed, written", SPLIT_FORMULAS)
def test_no_cell_a_csv_reader_may_begin_inside_a_value_starts_a_formula(typed, written):
    """Only a value's first character was defused: Excel set up for Vietnam splits lines
    on ";" and honours no quote that does not begin its cell, so "=HYPERLINK(…)" after a
    semicolon, or after a line break in a quoted note, was a formula it ran."""
    assert safe_cell(typed) == written
    for cell in re.split(r"[;\n]", written):
        assert not xlsx.formula_like(cell), cell


def test_a_csv_of_defused_values_reads_back_as_typed():
    from confmgr.spreadsheets import Column, read_table

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Ghi chú"])
    for typed, _written in SPLIT_FORMULAS:
        writer.writerow([safe_cell(typed)])
    table = read_table(("\ufeff" + buffer.getvalue()).encode(), "x.csv",
                       [Column("note", "Ghi chú", lines=True)], max_rows=100, max_bytes=10_000)
    assert [row.values["note"] for row in table] == [typed for typed, _written in SPLIT_FORMULAS]


def test_text_past_what_a_cell_holds_is_cut_with_an_ellipsis():
    """An audit entry of a 17,000-character introduction changed made a cell of 34,000:
    Excel called the workbook damaged."""
    long_text = "Giới thiệu: " + "a" * 40_000
    emoji = "😀" * 20_000  # two UTF-16 units each, as Excel counts
    data = written([("Nhật ký", ["Chi tiết"], [[long_text], [emoji], ["ngắn"]])])
    values = [row[0] for row in load_workbook(io.BytesIO(data)).active.iter_rows(
        min_row=2, values_only=True)]
    assert values[0] == long_text[:32_766] + "…"
    assert values[1] == "😀" * 16_383 + "…"
    assert values[2] == "ngắn"
    assert [len(v.encode("utf-16-le")) // 2 for v in values[:2]] == [32_767, 32_767]


def test_columns_of_digits_are_formatted_as_text_for_what_is_typed_in_them():
    """Excel drops the leading zeros of 00123 typed in a General column: the import
    templates' code and phone columns are Text, where it is kept as typed."""
    data = written([("Mẫu", ["Tên", xlsx.TextColumn("Mã"), xlsx.TextColumn("Điện thoại")], [])])
    sheet = load_workbook(io.BytesIO(data)).active
    assert [sheet.column_dimensions[letter].number_format for letter in "ABC"] == [
        "General", "@", "@"]
    assert [cell.value for cell in sheet[1]] == ["Tên", "Mã", "Điện thoại"]
    assert [cell.font.b for cell in sheet[1]] == [True, True, True]


@pytest.mark.parametrize("stray, named", [("J100000", "J100000"), ("XFD1048576", "XFD1048576"),
                                          ("ZZ300", "ZZ300")])
def test_one_value_far_from_the_table_is_named_not_read_as_a_grid_of_millions(stray, named):
    """One cell typed at the sheet's end (Ctrl+↓, then a key) in a file of a few kilobytes:
    the reader made every cell of the rectangle up to it, a million at J100000 (9 s),
    seventeen billion at XFD1048576 (the worker ran out of memory)."""
    from openpyxl import Workbook

    from confmgr.spreadsheets import Column, TableError, read_table

    book = Workbook()
    book.active.append(["Mã", "Tên"])
    book.active.append(["01", "Hà Nội"])
    book.active[stray] = "x"
    buffer = io.BytesIO()
    book.save(buffer)
    columns = [Column("code", "Mã", required=True), Column("name", "Tên")]
    with pytest.raises(TableError) as refused:
        read_table(buffer.getvalue(), "x.xlsx", columns, max_rows=40_000, max_bytes=10**7)
    assert [error.message for error in refused.value.errors] == [
        f"Ô {named} có dữ liệu nhưng nằm xa bảng; hãy xóa ô đó (hoặc cả hàng, cả cột của nó) "
        "rồi tải lên lại."]


def test_a_long_table_with_gaps_and_notes_beside_it_is_read():
    """What the refusal above must not catch: 20,000 rows with blank rows between them and
    a note a few columns to the right."""
    from openpyxl import Workbook

    from confmgr.spreadsheets import Column, read_table

    book = Workbook()
    book.active.append(["Mã", "Tên"])
    for number in range(20_000):
        book.active.append([f"{number:05d}", f"Điểm {number}"])
        if number % 100 == 0:
            book.active.append([])
    book.active["H2"] = "ghi chú bên cạnh"
    buffer = io.BytesIO()
    book.save(buffer)
    columns = [Column("code", "Mã", required=True), Column("name", "Tên")]
    table = read_table(buffer.getvalue(), "x.xlsx", columns, max_rows=40_000, max_bytes=10**8)
    assert len(table) == 20_000 and table[-1].values == {"code": "19999", "name": "Điểm 19999"}


def test_apostrophes_inside_a_value_survive_our_xlsx_and_the_longest_cell_fits():
    """Reading took an apostrophe after every semicolon or line break for ours, in XLSX
    too, where we put none: "a;'=b" came back "a;=b". And a longest text beginning "'="
    went past Excel's limit once its apostrophe was doubled."""
    from confmgr.spreadsheets import Column, read_table

    typed = ["a;'=b", "dòng 1\n'-2", "';'=x"]
    longest = "'=" + "a" * 40_000
    data = written([("Trang", ["Ghi chú"], [[value] for value in [*typed, longest]])])
    table = read_table(data, "x.xlsx", [Column("note", "Ghi chú", lines=True)],
                       max_rows=100, max_bytes=10**7)
    assert [row.values["note"] for row in table][:3] == typed
    cell = load_workbook(io.BytesIO(data)).active["A5"].value
    assert len(cell) == 32_767 and cell.startswith("''=") and cell.endswith("…")
