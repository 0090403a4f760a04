"""Published versions of an agenda: freezing, reading back, and what changed between two.

A version's snapshot is plain JSON, so a published agenda reads the same years later
whatever happened to the live rows. Public pages, calendars and exports only ever read
snapshots; organisers edit the live rows and publish again.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, g, has_request_context
from sqlalchemy import func, select

from confmgr.accounts.models import User
from confmgr.audit.services import record
from confmgr.conferences.editing import hold_conference
from confmgr.conferences.models import AgendaVersion, Conference
from confmgr.conferences.scheduling import bare_topic_number
from confmgr.conferences.services import AgendaDay, agenda_sessions, group_by_day
from confmgr.db import db, utcnow
from confmgr.enums import ConferenceStatus, SessionKind, SessionStatus
from confmgr.text import fingerprint, plain_text

#: Fields whose change is news to a calendar (iCalendar SEQUENCE rises), besides the
#: title a calendar shows (calendar_title), which also depends on the topic's number.
SIGNIFICANT_FIELDS = ("starts_at", "ends_at", "room", "status")


class NothingToPublish(ValueError):
    """The draft is the same as the latest published version."""


class DraftChangedMeanwhile(ValueError):
    """The agenda was edited since the page that asked to publish was shown: publishing
    would release changes its publisher has not seen."""


class PublishedMeanwhile(ValueError):
    """Someone published since the page that asked to publish was shown: the changes it
    listed are no longer what publishing would change."""

    def __init__(self, number: int):
        super().__init__(number)
        self.number = number


# ---------------------------------------------------------------- building snapshots


def _session_content(session) -> dict[str, Any]:
    topic = session.topic
    return {
        "id": session.id,
        "uid": session.uid,
        "starts_at": session.starts_at.isoformat(),
        "ends_at": session.ends_at.isoformat(),
        "kind": session.kind.value,
        "title": session.title,
        "description": session.description,
        "status": session.status.value,
        "room": session.room.name if session.room else None,
        "topic": None if topic is None else {
            "id": topic.id,
            "number": topic.number,
            "title": topic.title,
            "summary": topic.summary,
            "materials": [
                {"id": m.id, "title": m.title, "url": m.url, "file_name": m.original_name}
                for m in topic.materials
            ],
        },
        "presenters": [
            {"name": p.name, "position": p.position, "unit": p.unit} for p in session.presenters
        ],
    }


def _conference_content(conference: Conference) -> dict[str, Any]:
    return {
        "title": conference.title,
        "organising_unit": conference.organising_unit,
        "description": conference.description,
        "timezone": conference.timezone,
        "first_day": conference.first_day.isoformat(),
        "last_day": conference.last_day.isoformat(),
    }


def draft_snapshot(conference: Conference, sessions: list | None = None) -> dict[str, Any]:
    """The live agenda in snapshot form, without publication bookkeeping.

    ``sessions``, when given, are the conference's sessions as agenda_sessions() loads them.
    """
    if sessions is None:
        sessions = agenda_sessions(conference)
    return {
        "conference": _conference_content(conference),
        "sessions": [_session_content(s) for s in sessions],
    }


def pending_changes(conference: Conference, latest: AgendaVersion | None = None,
                    draft: dict[str, Any] | None = None) -> list[Change]:
    """What publishing ``draft`` (the agenda now) would change for readers of the latest
    version (or of ``latest``)."""
    latest = latest or latest_version(conference)
    return diff_snapshots(snapshot_of(latest) if latest else None,
                          draft or draft_snapshot(conference))


def draft_digest(draft: dict[str, Any]) -> str:
    """A fingerprint of a draft: the publish page carries the one whose changes it listed."""
    return fingerprint(draft)


# ---------------------------------------------------------------- publishing


def latest_version(conference: Conference) -> AgendaVersion | None:
    return db.session.scalar(
        select(AgendaVersion)
        .where(AgendaVersion.conference_id == conference.id)
        .order_by(AgendaVersion.number.desc())
        .limit(1)
    )


def publish(conference: Conference, user: User | None, comment: str = "",
            seen_version: int | None = None, seen_draft: str | None = None) -> AgendaVersion:
    """Freeze the live agenda as the next version; the caller commits. ``seen_version``:
    the latest version number (0 for none) the publisher's page compared the draft with;
    ``seen_draft``: that draft's digest (draft_digest)."""
    # One after another with saves, deletions and other publications: what is frozen is
    # what was committed.
    hold_conference(conference)
    previous = latest_version(conference)
    # Versions are never taken back, so only a later one means someone published since.
    if previous is not None and seen_version is not None and previous.number > seen_version:
        raise PublishedMeanwhile(previous.number)
    sessions = agenda_sessions(conference)
    draft = draft_snapshot(conference, sessions)
    if seen_draft is not None and draft_digest(draft) != seen_draft:
        raise DraftChangedMeanwhile(seen_draft)
    if previous is not None and not diff_snapshots(snapshot_of(previous), draft):
        raise NothingToPublish("the draft is the same as the latest version")

    now = utcnow()
    stamp = now.isoformat()
    before = {s["uid"]: s for s in snapshot_of(previous)["sessions"]} if previous else {}
    live = {s.uid: s for s in sessions}
    entries = []
    for content in draft["sessions"]:
        old = before.get(content["uid"])
        if old is None:
            bookkeeping = {"sequence": 0, "created": stamp, "modified": stamp}
        else:
            significant = (any(old[name] != content[name] for name in SIGNIFICANT_FIELDS)
                           or calendar_title(old) != calendar_title(content))
            changed = not _same_content(old, content)
            bookkeeping = {
                "sequence": old["sequence"] + (1 if significant else 0),
                "created": old["created"],
                "modified": stamp if changed else old["modified"],
            }
        session = live[content["uid"]]
        session.sequence = bookkeeping["sequence"]
        if session.first_published_at is None:
            session.first_published_at = now
        # Attendance follows what delegates read, not the draft (see AgendaSession).
        session.published_starts_at = session.starts_at
        session.published_ends_at = session.ends_at
        session.published_status = session.status
        session.published_title = session.title
        session.published_kind = session.kind
        entries.append({**content, **bookkeeping})

    version = AgendaVersion(
        conference_id=conference.id,
        number=previous.number + 1 if previous else 1,
        comment=plain_text(comment).strip(),
        published_at=now,
        published_by_id=user.id if user is not None else None,
        snapshot={"conference": draft["conference"], "sessions": entries},
    )
    db.session.add(version)
    conference.status = ConferenceStatus.PUBLISHED
    record("agenda.publish", target=version, conference_id=conference.id,
           number=version.number, comment=version.comment)
    return version


