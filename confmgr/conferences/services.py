"""Reading conferences and their agenda: plain functions shared by pages, feeds and tests."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from confmgr.conferences.models import AgendaSession, Conference
from confmgr.db import db
from confmgr.enums import ConferenceStatus


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


def conference_by_slug(slug: str) -> Conference:
    conference = db.session.scalar(select(Conference).where(Conference.slug == slug))
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
                joinedload(AgendaSession.topic),
                joinedload(AgendaSession.room),
                selectinload(AgendaSession.presenters),
            )
            .order_by(AgendaSession.starts_at, AgendaSession.id)
        )
    )


def agenda_days(conference: Conference) -> list[AgendaDay]:
    """Sessions grouped by their day in the conference's time zone, every day listed."""
    by_day: dict[date, list[AgendaSession]] = defaultdict(list)
    for session in agenda_sessions(conference):
        by_day[session.local_start().date()].append(session)
    days = []
    day = conference.first_day
    while day <= conference.last_day:
        days.append(AgendaDay(day, by_day.pop(day, [])))
        day = date.fromordinal(day.toordinal() + 1)
    # Sessions outside the declared days still show rather than vanish.
    days.extend(AgendaDay(d, s) for d, s in sorted(by_day.items()))
    return sorted(days, key=lambda d: d.day)
