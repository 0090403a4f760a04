"""Building iCalendar (RFC 5545) documents from the agenda."""
from __future__ import annotations

from datetime import timedelta

from flask_babel import force_locale
from icalendar import Calendar, Event, vDuration

from confmgr.conferences.labels import SESSION_KIND_LABELS
from confmgr.conferences.publishing import (
    PublishedAgenda,
    PublishedConference,
    PublishedSession,
)
from confmgr.enums import SessionStatus

PRODID = "-//confmgr//confmgr agenda//VI"
#: Kept stable across renames of the host, so clients never see duplicates.
UID_DOMAIN = "confmgr"
#: How often subscribed clients are asked to fetch the feed again.
REFRESH = timedelta(hours=1)


def session_summary(session: PublishedSession) -> str:
    if session.topic is not None:
        return f"Chuyên đề {session.topic.number}: {session.title}"
    return session.title


def session_description(session: PublishedSession, url: str) -> str:
    lines = []
    for presenter in session.presenters:
        details = ", ".join(part for part in (presenter.position, presenter.unit) if part)
        lines.append(f"{presenter.name} — {details}" if details else presenter.name)
    if session.topic is not None and session.topic.summary:
        lines.append(session.topic.summary)
    if session.description:
        lines.append(session.description)
    # Repeated here because several clients hide the URL property.
    lines.append(url)
    return "\n\n".join(lines)


def session_event(session: PublishedSession, conference: PublishedConference, url: str) -> Event:
    tz = conference.tz
    with force_locale("vi"):
        category = str(SESSION_KIND_LABELS[session.kind])
    event = Event.new(
        uid=f"{session.uid}@{UID_DOMAIN}",
        # The publication that last changed the session, so an unchanged feed stays
        # byte-for-byte the same between requests.
        stamp=session.modified,
        created=session.created,
        last_modified=session.modified,
        sequence=session.sequence,
        start=session.starts_at.astimezone(tz),
        end=session.ends_at.astimezone(tz),
        summary=session_summary(session),
        description=session_description(session, url),
        location=session.room.name if session.room else None,
        url=url,
        categories=[category],
        status="CANCELLED" if session.status == SessionStatus.CANCELLED else "CONFIRMED",
    )
    return event


def build_calendar(agenda: PublishedAgenda, agenda_url: str, name: str) -> bytes:
    conference = agenda.conference
    calendar = Calendar.new(prodid=PRODID, name=name, refresh_interval=REFRESH)
    # Calendar.new gives every calendar a fresh random UID; a feed must be stable.
    calendar.pop("UID")
    calendar.add("X-WR-TIMEZONE", conference.timezone)
    calendar.add("X-PUBLISHED-TTL", vDuration(REFRESH))
    for session in agenda.sessions:
        calendar.add_component(session_event(session, conference, f"{agenda_url}#s{session.id}"))
    calendar.add_missing_timezones(
        first_date=conference.first_day - timedelta(days=1),
        last_date=conference.last_day + timedelta(days=1),
    )
    return calendar.to_ical()
