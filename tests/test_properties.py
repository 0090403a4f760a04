"""Properties checked on generated input: the Vietnamese sort key, the spreadsheet importers
and the iCalendar writer.

These tests take no ``database_url``: the importers run once, on an SQLite file of their
own holding the demo conference, and everything else needs no database.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from flask_migrate import upgrade
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from icalendar import Calendar
from sqlalchemy import func, select

from confmgr.calendar.feeds import Feed, Place, build_calendar
from confmgr.conferences.publishing import (
    Named,
    PublishedAgenda,
    PublishedConference,
    PublishedPresenter,
    PublishedSession,
    PublishedTopic,
)
from confmgr.conferences.scheduling import bare_topic_number
from confmgr.db import db
from confmgr.enums import PointLevel, RegistrationStatus, SessionKind, SessionStatus
from confmgr.points import importing as point_import
from confmgr.points.models import BroadcastPoint
from confmgr.roster import importing as delegate_import
from confmgr.roster.models import Category, Participant
from confmgr.roster.sorting import name_key
from confmgr.spreadsheets import TableError, read_table
from tests.conftest import make_app

#: The same examples on every run, so a failure in CI is a change in the code, never a new
#: draw (and never minutes of shrinking a draw no one changed anything for).
EXAMPLES = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# ---------------------------------------------------------------- Vietnamese names

#: The Vietnamese alphabet in its order, and the tones in theirs (none, huyền, hỏi, ngã,
#: sắc, nặng): written out here rather than taken from the module under test.
LETTERS = "a ă â b c d đ e ê f g h i j k l m n o ô ơ p q r s t u ư v w x y z".split()
TONES = ("", "\u0300", "\u0309", "\u0303", "\u0301", "\u0323")
ONSETS = ("", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng",
          "ngh", "nh", "p", "ph", "qu", "r", "s", "t", "th", "tr", "v", "x")
NUCLEI = ("a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "ia", "iê", "oa", "oe",
          "uâ", "uô", "ươ", "uy", "yê")
CODAS = ("", "c", "ch", "m", "n", "ng", "nh", "p", "t", "i", "o", "u", "y")

#: A word as (letter index, tone index) per character; a name as its words.
Word = tuple[tuple[int, int], ...]


def spell(word: Word, capital: bool = True) -> str:
    text = unicodedata.normalize("NFC", "".join(LETTERS[l] + TONES[t] for l, t in word))
    return text[:1].upper() + text[1:] if capital else text


def written(name: tuple[Word, ...]) -> str:
    """A name as people write it: NFC, each word capitalised, single spaces."""
    return " ".join(spell(word) for word in name)


@st.composite
def syllables(draw) -> Word:
    onset, nucleus, coda = (draw(st.sampled_from(parts)) for parts in (ONSETS, NUCLEI, CODAS))
    tone = draw(st.integers(0, len(TONES) - 1))
    marked = draw(st.integers(0, len(nucleus) - 1))
    return tuple((LETTERS.index(c), tone if part == "n" and i == marked else 0)
                 for part, letters in (("o", onset), ("n", nucleus), ("c", coda))
                 for i, c in enumerate(letters))


#: Any letters, tones on the vowels only, beyond real syllables.
LETTERS_WITH_TONES = [(l, t) for l, letter in enumerate(LETTERS)
                      for t in (range(len(TONES)) if letter in "aăâeêioôơuưy" else [0])]
letter_words = st.lists(st.sampled_from(LETTERS_WITH_TONES), min_size=1, max_size=7).map(tuple)
words = st.one_of(syllables(), syllables(), letter_words)
#: (family, middle..., given): one to five words.
names = st.lists(words, min_size=1, max_size=5).map(tuple)


VOWEL_LETTERS = frozenset(LETTERS.index(letter) for letter in "aăâeêioôơuưy")


def placed(word: Word) -> Word:
    """The word with its one tone mark on its last vowel, where the compare form puts it
    ("Hòa" as "Hoà"); a word with no mark, or several, as it is."""
    marks = [tone for _letter, tone in word if tone]
    vowels = [i for i, (letter, _tone) in enumerate(word) if letter in VOWEL_LETTERS]
    if len(marks) != 1 or not vowels:
        return word
    return tuple((letter, marks[0] if i == vowels[-1] else 0)
                 for i, (letter, _tone) in enumerate(word))


def sort_parts(name: tuple[Word, ...]) -> tuple:
    """What the module's docstring promises to sort by: tên, then họ, then tên đệm, each
    compared letters first and tones only on a tie, each word's tone where the compare
    form puts it; a space sorts before every letter."""
    name = tuple(placed(word) for word in name)
    if len(name) == 1:
        family, middle, given = (), (), name[0]
    else:
        family, given = name[0], name[-1]
        middle = tuple(pair for i, word in enumerate(name[1:-1])
                       for pair in ((() if i == 0 else ((-1, 0),)) + word))
    return tuple(part for chars in (given, family, middle)
                 for part in (tuple(l for l, _t in chars), tuple(t for _l, t in chars)))


WHITESPACE = st.text(alphabet=" \u00a0\t\u2003\u3000\n", min_size=1, max_size=3)


@st.composite
def variant(draw, name: tuple[Word, ...]) -> str:
    """The same name typed differently: decomposed or not, any case, any spaces."""
    separators = [draw(WHITESPACE) for _ in range(len(name) - 1)]
    text = "".join(spell(word) + (separators[i] if i < len(separators) else "")
                   for i, word in enumerate(name))
    text = draw(st.sampled_from(["", " ", "\u00a0", "\t "])) + text + draw(
        st.sampled_from(["", " ", "\u3000"]))
    cases = draw(st.lists(st.sampled_from([str.lower, str.upper, str]), min_size=len(text),
                          max_size=len(text)))
    text = "".join(case(char) for case, char in zip(cases, text))
    return unicodedata.normalize(draw(st.sampled_from(["NFC", "NFD", "NFKC"])), text)


@EXAMPLES
@given(st.lists(names, min_size=2, max_size=30))
def test_sorting_by_name_key_sorts_by_given_then_family_then_middle_name(people):
    """Sorting by name_key equals sorting by (tên, họ, tên đệm), each part compared letter by
    letter in the Vietnamese alphabet and, only where the letters tie, tone by tone."""
    expected = [written(name) for name in sorted(people, key=sort_parts)]
    assert sorted((written(name) for name in people), key=name_key) == expected


@EXAMPLES
@given(st.data(), names)
def test_name_key_ignores_composition_case_and_spacing(data, name):
    """A name decomposed (NFD) or not, in any case, with any runs of spaces (non-breaking,
    tabs, line breaks, ideographic) between and around its words, has the same key."""
    assert name_key(data.draw(variant(name))) == name_key(written(name))


@st.composite
def near(draw, name: tuple[Word, ...]) -> tuple[Word, ...]:
    """Another name one step away: a tone, a letter or a word changed, or words swapped."""
    words_ = [list(word) for word in name]
    w = draw(st.integers(0, len(words_) - 1))
    c = draw(st.integers(0, len(words_[w]) - 1))
    letter, tone = words_[w][c]
    change = draw(st.sampled_from(["tone", "letter", "drop", "swap"]))
    if change == "tone":
        words_[w][c] = draw(st.sampled_from([p for p in LETTERS_WITH_TONES if p[0] == letter]))
    elif change == "letter":
        words_[w][c] = draw(st.sampled_from(LETTERS_WITH_TONES))
    elif change == "drop" and len(words_) > 1:
        del words_[w]
    else:
        words_.reverse()
    return tuple(tuple(word) for word in words_)


@EXAMPLES
@given(st.data(), names)
def test_equal_keys_are_equal_names(data, name):
    """Keys are bytes, so they order totally; two names share a key exactly when they are
    the same name once normalised (same words, letters and tones, a word's tone wherever
    it is written: "Hòa" and "Hoà")."""
    other = data.draw(st.one_of(names, near(name)))
    assert (name_key(written(name)) == name_key(data.draw(variant(other)))) == (
        [placed(word) for word in name] == [placed(word) for word in other])
    assert (name_key(written(name)) < name_key(written(other))) == (
        sort_parts(name) < sort_parts(other))


# ---------------------------------------------------------------- the importers

@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    """The demo conference on an SQLite file of this module's own."""
    from confmgr.demo.loader import load_demo

    folder = tmp_path_factory.mktemp("properties")
    app = make_app(f"sqlite:///{folder / 'demo.sqlite3'}", folder / "instance")
    with app.app_context():
        upgrade()
        load_demo()
    yield app
    with app.app_context():
        db.engine.dispose()


