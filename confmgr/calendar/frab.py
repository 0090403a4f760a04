"""The published agenda as a "frab" schedule, in XML and JSON, for conference apps.

Giggity, ConfClerk, EventFahrplan and similar apps read this format (the c3voc schedule
XSD and JSON schema describe it). Like the calendar feeds, it is built from a published
version only and depends on nothing but the version and the host it is served from.
"""
from __future__ import annotations

import json
import math
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from hashlib import blake2s
from importlib.metadata import PackageNotFoundError, version
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _

from confmgr.calendar.feeds import session_summary
from confmgr.conferences.labels import SESSION_KIND_LABELS, SESSION_STATUS_LABELS
from confmgr.conferences.publishing import PublishedAgenda, PublishedSession, cached_per_version
from confmgr.enums import SessionKind, SessionStatus
from confmgr.text import fold, name_compare_form, plain_text

JSON_SCHEMA = "https://c3voc.de/schedule/schema.json"
#: Fixed for good: apps keep favourites by event guid, so every guid derives from it.
GUID_NAMESPACE = uuid.UUID("46fb1dd8-e8f6-4e8e-aefd-e40e9f874e1f")
LANGUAGE = "vi"
#: Longest title part of an event slug; apps show slugs in addresses and file names.
SLUG_TITLE_LENGTH = 60
#: Grid step when the agenda gives none (no sessions), and the coarsest one offered.
DEFAULT_TIMESLOT = 15
MAX_TIMESLOT = 60


@dataclass(frozen=True)
class Site:
    """Where readers find the conference on this host."""

    slug: str
    #: The public agenda page, absolute; sessions are anchors on it.
    agenda_url: str
    #: Absolute address of an uploaded material, by its id.
    material_url: Callable[[int], str] = field(compare=False)


@dataclass(frozen=True)
class Person:
    id: int
    name: str


@dataclass(frozen=True)
class Link:
    url: str
    title: str


@dataclass(frozen=True)
class Event:
    id: int
    guid: str
    slug: str
    url: str
    title: str
    subtitle: str
    track: str
    type: str
    #: Local start with its UTC offset.
    start: datetime
    duration: str
    room: str
    abstract: str
    description: str
    persons: tuple[Person, ...]
    links: tuple[Link, ...]


@dataclass(frozen=True)
class Day:
    index: int
    date: date
    start: datetime
    end: datetime
    #: Room name -> its events that day, rooms in order of their first event.
    rooms: dict[str, list[Event]]


@dataclass(frozen=True)
class Schedule:
    version: str
    title: str
    acronym: str
    url: str
    time_zone_name: str
    timeslot_minutes: int
    days: tuple[Day, ...]
    rooms: tuple[str, ...]

    @property
    def start(self) -> date:
        return self.days[0].date

    @property
    def end(self) -> date:
        return self.days[-1].date


# ---------------------------------------------------------------- from the agenda


