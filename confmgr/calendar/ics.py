"""Writing iCalendar (RFC 5545) text directly.

The feeds are written line by line rather than through icalendar's object model: a
200-session feed then takes a few milliseconds instead of a few hundred. icalendar still
reads calendars (imports, tests) and supplies the VTIMEZONE definitions.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

from icalendar import Timezone

from confmgr.text import plain_text

#: RFC 5545 §3.1: lines longer than 75 octets are folded.
LINE_OCTETS = 75
CRLF = "\r\n"

_TEXT_ESCAPES = str.maketrans({"\\": "\\\\", ";": "\\;", ",": "\\,", "\n": "\\n"})
#: §3.1: a value holds no control character but tab. A line break would end the property
#: and let the rest of the value pass for properties or components of its own.
_RAW_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def escape_text(value: str) -> str:
    """A TEXT value (§3.3.11): backslash, semicolon, comma and newline escaped, other
    control characters dropped."""
    return plain_text(value).translate(_TEXT_ESCAPES)


def escape_param(value: str) -> str:
    """A parameter value (§3.2): quoted when it holds a separator; quotes cannot be escaped."""
    value = _RAW_CONTROLS.sub("", value.replace('"', "'").replace("\r", " ").replace("\n", " "))
    return f'"{value}"' if any(c in value for c in ":;,") else value


def fold(line: str) -> str:
    """Split a content line into pieces of at most 75 octets, never inside a character."""
    encoded = line.encode("utf-8")
    if len(encoded) <= LINE_OCTETS:
        return line + CRLF
    pieces = []
    start = 0
    limit = LINE_OCTETS  # the first piece has 75 octets, the rest a space and 74
    while len(encoded) - start > limit:
        end = start + limit
        while encoded[end] & 0xC0 == 0x80:  # a UTF-8 continuation byte: step back
            end -= 1
        pieces.append(encoded[start:end].decode("utf-8"))
        start = end
        limit = LINE_OCTETS - 1
    pieces.append(encoded[start:].decode("utf-8"))
    return (CRLF + " ").join(pieces) + CRLF


def utc_stamp(moment: datetime) -> str:
    """A DATE-TIME in UTC form (§3.3.5, form #2)."""
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def local_stamp(moment: datetime) -> str:
    """A DATE-TIME in local form, to be written with a TZID parameter (form #3)."""
    return moment.strftime("%Y%m%dT%H%M%S")


def happens_once(moment: datetime) -> bool:
    """Whether ``moment``'s wall time happens once in its zone, so its local form names it.

    Not so in an hour the clocks repeat: §3.3.5 reads such a time as the first pass, and
    ical.js (Thunderbird) as the second.
    """
    first, second = (moment.replace(fold=fold).astimezone(timezone.utc) for fold in (0, 1))
    return first == second


def duration(delta: timedelta) -> str:
    """A DURATION (§3.3.6) of whole minutes, negative for a trigger before the start."""
    minutes = int(delta.total_seconds() // 60)
    sign = "-" if minutes < 0 else ""
    minutes = abs(minutes)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{sign}PT{hours}H{minutes}M"
    if hours:
        return f"{sign}PT{hours}H"
    return f"{sign}PT{minutes}M"


@lru_cache(maxsize=64)
def vtimezone(tzid: str, first: date, last: date) -> str:
    """The VTIMEZONE for ``tzid`` covering first..last, as folded text."""
    return Timezone.from_tzid(tzid, first_date=first, last_date=last).to_ical().decode("utf-8")


class Writer:
    """Collects folded content lines."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def line(self, name: str, value: str, /, **params: str) -> None:
        head = name + "".join(f";{key.replace('_', '-').upper()}={escape_param(v)}"
                              for key, v in params.items())
        # Values written raw (a point's stream link, a URI) may come from what people typed.
        value = _RAW_CONTROLS.sub("", value)
        self.parts.append(fold(f"{head}:{value}"))

    def moment(self, name: str, moment: datetime, tzid: str) -> None:
        """A DATE-TIME in local form with its TZID, or in UTC form where clients would
        read the local form as different instants."""
        if happens_once(moment):
            self.line(name, local_stamp(moment), tzid=tzid)
        else:
            self.line(name, utc_stamp(moment))

    def text(self, name: str, value: str, /, **params: str) -> None:
        self.line(name, escape_text(value), **params)

    def name(self, name: str, value: str) -> None:
        """A calendar name (NAME, X-WR-CALNAME): one line, commas left as they are.

        ical.js, icalendar and several clients read these properties raw, without undoing
        TEXT escapes; a single name is unambiguous unescaped, so they show it as written.
        """
        self.line(name, " ".join(value.split()))

    def raw(self, text: str) -> None:
        """Text that is already folded content lines (a VTIMEZONE)."""
        self.parts.append(text if text.endswith(CRLF) else text + CRLF)

    def getvalue(self) -> str:
        return "".join(self.parts)
