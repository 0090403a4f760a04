"""Reading broadcast points: plain functions shared by pages and tests."""
from __future__ import annotations

from flask import abort
from flask_babel import gettext as _
from sqlalchemy import Select, and_, bindparam, distinct, func, select, update
from sqlalchemy.orm import aliased

from confmgr.accounts.models import User, point_coordinators
from confmgr.accounts.permissions import coordinated_point_ids, granted_on_the_way_up
from confmgr.attendance import checkin
from confmgr.audit.services import record
from confmgr.conferences.editing import RuleBroken, changed_fields, hold_conference
from confmgr.conferences.models import AgendaSession, Conference
from confmgr.conferences.scheduling import Problem
from confmgr.db import db, utcnow
from confmgr.enums import RegistrationStatus
from confmgr.points import importing
from confmgr.points.models import BroadcastPoint, ConnectionTestResult, place_bookkeeping
from confmgr.roster.models import Participant, PointCategoryRegistration
from confmgr.spreadsheets import Row, Table, TableError


_BY_CODE = select(BroadcastPoint).where(BroadcastPoint.conference_id == bindparam("conference_id"),
                                        BroadcastPoint.code == bindparam("code"))


_WITH_CONFERENCE = (
    select(Conference, BroadcastPoint)
    .join(BroadcastPoint, BroadcastPoint.conference_id == Conference.id)
    .where(Conference.slug == bindparam("slug"), BroadcastPoint.code == bindparam("code"))
)


def conference_and_point(slug: str, code: str) -> tuple[Conference, BroadcastPoint]:
    """Both in one query: every page of a point, and every check-in, starts here."""
    found = db.session.execute(_WITH_CONFERENCE, {"slug": slug, "code": code}).first()
    if found is None:
        abort(404)
    return found[0], found[1]


def _with_conference_session_and_grant():
    point = aliased(BroadcastPoint)
    start = (select(point.id, point.parent_id)
             .join(Conference, Conference.id == point.conference_id)
             .where(Conference.slug == bindparam("slug"), point.code == bindparam("code")))
    return (
        select(Conference, BroadcastPoint, AgendaSession,
               granted_on_the_way_up(start).label("granted"))
        .join(BroadcastPoint, BroadcastPoint.conference_id == Conference.id)
        .outerjoin(AgendaSession, and_(AgendaSession.conference_id == Conference.id,
                                       AgendaSession.id == bindparam("session_id")))
        .where(Conference.slug == bindparam("slug"), BroadcastPoint.code == bindparam("code"))
    )


_WITH_CONFERENCE_SESSION_AND_GRANT = _with_conference_session_and_grant()
_SHARING_THE_POINT = checkin.share_point_as_read(_WITH_CONFERENCE_SESSION_AND_GRANT,
                                                 BroadcastPoint)


def conference_point_and_session(slug: str, code: str, session_id: int, user_id: int, *,
                                 share_point: bool = False):
    """As ``conference_and_point``, with one of the conference's sessions or None, and
    whether user ``user_id``'s coordinator grant reaches the point: all in one query, the
    first of every check-in. With ``share_point`` (a tap about to count there), on
    PostgreSQL the same query holds the point's lock shared (``checkin.share_point``)."""
    sharing = share_point and db.session.get_bind().dialect.name == "postgresql"
    found = db.session.execute(
        _SHARING_THE_POINT if sharing else _WITH_CONFERENCE_SESSION_AND_GRANT, {
            "slug": slug, "code": code, "session_id": session_id, "user_id": user_id}).first()
    if found is None:
        abort(404)
    if sharing:
        checkin.shared(found[1])
    return found[0], found[1], found[2], bool(found[3])


def point_by_code(conference_id: int, code: str) -> BroadcastPoint:
    point = db.session.scalar(_BY_CODE, {"conference_id": conference_id, "code": code})
    if point is None:
        abort(404)
    return point


def registered_counts(point_ids) -> dict[int, int]:
    """Registered (not withdrawn) delegates per point, in one grouped query."""
    rows = db.session.execute(
        select(Participant.point_id, func.count())
        .where(Participant.point_id.in_(point_ids))
        .where(Participant.status == RegistrationStatus.REGISTERED)
        .group_by(Participant.point_id)
    )
    return dict(rows.all())


