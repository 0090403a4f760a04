"""Importing an agenda prepared in another calendar (.ics) into a conference's draft.

The same two steps as importing delegates: a preview where every event is checked and
nothing is written, then a confirmation that checks the kept events again and writes all
of them or none. Sessions land in the live (draft) rows only; delegates see them after
the next publication.

Choices made for what a calendar file can say:

- A time without a time zone (floating) is read in the conference's time zone, with a
  warning: an agenda typed into a desktop calendar means the local time of the venue.
  A wall time the clocks skip (daylight saving) is refused, as the editor refuses it.
- A line the parser cannot read is an error of its event, never passed over: it may be
  the STATUS:CANCELLED or the LOCATION.
- An event cancelled in the file (STATUS:CANCELLED) is skipped when it would be new, and
  cancels the session when it updates one. An update never reinstates a cancelled
  session: that stays a deliberate act in the editor.
- A property the event does not carry (LOCATION, DESCRIPTION) leaves the updated
  session's room or description as it is.
- An event from this system's own feed (UID "…@confmgr") keeps the session's
  description: the feed's DESCRIPTION also holds presenters, topic summary and a link;
  and its room, unless LOCATION names another room of the agenda: a point's feed gives
  the point's address there.
- The kind comes from CATEGORIES when it names one (our feed writes it), else a linked
  topic makes a topic session and anything else is "other"; an update keeps its kind.
- New sessions get UIDs of their own, as every session does; the source calendar's UIDs
  may be long or hold characters that do not belong in an address.
"""
from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar
from icalendar.parser import Contentline
from icalendar.parser.ical import CalendarIcalParser
from icalendar.timezone import TZP
from sqlalchemy import select

from confmgr import previews
from confmgr.audit.services import record
from confmgr.calendar.feeds import UID_DOMAIN
from confmgr.conferences.editing import YEARS, RuleBroken, hold_conference, room_key
from confmgr.conferences.labels import SESSION_KIND_LABELS
from confmgr.conferences.models import AgendaSession, Conference, Room, Topic
from confmgr.conferences.scheduling import (
    Problem,
    bare_topic_number,
    binds_a_cancelled_session,
    check_slot,
    ends_on_its_day,
    skipped_by_clocks,
    slot_of,
)
from confmgr.db import db
from confmgr.enums import SessionKind, SessionStatus
from confmgr.text import fold, normalise, plain_text

MAX_BYTES = 2 * 1024 * 1024
MAX_EVENTS = 2000
MAX_TITLE = AgendaSession.__table__.c.title.type.length
#: "Chuyên đề " and a topic number (at most 20 characters) and ": ".
TOPIC_PREFIX_LENGTH = len("Chuyên đề ") + Topic.__table__.c.number.type.length + len(": ")
MAX_ROOM = Room.__table__.c.name.type.length
MAX_DESCRIPTION = 10_000
OWN_UID_SUFFIX = f"@{UID_DOMAIN}"
RECURRENCE = ("RRULE", "RDATE", "EXRULE", "RECURRENCE-ID")
#: Properties RFC 5545 allows once in an event: given twice, which one was meant is a guess
#: (a STATUS:CONFIRMED then a STATUS:CANCELLED).
ONCE = ("UID", "DTSTART", "DTEND", "DURATION", "SUMMARY", "LOCATION", "DESCRIPTION", "STATUS")
#: Properties read as text: given as another type (VALUE=BINARY, base64), they are unread.
TEXT = ("UID", "SUMMARY", "DESCRIPTION", "LOCATION", "STATUS")
#: Byte order marks of UTF-16 and UTF-32, as some Windows tools write calendar files.
WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff")
#: A fold (RFC 5545 §3.1), as icalendar unfolds it: a line break (blank lines after it
#: included) and a space or tab. Removed from the bytes, so that a tool folding inside a
#: UTF-8 character leaves the character whole.
FOLD = re.compile(rb"(?:(?<!\n)\r\n|(?<![\r\n])\n)(?:\r?\n)*[ \t]")
#: A line that opens or closes a component, with the component's name.
BOUNDARY = re.compile(rb"^(BEGIN|END)[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r?$", re.M | re.I)
#: How icalendar files a line it cannot split into name, parameters and value.
UNSPLIT = "Content line could not be parsed into parts: '"
LINE_NAME = re.compile(r"([A-Za-z0-9-]+)[;:]")
#: Longer lines are cut when quoted in a message.
QUOTED = 100
#: "Chuyên đề 3: title" or "Chuyên đề 3 – title"; the first two words are compared folded.
TOPIC_PREFIX = re.compile(
    r"^(?P<words>\S+\s+\S+)\s+(?P<number>.+?)\s*(?::|\s[-–—]\s)\s*(?P<title>\S.*)$", re.S
)