def ascii_slug(text: str) -> str:
    """Lower-case ASCII words joined by hyphens: "Chuyên đề 1" -> "chuyen-de-1"."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


def acronym(site: Site) -> str:
    # The schema allows [a-z0-9_-] only, and a conference slug is whatever was typed.
    return ascii_slug(site.slug) or "confmgr"


def event_guid(site: Site, session_id: int) -> str:
    """The same for a session in every version, so apps keep it as a favourite."""
    return str(uuid.uuid5(GUID_NAMESPACE, f"{site.slug}/session/{session_id}"))


def room_guid(site: Site, name: str) -> str:
    return str(uuid.uuid5(GUID_NAMESPACE, f"{site.slug}/room/{name}"))


def event_slug(site: Site, session: PublishedSession) -> str:
    # The id keeps it unique; the bare title (no cancellation mark) keeps it steady.
    title = ascii_slug(session.title)[:SLUG_TITLE_LENGTH].rstrip("-")
    return "-".join(part for part in (acronym(site), str(session.id), title) if part)


def person_id(site: Site, name: str) -> int:
    """A positive integer that is the same for a presenter in every session and version.

    Published versions keep presenters by name only, so the id is derived from it: from
    its compare form, which evens out case and where the tone mark sits but keeps the
    marks ("Hùng" and "Hưng" are two people).
    """
    digest = blake2s(f"{site.slug}\n{name_compare_form(name)}".encode(),
                     digest_size=4).digest()
    return int.from_bytes(digest, "big") % (2**31 - 1) + 1


def hours_minutes(span: timedelta) -> str:
    minutes = int(span.total_seconds()) // 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def timeslot_minutes(sessions: tuple[PublishedSession, ...]) -> int:
    """The coarsest grid every start and end falls on, so apps draw no slot in two."""
    step = 0
    for session in sessions:
        for moment in (session.local_start(), session.local_end()):
            step = math.gcd(step, moment.hour * 60 + moment.minute)
    if step == 0:
        return DEFAULT_TIMESLOT
    # Capped by a divisor, not a minimum: 90 minutes capped to 60 would put 07:30 off the
    # grid, while 30 keeps it on.
    return math.gcd(step, MAX_TIMESLOT)


def _description(session: PublishedSession) -> str:
    lines = []
    for presenter in session.presenters:
        details = ", ".join(part for part in (presenter.position, presenter.unit) if part)
        lines.append(f"{presenter.name} — {details}" if details else presenter.name)
    if session.description:
        lines.append(session.description)
    return "\n\n".join(lines)


@dataclass(frozen=True)
class Labels:
    """The Vietnamese words the export shows, read once per build."""

    kinds: dict[SessionKind, str]
    cancelled: str
    no_room: str


def vietnamese_labels() -> Labels:
    # The export is one document for every reader, so it is always in Vietnamese.
    with force_locale("vi"):
        return Labels(
            kinds={kind: str(label) for kind, label in SESSION_KIND_LABELS.items()},
            cancelled=str(SESSION_STATUS_LABELS[SessionStatus.CANCELLED]),
            no_room=_("Hội trường chính"),
        )


def event_of(session: PublishedSession, site: Site, labels: Labels) -> Event:
    # Every typed text goes through plain_text: one control character in it would make
    # the whole XML document unreadable.
    title = session_summary(session)
    if session.status == SessionStatus.CANCELLED:
        # Kept, and marked as the agenda page marks it, so apps show the cancellation.
        title = f"[{labels.cancelled}] {title}"
    topic = session.topic
    links = () if topic is None else tuple(
        Link(plain_text(m.url or site.material_url(m.id)), plain_text(m.title))
        for m in topic.materials
    )
    return Event(
        id=session.id,
        guid=event_guid(site, session.id),
        slug=event_slug(site, session),
        url=f"{site.agenda_url}#s{session.id}",
        title=plain_text(title),
        subtitle="",
        track=labels.kinds[session.kind],
        type=session.kind.value,
        start=session.local_start(),
        duration=hours_minutes(session.ends_at - session.starts_at),
        room=plain_text(session.room.name) if session.room is not None else labels.no_room,
        abstract=plain_text(topic.summary) if topic is not None else "",
        description=plain_text(_description(session)),
        persons=tuple(Person(person_id(site, p.name), plain_text(p.name))
                      for p in session.presenters),
        links=links,
    )


def _day_bounds(day: date, sessions: list[PublishedSession],
                tz: ZoneInfo) -> tuple[datetime, datetime]:
    if sessions:
        return (min(s.local_start() for s in sessions), max(s.local_end() for s in sessions))
    midnight = datetime.combine(day, time(0), tzinfo=tz)
    return midnight, datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def build_schedule(agenda: PublishedAgenda, site: Site) -> Schedule:
    labels = vietnamese_labels()
    info = agenda.conference
    days = []
    rooms: dict[str, None] = {}  # every room, in order of first use
    for index, day in enumerate(agenda.days, start=1):
        by_room: dict[str, list[Event]] = {}
        for session in day.sessions:
            event = event_of(session, site, labels)
            by_room.setdefault(event.room, []).append(event)
            rooms.setdefault(event.room)
        start, end = _day_bounds(day.day, day.sessions, info.tz)
        days.append(Day(index, day.day, start, end, by_room))
    return Schedule(
        version=f"v{agenda.number}",
        title=plain_text(info.title),
        acronym=acronym(site),
        url=site.agenda_url,
        time_zone_name=info.timezone,
        timeslot_minutes=timeslot_minutes(agenda.sessions),
        days=tuple(days),
        rooms=tuple(rooms),
    )


@lru_cache(maxsize=1)
def generator_version() -> str:
    try:
        return version("confmgr")
    except PackageNotFoundError:
        return "unknown"


# ---------------------------------------------------------------- XML


def _child(parent: ET.Element, tag: str, text: str = "", **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    element.text = text
    return element


def _event_element(parent: ET.Element, event: Event) -> None:
    node = _child(parent, "event", id=str(event.id), guid=event.guid)
    _child(node, "date", event.start.isoformat())
    _child(node, "start", event.start.strftime("%H:%M"))
    _child(node, "duration", event.duration)
    _child(node, "room", event.room)
    _child(node, "slug", event.slug)
    _child(node, "url", event.url)
    _child(node, "title", event.title)
    _child(node, "subtitle", event.subtitle)
    _child(node, "track", event.track)
    _child(node, "type", event.type)
    _child(node, "language", LANGUAGE)
    _child(node, "abstract", event.abstract)
    _child(node, "description", event.description)
    recording = _child(node, "recording")
    _child(recording, "license")
    _child(recording, "optout", "false")
    persons = _child(node, "persons")
    for person in event.persons:
        _child(persons, "person", person.name, id=str(person.id))
    links = _child(node, "links")
    for link in event.links:
        _child(links, "link", link.title, href=link.url)
    _child(node, "attachments")


def schedule_xml(schedule: Schedule) -> bytes:
    root = ET.Element("schedule")
    ET.SubElement(root, "generator", {"name": "confmgr", "version": generator_version()})
    _child(root, "version", schedule.version)
    conference = _child(root, "conference")
    _child(conference, "acronym", schedule.acronym)
    _child(conference, "title", schedule.title)
    _child(conference, "start", schedule.start.isoformat())
    _child(conference, "end", schedule.end.isoformat())
    _child(conference, "days", str(len(schedule.days)))
    _child(conference, "timeslot_duration", hours_minutes(
        timedelta(minutes=schedule.timeslot_minutes)))
    _child(conference, "time_zone_name", schedule.time_zone_name)
    _child(conference, "base_url", schedule.url)
    for day in schedule.days:
        node = _child(root, "day", index=str(day.index), date=day.date.isoformat(),
                      start=day.start.isoformat(), end=day.end.isoformat())
        for name, events in day.rooms.items():
            room = _child(node, "room", name=name)
            for event in events:
                _event_element(room, event)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


# ---------------------------------------------------------------- JSON


def _event_json(event: Event) -> dict:
    return {
        "id": event.id,
        "guid": event.guid,
        "logo": "",
        "date": event.start.isoformat(),
        "start": event.start.strftime("%H:%M"),
        "duration": event.duration,
        "room": event.room,
        "slug": event.slug,
        "url": event.url,
        "title": event.title,
        "subtitle": event.subtitle,
        "track": event.track,
        "type": event.type,
        "language": LANGUAGE,
        "abstract": event.abstract,
        "description": event.description,
        "recording_license": "",
        "do_not_record": False,
        "persons": [{"id": p.id, "public_name": p.name} for p in event.persons],
        "links": [{"url": link.url, "title": link.title} for link in event.links],
        "attachments": [],
        "answers": [],
    }


def schedule_json(schedule: Schedule, site: Site) -> bytes:
    document = {
        "$schema": JSON_SCHEMA,
        "schedule": {
            "version": schedule.version,
            "base_url": schedule.url,
            "conference": {
                "acronym": schedule.acronym,
                "title": schedule.title,
                "start": schedule.start.isoformat(),
                "end": schedule.end.isoformat(),
                "daysCount": len(schedule.days),
                "timeslot_duration": hours_minutes(timedelta(minutes=schedule.timeslot_minutes)),
                "time_zone_name": schedule.time_zone_name,
                "url": schedule.url,
                "rooms": [{"name": name, "guid": room_guid(site, name)}
                          for name in schedule.rooms],
                "days": [
                    {
                        "index": day.index,
                        "date": day.date.isoformat(),
                        "day_start": day.start.isoformat(),
                        "day_end": day.end.isoformat(),
                        "rooms": {name: [_event_json(e) for e in events]
                                  for name, events in day.rooms.items()},
                    }
                    for day in schedule.days
                ],
            },
        },
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"


# ---------------------------------------------------------------- per version


def export(agenda: PublishedAgenda, site: Site, kind: str) -> bytes:
    """The schedule as "xml" or "json", built once per process for each version and host."""
    writers = {"xml": lambda: schedule_xml(build_schedule(agenda, site)),
               "json": lambda: schedule_json(build_schedule(agenda, site), site)}
    key = (agenda.number, agenda.published_at, site.agenda_url, kind)
    return cached_per_version("confmgr.frab", key, writers[kind])