def coordinated_points(user: User, conference_id: int,
                       limit: int) -> tuple[list[BroadcastPoint], int]:
    """The first ``limit`` of a coordinator's points and every point below them (those
    granted to them first, then by code), and how many there are in all: a province's
    coordinator reaches hundreds."""
    ids = coordinated_point_ids(user, conference_id).subquery()
    # A point under two of one's grants (a province and a commune in it) counts once.
    total = db.session.scalar(select(func.count(distinct(ids.c.id))))
    granted = select(point_coordinators.c.point_id).where(
        point_coordinators.c.user_id == user.id)
    shown = db.session.scalars(
        select(BroadcastPoint).where(BroadcastPoint.id.in_(select(ids.c.id)))
        .order_by(BroadcastPoint.id.in_(granted).desc(), BroadcastPoint.code).limit(limit))
    return list(shown), total


#: What only organisers change: where the point sits in the tree and what it stands for.
STRUCTURE_FIELDS = ("code", "name", "level", "parent_code", "admin_unit_code",
                    "expected_delegates", "headcount_only")
CONTACT_FIELDS = ("address", "host_unit", "chair_name", "chair_position",
                  "technical_officer_name", "technical_officer_phone", "stream_url",
                  "access_code")


def save_point(conference: Conference, point: BroadcastPoint | None, values: dict) -> None:
    """Create or update one point with the same checks as a spreadsheet import."""
    hold_conference(conference)  # as an import does, before the checks below
    if point is None and db.session.scalar(select(BroadcastPoint.id).where(
            BroadcastPoint.conference_id == conference.id,
            BroadcastPoint.code == values["code"])) is not None:
        raise RuleBroken([Problem("code", _("Đã có điểm cầu mã %(code)s.", code=values["code"]))])
    if point is not None and values.get("parent_code") and _is_below(point, values["parent_code"]):
        raise RuleBroken([Problem("parent_code", _(
            "Điểm cầu cấp trên không thể là một điểm cầu nằm dưới điểm cầu này."))])
    before = _as_saved(point) if point is not None else None
    try:
        importing.import_points(conference, Table([Row(0, values)], values), logged=False)
    except TableError as problem:
        by_heading = {column.heading: column.field for column in importing.COLUMNS}
        raise RuleBroken([Problem(by_heading.get(e.column, ""), e.message)
                          for e in problem.errors]) from None
    # Logged as this one point's change (an import's entry names no point): the log's
    # point filter finds who changed its link or its contacts.
    saved = point_by_code(conference.id, values["code"])
    db.session.refresh(saved)  # the import wrote it with statements of its own
    if before is None:
        record("point.create", target=saved, conference_id=conference.id, point_id=saved.id,
               code=saved.code, name=saved.name)
    else:
        changed = changed_fields(before, _as_saved(saved))
        if changed:
            record("point.update", target=saved, conference_id=conference.id,
                   point_id=saved.id, **changed)


def _as_saved(point: BroadcastPoint) -> dict:
    """What the point's form saves, as the point holds it."""
    values = {name: getattr(point, name) for name in (*STRUCTURE_FIELDS, *CONTACT_FIELDS)
              if name != "parent_code"}
    values["parent_code"] = point.parent.code if point.parent else ""
    return values


def _is_below(point: BroadcastPoint, code: str) -> bool:
    """Whether the point with ``code`` sits somewhere under ``point`` (or is it)."""
    candidate = db.session.scalar(select(BroadcastPoint).where(
        BroadcastPoint.conference_id == point.conference_id, BroadcastPoint.code == code))
    while candidate is not None:
        if candidate.id == point.id:
            return True
        candidate = candidate.parent
    return False


def recorder_names(results: list[ConnectionTestResult]) -> dict[int, str]:
    """The names of those who recorded ``results`` (a point's connection tests), by id."""
    ids = {result.recorded_by_id for result in results if result.recorded_by_id is not None}
    if not ids:
        return {}
    return dict(db.session.execute(
        select(User.id, User.display_name).where(User.id.in_(ids))).all())


