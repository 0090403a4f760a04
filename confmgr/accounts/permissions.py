"""Who may see and change what. Every view asks here; nothing decides on its own."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import ColumnElement, Select, bindparam, exists, false, or_, select, true
from sqlalchemy.orm import aliased

from confmgr.accounts.models import User, conference_organisers, point_coordinators
from confmgr.conferences.models import AgendaSession, Conference, Presenter, session_presenters
from confmgr.db import db
from confmgr.enums import Role, Visibility
from confmgr.points.models import BroadcastPoint


def administers_accounts(user: User) -> bool:
    """Only admins list accounts, reset their passwords and lock or unlock them."""
    return user.is_authenticated and user.role == Role.ADMIN


def manages_conference(user: User, conference: Conference) -> bool:
    """Admins manage every conference, organisers those granted to them."""
    if not user.is_authenticated:
        return False
    if user.role == Role.ADMIN:
        return True
    if user.role != Role.ORGANISER:
        return False
    granted = db.session.scalar(
        select(conference_organisers.c.conference_id).where(
            conference_organisers.c.user_id == user.id,
            conference_organisers.c.conference_id == conference.id,
        )
    )
    return granted is not None


def managed_conferences(user: User) -> Select[tuple[Conference]]:
    """The conferences a user may open in the management pages."""
    query = select(Conference).order_by(Conference.first_day.desc(), Conference.id)
    if user.role == Role.ADMIN:
        return query
    if user.role == Role.ORGANISER:
        return query.join(
            conference_organisers, conference_organisers.c.conference_id == Conference.id
        ).where(conference_organisers.c.user_id == user.id)
    if user.role == Role.PRESENTER:
        return query.where(Conference.id.in_(
            select(Presenter.conference_id).where(Presenter.user_id == user.id)))
    return query.where(Conference.id.in_(_coordinated_conference_ids(user)))


#: Made once: a new alias makes a proxy of each of the table's columns, which cost five
#: times what the rest of ``coordinated_point_ids`` does, on every page that calls it.
_CHILD_POINT = aliased(BroadcastPoint, name="child_point")


def coordinated_point_ids(user: User, conference_id: int) -> Select[tuple[int]]:
    """Ids of the points a coordinator manages in a conference and of every point below them.

    A recursive query, so Quảng Ninh's coordinator reaches Uông Bí under it but never a
    point of another province; it works the same on SQLite and PostgreSQL.
    """
    granted = (
        select(BroadcastPoint.id)
        .join(point_coordinators, point_coordinators.c.point_id == BroadcastPoint.id)
        .where(point_coordinators.c.user_id == user.id)
        .where(BroadcastPoint.conference_id == conference_id)
        .cte("reachable", recursive=True)
    )
    child = _CHILD_POINT
    reachable = granted.union_all(
        select(child.id).join(granted, child.parent_id == granted.c.id)
    )
    return select(reachable.c.id)


def can_view_point(user: User, point: BroadcastPoint, *, granted: bool | None = None) -> bool:
    """Organisers of the conference see every point; a coordinator only their own subtree.

    ``granted`` is whether a coordinator's grant reaches the point, when the caller has
    already read it with the point (see granted_on_the_way_up)."""
    if not user.is_authenticated:
        return False
    if user.role == Role.COORDINATOR:
        if granted is None:
            granted = bool(db.session.scalar(_granted_on_the_way_up(),
                                             {"point_id": point.id, "user_id": user.id}))
        return granted
    conference = db.session.get(Conference, point.conference_id)
    return conference is not None and manages_conference(user, conference)


def granted_on_the_way_up(start: Select) -> ColumnElement[bool]:
    """Is the user ``:user_id`` coordinator of the point ``start`` selects (its id and
    parent_id), or of a point above it?

    Up from the point through its parents (three levels at most), rather than down through
    everything the coordinator reaches: a short walk, run on every check-in.
    """
    up = start.cte("up", recursive=True)
    parent = aliased(BroadcastPoint)
    up = up.union_all(select(parent.id, parent.parent_id).join(up, parent.id == up.c.parent_id))
    return exists().where(point_coordinators.c.user_id == bindparam("user_id"),
                          point_coordinators.c.point_id == up.c.id)


@cache
def _granted_on_the_way_up():
    return select(granted_on_the_way_up(
        select(BroadcastPoint.id, BroadcastPoint.parent_id)
        .where(BroadcastPoint.id == bindparam("point_id"))))


def _coordinated_conference_ids(user: User) -> Select[tuple[int]]:
    return (
        select(BroadcastPoint.conference_id)
        .join(point_coordinators, point_coordinators.c.point_id == BroadcastPoint.id)
        .where(point_coordinators.c.user_id == user.id)
    )


def coordinates_in(user: User, conference: Conference) -> bool:
    """Is the user coordinator of at least one point of the conference?"""
    return bool(db.session.scalar(select(exists().where(
        point_coordinators.c.user_id == user.id,
        point_coordinators.c.point_id == BroadcastPoint.id,
        BroadcastPoint.conference_id == conference.id,
    ))))


def can_read_conference(user: User, conference: Conference) -> bool:
    """Public conferences are for everyone; restricted ones for those who take part."""
    if conference.visibility == Visibility.PUBLIC:
        return True
    return takes_part_in(user, conference)


def takes_part_in(user: User, conference: Conference) -> bool:
    """Its organisers (and admins), the coordinators of its points and its presenters."""
    if not user.is_authenticated:
        return False
    if user.role == Role.COORDINATOR:
        return coordinates_in(user, conference)
    if user.role == Role.PRESENTER:
        return bool(presenter_ids(user, conference.id))
    return manages_conference(user, conference)


# ---------------------------------------------------------------- questions


def presenter_ids(user: User, conference_id: int) -> list[int]:
    """The presenter entries of the conference that the user's account speaks for."""
    if not user.is_authenticated or user.role != Role.PRESENTER:
        return []
    return list(db.session.scalars(select(Presenter.id).where(
        Presenter.user_id == user.id, Presenter.conference_id == conference_id)))


def _topics_presented_by(presenter_ids: list[int]) -> list[int]:
    """The topics of every session these presenters present."""
    return list(db.session.scalars(
        select(AgendaSession.topic_id).distinct()
        .join(session_presenters, session_presenters.c.session_id == AgendaSession.id)
        .where(session_presenters.c.presenter_id.in_(presenter_ids),
               AgendaSession.topic_id.is_not(None))))


@dataclass(frozen=True)
class TriageScope:
    """What a user may do with a conference's questions. A request works it out once and
    passes it along, rather than asking the database again at each step."""

    #: Organisers: every question, and they alone reword, assign and publish.
    manages: bool
    #: A filter on ``Question`` rows: the questions this user may triage.
    reach: ColumnElement[bool]


def triage_scope(user: User, conference: Conference) -> TriageScope | None:
    """Organisers triage every question of the conference; a presenter those on their
    topics or assigned to them; anyone else none (None)."""
    from confmgr.questions.models import Question

    if manages_conference(user, conference):
        return TriageScope(manages=True, reach=true())
    ids = presenter_ids(user, conference.id)
    if not ids:
        return None
    return TriageScope(manages=False, reach=or_(
        Question.topic_id.in_(_topics_presented_by(ids)), Question.assignee_id.in_(ids)))


def questions_in_reach(user: User, conference: Conference) -> ColumnElement[bool]:
    """The ``reach`` of the user's triage scope; nothing for those who have none."""
    scope = triage_scope(user, conference)
    return scope.reach if scope is not None else false()