VOWELS = "aăâeêioôơuưy"
CONSONANTS = "bcdđghklmnpqrstvxfjwz"
VIETNAMESE = "".join(unicodedata.normalize("NFC", v + t) for v in VOWELS for t in TONES)
VIETNAMESE += CONSONANTS
VIETNAMESE += VIETNAMESE.upper()
#: The characters of free text: no spaces (they come between words), no "=" (a formula).
TEXT_CHARACTERS = VIETNAMESE + "0123456789,.;:-–()\"'/&?!%+@#*_<>…«»"
text_words = st.text(alphabet=TEXT_CHARACTERS, min_size=1, max_size=12)


def free_text(max_words: int) -> st.SearchStrategy[str]:
    """Text as it is stored: NFC, single spaces, no spaces at the ends."""
    return st.lists(text_words, max_size=max_words).map(" ".join)


@st.composite
def as_typed(draw, canonical: str) -> str:
    """``canonical`` as a spreadsheet may carry it: odd spaces, line breaks, decomposed."""
    if not canonical:
        return draw(st.sampled_from(["", "", " ", "\u00a0"]))
    parts = canonical.split(" ")
    text = "".join(part + (draw(WHITESPACE) if i < len(parts) - 1 else "")
                   for i, part in enumerate(parts))
    text = draw(st.sampled_from(["", " ", "\u00a0"])) + text + draw(
        st.sampled_from(["", " ", "\t", "\n"]))
    return unicodedata.normalize(draw(st.sampled_from(["NFC", "NFD"])), text)