def _content_of(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k not in ("sequence", "created", "modified")}


def _topic_as_known(old_topic: dict | None, new_topic: dict | None) -> dict | None:
    """``new_topic`` with only what a snapshot published before topics carried their id
    knows, so that upgrading alone is no change to publish."""
    if old_topic is None or new_topic is None or "id" in old_topic:
        return new_topic
    return {k: v for k, v in new_topic.items() if k != "id"}


def _same_content(old: dict[str, Any], new: dict[str, Any]) -> bool:
    new = {**new, "topic": _topic_as_known(old.get("topic"), new.get("topic"))}
    return _content_of(old) == _content_of(new)


def event_title(title: str, topic_number: str | None) -> str:
    """A session's title as calendars and schedules show it (SUMMARY)."""
    if topic_number is not None:
        return f"Chuyên đề {bare_topic_number(topic_number)}: {title}"
    return title


def calendar_title(entry: dict[str, Any]) -> str:
    """event_title() of a snapshot's session entry."""
    topic = entry.get("topic")
    return event_title(entry["title"], topic["number"] if topic else None)


# ---------------------------------------------------------------- what changed


@dataclass(frozen=True)
class Change:
    """One line of a changelog."""

    #: added, removed, moved, retitled, cancelled, reinstated, updated
    kind: str
    uid: str
    title: str
    old: dict[str, Any] = field(default_factory=dict)
    new: dict[str, Any] = field(default_factory=dict)


def _place(entry: dict[str, Any]) -> dict[str, Any]:
    return {"starts_at": entry["starts_at"], "ends_at": entry["ends_at"], "room": entry["room"]}


def _shown_at(place: dict[str, Any], snapshot: dict[str, Any]) -> dict[str, Any]:
    """A time and place as its own version showed them: in that version's time zone,
    which an organiser may have changed since."""
    return {**place, "zone": snapshot["conference"]["timezone"]}


