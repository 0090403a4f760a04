"""What goes into each calendar feed, written as iCalendar text.

Every feed reads a published version only, so a draft never reaches a calendar. The
events of a feed depend on the version and a few options, never on the person asking,
so they are built once per process and version and reused by every subscriber.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import force_locale

from confmgr.calendar.ics import Writer, duration, utc_stamp, vtimezone
from confmgr.conferences.labels import SESSION_KIND_LABELS
from confmgr.conferences.publishing import (
    PublishedAgenda,
    PublishedConference,
    PublishedSession,
    cached_per_version,
    event_title,
)
from confmgr.enums import SessionKind, SessionStatus

PRODID = "-//confmgr//confmgr agenda//VI"
#: Kept stable across renames of the host, so clients never see duplicates.
UID_DOMAIN = "confmgr"
#: How often subscribed clients are asked to fetch the feed again.
REFRESH = timedelta(hours=1)
#: Reminders a subscriber may ask for, in minutes before the start.
ALARM_CHOICES = (5, 10, 15, 30, 60)


@dataclass(frozen=True)
class Place:
    """Where a broadcast point's delegates follow the sessions, and the link it joins by."""

    location: str
    stream_url: str = ""
    #: How often the place changed, and when last: a point's feed and a delegate's raise
    #: each event's SEQUENCE and DTSTAMP by them, so clients replace the old address and
    #: link. Both only rise for a given feed.
    revision: int = 0
    changed_at: datetime | None = None


@dataclass(frozen=True)
class Feed:
    """One calendar: a name, the page it mirrors, which sessions and how they are shown."""

    name: str
    page_url: str
    #: The feed's own address, given to clients as SOURCE.
    source_url: str
    #: Session UIDs to include, in agenda order; None for every session.
    uids: tuple[str, ...] | None = None
    day: date | None = None
    place: Place | None = None
    alarm_minutes: int | None = None

    def selects(self, session: PublishedSession) -> bool:
        if self.day is not None and session.local_start().date() != self.day:
            return False
        return self.uids is None or session.uid in self.uids


def session_summary(session: PublishedSession) -> str:
    return event_title(session.title, session.topic.number if session.topic else None)


def session_description(session: PublishedSession, url: str, place: Place | None) -> str:
    lines = []
    for presenter in session.presenters:
        details = ", ".join(part for part in (presenter.position, presenter.unit) if part)
        lines.append(f"{presenter.name} — {details}" if details else presenter.name)
    if session.topic is not None and session.topic.summary:
        lines.append(session.topic.summary)
    if session.description:
        lines.append(session.description)
    if place is not None:
        lines.append(f"Điểm cầu: {place.location}")
        if place.stream_url:
            lines.append(f"Đường truyền: {place.stream_url}")
    # Repeated here because several clients hide the URL property.
    lines.append(url)
    return "\n\n".join(lines)


def _kind_labels() -> dict[SessionKind, str]:
    with force_locale("vi"):
        return {kind: str(label) for kind, label in SESSION_KIND_LABELS.items()}


def write_event(out: Writer, session: PublishedSession, conference: PublishedConference,
                feed: Feed, categories: dict[SessionKind, str]) -> None:
    url = f"{feed.page_url}#s{session.id}"
    tzid = conference.timezone
    summary = session_summary(session)
    out.line("BEGIN", "VEVENT")
    out.line("UID", f"{session.uid}@{UID_DOMAIN}")
    # The publication that last changed the session (or the place, whichever is later), so
    # an unchanged feed stays byte-for-byte the same between requests. Both counts only
    # rise, so their sum never goes down.
    place = feed.place or Place(location="")
    modified = max(session.modified, place.changed_at or session.modified)
    out.line("DTSTAMP", utc_stamp(modified))
    out.line("CREATED", utc_stamp(session.created))
    out.line("LAST-MODIFIED", utc_stamp(modified))
    out.line("SEQUENCE", str(session.sequence + place.revision))
    out.line("STATUS", "CANCELLED" if session.status == SessionStatus.CANCELLED else "CONFIRMED")
    out.moment("DTSTART", session.local_start(), tzid)
    out.moment("DTEND", session.local_end(), tzid)
    out.text("SUMMARY", summary)
    out.text("DESCRIPTION", session_description(session, url, feed.place))
    if feed.place is not None:
        out.text("LOCATION", feed.place.location)
        if feed.place.stream_url:
            # RFC 7986: clients that know it show a "join" button.
            out.line("CONFERENCE", feed.place.stream_url, value="URI", feature="VIDEO",
                     label="Đường truyền")
    elif session.room is not None:
        out.text("LOCATION", session.room.name)
    out.line("URL", url, value="URI")
    out.text("CATEGORIES", categories[session.kind])
    # A cancelled session keeps nobody busy: clients that show events whatever their
    # STATUS (free/busy, some subscriptions) then show its time free.
    cancelled = session.status == SessionStatus.CANCELLED
    out.line("TRANSP", "TRANSPARENT" if cancelled else "OPAQUE")
    if feed.alarm_minutes and not cancelled:
        out.line("BEGIN", "VALARM")
        out.line("ACTION", "DISPLAY")
        out.text("DESCRIPTION", summary)
        out.line("TRIGGER", duration(timedelta(minutes=-feed.alarm_minutes)))
        out.line("END", "VALARM")
    out.line("END", "VEVENT")


def _events(agenda: PublishedAgenda, feed: Feed) -> str:
    conference = agenda.conference
    out = Writer()
    # The conference's whole years, and a day either side: icalendar builds a VTIMEZONE
    # from the transitions it finds in its window, and in a window of the conference's
    # days alone it can miss a change of the clocks between them (Casablanca, 23/02/2025),
    # which clients reading times by the VTIMEZONE (ical.js) then put an hour off.
    out.raw(vtimezone(conference.timezone,
                      date(conference.first_day.year, 1, 1) - timedelta(days=1),
                      date(conference.last_day.year, 12, 31) + timedelta(days=1)))
    categories = _kind_labels()
    for session in agenda.sessions:
        if feed.selects(session):
            write_event(out, session, conference, feed, categories)
    return out.getvalue()


def events_text(agenda: PublishedAgenda, feed: Feed) -> str:
    """The VTIMEZONE and VEVENTs of a feed, built once per process for each version."""
    key = (agenda.number, agenda.published_at, feed.page_url,
           feed.uids, feed.day, feed.place, feed.alarm_minutes)
    return cached_per_version("confmgr.feed_events", key, lambda: _events(agenda, feed))


def build_calendar(agenda: PublishedAgenda, feed: Feed, *, cached: bool = True) -> bytes:
    conference = agenda.conference
    out = Writer()
    out.line("BEGIN", "VCALENDAR")
    out.line("VERSION", "2.0")
    out.text("PRODID", PRODID)
    out.line("CALSCALE", "GREGORIAN")
    out.line("METHOD", "PUBLISH")
    out.name("NAME", feed.name)
    out.name("X-WR-CALNAME", feed.name)
    out.text("DESCRIPTION", conference.title)
    out.name("X-WR-CALDESC", conference.title)
    out.line("X-WR-TIMEZONE", conference.timezone)
    out.line("URL", feed.page_url, value="URI")
    out.line("SOURCE", feed.source_url, value="URI")
    out.line("REFRESH-INTERVAL", duration(REFRESH), value="DURATION")
    out.line("X-PUBLISHED-TTL", duration(REFRESH))
    out.raw(events_text(agenda, feed) if cached else _events(agenda, feed))
    out.line("END", "VCALENDAR")
    return out.getvalue().encode("utf-8")