def stored_note(typed: str) -> str:
    """A note as stored from a cell: its line breaks kept, each line's spaces tidied, no
    blank line at either end nor two in a row."""
    lines = [" ".join(line.split()) for line in unicodedata.normalize("NFC", typed).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines).strip("\n"))


@dataclass
class Planned:
    """One data row of a generated file and what the importer must make of it."""

    cells: dict[str, str]
    #: The stored fields of a row that must be accepted, else None.
    accepted: dict | None = None
    #: The column a refused row must be reported in.
    refused_in: str = ""
    #: Whether the refusal is a formula, which refuses the whole file when read.
    formula: bool = False
    blank: bool = False


@dataclass
class File:
    content: bytes
    filename: str
    #: What was written, shown when an example fails.
    table: list[list[str]]

    def __repr__(self) -> str:
        return f"File({self.filename!r}, {self.table!r})"


@st.composite
def spreadsheet(draw, columns, rows: list[Planned]) -> File:
    """The rows as an XLSX or CSV file, with the headings as people write them."""
    order = draw(st.permutations(columns))
    headings = [draw(st.sampled_from((column.heading, column.heading.upper(),
                                      *column.aliases))) for column in order]
    if draw(st.booleans()):
        order, headings = [None, *order], ["STT", *headings]  # a column no one asked for
    table = [headings] + [[row.cells.get(c.field, "") if c else str(i + 1) if not row.blank
                           else "" for c in order] for i, row in enumerate(rows)]
    if draw(st.booleans()):
        from openpyxl import Workbook

        book = Workbook()
        for line in table:
            book.active.append(line)
        buffer = io.BytesIO()
        book.save(buffer)
        return File(buffer.getvalue(), "danh-sach.xlsx", table)
    buffer = io.StringIO()
    # One heading gives the sniffer no separator to find; a comma is then assumed.
    delimiter = draw(st.sampled_from([",", ";", "\t"])) if len(headings) > 1 else ","
    csv.writer(buffer, delimiter=delimiter,
               lineterminator=draw(st.sampled_from(["\r\n", "\n"]))).writerows(table)
    bom = draw(st.sampled_from(["", "\ufeff"]))
    return File((bom + buffer.getvalue()).encode("utf-8"), "danh-sach.csv", table)


def formula_or(draw, planned: Planned, columns) -> Planned:
    """Now and then, a formula in one of the row's columns instead.

    The row keeps a value beside it: a last row holding nothing but formulas without
    computed values (a generated file) is not read at all (see the report).
    """
    if draw(st.integers(0, 14)) == 0:
        column = draw(st.sampled_from(columns))
        if any(text.strip() for name, text in planned.cells.items() if name != column.field):
            cells = {**planned.cells, column.field: draw(st.sampled_from(
                ["=1+1", "=SUM(A1:A3)", "=A2"]))}
            return Planned(cells, refused_in=column.heading, formula=True)
    return planned


DELEGATE_COLUMNS = {c.field: c for c in delegate_import.COLUMNS}