def update_contacts(point: BroadcastPoint, values: dict) -> None:
    """What a coordinator may change: the point's contacts and link, nothing structural."""
    problems = []
    if not importing.PHONE.match(values.get("technical_officer_phone", "")):
        problems.append(Problem("technical_officer_phone", _("Số điện thoại không hợp lệ.")))
    refusal = importing.stream_url_refusal(values.get("stream_url", ""))
    if refusal:
        problems.append(Problem("stream_url", refusal))
    contacts = {name: values.get(name, "") for name in CONTACT_FIELDS}
    # Counted as stored: normalising (NFC) can lengthen what the form's check counted.
    problems += [Problem(name, message) for name, message in importing.overlong(contacts)]
    if problems:
        raise RuleBroken(problems)
    changed = changed_fields({name: getattr(point, name) for name in CONTACT_FIELDS},
                             contacts)
    contacts.update(place_bookkeeping(point, contacts, utcnow()))
    for name, value in contacts.items():
        setattr(point, name, value)
    if changed:
        record("point.update", target=point, conference_id=point.conference_id,
               point_id=point.id, **changed)


def refresh_registered_counts(conference_id: int) -> None:
    """Recount every point's registered delegates (after bulk loads that bypass the roster)."""
    registered = (
        select(func.count()).where(
            Participant.point_id == BroadcastPoint.id,
            Participant.status == RegistrationStatus.REGISTERED,
        ).scalar_subquery()
    )
    db.session.execute(
        update(BroadcastPoint).where(BroadcastPoint.conference_id == conference_id)
        .values(registered_count=registered)
        .execution_options(synchronize_session=False)
    )
    # And by category, from scratch.
    table = PointCategoryRegistration.__table__
    db.session.execute(table.delete().where(table.c.conference_id == conference_id))
    db.session.execute(table.insert().from_select(
        ["point_id", "category_ref", "conference_id", "province_code", "registered"],
        registered_by_category_from_rows(conference_id)))


def registered_from_rows(conference_id: int) -> Select:
    """What each point's ``registered_count`` should be, counted from its delegates:
    (point, registered_count), for points with any."""
    return (select(Participant.point_id, func.count().label("registered_count"))
            .where(Participant.conference_id == conference_id,
                   Participant.status == RegistrationStatus.REGISTERED)
            .group_by(Participant.point_id))


def registered_by_category_from_rows(conference_id: int) -> Select:
    """What ``PointCategoryRegistration`` should hold for a conference, counted from its
    delegates: (point, category ref, conference, province, registered)."""
    return (
        select(Participant.point_id,
               func.coalesce(Participant.category_id, 0).label("category_ref"),
               Participant.conference_id,
               func.coalesce(BroadcastPoint.province_code, "").label("province_code"),
               func.count().label("registered"))
        .join(BroadcastPoint, BroadcastPoint.id == Participant.point_id)
        .where(Participant.conference_id == conference_id,
               Participant.status == RegistrationStatus.REGISTERED)
        .group_by(Participant.point_id, Participant.category_id, Participant.conference_id,
                  BroadcastPoint.province_code))


#: The most point codes one coordinator account is given in one go.
MAX_COORDINATOR_CODES = 1000


def points_for_coordinator(conference: Conference, codes_text: str) -> list[BroadcastPoint]:
    """The points of a comma-separated list of codes, for a new coordinator to hold.

    Refused (RuleBroken on point_codes) when it names no point, since the account would
    reach nothing, or a code the conference does not have.
    """
    codes = list(dict.fromkeys(code.strip() for code in codes_text.split(",") if code.strip()))
    if not codes:
        raise RuleBroken([Problem("point_codes", _("Hãy nhập ít nhất một mã điểm cầu."))])
    if len(codes) > MAX_COORDINATOR_CODES:
        raise RuleBroken([Problem("point_codes", _(
            "Tối đa %(limit)d mã điểm cầu cho một tài khoản; người điều phối một tỉnh chỉ cần "
            "mã điểm cầu của tỉnh, đã gồm mọi điểm cầu bên dưới.",
            limit=MAX_COORDINATOR_CODES))])
    chosen = list(db.session.scalars(select(BroadcastPoint).where(
        BroadcastPoint.conference_id == conference.id, BroadcastPoint.code.in_(codes))))
    missing = sorted(set(codes) - {p.code for p in chosen})
    if missing:
        raise RuleBroken([Problem("point_codes", _("Không có điểm cầu mã: %(codes)s.",
                                                   codes=", ".join(missing)))])
    return chosen