NEW, UPDATE, SKIP = "new", "update", "skip"


@dataclass
class ImportedEvent:
    """One VEVENT of the file: what it says, and what confirming would do with it."""

    #: Position among the file's events, from 1: how messages name the event.
    number: int
    uid: str = ""
    summary: str = ""
    #: None where the event has no such property, so an update leaves the field alone.
    description: str | None = None
    location: str | None = None
    starts_at: datetime | None = None  # UTC
    ends_at: datetime | None = None
    cancelled: bool = False
    categories: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Decided against the conference's agenda by _plan():
    action: str = ""
    title: str = ""
    kind: SessionKind | None = None
    topic_id: int | None = None
    topic_number: str = ""
    room_id: int | None = None
    room_name: str = ""
    new_room: bool = False
    session_id: int | None = None
    #: Why the event is skipped, or what an update does besides changing fields.
    note: str = ""

    @property
    def label(self) -> str:
        return self.title or self.summary


#: What the preview keeps for the confirmation: the file as read, before any decision.
KEPT = ("number", "uid", "summary", "description", "location", "cancelled", "categories",
        "warnings")


@dataclass
class CheckedCalendar:
    filename: str
    events: list[ImportedEvent] = field(default_factory=list)
    #: Problems with the file as a whole; its events are not read then.
    errors: list[str] = field(default_factory=list)

    @property
    def error_count(self) -> int:
        return len(self.errors) + sum(len(event.errors) for event in self.events)

    def count(self, action: str) -> int:
        return sum(1 for event in self.events if event.action == action)

    @property
    def ready(self) -> bool:
        """No errors and something to write: confirming is worth offering."""
        return self.error_count == 0 and any(e.action in (NEW, UPDATE) for e in self.events)


@dataclass(frozen=True)
class ImportCounts:
    created: int
    updated: int
    skipped: int
    rooms: int


# ---------------------------------------------------------------- the preview


def check_calendar(conference: Conference, data: bytes, filename: str) -> CheckedCalendar:
    """Every event of the file with its errors, warnings and fate; nothing is written."""
    checked = _read(conference, data, filename)
    if not checked.errors:
        _plan(conference, checked.events)
        # The rules are checked on rows really written, then undone, so imported sessions
        # meet each other and the existing ones exactly as in the editor. Only rolled back,
        # never released: see confirm().
        savepoint = db.session.begin_nested()
        try:
            _apply(conference, checked.events)
        finally:
            savepoint.rollback()
    return checked


def numbered(event: ImportedEvent, message: str) -> str:
    if event.summary:
        return _("Sự kiện %(number)d («%(title)s»): %(message)s",
                 number=event.number, title=event.summary, message=message)
    return _("Sự kiện %(number)d: %(message)s", number=event.number, message=message)