@st.composite
def delegate_rows(draw, categories: list[tuple[int, str]],
                  registered: list[tuple[str, str]]) -> tuple[list, list[Planned]]:
    """Columns (always the name) and 1 to 10 rows: valid, invalid (one fault each), blank."""
    optional = [c for c in delegate_import.COLUMNS if not c.required]
    columns = [DELEGATE_COLUMNS["full_name"], *draw(st.lists(
        st.sampled_from(optional), unique=True, max_size=len(optional)))]
    has = {c.field for c in columns}
    rows: list[Planned] = []
    for index in range(draw(st.integers(1, 10))):
        fields = {"full_name": written(draw(names)),
                  "position": draw(free_text(6)) if "position" in has else "",
                  "unit": draw(free_text(6)) if "unit" in has else "",
                  "category_id": None, "phone": "", "email": "",
                  "note": draw(free_text(40)) if "note" in has else ""}
        cells = {name: draw(as_typed(fields[name])) for name in
                 ("full_name", "position", "unit", "note") if name in has}
        if "note" in has:
            fields["note"] = stored_note(cells["note"])
        if "category" in has and draw(st.booleans()):
            fields["category_id"], category = draw(st.sampled_from(categories))
            cells["category"] = draw(st.sampled_from([
                category, category.upper(), unicodedata.normalize("NFD", category),
                "".join(c for c in unicodedata.normalize("NFD", category.replace("đ", "d"))
                        if not unicodedata.combining(c))]))
        if "phone" in has and draw(st.booleans()):
            rest = f"7{index:02d}{draw(st.integers(0, 999999)):06d}"
            fields["phone"] = "0" + rest
            cells["phone"] = draw(st.sampled_from([
                "0" + rest, "+84 " + rest, "84" + rest, rest,  # Excel dropped the 0
                f"0{rest[:2]}.{rest[2:5]}.{rest[5:]}", f"(0{rest[:2]}) {rest[2:5]} {rest[5:]}"]))
        if "email" in has and draw(st.booleans()):
            local = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=10))
            fields["email"] = f"{local}.{index}@donvi.gov.vn"
            cells["email"] = draw(st.sampled_from([
                fields["email"], fields["email"].upper(), f"  {fields['email']} "]))
        planned = Planned(cells, accepted=fields)

        faults = ["name_digit", "name_long", "blank"]
        if has & {"position", "unit", "note", "category"}:
            faults.append("name_missing")
        earlier = [row for row in rows if row.accepted and row.accepted["phone"]]
        if earlier and "phone" in has:
            faults.append("same_as_earlier")
        if "phone" in has:
            faults += ["phone", "registered"]
        faults += [name for name in ("position", "unit", "email", "category") if name in has]
        fault = draw(st.sampled_from(faults)) if draw(st.integers(0, 2)) == 0 else None
        heading = DELEGATE_COLUMNS["full_name"].heading
        if fault == "blank":
            planned = Planned({name: draw(st.sampled_from(["", " ", "\u00a0"]))
                               for name in has}, blank=True)
        elif fault == "name_missing":
            cells["full_name"] = draw(st.sampled_from(["", " "]))
            # Something else on the row, or it would be a blank row.
            other = sorted(has & {"position", "unit", "note"})
            if other:
                cells[other[0]] = "Còn lại"
            else:
                cells["category"] = categories[0][1]
            planned = Planned(cells, refused_in=heading)
        elif fault == "name_digit":
            cells["full_name"] = cells["full_name"] + draw(st.sampled_from([" 2", "1", " ²"]))
            planned = Planned(cells, refused_in=heading)
        elif fault == "name_long":
            repeated = (fields["full_name"] + " ") * (400 // len(fields["full_name"]))
            cells["full_name"] = repeated[:draw(st.integers(201, 400))].strip() + "a"
            planned = Planned(cells, refused_in=heading)
        elif fault == "same_as_earlier":
            first = draw(st.sampled_from(earlier)).accepted
            cells.update(full_name=first["full_name"].upper(), phone=first["phone"])
            cells.pop("email", None)
            planned = Planned(cells, refused_in=heading)
        elif fault == "registered":
            cells["full_name"], cells["phone"] = draw(st.sampled_from(registered))
            cells.pop("email", None)
            planned = Planned(cells, refused_in=heading)
        elif fault == "phone":
            cells["phone"] = draw(st.sampled_from(["12345", "091234567890123", "gọi sau",
                                                   "0912 34x 678"]))
            planned = Planned(cells, refused_in=DELEGATE_COLUMNS["phone"].heading)
        elif fault in ("position", "unit"):
            cells[fault] = "Phó " * 80
            planned = Planned(cells, refused_in=DELEGATE_COLUMNS[fault].heading)
        elif fault == "email":
            cells["email"] = draw(st.sampled_from(["abc", "a@", "@donvi.vn", "a b@c.vn",
                                                   "x@@y.vn"]))
            planned = Planned(cells, refused_in=DELEGATE_COLUMNS["email"].heading)
        elif fault == "category":
            cells["category"] = "Khách mời quốc tế"
            planned = Planned(cells, refused_in=DELEGATE_COLUMNS["category"].heading)
        if not planned.blank:
            planned = formula_or(draw, planned, columns)
        rows.append(planned)
    return columns, rows


def expected_formula_errors(rows: list[Planned]) -> list[tuple[int, str]]:
    return sorted((number, row.refused_in) for number, row in enumerate(rows, start=2)
                  if row.formula)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@EXAMPLES
@given(st.data())
def test_the_delegate_import_accepts_exactly_the_valid_rows(demo_app, data):
    """For a file of valid, faulty and blank rows (CSV or XLSX, any heading spelling and
    column order), reading and checking raise nothing but TableError; a formula refuses the
    file naming each formula's row and column; otherwise every valid row comes back with
    exactly its cleaned fields, every faulty row with one error at its row and column,
    nothing is written, and a file without faults is written exactly as checked."""
    with demo_app.app_context():
        point = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "06811"))
        categories = [(c.id, c.name) for c in db.session.scalars(
            select(Category).where(Category.conference_id == point.conference_id)
            .order_by(Category.id))]
        registered = db.session.execute(select(Participant.full_name, Participant.phone).where(
            Participant.status == RegistrationStatus.REGISTERED, Participant.phone != "")
            .order_by(Participant.id).limit(20)).all()
        columns, rows = data.draw(delegate_rows(categories, [tuple(r) for r in registered]))
        file = data.draw(spreadsheet(columns, rows))
        before = count(Participant)

        formulas = expected_formula_errors(rows)
        try:
            table = read_table(file.content, file.filename, delegate_import.COLUMNS,
                               max_rows=delegate_import.MAX_ROWS,
                               max_bytes=delegate_import.MAX_BYTES)
        except TableError as refused:
            assert [(e.row, e.column) for e in refused.errors] == formulas
            assert {e.message for e in refused.errors} == {
                "Ô chứa công thức; hãy dán giá trị thay vì công thức."}
            return
        assert formulas == []
        checked = delegate_import.check_rows(point, table)
        kept = [(number, row) for number, row in enumerate(rows, start=2) if not row.blank]
        assert [item.number for item in checked] == [number for number, _row in kept]
        for item, (number, row) in zip(checked, kept):
            if row.accepted is not None:
                assert item.errors == []
                assert item.fields == row.accepted
            else:
                assert [(e.row, e.column) for e in item.errors] == [(number, row.refused_in)]
        assert count(Participant) == before  # the preview writes nothing

        if checked and all(row.accepted for _number, row in kept):
            token = delegate_import.keep_for_confirmation(point, 1, file.filename, checked)
            assert delegate_import.confirm(point, 1, token, organiser=True) == (len(checked), 0)
            stored = db.session.scalars(select(Participant).where(
                Participant.point_id == point.id).order_by(Participant.id.desc())
                .limit(len(checked))).all()[::-1]
            assert [{name: getattr(p, name) for name in row.accepted} for p in stored] == [
                row.accepted for _number, row in kept]
        db.session.rollback()


