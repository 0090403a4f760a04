"""Reading and writing the spreadsheets people actually use: CSV and XLSX.

Reading is strict and explains itself: every problem names its row and column, and a
file that cannot be trusted (wrong encoding, formulas, merged cells where data is read,
several sheets, too big) is refused whole. Writing defends the reader: a cell that Excel
would take for a formula is written as text (an explicit text cell in XLSX, a leading ' in
CSV), and reading takes that ' off again, so our own exports read back as written.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from xml.parsers import expat

from babel.numbers import format_percent
from flask import Response, stream_with_context
from flask_babel import gettext as _

from confmgr import xlsx
from confmgr.i18n import counted, format_number
from confmgr.text import fold, normalise, normalise_lines, plain_text


@dataclass(frozen=True)
class Column:
    field: str
    heading: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    #: Headings that fill the column only where no other heading does: a list with both
    #: "Điện thoại" and "Di động" reads the first, and shows the second as not read.
    fallbacks: tuple[str, ...] = ()
    #: Text of several lines (a note): its line breaks are kept, each line tidied.
    lines: bool = False
    #: Digits that are not a number (a code, a phone): a template formats the column as
    #: Text, so what is typed there keeps its leading zeros.
    digits: bool = False


@dataclass(frozen=True)
class CellError:
    #: Row number as the spreadsheet shows it; 0 for a problem with the whole file.
    row: int
    column: str
    message: str

    def located(self) -> str:
        """The message after its row and column, for where the row itself is not shown
        (a confirmation refused after its preview)."""
        return _("Dòng %(row)d, cột %(column)s", row=self.row, column=self.column) + (
            f": {self.message}")


class TableError(ValueError):
    def __init__(self, errors: list[CellError]):
        super().__init__("; ".join(f"{e.row}/{e.column}: {e.message}" for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class Row:
    number: int
    values: dict[str, str]
    #: The row's non-empty cells outside our columns: (heading, text) pairs.
    others: tuple[tuple[str, str], ...] = ()


class Table(list):
    """The data rows of a file, with the fields its heading row names: a file may have
    headings and no rows, and every row has the same fields. ``ignored`` are the columns
    not read, which the reader must be told of: by heading, or as «cột E» where a column
    without a heading holds something (those are ``unheaded`` too)."""

    def __init__(self, rows: Iterable[Row] = (), fields: Iterable[str] = (),
                 ignored: Iterable[str] = (), unheaded: Iterable[str] = (),
                 headings: dict[str, str] | None = None):
        super().__init__(rows)
        self.fields = frozenset(fields)
        self.unheaded = tuple(unheaded)
        self.ignored = tuple(ignored) + self.unheaded
        #: The heading of each ignored column labelled with its letters too (a heading
        #: that several columns have: «Sáng (cột E)»).
        self.headings = headings or {}

    def heading_of(self, label: str) -> str:
        """The heading of an ignored column, as written."""
        return self.headings.get(label, label)

    def unread(self, expected: Iterable[str] = ()) -> list[str]:
        """The ignored headings less those ``expected`` to go unread (a signature column)."""
        skip = {fold(heading) for heading in expected}
        return [label for label in self.ignored if fold(self.heading_of(label)) not in skip]


class Formula(str):
    """A cell that holds a formula (in XLSX, or text a spreadsheet would run in CSV): refused
    where data is read, since its text is not the value it shows."""


#: An XLSX is a zip; refuse one that expands past this or compresses suspiciously well.
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 150
#: Empty cells a sheet's grid may hold beyond four for each cell with a value: the reader
#: makes every cell of the rectangle from A1 to the farthest value, so one stray cell at
#: XFD1048576 in a file of a few kilobytes would ask for 17 billion.
MAX_EMPTY_CELLS = 200_000


def phone_with_zero_back(phone: str) -> str:
    """A number typed in a number cell, where Excel dropped its leading zero, with the zero
    back: a mobile's nine digits (912345678) or a landline's ten, whose area code begins
    with 2 (2033123456 for 0203 3123456); any other text as it is."""
    if phone.isdigit() and ((len(phone) == 9 and phone[0] in "35789")
                            or (len(phone) == 10 and phone[0] == "2")):
        return "0" + phone
    return phone


def file_error(message: str) -> TableError:
    return TableError([CellError(0, "", message)])


def read_table(
    data: bytes, filename: str, columns: list[Column], *, max_rows: int, max_bytes: int
) -> Table:
    """The data rows of a CSV or XLSX file, keyed by column field, with their row numbers."""
    if len(data) > max_bytes:
        raise file_error(_("Tệp lớn hơn %(mb)d MB.", mb=max_bytes // (1024 * 1024)))
    lowered = filename.lower()
    if lowered.endswith(".csv"):
        merged_to, grid = (0, ""), _csv_grid(data, columns)  # CSV has no merged cells
    elif lowered.endswith(".xlsx"):
        merged_to, grid = _xlsx_grid(data, max_rows)
    else:
        raise file_error(_("Chỉ nhận tệp .xlsx hoặc .csv."))
    return _rows(grid, columns, max_rows, merged_to=merged_to)


#: As many columns as a spreadsheet has (Excel's XFD): a CSV row with more is no table.
MAX_COLUMNS = 16_384


def _csv_grid(data: bytes, columns: list[Column]) -> Iterator[tuple[int, list]]:
    text = _decode(data)
    delimiter = _delimiter(text, columns)
    try:
        # Restricted to the delimiter chosen, the sniffer only learns quoting and spaces.
        dialect = csv.Sniffer().sniff(text[:4096].split("\n", 1)[0], delimiters=delimiter)
        # A heading line has no quotes to learn from; spreadsheets write a quote in a
        # cell as "", and reading it otherwise splits the cell and shifts the rows.
        dialect.doublequote = True
    except csv.Error:
        dialect = csv.excel
    # Strict: a cell that opens a quote and never closes it would otherwise take every
    # line below it in, unseen (or fail past csv's field size limit).
    reader = csv.reader(io.StringIO(text, newline=""), dialect, delimiter=delimiter,
                        strict=True)
    number = 0
    lines_read = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            # Numbered as the rows before it, as a spreadsheet shows them. Past csv's field
            # limit within one line, the cell is simply long; over many, a quote was left open.
            if ("field larger than field limit" in str(error)
                    and reader.line_num - lines_read <= 1):
                raise file_error(_(
                    "Dòng %(row)d: một ô dài hơn %(count)s ký tự; hãy rút ngắn ô đó.",
                    row=number + 1, count=format_number(csv.field_size_limit()))) from None
            raise file_error(_(
                "Dòng %(row)d: một ô mở dấu ngoặc kép (\") mà không đóng, hoặc có chữ ngay "
                "sau dấu đóng; từ đó tệp không đọc được. Hãy sửa dòng này.",
                row=number + 1)) from None
        number += 1
        lines_read = reader.line_num
        if len(cells) > MAX_COLUMNS:
            # Reading each of a heading row's columns costs: a few megabytes of commas
            # would keep a worker busy for minutes.
            raise file_error(_(
                "Dòng %(row)d có %(count)s cột, nhiều hơn bảng tính nào mở được (%(limit)s); "
                "hãy kiểm tra dấu phân cách của tệp.", row=number,
                count=format_number(len(cells)), limit=format_number(MAX_COLUMNS)))
        # CSV has no formulas, but Excel runs a cell beginning with "=" when it opens one.
        yield number, [Formula(cell) if normalise(cell).startswith("=")
                       else _without_inner_apostrophes(cell) for cell in cells]


_DELIMITERS = (",", ";", "\t")


def _delimiter(text: str, columns: list[Column]) -> str:
    """The delimiter under which a heading row names the most of the table's columns.

    Excel set up for Vietnam (comma as decimal mark) writes ";", and headings may hold
    commas ("Đơn vị (xã, phường)"), so guessing from the characters of the first line
    picks "," wrongly; the headings the table knows tell the delimiters apart.
    """
    by_name = _names(columns)
    required = {c.field for c in columns if c.required}
    scores = {}
    for delimiter in _DELIMITERS:
        best = (False, 0)
        try:
            for texts in _first_rows(csv.reader(io.StringIO(text, newline=""),
                                                delimiter=delimiter)):
                found = _known(texts, by_name)
                best = max(best, (required <= found, len(found)))
        except csv.Error:
            pass
        scores[delimiter] = best
    top = max(scores.values())
    tied = [d for d in _DELIMITERS if scores[d] == top]
    if len(tied) == 1:
        return tied[0]
    # No heading tells them apart (one column, or none known): as before, the sniffer's
    # guess from the first line, else a comma.
    try:
        sniffed = csv.Sniffer().sniff(text[:4096].split("\n", 1)[0],
                                      delimiters="".join(tied)).delimiter
    except csv.Error:
        sniffed = tied[0]
    return sniffed if sniffed in tied else tied[0]


def _utf16_unmarked(data: bytes) -> bool:
    """UTF-16 saved without its byte-order mark: text there, Vietnamese included, puts a
    NUL in every other byte of its opening, where no text in an 8-bit encoding has any
    (which would otherwise pass for Windows-1258, or for UTF-8 full of NULs)."""
    opening = data[:2000]
    halves = (opening[0::2], opening[1::2])
    return len(opening) >= 4 and any(half.count(0) > len(half) * 0.6 for half in halves)


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _utf16_unmarked(data):
        raise file_error(_("Tệp được lưu bằng mã UTF-16. Hãy lưu lại dưới dạng "
                           "«CSV UTF-8 (Comma delimited)»."))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    name = "?"
    for encoding, label in (("cp1258", _("Windows-1258 (tiếng Việt)")),
                            ("cp1252", "Windows-1252")):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        name = label
        break
    raise file_error(_("Tệp được lưu bằng mã %(encoding)s, không phải UTF-8. Hãy lưu lại "
                       "dưới dạng «CSV UTF-8 (Comma delimited)».", encoding=name))


#: A cell reference: its column letters and its row.
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)")


def _not_an_xlsx() -> TableError:
    return file_error(_("Tệp không phải là tệp Excel (.xlsx) hợp lệ."))


def _merged_cells_error(cells: str = "") -> TableError:
    if cells:
        return file_error(_("Tệp có ô gộp (merge) ở %(cells)s. Hãy bỏ gộp ô để mỗi ô một giá "
                            "trị.", cells=cells))
    return file_error(_("Tệp có ô gộp (merge). Hãy bỏ gộp ô để mỗi ô một giá trị."))


def _xlsx_grid(data: bytes, max_rows: int) -> tuple[tuple[int, str],
                                                     Iterator[tuple[int, list]]]:
    """The last row any merged range reaches and that range ((0, "") if none), and the
    sheet's numbered rows."""
    # calamine (Rust) reads a 10,000-row sheet in a tenth of a second, where openpyxl
    # takes seconds; the checks calamine cannot make are made on the zip itself.
    from python_calamine import CalamineWorkbook

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, NotImplementedError):  # damaged, or of a newer zip version
        raise _not_an_xlsx() from None
    unzipped = sum(entry.file_size for entry in entries)
    if unzipped > MAX_UNZIPPED_BYTES or unzipped > MAX_COMPRESSION_RATIO * max(len(data), 1):
        raise file_error(_("Tệp Excel giải nén quá lớn; có thể là tệp độc hại."))
    # The sizes above are only what the zip declares, and calamine would trust them. So
    # every entry is read here, where Python stops at the declared size and checks the CRC,
    # and calamine gets a copy made of those bounded reads.
    try:
        contents = {entry.filename: archive.read(entry) for entry in entries}
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
            ValueError):  # ValueError: an entry said to start before the file does
        raise _not_an_xlsx() from None
    checked = io.BytesIO()
    with zipfile.ZipFile(checked, "w", zipfile.ZIP_STORED) as copy:
        for name, content in contents.items():
            copy.writestr(name, content)
    checked.seek(0)
    sheets = [e.filename for e in entries if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", e.filename)]
    if len(sheets) != 1:
        raise file_error(_("Tệp có %(count)d trang tính; hãy để danh sách trong một trang "
                           "tính duy nhất.", count=len(sheets)))
    # Before calamine reads it, so a million-row sheet is refused at the limit; the heading
    # row may have up to HEADING_SEARCH - 1 rows (a title) above it. The formulas' cells
    # are given as FORMULA so the row check names them (a text cell beginning with "=" is
    # text, as our own exports write it); the merges' last row goes to _rows.
    marks = _sheet_marks(contents[sheets[0]], max_rows, max_rows + HEADING_SEARCH,
                         _zero_padded_styles(contents.get("xl/styles.xml", b"")))
    _refuse_stray_cells(marks)
    try:
        rows = CalamineWorkbook.from_filelike(checked).get_sheet_by_index(0).to_python(
            skip_empty_area=False)
    except Exception:  # calamine raises several kinds for a damaged file
        raise _not_an_xlsx() from None
    width = max((len(cells) for cells in rows), default=0)
    formulas: dict[int, set[int]] = {}
    for row, index in marks.formulas:
        if index < width:  # beyond every heading a formula fills no column
            formulas.setdefault(row, set()).add(index)
    padded: dict[int, dict[int, int]] = {}
    for (row, index), digits in marks.padded.items():
        padded.setdefault(row, {})[index] = digits
    return marks.merged_to, _marked_rows(rows, formulas, padded, width)


def _refuse_stray_cells(marks: _SheetMarks) -> None:
    """Refuse a sheet whose grid would be mostly empty, naming the cell far from the others
    that makes it so (someone went to the sheet's end and typed there)."""
    last_row, last_column = marks.lowest[0], marks.rightmost[1]
    if last_row * (last_column + 1) <= 4 * marks.valued_cells + MAX_EMPTY_CELLS:
        return
    # The dimension stretched the most past what the values fill.
    rows_stretch = last_row / max(marks.valued_rows, 1)
    columns_stretch = (last_column + 1) / max(marks.valued_cells / max(marks.valued_rows, 1), 1)
    row, column = marks.lowest if rows_stretch >= columns_stretch else marks.rightmost
    raise file_error(_("Ô %(cell)s có dữ liệu nhưng nằm xa bảng; hãy xóa ô đó (hoặc cả hàng, "
                       "cả cột của nó) rồi tải lên lại.", cell=f"{xlsx.column_letters(column)}{row}"))


def _zero_padded_styles(styles_xml: bytes) -> dict[str, int]:
    """The cell styles (by index, as a cell's ``s`` names them) whose number format pads
    with zeros, such as "000000", with the number of digits. A code typed as a number in
    such a column shows in Excel as "000123", and is read so, not as 123."""
    if not styles_xml:
        return {}
    formats: dict[str, int] = {}
    padded: dict[str, int] = {}
    where = {"cellXfs": False, "xf": 0}

    def started(name: str, attributes: dict) -> None:
        name = name.rpartition("}")[2]
        if name == "numFmt" and re.fullmatch(r"0+", attributes.get("formatCode", "")):
            formats[attributes.get("numFmtId", "")] = len(attributes["formatCode"])
        elif name == "cellXfs":
            where["cellXfs"] = True
        elif name == "xf" and where["cellXfs"]:
            digits = formats.get(attributes.get("numFmtId", "0"))
            if digits:
                padded[str(where["xf"])] = digits
            where["xf"] += 1

    def ended(name: str) -> None:
        if name.rpartition("}")[2] == "cellXfs":
            where["cellXfs"] = False

    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler, parser.EndElementHandler = started, ended
    parser.StartDoctypeDeclHandler = _refuse_document_type
    try:
        parser.Parse(styles_xml, True)
    except expat.ExpatError:
        raise _not_an_xlsx() from None
    return padded


def _sheet_marks(sheet_xml: bytes, max_rows: int, limit: int,
                 padded_styles: dict[str, int]) -> _SheetMarks:
    """What calamine does not say of a sheet, read from its XML: the cells holding a
    formula, as (row, column index); the number cells of a zero-padding style (see
    _zero_padded_styles), with their digits; and the last row any merged range reaches
    with that range ((0, "") if none). Refuses a sheet of more than ``limit`` rows holding
    values.

    Read by element, whatever prefix the writer gave the namespace or order it gave the
    attributes; a cell or row without its reference follows the one before it, as the
    format allows. A formula saved without its value reads as an empty cell, which in an
    attendance list means present: such a cell must never pass unnoticed.
    """
    marks = _SheetMarks(max_rows, limit, padded_styles)
    # expat rather than a tree: nothing of the sheet is kept but what is marked.
    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = marks.started
    # No spreadsheet declares a document type; one that does may be building entities.
    parser.StartDoctypeDeclHandler = _refuse_document_type
    try:
        parser.Parse(sheet_xml, True)
    except expat.ExpatError:
        raise _not_an_xlsx() from None
    marks.row_done()
    return marks


def _refuse_document_type(*_declaration) -> None:
    raise _not_an_xlsx()


class _SheetMarks:
    """What _sheet_marks gathers, element by element."""

    def __init__(self, max_rows: int, limit: int, padded_styles: dict[str, int]):
        self.max_rows, self.limit, self.padded_styles = max_rows, limit, padded_styles
        self.formulas: set[tuple[int, int]] = set()
        self.padded: dict[tuple[int, int], int] = {}
        self.merged_to = (0, "")
        self.row = self.valued_rows = self.valued_cells = 0
        self.column = -1
        self.row_has_value = False
        #: The cells with a value farthest down and farthest right, as (row, column index).
        self.lowest = self.rightmost = (0, 0)

    def started(self, name: str, attributes: dict) -> None:
        name = name.rpartition("}")[2]
        if name == "c":
            self.column = _cell_column(attributes.get("r"), self.column)
            digits = self.padded_styles.get(attributes.get("s", "0"))
            if digits and attributes.get("t", "n") == "n":
                self.padded[self.row, self.column] = digits
        elif name in ("v", "is"):
            self.row_has_value = True
            self.valued_cells += 1
            if self.row > self.lowest[0]:
                self.lowest = (self.row, self.column)
            if self.column > self.rightmost[1]:
                self.rightmost = (self.row, self.column)
        elif name == "row":
            self.row_done()
            number = attributes.get("r") or str(self.row + 1)
            if not (number.isascii() and number.isdigit()):  # "²" is a digit to isdigit
                raise _not_an_xlsx()
            self.row, self.column = int(number), -1
        elif name == "f":
            self.formulas.add((self.row, self.column))
        elif name == "mergeCell":
            self.merged_to = max(self.merged_to, _merge_reach(attributes.get("ref", "")))

    def row_done(self) -> None:
        """Count the row read last (at the next row or the end: one handler, not two, for
        each of a sheet's hundred thousand elements). Rows that only carry a format (a
        column set to Text far down, as our hint on lost zeros advises) hold no value and
        are not counted."""
        if self.row_has_value:
            self.valued_rows, self.row_has_value = self.valued_rows + 1, False
            if self.valued_rows > self.limit:
                raise file_error(_("Tệp có hơn %(count)s dòng dữ liệu; hãy chia nhỏ tệp.",
                                   count=format_number(self.max_rows)))


def _cell_column(reference: str | None, previous: int) -> int:
    """The column index of a cell: from its reference, or next to the cell before it."""
    if not reference:
        return previous + 1
    found = _CELL_REF.fullmatch(reference)
    if found is None:
        raise _not_an_xlsx()
    return _column_index(found.group(1))


def _merge_reach(reference: str) -> tuple[int, str]:
    """The last row a merged range ("A1:F1") reaches, and the range. A merge keeps its value
    in its first cell and the others read empty. That harms only where data is read, so
    _rows refuses the file if a merge reaches the heading row or below it; a title merged
    across the columns above it is harmless."""
    corners = [_CELL_REF.fullmatch(corner) for corner in reference.split(":")]
    if len(corners) != 2 or None in corners:
        raise _merged_cells_error()  # written otherwise: which rows it covers is unknown
    return max(int(corner.group(2)) for corner in corners), reference


#: An XLSX cell holding a formula, as the rows read show it.
FORMULA = Formula("=")


def _marked_rows(rows: list[list], marked: dict[int, set[int]], padded: dict[int, dict[int, int]],
                 width: int) -> Iterator[tuple[int, list]]:
    """The rows numbered from 1, a formula's cell (``marked``) given as FORMULA and a
    number in a zero-padding style (``padded``) as the text it shows."""
    for number, cells in enumerate(rows, start=1):
        if number in marked or number in padded:
            cells = [*cells, *[None] * (width - len(cells))]
            for index, digits in padded.get(number, {}).items():
                if index < width:
                    cells[index] = _shown_with_zeros(cells[index], digits)
            for index in marked.get(number, ()):
                cells[index] = FORMULA
        yield number, cells
    # A formula saved without its value (as scripts write them) reads as an empty cell, and
    # calamine leaves out trailing rows that read empty: those holding such formulas come
    # back, so they are named rather than skipped. Only those rows, at the sheet's width:
    # a formula addressed to row 1,048,576 costs one row, not a million.
    for number in sorted(n for n in marked if n > len(rows)):
        yield number, [FORMULA if index in marked[number] else None for index in range(width)]


def _shown_with_zeros(value, digits: int):
    """A whole number as a zero-padding format shows it (123 as "000123"); anything else as
    it is."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) \
            and float(value).is_integer() and value >= 0:
        return f"{int(value):0{digits}d}"
    return value


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1


def _cell_text(value, *, lines: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, date):  # as our exports write them
        return xlsx.text_of_time(value)
    text = normalise_lines(str(value)) if lines else normalise(str(value))
    if text[:1] == "'" and xlsx.needs_apostrophe(text[1:]):
        # Undo safe_cell, so our own exports read back as typed: the text after the
        # apostrophe (without the spaces a cell's text never begins with), never a formula
        # (only a Formula cell is one).
        return text[1:].lstrip()
    return text


def _without_inner_apostrophes(cell: str) -> str:
    """A CSV cell as typed before safe_cell put a ' after a semicolon or a line break,
    ahead of text a spreadsheet would run (the one at the start _cell_text takes away,
    from XLSX cells too; these only CSV carries)."""
    parts = _CELL_BEGINNINGS.split(cell)
    return "".join(part[1:] if index and index % 2 == 0 and part[:1] == "'"
                   and xlsx.needs_apostrophe(part[1:]) else part
                   for index, part in enumerate(parts))


#: How many non-empty rows may come before the heading row: an official list has a title
#: ("DANH SÁCH ĐẠI BIỂU …"), maybe a subtitle and a date above its headings.
HEADING_SEARCH = 10

#: Headings of a row-number column. Templates come pre-numbered, so a row with nothing but
#: its number is an unused row, not a delegate without a name.
_NUMBER_HEADINGS = frozenset({"stt", "tt", "so tt", "so thu tu"})


def _names(columns: list[Column], *, fallbacks: bool = True) -> dict[str, Column]:
    by_name = {}
    for column in columns:
        for name in (column.heading, column.field, *column.aliases,
                     *(column.fallbacks if fallbacks else ())):
            by_name[fold(name)] = column
    return by_name


def _known(texts: list[str], by_name: dict[str, Column]) -> set[str]:
    """The fields of the columns these cells name as headings."""
    return {by_name[key].field for key in map(fold, texts) if key in by_name}


def _first_rows(grid: Iterable[list]) -> Iterator[list[str]]:
    """The first HEADING_SEARCH non-empty rows as text: where the heading row may be."""
    found = 0
    for cells in grid:
        if len(cells) > MAX_COLUMNS:
            return  # no table (refused if read so), and each of its cells would cost
        texts = [_cell_text(cell) for cell in cells]
        if any(texts):
            yield texts
            found += 1
            if found == HEADING_SEARCH:
                return


def _header(texts: list[str], columns: list[Column]) -> dict[int, Column]:
    """Which column each heading fills; two headings for one column refuse the file,
    since keeping either would silently drop what the other holds. A fallback heading
    fills a column only where none of ours does, and is otherwise left unread (and said
    so); two fallbacks for one column clash as two of ours do."""
    header: dict[int, Column] = {}
    first: dict[str, str] = {}
    clashes = []
    named = _names(columns, fallbacks=False)
    fallback = {fold(name): column for column in columns for name in column.fallbacks}
    for names in (named, fallback):
        ours = set(first) if names is fallback else set()
        for index, text in enumerate(texts):
            column = names.get(fold(text))
            if column is None or column.field in ours:
                continue  # beside our own heading, another office's is left unread, and said so
            if column.field in first:
                clashes.append(CellError(0, "", _(
                    "Cột «%(first)s» và cột «%(second)s» cùng là «%(column)s»; hãy chỉ giữ "
                    "một cột.", first=first[column.field], second=text, column=column.heading)))
                continue
            first[column.field] = text
            header[index] = column
    if clashes:
        raise TableError(clashes)
    return header


def _rows(grid: Iterable[tuple[int, list]], columns: list[Column], max_rows: int, *,
          merged_to: tuple[int, str] = (0, "")) -> Table:
    """The data rows under the heading row; ``merged_to`` is the last row a merged range
    reaches, which must lie above the heading row, and that range."""
    by_name = _names(columns)
    required = {c.field for c in columns if c.required}
    header: dict[int, Column] | None = None
    # Cells that do not make a row: those under a row-number heading.
    numbering: set[int] = set()
    labels: list[str] = []  # of the columns not read, by index (see _unread_labels)
    ignored: list[str] = []
    repeated: dict[str, str] = {}
    unheaded: dict[int, str] = {}
    above: list[list[str]] = []  # non-empty rows looked at before the heading row
    rows: list[Row] = []
    errors: list[CellError] = []
    for number, cells in grid:
        texts = [_cell_text(cell) for cell in cells]
        if header is None:
            if not any(texts):
                continue
            # The heading row is the first to name every required column; rows above it
            # (a title, a date) are not data.
            if required <= _known(texts, by_name):
                if number <= merged_to[0]:
                    raise _merged_cells_error(merged_to[1])
                header = _header(texts, columns)
                numbering = {i for i, text in enumerate(texts) if fold(text) in _NUMBER_HEADINGS}
                labels = _unread_labels(texts, set(header) | numbering)
                ignored = [label for label in labels if label]
                repeated = {label: texts[index] for index, label in enumerate(labels)
                            if label and label != texts[index]}
                continue
            above.append(texts)
            if len(above) < HEADING_SEARCH:
                continue
            break
        if not any(text for index, text in enumerate(texts) if index not in numbering):
            continue
        if len(rows) >= max_rows:
            raise file_error(_("Tệp có hơn %(count)s dòng dữ liệu; hãy chia nhỏ tệp.",
                               count=format_number(max_rows)))
        values = {}
        for index, column in header.items():
            text = texts[index] if index < len(texts) else ""
            if index < len(cells) and isinstance(cells[index], Formula):
                errors.append(CellError(number, column.heading,
                                        _("Ô chứa công thức; hãy dán giá trị thay vì công thức.")))
            if column.lines and index < len(cells):
                text = _cell_text(cells[index], lines=True)
            values[column.field] = text
        # Cells outside our columns, kept by heading (or column letters where there is
        # none) for a reader that must know what they say.
        others = tuple((_label_or_letters(labels, index, unheaded), text)
                       for index, text in enumerate(texts)
                       if text and index not in header and index not in numbering)
        rows.append(Row(number, values, others))
    if header is None:
        if not above:
            raise file_error(_("Tệp không có dữ liệu."))
        # No row names them all: the first row is what was meant as headings, as before.
        found = _header(above[0], columns).values()
        missing = [c.heading for c in columns if c.required and c not in found]
        raise file_error(_("Thiếu cột: %(columns)s. Hãy dùng tệp mẫu.",
                           columns=", ".join(f"«{m}»" for m in missing)))
    if errors:
        raise TableError(errors)
    return Table(rows, (column.field for column in header.values()), ignored,
                 (unheaded[index] for index in sorted(unheaded)), repeated)


def _unread_labels(texts: list[str], read: set[int]) -> list[str]:
    """The label of each column not ``read``, by index ("" for those read or without a
    heading): its heading, with its letters where another unread column has the same one
    («Sáng (cột E)»), so that what each holds is told and checked apart."""
    unread = [text if text and index not in read else "" for index, text in enumerate(texts)]
    repeated = {text for text, count in Counter(filter(None, unread)).items() if count > 1}
    labelled = _("%(heading)s (cột %(letters)s)")  # translated once, not once a column
    return [labelled % {"heading": text, "letters": xlsx.column_letters(index)}
            if text in repeated else text for index, text in enumerate(unread)]


def _label_or_letters(labels: list[str], index: int, unheaded: dict[int, str]) -> str:
    """A column's label, or its letters where it has no heading (noted in ``unheaded``)."""
    label = labels[index] if index < len(labels) else ""
    if label:
        return label
    if index not in unheaded:
        unheaded[index] = _("cột %(letters)s", letters=xlsx.column_letters(index))
    return unheaded[index]


#: How many headings a message names: a file may carry hundreds.
LISTED_HEADINGS = 10
_LISTED_HEADING_CHARS = 60


def unread_message(headings: list[str]) -> str:
    """What the reader is told of the columns a file carries that were not read; "" if none."""
    if not headings:
        return ""
    return _("Không nhập các cột: %(columns)s. Nếu cần giữ những thông tin này, hãy đặt "
             "tên cột như trong tệp mẫu.", columns=listed_headings(headings))


def listed_headings(headings: list[str]) -> str:
    """«A», «B» … for a message, at most LISTED_HEADINGS of them, each cut short."""
    shown = ", ".join(
        f"«{h if len(h) <= _LISTED_HEADING_CHARS else h[:_LISTED_HEADING_CHARS - 1] + '…'}»"
        for h in headings[:LISTED_HEADINGS])
    if len(headings) > LISTED_HEADINGS:
        shown = counted("%(shown)s và %(count)d cột khác", len(headings) - LISTED_HEADINGS,
                        shown=shown)
    return shown


# ---------------------------------------------------------------- writing


def template_headings(columns: list[Column]) -> list[str]:
    """An import template's headings, its columns of digits formatted as Text."""
    return [xlsx.TextColumn(column.heading) if column.digits else column.heading
            for column in columns]


#: Where a spreadsheet reading our CSV may begin a cell: at a field's start, and inside a
#: field after a line break or a semicolon. Excel set up for Vietnam splits lines on ";",
#: not ",", and honours no quote that does not begin its cell, so for it text after a
#: semicolon or a quoted line break is a cell of its own.
_CELL_BEGINNINGS = re.compile(r"([;\n])")


def safe_cell(value):
    """A CSV value that no spreadsheet will run and every spreadsheet can hold: text loses
    the control characters XLSX cannot store (one pasted answer would make the whole
    download fail), and wherever a cell may begin (see _CELL_BEGINNINGS), text that looks
    like a formula gets a ' before it."""
    if isinstance(value, str):
        parts = _CELL_BEGINNINGS.split(plain_text(value))
        # Odd indexes hold the separators themselves.
        return "".join("'" + part if index % 2 == 0 and xlsx.needs_apostrophe(part) else part
                       for index, part in enumerate(parts))
    if isinstance(value, xlsx.Percent):
        return format_percent(xlsx.share_as_shown(value), "0.0%", locale="en")
    if isinstance(value, date):
        return xlsx.text_of_time(value)
    return value


def csv_response(filename: str, headings: list[str], rows: Iterable[Iterable]) -> Response:
    """A CSV download, streamed row by row, with a BOM so Excel reads it as UTF-8."""
    def generate():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        # Headings may carry names someone typed (a session's title): as safe as the rows.
        writer.writerow([safe_cell(heading) for heading in headings])
        for row in rows:
            writer.writerow([safe_cell(value) for value in row])
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return _download(Response(_streamed(generate()), content_type="text/csv; charset=utf-8"),
                     filename)


def xlsx_response(filename: str, sheet_title: str, headings: list[str],
                  rows: Iterable[Iterable]) -> Response:
    """An XLSX download with a bold, frozen heading row."""
    return xlsx_workbook_response(filename, [(sheet_title, headings, rows)])


def xlsx_workbook_response(filename: str,
                           sheets: list[tuple[str, list[str], Iterable[Iterable]]]) -> Response:
    """An XLSX download of several sheets, each with a bold, frozen heading row, streamed as
    it is written."""
    response = Response(
        _streamed(xlsx.stream(sheets)),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    return _download(response, filename)


def _streamed(pieces: Iterator) -> Iterator:
    """A download's pieces, the first made now: a query that fails at the start gives an
    error page, where once the answer has begun the browser could only get a broken file.
    The rest are made as they are sent (stream_with_context: with the request's database
    session)."""
    first = next(pieces, None)

    def rest():
        try:
            if first is not None:
                yield first
            yield from pieces
        finally:  # a download left half-way still closes its query, in the request's context
            close = getattr(pieces, "close", None)
            if close is not None:
                close()

    return stream_with_context(rest())


def _download(response: Response, filename: str) -> Response:
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