def diff_snapshots(old: dict[str, Any] | None, new: dict[str, Any]) -> list[Change]:
    """What a reader of ``old`` must learn to know ``new``, in the new agenda's order."""
    before = {s["uid"]: s for s in old["sessions"]} if old else {}
    after_uids = {s["uid"] for s in new["sessions"]}
    changes: list[Change] = []
    for entry in new["sessions"]:
        previous = before.get(entry["uid"])
        if previous is None:
            # A session cancelled before readers ever saw it comes in cancelled.
            changes.append(Change("added", entry["uid"], entry["title"], new={
                **_shown_at(_place(entry), new),
                "cancelled": entry["status"] == SessionStatus.CANCELLED.value}))
            continue
        status_changed = previous["status"] != entry["status"]
        if status_changed and entry["status"] == SessionStatus.CANCELLED.value:
            changes.append(Change("cancelled", entry["uid"], entry["title"]))
        elif status_changed:
            changes.append(Change("reinstated", entry["uid"], entry["title"]))
        if _place(previous) != _place(entry):
            changes.append(Change("moved", entry["uid"], entry["title"],
                                  _shown_at(_place(previous), old), _shown_at(_place(entry), new)))
        if calendar_title(previous) != calendar_title(entry):
            # The session's own titles, with the topic number in front of them when that
            # changed: what a reader sees change. The page writes the word "Chuyên đề"
            # in its own language.
            same_number = _topic_number(previous) == _topic_number(entry)
            shown = (lambda e: {"title": e["title"]}) if same_number else _titled
            changes.append(Change(
                "retitled", entry["uid"], entry["title"], shown(previous), shown(entry)))
        if _updated(previous, entry):
            changes.append(Change("updated", entry["uid"], entry["title"]))
    for uid, entry in before.items():
        if uid not in after_uids:
            changes.append(Change("removed", uid, entry["title"],
                                  old=_shown_at(_place(entry), old)))
    if old is not None and old["conference"] != new["conference"]:
        changes.append(Change("conference", "", new["conference"]["title"]))
    return changes


def _topic_number(entry: dict[str, Any]) -> str | None:
    return entry["topic"]["number"] if entry.get("topic") else None


def _titled(entry: dict[str, Any]) -> dict[str, Any]:
    """A session's title and its topic's bare number (None outside a topic)."""
    number = _topic_number(entry)
    return {"title": entry["title"],
            "topic": bare_topic_number(number) if number is not None else None}


def _updated(previous: dict[str, Any], entry: dict[str, Any]) -> bool:
    """Whether anything changed besides time, place, title and status; a topic's number
    alone is told as a change of title."""
    if any(previous.get(name) != entry.get(name) for name in ("kind", "description",
                                                              "presenters")):
        return True
    old_topic = previous.get("topic")
    new_topic = _topic_as_known(old_topic, entry.get("topic"))
    if old_topic is None or new_topic is None:
        return old_topic != new_topic
    return {**old_topic, "number": None} != {**new_topic, "number": None}


# ---------------------------------------------------------------- reading a version


@dataclass(frozen=True)
class Named:
    name: str


@dataclass(frozen=True)
class PublishedPresenter:
    name: str
    position: str
    unit: str


@dataclass(frozen=True)
class PublishedMaterial:
    id: int
    title: str
    url: str
    file_name: str


@dataclass(frozen=True)
class PublishedTopic:
    number: str
    title: str
    summary: str
    materials: tuple[PublishedMaterial, ...]
    #: The live topic's id; None in versions published before snapshots held it.
    id: int | None = None


@dataclass(frozen=True)
class PublishedConference:
    title: str
    organising_unit: str
    description: str
    timezone: str
    first_day: date
    last_day: date

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class PublishedSession:
    """A session as a version shows it; the same attributes the live model offers."""

    id: int
    uid: str
    starts_at: datetime
    ends_at: datetime
    kind: SessionKind
    title: str
    description: str
    status: SessionStatus
    room: Named | None
    topic: PublishedTopic | None
    presenters: tuple[PublishedPresenter, ...]
    sequence: int
    created: datetime
    modified: datetime
    tz: ZoneInfo

    @property
    def is_cancelled(self) -> bool:
        return self.status == SessionStatus.CANCELLED

    def local_start(self) -> datetime:
        return self.starts_at.astimezone(self.tz)

    def local_end(self) -> datetime:
        return self.ends_at.astimezone(self.tz)


@dataclass(frozen=True)
class PublishedAgenda:
    number: int
    published_at: datetime
    comment: str
    conference: PublishedConference
    sessions: tuple[PublishedSession, ...]

    @property
    def days(self) -> list[AgendaDay]:
        return group_by_day(self.sessions, self.conference.first_day, self.conference.last_day)

    @property
    def topics(self) -> list[PublishedTopic]:
        """Each topic once, in the order the agenda first presents it."""
        seen: dict[tuple, PublishedTopic] = {}
        for session in self.sessions:
            if session.topic is not None:
                key = (session.topic.id, session.topic.number)
                seen.setdefault(key, session.topic)
        return list(seen.values())

    @property
    def material_ids(self) -> set[int]:
        return {m.id for s in self.sessions if s.topic for m in s.topic.materials}