POINT_COLUMNS = {c.field: c for c in point_import.COLUMNS}
UNCHECKED = object()
LEVEL_SPELLINGS = {
    PointLevel.MAIN: ("Trung ương", "TRUNG ƯƠNG", "Điểm cầu chính", "main"),
    PointLevel.PROVINCE: ("Tỉnh", "Thành phố", "tỉnh/thành phố", "TINH"),
    PointLevel.COMMUNE: ("Xã", "Phường", "Đặc khu", "xã/phường", "commune"),
    PointLevel.OTHER: ("Khác", "Bộ ngành", "Đơn vị", "other"),
}


@st.composite
def point_rows(draw, existing: dict[str, str | None]) -> tuple[list, list[Planned]]:
    """Columns (always code, name, level) and 1 to 10 rows of new points."""
    required = [c for c in point_import.COLUMNS if c.required]
    optional = [c for c in point_import.COLUMNS if not c.required]
    columns = required + draw(st.lists(st.sampled_from(optional), unique=True,
                                       max_size=len(optional)))
    has = {c.field for c in columns}
    rows: list[Planned] = []
    for index in range(draw(st.integers(1, 10))):
        code = f"X-{index}-{draw(st.text(alphabet='ABCxyz019._-', max_size=6))}"
        level = draw(st.sampled_from(list(PointLevel)))
        values = {"code": code, "name": draw(free_text(8).filter(bool)), "level": level,
                  "parent": None, "province_code": None, "expected_delegates": 0}
        cells = {"code": code, "name": draw(as_typed(values["name"])),
                 "level": draw(st.sampled_from(LEVEL_SPELLINGS[level]))}
        earlier = [row.accepted["code"] for row in rows if row.accepted]
        if "parent_code" in has and draw(st.booleans()):
            parent = draw(st.sampled_from(sorted(existing) + earlier))
            values["parent"] = cells["parent_code"] = parent
            # A point under one of the file's own points gets no province (see the report
            # on points.importing); only an existing parent's province is certain.
            values["province_code"] = existing[parent] if parent in existing else UNCHECKED
        for name, limit in point_import.TEXT_LIMITS.items():
            if name in has and name not in ("name", "stream_url"):
                values[name] = draw(free_text(limit // 60))
                cells[name] = draw(as_typed(values[name]))
        if "expected_delegates" in has and draw(st.booleans()):
            values["expected_delegates"] = draw(st.integers(0, 1_000_000))
            # As typed, or with thousands grouped the Vietnamese way ("1.200").
            cells["expected_delegates"] = (
                f"{values['expected_delegates']:,}".replace(",", ".") if draw(st.booleans())
                else str(values["expected_delegates"]))
        if "technical_officer_phone" in has:
            values["technical_officer_phone"] = draw(st.sampled_from(
                ["", "0203 3.852.123", "(+84) 912-345-678"]))
            cells["technical_officer_phone"] = values["technical_officer_phone"]
        if "stream_url" in has:
            values["stream_url"] = draw(st.sampled_from(
                ["", "https://meet.example.vn/phong-1?ma=a,b;c", "http://10.0.0.1:8080/"]))
            cells["stream_url"] = values["stream_url"]
        planned = Planned(cells, accepted=values)

        faults = ["code_bad", "name_missing", "name_long", "level", "blank"]
        if earlier:
            faults.append("code_again")
        if "parent_code" in has:
            faults += ["parent_unknown", "parent_self"]
        faults += [name for name in ("admin_unit_code", "expected_delegates",
                                     "technical_officer_phone", "stream_url", "address")
                   if name in has]
        fault = draw(st.sampled_from(faults)) if draw(st.integers(0, 2)) == 0 else None
        heading = {name: POINT_COLUMNS[name].heading for name in POINT_COLUMNS}
        if fault == "blank":
            planned = Planned({name: "" for name in has}, blank=True)
        elif fault == "code_bad":
            cells["code"] = draw(st.sampled_from(["mã điểm", "A/B", "X" * 41, "", "x y"]))
            planned = Planned(cells, refused_in=heading["code"])
        elif fault == "code_again":
            cells["code"] = draw(st.sampled_from(earlier))
            cells.pop("parent_code", None)
            planned = Planned(cells, refused_in=heading["code"])
        elif fault == "name_missing":
            cells["name"] = " "
            planned = Planned(cells, refused_in=heading["name"])
        elif fault == "name_long":
            cells["name"] = "Điểm cầu " * 40
            planned = Planned(cells, refused_in=heading["name"])
        elif fault == "level":
            cells["level"] = draw(st.sampled_from(["Huyện", "quận", "", "Tỉnh, Xã"]))
            planned = Planned(cells, refused_in=heading["level"])
        elif fault == "parent_unknown":
            cells["parent_code"] = "KHONG-CO-MA-NAY"
            planned = Planned(cells, refused_in=heading["parent_code"])
        elif fault == "parent_self":
            cells["parent_code"] = code
            planned = Planned(cells, refused_in=heading["parent_code"])
        elif fault == "admin_unit_code":
            cells["admin_unit_code"] = draw(st.sampled_from(["XYZ", "99999", "1"]))
            planned = Planned(cells, refused_in=heading["admin_unit_code"])
        elif fault == "expected_delegates":
            cells["expected_delegates"] = draw(st.sampled_from(
                ["-3", "ba mươi", "1,000", "1.0000", "1234567890", "1.000.001", "²"]))
            planned = Planned(cells, refused_in=heading["expected_delegates"])
        elif fault == "technical_officer_phone":
            cells["technical_officer_phone"] = "gọi anh Nam"
            planned = Planned(cells, refused_in=heading["technical_officer_phone"])
        elif fault == "stream_url":
            cells["stream_url"] = draw(st.sampled_from(["ftp://x.vn", "www.x.vn"]))
            planned = Planned(cells, refused_in=heading["stream_url"])
        elif fault == "address":
            cells["address"] = "Số 1, đường Trần Hưng Đạo; " * 20
            planned = Planned(cells, refused_in=heading["address"])
        if not planned.blank:
            planned = formula_or(draw, planned, columns)
        rows.append(planned)
    return columns, rows


@EXAMPLES
@given(st.data())
def test_the_point_import_writes_every_valid_row_or_nothing(demo_app, data):
    """A file with any faulty row raises TableError naming exactly the faulty rows and their
    columns and writes nothing, not even inside the transaction; a file without faults adds
    every row with exactly the values it gave."""
    with demo_app.app_context():
        conference_id, existing = db.session.scalar(select(BroadcastPoint.conference_id)), {}
        for code, province in db.session.execute(
                select(BroadcastPoint.code, BroadcastPoint.province_code)):
            existing[code] = province
        columns, rows = data.draw(point_rows(existing))
        file = data.draw(spreadsheet(columns, rows))
        from confmgr.conferences.models import Conference

        conference = db.session.get(Conference, conference_id)
        before = count(BroadcastPoint)
        kept = [(number, row) for number, row in enumerate(rows, start=2) if not row.blank]
        formulas = expected_formula_errors(rows)
        try:
            table = read_table(file.content, file.filename, point_import.COLUMNS,
                               max_rows=10_000, max_bytes=8 * 1024 * 1024)
            added, updated = point_import.import_points(conference, table)
        except TableError as refused:
            found = [(e.row, e.column) for e in refused.errors]
            assert found == (formulas or sorted(
                (number, row.refused_in) for number, row in kept if row.accepted is None))
            assert count(BroadcastPoint) == before  # not even inside the transaction
            db.session.rollback()
            return
        assert formulas == [] and all(row.accepted for _number, row in kept)
        assert (added, updated) == (len(kept), 0)
        codes = {p.id: p.code for p in db.session.scalars(select(BroadcastPoint))}
        for _number, row in kept:
            point = db.session.scalar(select(BroadcastPoint).where(
                BroadcastPoint.conference_id == conference_id,
                BroadcastPoint.code == row.accepted["code"]))
            stored = {"code": point.code, "name": point.name, "level": point.level,
                      "parent": codes.get(point.parent_id), "province_code": point.province_code,
                      "expected_delegates": point.expected_delegates,
                      **{name: getattr(point, name) for name in row.accepted
                         if name in point_import.TEXT_LIMITS
                         or name in ("technical_officer_phone",)}}
            expected = {name: value for name, value in row.accepted.items()
                        if value is not UNCHECKED}
            assert {name: stored[name] for name in expected} == expected
        db.session.rollback()


@EXAMPLES
@given(st.one_of(st.binary(max_size=600),
                 st.lists(st.lists(st.text(max_size=30), max_size=8), max_size=6).map(
                     lambda table: "\n".join(",".join(row) for row in table).encode())),
       st.sampled_from(["a.csv", "a.xlsx", "a.txt"]))
def test_reading_any_file_fails_only_with_the_importers_own_error(demo_app, content, name):
    """Any bytes at all, with or without a proper heading line, are read and checked or
    refused with TableError saying why; every error of a checked row names its row and
    column."""
    with demo_app.app_context():
        point = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "06811"))
        headed = "Họ và tên,Điện thoại\n".encode() + content
        for data in (content, headed):
            try:
                rows = read_table(data, name, delegate_import.COLUMNS,
                                  max_rows=100, max_bytes=1024 * 1024)
            except TableError as refused:
                assert refused.errors and all(e.message for e in refused.errors)
                continue
            for item in delegate_import.check_rows(point, rows):
                assert all(e.row == item.number and e.column for e in item.errors)
        db.session.rollback()


