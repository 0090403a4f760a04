"""Reading conferences and their agenda: plain functions shared by pages, feeds and tests."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from collections.abc import Iterable
from datetime import date, timedelta

from flask import abort
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload, selectinload

from confmgr.conferences.models import AgendaSession, Conference, Presenter, Room, Topic
from confmgr.db import db
from confmgr.enums import ConferenceStatus
from confmgr.roster.sorting import text_key


@dataclass(frozen=True)
class AgendaDay:
    day: date
    sessions: list[AgendaSession]


def published_conferences() -> list[Conference]:
    return list(
        db.session.scalars(
            select(Conference)
            .where(Conference.status == ConferenceStatus.PUBLISHED)
            .order_by(Conference.first_day.desc(), Conference.id)
        )
    )


_BY_SLUG = select(Conference).where(Conference.slug == bindparam("slug"))


def presenters(conference: Conference) -> list[Presenter]:
    """The conference's presenters in Vietnamese order of their names as written ("Đ"
    after "D", not after "Z")."""
    return sorted(db.session.scalars(select(Presenter).where(
        Presenter.conference_id == conference.id)), key=lambda p: (text_key(p.name), p.id))


def rooms(conference: Conference) -> list[Room]:
    """The conference's rooms in Vietnamese order of their names."""
    return sorted(db.session.scalars(select(Room).where(Room.conference_id == conference.id)),
                  key=lambda r: (text_key(r.name), r.id))


def conference_by_slug(slug: str) -> Conference:
    conference = db.session.scalar(_BY_SLUG, {"slug": slug})
    if conference is None:
        abort(404)
    return conference


def agenda_sessions(conference: Conference) -> list[AgendaSession]:
    """Every session in start order, with topic, room and presenters loaded in three queries."""
    return list(
        db.session.scalars(
            select(AgendaSession)
            .where(AgendaSession.conference_id == conference.id)
            .options(
                joinedload(AgendaSession.topic).selectinload(Topic.materials),
                joinedload(AgendaSession.room),
                selectinload(AgendaSession.presenters),
            )
            .order_by(AgendaSession.starts_at, AgendaSession.id)
        )
    )


def agenda_days(conference: Conference) -> list[AgendaDay]:
    """The live sessions grouped by their day in the conference's time zone."""
    return group_by_day(agenda_sessions(conference), conference.first_day, conference.last_day)


def group_by_day(sessions: Iterable, first_day: date, last_day: date) -> list[AgendaDay]:
    """Sessions (live or published) by local day, every day of the conference listed."""
    by_day: dict[date, list] = defaultdict(list)
    for session in sessions:
        by_day[session.local_start().date()].append(session)
    days = []
    day = first_day
    while day <= last_day:
        days.append(AgendaDay(day, by_day.pop(day, [])))
        day += timedelta(days=1)
    # Sessions outside the declared days still show rather than vanish.
    days.extend(AgendaDay(d, s) for d, s in by_day.items())
    return sorted(days, key=lambda d: d.day)


def conference_days(conference: Conference) -> list[date]:
    return [
        conference.first_day + timedelta(days=offset)
        for offset in range((conference.last_day - conference.first_day).days + 1)
    ]