def read_version(version: AgendaVersion) -> PublishedAgenda:
    snapshot = snapshot_of(version)
    info = snapshot["conference"]
    conference = PublishedConference(
        title=info["title"],
        organising_unit=info["organising_unit"],
        description=info["description"],
        timezone=info["timezone"],
        first_day=date.fromisoformat(info["first_day"]),
        last_day=date.fromisoformat(info["last_day"]),
    )
    tz = conference.tz
    sessions = tuple(
        PublishedSession(
            id=s["id"],
            uid=s["uid"],
            starts_at=datetime.fromisoformat(s["starts_at"]),
            ends_at=datetime.fromisoformat(s["ends_at"]),
            kind=SessionKind(s["kind"]),
            title=s["title"],
            description=s["description"],
            status=SessionStatus(s["status"]),
            room=Named(s["room"]) if s["room"] else None,
            topic=None if s["topic"] is None else PublishedTopic(
                # Versions published before numbers were stored bare may carry the words.
                number=bare_topic_number(s["topic"]["number"]),
                title=s["topic"]["title"],
                summary=s["topic"]["summary"],
                materials=tuple(PublishedMaterial(**m) for m in s["topic"]["materials"]),
                id=s["topic"].get("id"),
            ),
            presenters=tuple(PublishedPresenter(**p) for p in s["presenters"]),
            sequence=s["sequence"],
            created=datetime.fromisoformat(s["created"]),
            modified=datetime.fromisoformat(s["modified"]),
            tz=tz,
        )
        for s in snapshot["sessions"]
    )
    return PublishedAgenda(version.number, version.published_at, version.comment, conference,
                           sessions)


_READ_CACHE_SIZE = 256


def cached_per_version(name: str, key: tuple, load):
    """A per-process cache for what a version holds: versions never change once written.

    ``key`` must identify the version (its id or number and publication time).
    """
    cache = current_app.extensions.setdefault(name, {})
    value = cache.get(key)
    if value is None:
        value = load()
        if len(cache) >= _READ_CACHE_SIZE:
            cache.clear()
        cache[key] = value
    return value


def snapshot_of(version: AgendaVersion) -> dict[str, Any]:
    """A version's snapshot, parsed from JSON once per process (treat it as read-only)."""
    return cached_per_version("confmgr.snapshots", (version.id, version.published_at),
                   lambda: version.snapshot)


def published_title(conference: Conference) -> str | None:
    """The conference's title as last published (feeds and links name it so), or None
    before the first publication."""
    agenda = published_agenda(conference)
    return None if agenda is None else agenda.conference.title


def published_agenda(conference: Conference) -> PublishedAgenda | None:
    """The latest published version of a conference's agenda, or None before the first."""
    latest = db.session.execute(
        select(AgendaVersion.id, AgendaVersion.published_at)
        .where(AgendaVersion.conference_id == conference.id)
        .order_by(AgendaVersion.number.desc())
        .limit(1)
    ).first()
    if latest is None:
        return None
    return cached_per_version("confmgr.published_agendas", tuple(latest),
                   lambda: read_version(db.session.get(AgendaVersion, latest.id)))


def published_timezone(conference: Conference) -> str:
    """The time zone delegates read the agenda in: a draft's new one is not theirs until it
    is published, and the published times are shown in the zone they were given in.
    Once per request and conference."""
    known = g.setdefault("confmgr_published_timezones", {}) if has_request_context() else {}
    if conference.id not in known:
        agenda = published_agenda(conference)
        known[conference.id] = agenda.conference.timezone if agenda else conference.timezone
    return known[conference.id]


def latest_version_numbers(conference_ids: list[int]) -> dict[int, int]:
    """Each conference's latest published version number, in one query for a whole list;
    conferences never published are missing."""
    if not conference_ids:
        return {}
    return dict(db.session.execute(
        select(AgendaVersion.conference_id, func.max(AgendaVersion.number))
        .where(AgendaVersion.conference_id.in_(conference_ids))
        .group_by(AgendaVersion.conference_id)
    ).all())


def versions(conference: Conference) -> list[AgendaVersion]:
    return list(db.session.scalars(
        select(AgendaVersion)
        .where(AgendaVersion.conference_id == conference.id)
        .order_by(AgendaVersion.number.desc())
    ))