# ---------------------------------------------------------------- the calendar writer

ICS_TEXT = st.text(alphabet=st.characters(
    codec="utf-8", exclude_categories=["Cs", "Cc", "Zl", "Zp"], include_characters="\n\t"),
    max_size=200)
TIME_ZONES = ("Asia/Ho_Chi_Minh", "UTC", "Europe/Berlin", "America/Sao_Paulo")


@st.composite
def agendas(draw) -> PublishedAgenda:
    tz_name = draw(st.sampled_from(TIME_ZONES))
    tz = ZoneInfo(tz_name)
    start = datetime(2025, 3, 20, tzinfo=timezone.utc) + timedelta(
        minutes=draw(st.integers(0, 300 * 24 * 60)))
    sessions = []
    for index, uid in enumerate(draw(st.lists(st.uuids(), min_size=1, max_size=8,
                                              unique=True))):
        starts = start + timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)))
        # Long sessions run past midnight and into the next days.
        ends = starts + timedelta(minutes=draw(st.integers(1, 40 * 60)))
        for moment in (starts, ends):
            local = moment.astimezone(tz)
            # A local time that occurs twice (clocks set back) cannot name its instant.
            assume(local.replace(fold=1 - local.fold).utcoffset() == local.utcoffset())
        topic = draw(st.none() | st.builds(
            PublishedTopic, number=st.text("0123456789.", min_size=1, max_size=3),
            title=ICS_TEXT, summary=ICS_TEXT, materials=st.just(())))
        sessions.append(PublishedSession(
            id=index + 1, uid=str(uid), starts_at=starts, ends_at=ends,
            kind=draw(st.sampled_from(list(SessionKind))),
            title=draw(ICS_TEXT | st.sampled_from([
                "Khai mạc; phát biểu, chỉ đạo", "Dòng 1\nDòng 2", "Tiêu đề " * 30])),
            description=draw(ICS_TEXT),
            status=draw(st.sampled_from(list(SessionStatus))),
            room=draw(st.none() | st.builds(Named, ICS_TEXT)),
            topic=topic,
            presenters=tuple(draw(st.lists(st.builds(
                PublishedPresenter, ICS_TEXT, ICS_TEXT, ICS_TEXT), max_size=3))),
            sequence=draw(st.integers(0, 50)),
            created=start, modified=start + timedelta(seconds=draw(st.integers(0, 10**6))),
            tz=tz))
    days = [moment.astimezone(tz).date() for s in sessions for moment in (s.starts_at, s.ends_at)]
    conference = PublishedConference(
        title=draw(ICS_TEXT), organising_unit="", description="", timezone=tz_name,
        first_day=min(days), last_day=max(days))
    return PublishedAgenda(1, start, "", conference, tuple(sessions))


