"""XLSX files written as a stream (Office Open XML, ECMA-376).

Each sheet's rows are written into the zip as they come and the zip goes out in pieces, so
a long list never sits in memory whole; a sheet that reaches Excel's row limit goes on in
another. Only what our exports need: text, numbers, percentages, dates and times (as the
wall-clock time they carry, day first), a bold frozen heading row, and text that Excel must
not take for a formula, which is written as text marked to stay
text when edited: Excel shows it as typed, without the apostrophe a CSV needs.
"""
from __future__ import annotations

import math
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import IntEnum
from itertools import chain
from xml.sax.saxutils import escape, quoteattr

from confmgr.text import plain_text

#: Rows in one Excel sheet, the heading row included.
MAX_SHEET_ROWS = 1_048_576
#: A sheet goes on in the next before its XML reaches what a zip entry holds without Zip64
#: (2 GiB), which Excel reads badly when written as a stream.
MAX_SHEET_BYTES = 2_000_000_000
#: Excel refuses a sheet name longer than this.
MAX_SHEET_NAME = 31
#: How much of the file is gathered before it is sent on.
PIECE_BYTES = 64 * 1024
#: Column widths, in characters: a column is as wide as its heading and the longest text in
#: the sheet's first piece, within these bounds (Excel's default is 8.43, which cuts names,
#: titles and even most headings).
MIN_WIDTH, MAX_WIDTH = 6, 60
#: The error values Excel would show as errors if typed.
ERROR_VALUES = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"})
#: What a cell's text may begin with that a spreadsheet would run, also in full width (an
#: input method's "＝", which some spreadsheets take for "="). A leading carriage return,
#: which may precede a formula, is a line feed by then (plain_text).
FORMULA_START = ("=", "+", "-", "@", "\t", "\n", "＝", "＋", "－", "＠")
#: Spaces a spreadsheet may trim from a cell before it reads it.
_TRIMMED = " \u00a0\u2007\u202f\u3000"


def formula_like(text: str) -> bool:
    """Whether a spreadsheet might run ``text``: it begins as a formula does, or would once
    its leading spaces were trimmed."""
    return text.lstrip(_TRIMMED).startswith(FORMULA_START)


def needs_apostrophe(text: str) -> bool:
    """Whether our files put an apostrophe before ``text``: it looks like a formula, maybe
    behind apostrophes of its own (a reader takes one of those for ours, so the file
    carries one more)."""
    return formula_like(text.lstrip("'"))


#: The most characters a cell holds (UTF-16 units, as Excel counts them): a longer one
#: makes Excel call the file damaged.
MAX_CELL_CHARS = 32_767


def fitted(text: str) -> str:
    """``text`` cut to what a cell holds, with "…" where it was cut."""
    if len(text) < MAX_CELL_CHARS // 2 or len(text.encode("utf-16-le")) // 2 <= MAX_CELL_CHARS:
        return text
    kept = text.encode("utf-16-le")[:2 * (MAX_CELL_CHARS - 1)].decode("utf-16-le", "ignore")
    return kept + "…"


class TextColumn(str):
    """A heading whose column is formatted as Text: what is typed in it is kept as typed, so
    Excel drops no leading zero of a code or a phone number."""


class Percent(float):
    """A share (0.953) shown as a percentage: 95.3% in CSV, a percent-formatted cell in XLSX."""


def share_as_shown(share: float) -> Decimal:
    """A share rounded to a tenth of a per cent as a spreadsheet shows a "0.0%" cell: from
    its shortest decimal form, half away from zero. Pages and CSV files round so too, or
    one delegate of sixteen read 6,2 % there and 6.3 % in the same request's workbook."""
    return Decimal(repr(float(share))).quantize(Decimal("0.001"), ROUND_HALF_UP)


class ToTheSecond(datetime):
    """A moment shown to the second (an audit log's); other moments show hours and minutes."""

    @classmethod
    def of(cls, moment: datetime) -> ToTheSecond:
        return cls.combine(moment.date(), moment.time().replace(microsecond=0), moment.tzinfo)


class _Style(IntEnum):
    """Indexes into the cellXfs of STYLES, in order."""
    PLAIN = 0
    HEADING = 1
    PERCENT = 2
    #: Text kept as text when edited ("quote prefix"): what looks like a formula.
    TEXT = 3
    HEADING_TEXT = 4
    DATE = 5
    DATE_TIME = 6
    DATE_TIME_SECONDS = 7
    #: A column's cells formatted as Text ("@"): see TextColumn.
    TYPED_AS_TEXT = 8


#: Day 0 of Excel's serial dates (as Excel counts, with its 29 February 1900).
_EPOCH = datetime(1899, 12, 30)


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEADER = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