def _read(conference: Conference, data: bytes, filename: str) -> CheckedCalendar:
    checked = CheckedCalendar(filename)
    if len(data) > MAX_BYTES:
        checked.errors.append(_("Tệp lớn hơn %(mb)d MB.", mb=MAX_BYTES // (1024 * 1024)))
        return checked
    unfolded = FOLD.sub(b"", data)
    try:
        # RFC 5545 calendars are UTF-8; read as bytes, other encodings would import their
        # letters as U+FFFD. A BOM, as Windows tools write, is allowed.
        text = unfolded.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if _looks_like_calendar(data):
            checked.errors.append(_(
                "Tệp lịch phải dùng bảng mã UTF-8; tệp này dùng bảng mã khác (byte không "
                "hợp lệ ở dòng %(line)d). Hãy lưu lại hoặc xuất lại tệp với bảng mã UTF-8.",
                line=_line_in_file(data, error.start)))
        else:
            checked.errors.append(_(
                "Không đọc được tệp: đây không phải tệp lịch iCalendar (.ics) hợp lệ."))
        return checked
    try:
        # Every top-level component, so that a file of several calendars can be told.
        parsed = _FileCalendar.from_ical(text, multiple=True)
    except Exception:  # the parser raises assorted exception types on malformed input
        parsed = None
    calendars = [c for c in parsed or () if c.name == "VCALENDAR"]
    if len(calendars) > 1:  # exports joined into one file
        checked.errors.append(_(
            "Không đọc được tệp: tệp gồm %(count)d lịch (BEGIN:VCALENDAR) nối tiếp nhau; mỗi "
            "tệp chỉ được chứa một lịch.", count=len(calendars)))
        return checked
    # The parser completes no component when one is never closed.
    never_closed = _never_closed(unfolded) if parsed == [] else None
    if never_closed is not None:
        name, offset = never_closed
        checked.errors.append(_(
            "Không đọc được tệp: khối BEGIN:%(name)s ở dòng %(line)d không được đóng (thiếu "
            "END:%(name)s); tệp có thể bị cắt dở.",
            name=name, line=_line_in_file(data, offset)))
        return checked
    if not parsed or len(parsed) > 1 or parsed[0].name != "VCALENDAR":
        checked.errors.append(_(
            "Không đọc được tệp: đây không phải tệp lịch iCalendar (.ics) hợp lệ."))
        return checked
    calendar = parsed[0]
    zones, broken_zones = _zones(calendar)
    components = calendar.walk("VEVENT")
    if broken_zones:
        checked.errors.extend(broken_zones)
    elif not components:
        checked.errors.append(_("Tệp lịch không có sự kiện nào (VEVENT)."))
    elif len(components) > MAX_EVENTS:
        checked.errors.append(_(
            "Tệp có %(count)d sự kiện, quá giới hạn %(limit)d; hãy tách thành nhiều tệp.",
            count=len(components), limit=MAX_EVENTS))
    else:
        checked.events = [_read_event(conference, zones, number, component)
                          for number, component in enumerate(components, start=1)]
    return checked


class _FileParser(CalendarIcalParser):
    """icalendar's parser, less its keeping of every VTIMEZONE read for the whole process.

    It keeps the first definition of a TZID for every later file: Outlook names each
    custom zone "Customized Time Zone", so one organiser's file would decide the times of
    another's. This file's own zones are read by _zones instead.
    """

    def handle_end_component(self, vals: str) -> None:
        # The parser keeps a zone only when the END line names a VTIMEZONE.
        super().handle_end_component("" if vals.upper() == "VTIMEZONE" else vals)


class _FileCalendar(Calendar):
    """A calendar read by _FileParser."""

    @classmethod
    def _get_ical_parser(cls, st):
        return _FileParser(st, cls._get_component_factory(), cls.types_factory)


def _zones(calendar) -> tuple[TZP, list[str]]:
    """The time zones of this file only: the zone database, and the VTIMEZONEs of the file
    for the names it does not know (as icalendar reads them); with a message for each
    VTIMEZONE that cannot be read."""
    zones = TZP()  # a zone cache of its own, for this file
    errors = []
    for component in calendar.walk("VTIMEZONE"):
        if "TZID" not in component:
            continue  # no time can name it
        try:
            zones.cache_timezone_component(component)
        except Exception:  # dateutil raises assorted exception types on a malformed zone
            errors.append(_(
                "Không đọc được múi giờ «%(zone)s» (VTIMEZONE) trong tệp: định nghĩa múi giờ "
                "không hợp lệ.", zone=str(_first(component, "TZID"))))
    return zones, errors


def _line_in_file(data: bytes, offset: int) -> int:
    """The line of ``data`` that byte ``offset`` of its unfolded form comes from."""
    removed = 0
    for match in FOLD.finditer(data):
        if match.start() - removed > offset:
            break
        removed += match.end() - match.start()
    return data[:offset + removed].count(b"\n") + 1


def _never_closed(unfolded: bytes) -> tuple[str, int] | None:
    """The first component the file opens and never closes, with where its BEGIN line
    starts; None if every one is closed. (The parser closes a component at any END.)"""
    opened: list[tuple[str, int]] = []
    unclosed: list[tuple[str, int]] = []
    for line in BOUNDARY.finditer(unfolded):
        name = line[2].decode("utf-8", "replace").upper()
        if line[1].upper() == b"BEGIN":
            opened.append((name, line.start()))
        elif any(open_name == name for open_name, _start in opened):
            while opened[-1][0] != name:  # closed by the END of a component around it
                unclosed.append(opened.pop())
            opened.pop()
    if unclosed:
        return unclosed[0]
    return opened[-1] if opened else None  # the innermost one where the file stops


def _unsplit_lines(component) -> list[tuple[str, bool]]:
    """The content lines of an event (its alarms included) the parser could not split
    into name, parameters and value, and so dropped; each with whether it is the
    event's own."""
    lines = []
    for part in component.walk():
        for name, message in part.errors:
            if name is None:  # how the parser files such a line
                lines.append((_quoted_line(message), part is component))
    return lines


def _quoted_line(message: str) -> str:
    """The line in the parser's message "…parts: '<line>': <why>", found by reading each
    candidate again; the whole message where none gives it."""
    if message.startswith(UNSPLIT):
        rest = message[len(UNSPLIT):]
        end = rest.find("': ")
        while end >= 0:
            try:
                Contentline(rest[:end]).parts()
            except ValueError as error:
                if str(error) == message:
                    return rest[:end]
            end = rest.find("': ", end + 1)
    return message


def _looks_like_calendar(data: bytes) -> bool:
    """Whether bytes that are not UTF-8 still start as a calendar file does."""
    return data.startswith(WIDE_BOMS) or data.lstrip().upper().startswith(b"BEGIN:VCALENDAR")


def _first(component, name: str):
    value = component.get(name)
    if isinstance(value, list):  # the property was given more than once
        value = value[0] if value else None
    return value


def _text(component, name: str) -> str | None:
    """The property's text; None where it is absent or not text (see TEXT)."""
    value = _first(component, name)
    return str(value) if isinstance(value, str) else None


def _as_written(value) -> str:
    """A parsed property value back in iCalendar form, to quote it in a message."""
    try:
        written = value.to_ical()
        return written.decode() if isinstance(written, bytes) else written  # TIME gives str
    except (AttributeError, UnicodeDecodeError, ValueError):
        return str(value)


def _read_event(conference: Conference, zones: TZP, number: int, component) -> ImportedEvent:
    event = ImportedEvent(number)
    broken = dict(component.errors)  # property name -> why the parser could not read it
    # Lines the parser dropped: a STATUS:CANCELLED or a LOCATION may be among them.
    unreadable = set()
    for line, own in _unsplit_lines(component):
        quoted = line if len(line) <= QUOTED else line[:QUOTED - 1] + "…"
        named = LINE_NAME.match(line)
        if named is None:
            event.errors.append(_("Không đọc được dòng «%(line)s».", line=quoted))
            continue
        event.errors.append(_("Không đọc được %(field)s: «%(value)s».",
                              field=named[1].upper(), value=quoted))
        if own:
            unreadable.add(named[1].upper())
    for name in TEXT:
        value = _first(component, name)
        if value is not None and not isinstance(value, str) and name not in unreadable:
            event.errors.append(_("Không đọc được %(field)s: «%(value)s».",
                                  field=name, value=_as_written(value)))
            unreadable.add(name)
    repeated = {name for name in ONCE if isinstance(component.get(name), list)}
    event.uid = normalise(_text(component, "UID") or "")
    event.summary = normalise(_text(component, "SUMMARY") or "")
    description = _text(component, "DESCRIPTION")
    if description is not None:
        event.description = _block(description)
    location = _text(component, "LOCATION")
    if location is not None:
        event.location = normalise(location)
    event.cancelled = (_text(component, "STATUS") or "").strip().upper() == "CANCELLED"
    try:
        event.categories = [normalise(str(c)) for c in component.categories]
    except Exception:  # a category list the parser cannot read names no kind
        event.categories = []

    if any(name in component for name in RECURRENCE):
        event.errors.append(_(
            "Sự kiện lặp lại (RRULE, RDATE hoặc RECURRENCE-ID) không được hỗ trợ; hãy tạo "
            "từng phiên thành sự kiện riêng."))
    for name in ONCE:
        if name in repeated:
            event.errors.append(_(
                "%(field)s được ghi nhiều lần; mỗi sự kiện chỉ được có một %(field)s.",
                field=name))
    floating = []
    start_type, end_type = _value_type(component, "DTSTART"), _value_type(component, "DTEND")
    if {start_type, end_type} == {"date", "date-time"}:
        timed, dated = ("DTSTART", "DTEND") if start_type == "date-time" else ("DTEND", "DTSTART")
        event.errors.append(_(
            "%(timed)s có ngày và giờ nhưng %(dated)s chỉ có ngày (VALUE=DATE); giờ bắt đầu "
            "và giờ kết thúc phải cùng ghi cả ngày và giờ.", timed=timed, dated=dated))
    elif "DTSTART" in repeated:
        pass  # told above
    elif "DTSTART" not in component:
        if "DTSTART" not in unreadable:  # else told above
            event.errors.append(_("Thiếu giờ bắt đầu (DTSTART)."))
    else:
        event.starts_at = _instant(conference, zones, component, "DTSTART", event, broken,
                                   floating)
    if "DTEND" in component and "DURATION" in component:
        event.errors.append(_("Sự kiện có cả DTEND và DURATION; chỉ được dùng một trong hai."))
    elif start_type == "date" or {start_type, end_type} == {"date", "date-time"} \
            or repeated & {"DTEND", "DURATION"}:
        pass  # an all-day event, mixed types and repeats are refused already
    elif "DTEND" in component:
        event.ends_at = _instant(conference, zones, component, "DTEND", event, broken, floating)
    elif "DURATION" in component:
        length = None if "DURATION" in broken else getattr(component["DURATION"], "dt", None)
        if not isinstance(length, timedelta):
            written = _text(component, "DURATION") if "DURATION" in broken \
                else _as_written(component["DURATION"])
            event.errors.append(_("Không đọc được %(field)s: «%(value)s».",
                                  field="DURATION", value=written))
        elif event.starts_at is not None:
            try:
                ends_at = event.starts_at + length
            except OverflowError:  # P999999W and the like: past the year 9999
                ends_at = None
            # As for DTEND: a far year is a slip, and near 9999 the checks below overflow.
            if ends_at is None or ends_at.year not in YEARS:
                event.errors.append(_("Không đọc được %(field)s: «%(value)s».",
                                      field="DURATION", value=_as_written(component["DURATION"])))
            else:
                event.ends_at = ends_at
    elif not unreadable & {"DTEND", "DURATION"}:  # else told above
        event.errors.append(_("Thiếu giờ kết thúc (DTEND hoặc DURATION)."))
    if event.starts_at is not None and event.ends_at is not None \
            and event.ends_at <= event.starts_at:
        event.errors.append(_("Giờ kết thúc phải sau giờ bắt đầu."))
    elif event.starts_at is not None and event.ends_at is not None and not ends_on_its_day(
            conference, event.starts_at, event.ends_at):
        # The editor's rule (scheduling.check_slot), told before anything is planned.
        event.errors.append(_("Phiên phải kết thúc trong ngày bắt đầu (trước 24 giờ)."))
    if floating:
        event.warnings.append(_(
            "Giờ không kèm múi giờ: đã hiểu theo giờ của hội nghị (%(timezone)s).",
            timezone=conference.timezone))

    if not event.summary and "SUMMARY" not in unreadable:
        event.errors.append(_("Thiếu tiêu đề (SUMMARY)."))
    # A title may have "Chuyên đề 12a: " before it, as our own feeds write; the title
    # itself is measured once that is taken off (_plan).
    for name, value, limit in (("SUMMARY", event.summary, MAX_TITLE + TOPIC_PREFIX_LENGTH),
                               ("DESCRIPTION", event.description, MAX_DESCRIPTION),
                               ("LOCATION", event.location, MAX_ROOM)):
        if value is not None and len(value) > limit:
            event.errors.append(_("%(field)s dài %(length)d ký tự; tối đa %(limit)d.",
                                  field=name, length=len(value), limit=limit))
    return event


def _block(text: str) -> str:
    """Multi-line text as the editor stores it: NFC, Unix line ends, no control
    characters (PostgreSQL cannot store a NUL), no blank ends."""
    return unicodedata.normalize("NFC", plain_text(text)).strip()


def _value_type(component, name: str) -> str | None:
    """"date" or "date-time" for a property given once and read; None otherwise."""
    try:
        value = component[name].dt
    except (KeyError, ValueError, AttributeError):
        return None
    if isinstance(value, datetime):
        return "date-time"
    return "date" if isinstance(value, date) else None


def _instant(conference: Conference, zones: TZP, component, name: str, event: ImportedEvent,
             broken: dict[str, str], floating: list[str]) -> datetime | None:
    """The property's instant in UTC, or None with the reason added to the event's errors.

    A time naming a zone is read in ``zones``, this file's (see _zones).
    """
    prop = component[name]
    if name in broken:
        event.errors.append(_("Không đọc được %(field)s: «%(value)s».",
                              field=name, value=str(prop)))
        return None
    value = getattr(prop, "dt", None)  # none in a value of another type (VALUE=TEXT)
    if not isinstance(value, datetime):
        if isinstance(value, date):
            event.errors.append(_(
                "Sự kiện cả ngày (%(field)s chỉ có ngày, không có giờ) không nhập được; hãy "
                "đặt giờ bắt đầu và kết thúc.", field=name))
        else:
            event.errors.append(_("Không đọc được %(field)s: «%(value)s».",
                                  field=name, value=_as_written(prop)))
        return None
    if value.year not in YEARS:
        # The years a conference may have (editing.YEARS): anything else is a slip, and
        # near the year 1 or 9999 converting between zones overflows.
        event.errors.append(_("Không đọc được %(field)s: «%(value)s».",
                              field=name, value=_as_written(prop)))
        return None
    zone = prop.params.get("TZID")
    if zone:
        tz = zones.timezone(zone)
        if tz is None:  # neither a known zone nor defined in the file
            event.errors.append(_("Không nhận ra múi giờ «%(zone)s» của %(field)s.",
                                  zone=zone, field=name))
            return None
        # The wall time as written: the parser read it in a zone of any earlier file.
        value = zones.localize(value.replace(tzinfo=None), tz)
    elif value.tzinfo is None:
        floating.append(name)
        value, zone = value.replace(tzinfo=conference.tz), conference.timezone
    if skipped_by_clocks(value):
        # Converted, it would move an hour on: refused as the editor refuses it.
        event.errors.append(_(
            "Không có giờ %(time)s ngày %(day)s theo múi giờ %(zone)s: đồng hồ nhảy qua giờ "
            "đó (giờ mùa hè).", time=value.strftime("%H:%M"), day=value.strftime("%d/%m/%Y"),
            zone=zone))
        return None
    return value.astimezone(timezone.utc)


# ---------------------------------------------------------------- deciding, writing


def _kinds_by_category() -> dict[str, SessionKind]:
    # Our own feed writes the Vietnamese label; other tools may carry the plain value.
    with force_locale("vi"):
        kinds = {fold(str(label)): kind for kind, label in SESSION_KIND_LABELS.items()}
    kinds.update({kind.value: kind for kind in SessionKind})
    return kinds


def _title_and_topic(summary: str, topics: dict[str, Topic]) -> tuple[str, Topic | None]:
    match = TOPIC_PREFIX.match(summary)
    if match and fold(match["words"]) == "chuyen de":
        # Calendars written before numbers were stored bare say "Chuyên đề Chuyên đề 3a".
        topic = topics.get(fold(bare_topic_number(match["number"])))
        if topic is not None:
            return match["title"].strip(), topic
    return summary, None


def _rooms_named(rooms: list[Room], location: str) -> list[Room]:
    """The room a location names: the one of that name, as the room editor tells rooms
    apart (room_key); else, for a location written without diacritics, those spelt so
    without theirs, one ("hoi truong" for "Hội trường") or several ("Phòng Ba" and "Phòng
    Bà" for "Phong Ba"). A location with diacritics names its own room: "Phòng Ba" is not
    "Phòng Bà"."""
    wanted = room_key(location)
    exact = [room for room in rooms if room_key(room.name) == wanted]
    if exact or fold(location) != wanted:
        return exact[:1]
    return [room for room in rooms if fold(room.name) == wanted]


#: The namespace of the UIDs of sessions an import adds (imported_uid).
IMPORTED_UIDS = uuid.UUID("412ed756-d3a5-49ba-b730-d0450b03a27d")


def imported_uid(conference_id: int, event_uid: str) -> str:
    """The UID of the session an import adds for an event: made from the event's own, so
    the file imported again once the event has moved in its calendar updates that session
    rather than adding a second beside it."""
    return str(uuid.uuid5(IMPORTED_UIDS, f"{conference_id}\n{event_uid}"))


def _session_for(by_uid: dict[str, AgendaSession], uid: str,
                 conference_id: int) -> tuple[AgendaSession | None, bool]:
    """The session an event's UID names, and whether the UID is in our own feed's form."""
    if uid in by_uid:
        return by_uid[uid], False
    if uid.endswith(OWN_UID_SUFFIX) and uid[:-len(OWN_UID_SUFFIX)] in by_uid:
        return by_uid[uid[:-len(OWN_UID_SUFFIX)]], True
    return by_uid.get(imported_uid(conference_id, uid)), False


def _plan(conference: Conference, events: list[ImportedEvent]) -> None:
    """Decide, for every event without errors, whether it adds, updates or is skipped."""
    topics = {fold(bare_topic_number(t.number)): t for t in db.session.scalars(
        select(Topic).where(Topic.conference_id == conference.id))}
    existing_rooms = list(db.session.scalars(
        select(Room).where(Room.conference_id == conference.id)))
    room_names = {r.id: r.name for r in existing_rooms}
    sessions = list(db.session.scalars(
        select(AgendaSession).where(AgendaSession.conference_id == conference.id)))
    by_uid = {s.uid: s for s in sessions}
    by_time_and_title = {(s.starts_at, s.ends_at, fold(s.title)): s for s in sessions}
    kinds = _kinds_by_category()
    uids_in_file: dict[str, int] = {}
    keys_in_file: dict[tuple, int] = {}

    for event in events:
        if event.errors:
            continue
        if event.uid:
            # "x" and "x@confmgr" name the same session: one of them only may change it.
            earlier = uids_in_file.setdefault(event.uid.removesuffix(OWN_UID_SUFFIX),
                                              event.number)
            if earlier != event.number:
                event.errors.append(_("UID trùng với sự kiện %(number)d trong cùng tệp.",
                                      number=earlier))
                continue
        event.title, topic = _title_and_topic(event.summary, topics)
        if len(event.title) > MAX_TITLE:
            event.errors.append(_("%(field)s dài %(length)d ký tự; tối đa %(limit)d.",
                                  field="SUMMARY", length=len(event.title), limit=MAX_TITLE))
            continue
        if topic is not None:
            event.topic_id, event.topic_number = topic.id, bare_topic_number(topic.number)
        if event.location:
            candidates = _rooms_named(existing_rooms, event.location)
            if len(candidates) > 1:
                event.errors.append(_(
                    "Không rõ LOCATION «%(location)s» là phòng nào trong số %(rooms)s; hãy ghi "
                    "đúng tên phòng.", location=event.location,
                    rooms=", ".join(f"«{room.name}»" for room in candidates)))
                continue
            if candidates:
                room = candidates[0]
                event.room_id, event.room_name = room.id, room.name
            else:
                event.room_name, event.new_room = event.location, True
        named_kind = next((kinds[fold(c)] for c in event.categories if fold(c) in kinds), None)
        session, own_feed = (_session_for(by_uid, event.uid, conference.id) if event.uid
                             else (None, False))
        key = (event.starts_at, event.ends_at, fold(event.title))

        if session is not None:
            event.session_id = session.id
            event.kind = named_kind or session.kind
            if own_feed and event.new_room:
                # A point's or a delegate's feed gives the point's address as LOCATION:
                # where the delegates sit, not a room of the agenda.
                event.location, event.new_room = None, False
            if event.location is None:
                event.room_name = room_names.get(session.room_id, "")  # kept, and shown so
            if own_feed:
                event.description = None
            if _differs(event, session):
                event.action = UPDATE
                if event.cancelled and not session.is_cancelled:
                    event.note = _("Phiên sẽ bị hủy (STATUS:CANCELLED).")
            else:
                event.action, event.note = SKIP, _("Không có thay đổi — bỏ qua.")
        elif key in by_time_and_title:
            event.action, event.note = SKIP, _("Đã có trong chương trình — bỏ qua.")
        elif event.cancelled:
            event.action, event.note = SKIP, _("Đã hủy trong tệp lịch (STATUS:CANCELLED) — bỏ qua.")
        elif key in keys_in_file:
            event.action, event.note = SKIP, _(
                "Trùng với sự kiện %(number)d trong tệp — bỏ qua.", number=keys_in_file[key])
        else:
            event.action = NEW
            event.kind = named_kind or (SessionKind.TOPIC if topic else SessionKind.OTHER)
        if event.action == NEW or event.action == UPDATE and not (
                event.cancelled or session.is_cancelled):
            # Only a session written and held makes a later event at its time and title a
            # repeat: the live one after a cancelled one is the one meant.
            keys_in_file.setdefault(key, event.number)
        if event.action == SKIP:
            event.new_room = False  # nothing is written for it, so no room is made either


def _differs(event: ImportedEvent, session: AgendaSession) -> bool:
    # The event's title is tidied as read; a title stored untidy (decomposed, spaces
    # doubled) is the same title.
    if (event.starts_at, event.ends_at, event.title, event.topic_id, event.kind) != (
            session.starts_at, session.ends_at, normalise(session.title), session.topic_id,
            session.kind):
        return True
    if event.location is not None and (event.new_room or event.room_id != session.room_id):
        return True
    if event.description is not None and event.description != session.description:
        return True
    return event.cancelled and not session.is_cancelled


def _apply(conference: Conference, events: list[ImportedEvent]) -> list[Room]:
    """Write what _plan decided, then check every written session as the editor would.

    Blocking problems become the events' errors, the rest their warnings; the new rooms
    are returned.
    """
    new_rooms: dict[str, Room] = {}
    written: list[tuple[ImportedEvent, AgendaSession]] = []
    for event in events:
        if event.errors or event.action not in (NEW, UPDATE):
            continue
        room_id = event.room_id
        if event.new_room:
            key = room_key(event.room_name)
            room = new_rooms.get(key)
            if room is None:
                room = new_rooms[key] = Room(
                    conference_id=conference.id, name=event.room_name)
                db.session.add(room)
                db.session.flush()
            room_id = room.id
        if event.action == NEW:
            session = AgendaSession(
                conference_id=conference.id, starts_at=event.starts_at, ends_at=event.ends_at,
                kind=event.kind, title=event.title, description=event.description or "",
                room_id=room_id, topic_id=event.topic_id,
            )
            if event.uid:
                session.uid = imported_uid(conference.id, event.uid)
            db.session.add(session)
        else:
            session = db.session.get(AgendaSession, event.session_id)
            session.starts_at, session.ends_at = event.starts_at, event.ends_at
            session.title, session.topic_id, session.kind = event.title, event.topic_id, event.kind
            if event.location is not None:
                session.room_id = room_id
            if event.description is not None:
                session.description = event.description
            if event.cancelled:
                session.status = SessionStatus.CANCELLED
        written.append((event, session))
    db.session.flush()  # the checks below query the rows just written
    for event, session in written:
        for problem in check_slot(conference, slot_of(session)):
            if session.is_cancelled and not binds_a_cancelled_session(problem):
                continue
            (event.errors if problem.blocking else event.warnings).append(problem.message)
    return list(new_rooms.values())


# ---------------------------------------------------------------- the confirmation


KIND = "agenda"


def keep_for_confirmation(conference: Conference, user_id: int, checked: CheckedCalendar) -> str:
    events = []
    for event in checked.events:
        kept: dict[str, Any] = {name: getattr(event, name) for name in KEPT}
        kept["starts_at"] = event.starts_at.isoformat()
        kept["ends_at"] = event.ends_at.isoformat()
        kept["previewed"] = [event.action, event.session_id]  # what the preview said
        events.append(kept)
    return previews.keep(KIND, {"conference_id": conference.id, "user_id": user_id},
                         {"filename": checked.filename, "events": events})


def confirm(conference: Conference, user_id: int, token: str) -> ImportCounts:
    """Write the kept events, decided and checked again now; the caller commits.

    On RuleBroken the caller rolls back, as after editing.shift_sessions: the rows were
    written to be checked. (No savepoint here: releasing one that opened the transaction
    commits it on SQLite, which would split the import from its audit entry.)
    """
    payload = previews.claim(KIND, token, {"conference_id": conference.id, "user_id": user_id},
                            _("Tệp đã xem trước thuộc người dùng hoặc hội nghị khác."))
    events, previewed = [], []
    for kept in payload["events"]:
        event = ImportedEvent(**{name: kept[name] for name in KEPT})
        event.starts_at = datetime.fromisoformat(kept["starts_at"])
        event.ends_at = datetime.fromisoformat(kept["ends_at"])
        events.append(event)
        # (A preview kept before previews said what they would do has nothing to compare.)
        said = kept.get("previewed")
        previewed.append(None if said is None else tuple(said))

    # Others may have edited the agenda since the preview: decide again. What is written
    # must be what the preview said: an event it skipped as unchanged would otherwise
    # write the file's old values over an edit made since.
    hold_conference(conference)
    _plan(conference, events)
    changed = [Problem("", numbered(event, _(
        "chương trình đã được sửa từ khi xem trước, nên sự kiện này không còn được nhập như "
        "bản xem trước đã ghi; hãy tải tệp lên lại để xem trước lần nữa.")))
        for event, said in zip(events, previewed)
        if said is not None and not event.errors and (event.action, event.session_id) != said]
    if changed:
        raise RuleBroken(changed)
    new_rooms = _apply(conference, events)
    problems = [Problem("", numbered(e, message)) for e in events for message in e.errors]
    if problems:
        raise RuleBroken(problems)
    counts = ImportCounts(
        created=sum(1 for e in events if e.action == NEW),
        updated=sum(1 for e in events if e.action == UPDATE),
        skipped=sum(1 for e in events if e.action == SKIP),
        rooms=len(new_rooms),
    )
    record("agenda.import", target=conference, conference_id=conference.id, user_id=user_id,
           file=payload["filename"], created=counts.created, updated=counts.updated,
           skipped=counts.skipped, rooms=[room.name for room in new_rooms])
    return counts