def expected_summary(session: PublishedSession) -> str:
    # The number as every page shows it ("03" is topic 3).
    title = session.title if session.topic is None else (
        f"Chuyên đề {bare_topic_number(session.topic.number)}: {session.title}")
    return title


@EXAMPLES
@given(agendas(), st.none() | st.builds(Place, ICS_TEXT, st.sampled_from(
    ["", "https://meet.example.vn/a?x=1,2;3"])), st.sampled_from([None, 15]))
def test_every_calendar_reads_back_event_for_event(agenda, place, alarm):
    """Every line has at most 75 octets and ends in CRLF; icalendar reads back one event
    per session, in order, with its UID, summary, start and end instants, location and
    status."""
    feed = Feed(name="Lịch, hội nghị; thử", page_url="https://confmgr.example/c/hn/",
                source_url="https://confmgr.example/c/hn.ics", place=place,
                alarm_minutes=alarm)
    content = build_calendar(agenda, feed, cached=False)

    assert content.endswith(b"\r\n")
    lines = content[:-2].split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)
    assert all(b"\n" not in line and b"\r" not in line for line in lines)
    content.decode("utf-8")  # folding never splits a character

    events = Calendar.from_ical(content).walk("VEVENT")
    assert [str(e["UID"]) for e in events] == [f"{s.uid}@confmgr" for s in agenda.sessions]
    assert [str(e["SUMMARY"]) for e in events] == [
        expected_summary(s) for s in agenda.sessions]
    assert [(e["DTSTART"].dt, e["DTEND"].dt) for e in events] == [
        (s.starts_at, s.ends_at) for s in agenda.sessions]
    assert [str(e["LOCATION"]) if "LOCATION" in e else None for e in events] == [
        place.location if place else s.room.name if s.room else None
        for s in agenda.sessions]
    assert [str(e["STATUS"]) for e in events] == [
        "CANCELLED" if s.status == SessionStatus.CANCELLED else "CONFIRMED"
        for s in agenda.sessions]