STYLES = _HEADER + (
    f'<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="4"><numFmt numFmtId="164" formatCode="0.0%"/>'
    '<numFmt numFmtId="165" formatCode="dd/mm/yyyy"/>'
    '<numFmt numFmtId="166" formatCode="dd/mm/yyyy hh:mm"/>'
    '<numFmt numFmtId="167" formatCode="dd/mm/yyyy hh:mm:ss"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="9">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" quotePrefix="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="167" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '</cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>'
)
_SHEET_START = _HEADER + (
    f'<worksheet xmlns="{_MAIN}" xmlns:r="{_RELATIONSHIPS}">'
    '<sheetViews><sheetView workbookViewId="0">'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
    '</sheetView></sheetViews>'
)
_SHEET_END = "</sheetData></worksheet>"


def column_letters(index: int) -> str:
    """A column's letters from its index from 0: A, …, Z, AA, …"""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


class _Pieces:
    """Where the zip writes: what it wrote waits here until taken."""

    def __init__(self):
        self._parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        self.size = 0
        return data


def stream(sheets: Iterable[tuple[str, list[str], Iterable[Iterable]]]) -> Iterator[bytes]:
    """The XLSX file of ``sheets`` (title, headings, rows), in pieces as it is written.

    A sheet with more rows than Excel holds (or nearly 2 GB of them) goes on in sheets
    titled "(2)", "(3)", …, each with the headings again. Titles are cut to Excel's 31 characters and made unique.
    """
    pieces = _Pieces()
    titles: list[str] = []
    with zipfile.ZipFile(pieces, "w", zipfile.ZIP_DEFLATED) as archive:
        for title, headings, rows in sheets:
            rows = iter(rows)
            part = 1
            while True:
                titles.append(_unique_title(title, part, titles))
                with archive.open(f"xl/worksheets/sheet{len(titles)}.xml", "w") as sheet:
                    more = yield from _write_sheet(sheet, headings, rows, pieces)
                if more is None:
                    break
                rows = chain([more], rows)
                part += 1
        if not titles:
            raise ValueError("A workbook needs a sheet: Excel opens none without one.")
        archive.writestr("xl/styles.xml", STYLES)
        archive.writestr("xl/workbook.xml", _workbook(titles))
        archive.writestr("xl/_rels/workbook.xml.rels", _workbook_relationships(len(titles)))
        archive.writestr("_rels/.rels", _HEADER + (
            f'<Relationships xmlns="{_PACKAGE_RELATIONSHIPS}"><Relationship Id="rId1" '
            f'Type="{_RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        archive.writestr("[Content_Types].xml", _content_types(len(titles)))
    yield pieces.take()


#: Sheet names Excel keeps for itself.
_RESERVED_TITLES = frozenset({"history"})


def _unique_title(title: str, part: int, taken: list[str]) -> str:
    # Excel forbids these in a sheet's name, and an apostrophe at either end.
    title = "".join(" " if c in "[]:*?/\\" else c for c in title).strip(" \t\n'") or "Sheet"
    suffix = f" ({part})" if part > 1 else ""
    number = 1
    candidate = title[:MAX_SHEET_NAME - len(suffix)].rstrip(" '") + suffix
    unavailable = _RESERVED_TITLES | {t.lower() for t in taken}
    while candidate.lower() in unavailable:
        number += 1
        extra = f" ({part}.{number})" if part > 1 else f" ({number})"
        candidate = title[:MAX_SHEET_NAME - len(extra)].rstrip(" '") + extra
    return candidate


def _write_sheet(sheet, headings: list[str], rows: Iterator[Iterable], pieces: _Pieces):
    """Write the heading row and rows up to the sheet's limit; yield the zip's pieces as they
    grow; return the first row that did not fit, or None."""
    letters = [column_letters(i) for i in range(max(len(headings), 1))]
    # The widths go before the rows, so they are measured on the rows of the first piece.
    widths = [_width(heading) + 2 for heading in headings]  # headings are bold
    buffer = [_row(1, headings, letters, heading=True)]
    size = sum(map(len, buffer))  # characters waiting in the buffer
    written = 0  # bytes of the sheet's XML already in the zip
    number = 1
    for values in rows:
        values = list(values)
        while len(letters) < len(values):
            letters.append(column_letters(len(letters)))
        text = _row(number + 1, values, letters)
        # What waits is counted at UTF-8's most, 4 bytes a character: encoded only as it
        # goes out, it is never more than a piece.
        if number == MAX_SHEET_ROWS or (number > 1 and written + 4 * (size + len(text))
                                        + len(_SHEET_END) > MAX_SHEET_BYTES):
            sheet.write((_sheet_start(widths, written, headings) + "".join(buffer)
                         + _SHEET_END).encode())
            return values
        number += 1
        if not written:
            widths += [0] * (len(values) - len(widths))
            for index, value in enumerate(values):
                widths[index] = max(widths[index], _width(value))
        buffer.append(text)
        size += len(text)
        if size > PIECE_BYTES:
            data = (_sheet_start(widths, written, headings) + "".join(buffer)).encode()
            sheet.write(data)
            written += len(data)
            buffer, size = [], 0
            if pieces.size > PIECE_BYTES:
                yield pieces.take()
    buffer.append(_SHEET_END)
    sheet.write((_sheet_start(widths, written, headings) + "".join(buffer)).encode())
    return None


def _sheet_start(widths: list[int], written: int, headings: list[str]) -> str:
    """What begins a sheet's XML, with its columns' widths and formats; nothing once it is
    written."""
    if written:
        return ""
    typed = {n for n, heading in enumerate(headings, start=1) if isinstance(heading, TextColumn)}
    columns = "".join(
        f'<col min="{n}" max="{n}" width="{min(max(width, MIN_WIDTH), MAX_WIDTH) + 1}" '
        + (f'style="{_Style.TYPED_AS_TEXT}" ' if n in typed else "")
        + 'customWidth="1"/>' for n, width in enumerate(widths, start=1))
    return _SHEET_START + (f"<cols>{columns}</cols>" if columns else "") + "<sheetData>"


def _width(value) -> int:
    """About how many characters a value shows: its longest line, or its number's digits."""
    if value is None or isinstance(value, bool):
        return 0
    if isinstance(value, date):
        return len(text_of_time(value))
    if isinstance(value, Percent):
        return 6  # 100.0%
    if isinstance(value, float):
        return len(f"{value:.2f}")
    if isinstance(value, int):
        return len(str(int(value)))
    return max(map(len, str(value).split("\n")))


def _row(number: int, values, letters: list[str], heading: bool = False) -> str:
    cells = "".join(_cell(f"{letters[i]}{number}", value, heading)
                    for i, value in enumerate(values))
    return f'<row r="{number}">{cells}</row>'


def _cell(ref: str, value, heading: bool) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, datetime):
        # Excel has no zones: the time as its own zone's clock shows it.
        style = _Style.DATE_TIME_SECONDS if isinstance(value, ToTheSecond) else _Style.DATE_TIME
        return f'<c r="{ref}" s="{style}"><v>{_serial(value.replace(tzinfo=None))!r}</v></c>'
    if isinstance(value, date):
        return f'<c r="{ref}" s="{_Style.DATE}"><v>{(value - _EPOCH.date()).days}</v></c>'
    if isinstance(value, Percent) and math.isfinite(value):
        return f'<c r="{ref}" s="{_Style.PERCENT}"><v>{float(value)!r}</v></c>'
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        style = f' s="{_Style.HEADING}"' if heading else ""
        # The plain number, whatever subclass carries it (an IntEnum would repr its name).
        number = int(value) if isinstance(value, int) else float(value)
        return f'<c r="{ref}"{style}><v>{number!r}</v></c>'
    # Control characters cannot be stored in XML: one pasted answer would spoil the file.
    text = plain_text(str(value))
    # A cell marked as text needs no apostrophe before a formula, only before one of its own.
    if text[:1] == "'" and needs_apostrophe(text):
        text = "'" + text
    text = fitted(text)
    kept_text = needs_apostrophe(text) or text in ERROR_VALUES
    if heading:
        style = _Style.HEADING_TEXT if kept_text else _Style.HEADING
    else:
        style = _Style.TEXT if kept_text else _Style.PLAIN
    style_attribute = f' s="{style}"' if style else ""
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return (f'<c r="{ref}" t="inlineStr"{style_attribute}><is><t{space}>{escape(text)}</t></is>'
            f'</c>')


def _serial(moment: datetime) -> float:
    """Days since Excel's day 0, to the second."""
    delta = moment - _EPOCH
    return round(delta.days + delta.seconds / 86400, 10)


def text_of_time(value: date) -> str:
    """A date or time as a CSV writes it: as the XLSX shows it, day first."""
    if not isinstance(value, datetime):
        return f"{value:%d/%m/%Y}"
    return f"{value:%d/%m/%Y %H:%M:%S}" if isinstance(value, ToTheSecond) else (
        f"{value:%d/%m/%Y %H:%M}")


def _workbook(titles: list[str]) -> str:
    sheets = "".join(f'<sheet name={quoteattr(title)} sheetId="{n}" r:id="rId{n}"/>'
                     for n, title in enumerate(titles, start=1))
    return _HEADER + (f'<workbook xmlns="{_MAIN}" xmlns:r="{_RELATIONSHIPS}">'
                      f'<sheets>{sheets}</sheets></workbook>')


def _workbook_relationships(count: int) -> str:
    sheets = "".join(f'<Relationship Id="rId{n}" Type="{_RELATIONSHIPS}/worksheet" '
                     f'Target="worksheets/sheet{n}.xml"/>' for n in range(1, count + 1))
    return _HEADER + (f'<Relationships xmlns="{_PACKAGE_RELATIONSHIPS}">{sheets}'
                      f'<Relationship Id="rId{count + 1}" Type="{_RELATIONSHIPS}/styles" '
                      f'Target="styles.xml"/></Relationships>')


def _content_types(count: int) -> str:
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    sheets = "".join(f'<Override PartName="/xl/worksheets/sheet{n}.xml" '
                     f'ContentType="{kind}.worksheet+xml"/>' for n in range(1, count + 1))
    return _HEADER + (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{kind}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{kind}.styles+xml"/>'
        f'{sheets}</Types>')