# ---------------------------------------------------------------- namesakes in a delegate list


CONTACTS = st.lists(st.tuples(st.sampled_from(["", None, "0912345678", "0987654321"]),
                              st.sampled_from(["", None, "a@example.org", "b@example.org"])),
                    max_size=12)


@given(CONTACTS, st.tuples(st.sampled_from(["", "0912345678", "0900000000"]),
                           st.sampled_from(["", "a@example.org", "c@example.org"])))
def test_the_namesakes_a_row_may_be_are_found_as_by_comparing_with_each(earlier, newcomer):
    """The lookup that replaced comparing each row with every earlier namesake (minutes for
    a file of thousands of one name) finds the same first row, or none."""
    from confmgr.roster.importing import _Namesakes

    def surely_apart(a: dict, b: dict) -> bool:
        return any(a[key] and b[key] and a[key] != b[key] for key in ("phone", "email"))

    seen = _Namesakes()
    rows = [{"phone": phone, "email": email} for phone, email in earlier]
    for number, fields in enumerate(rows, start=2):
        seen.add(fields, number)
    fields = {"phone": newcomer[0], "email": newcomer[1]}
    expected = next((number for number, other in enumerate(rows, start=2)
                     if not surely_apart(fields, other)), None)
    assert seen.may_be(fields) == expected
