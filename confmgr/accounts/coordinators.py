"""Site coordinators: accounts bound to points, made one by one or for many points at once."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, insert, or_, select
from werkzeug.security import generate_password_hash

from confmgr.accounts.models import User, point_coordinators, user_search_text
from confmgr.accounts.services import AccountError, check_new_login, find_user
from confmgr.audit.services import record, record_each
from confmgr.conferences.editing import hold_conference
from confmgr.conferences.models import Conference
from confmgr.db import db, utcnow
from confmgr.enums import Role
from confmgr.paging import Page, page_number
from confmgr.points.models import BroadcastPoint
from confmgr.text import fold

#: No 0/O, 1/l/I: these passwords are read out over the phone and typed from paper.
PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
PASSWORD_LENGTH = 12


def generate_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


def hash_generated(password: str) -> str:
    return generate_password_hash(
        password, method=current_app.config["GENERATED_PASSWORD_HASH_METHOD"]
    )


def login_for(conference: Conference, point: BroadcastPoint) -> str:
    return f"{point.code}@{conference.slug}".lower()


def create_coordinator(
    login: str, display_name: str, points: list[BroadcastPoint]
) -> tuple[User, str]:
    """A coordinator of ``points`` with a generated password, returned once to hand out.
    A login that is not valid or already taken is refused with AccountError, and so is a
    coordinator of no point, whom no organiser could see or manage."""
    if not points:
        raise AccountError(_("Hãy nhập ít nhất một mã điểm cầu."))
    # One after another with the conference's other account making (create_for_points).
    hold_conference(db.session.get(Conference, points[0].conference_id))
    login = check_new_login(login)
    password = generate_password()
    user = User(email=login, display_name=display_name.strip() or login, role=Role.COORDINATOR,
                password_hash=hash_generated(password))
    user.points = list(points)
    db.session.add(user)
    # Named with the conference (and the point, when one), so its organisers see it in
    # their log.
    record("coordinator.create", target=user, login=login,
           conference_id=points[0].conference_id,
           point_id=points[0].id if len(points) == 1 else None,
           points=[point.code for point in points])
    return user, password


def grant_points(user: User, points: list[BroadcastPoint]) -> list[BroadcastPoint]:
    """Give an existing coordinator these points too (a second point, a new conference's);
    return those they did not hold yet. The caller commits. Refused with AccountError for
    an account that is not a coordinator's, or is locked."""
    if user.role != Role.COORDINATOR:
        raise AccountError(_("Tài khoản %(login)s không phải của điều phối viên: chỉ giao "
                             "điểm cầu cho tài khoản điều phối viên.", login=user.email))
    if not user.active:
        raise AccountError(_("Tài khoản %(login)s đã bị khóa; hãy nhờ quản trị hệ thống mở "
                             "khóa trước.", login=user.email))
    conference = db.session.get(Conference, points[0].conference_id)
    hold_conference(conference)  # as account making does: one after another
    held = set(db.session.scalars(select(point_coordinators.c.point_id).where(
        point_coordinators.c.user_id == user.id)))
    new = sorted((point for point in points if point.id not in held),
                 key=lambda point: point.code)
    if new:
        db.session.execute(insert(point_coordinators),
                           [{"user_id": user.id, "point_id": point.id} for point in new])
        record("coordinator.grant", target=user, login=user.email,
               conference_id=conference.id, point_id=new[0].id if len(new) == 1 else None,
               points=[point.code for point in new])
    return new


def existing_coordinator(login: str) -> User | None:
    """The coordinator's account ``login`` names, if it names one; another's account is
    only a login taken (making one tells so), and nobody else is named."""
    user = find_user(login)
    return user if user is not None and user.role == Role.COORDINATOR else None


def held_codes(user: User, conference_id: int) -> list[str]:
    """The codes of the conference's points granted to ``user``, in order."""
    return list(db.session.scalars(
        select(BroadcastPoint.code)
        .join(point_coordinators, point_coordinators.c.point_id == BroadcastPoint.id)
        .where(point_coordinators.c.user_id == user.id,
               BroadcastPoint.conference_id == conference_id)
        .order_by(BroadcastPoint.code)))


def _free_login(login: str, taken: set[str]) -> str:
    """``login`` numbered ("hn-a-2@slug", "hn-a-3@slug", ...) until no account holds it."""
    local, _at, domain = login.partition("@")
    number = 2
    while True:
        candidate = f"{local}-{number}@{domain}"
        if candidate not in taken and find_user(candidate) is None:
            return candidate
        number += 1


def create_for_points(
    conference: Conference, points: list[BroadcastPoint]
) -> list[tuple[BroadcastPoint, str, str]]:
    """One new coordinator per point that has none yet: (point, login, password) each.

    Core inserts, so a whole country's points get accounts in seconds. Two at once
    apply one after the other: the second finds the first's accounts, not their logins
    taken under it.
    """
    hold_conference(conference)
    # A point whose only coordinators are deactivated has nobody: it gets an account too.
    covered = set(db.session.scalars(
        select(point_coordinators.c.point_id)
        .join(User, User.id == point_coordinators.c.user_id)
        .where(point_coordinators.c.point_id.in_([p.id for p in points]), User.active)
    ))
    candidates = [p for p in points if p.id not in covered]
    wanted = [login_for(conference, p) for p in candidates]
    taken = set(db.session.scalars(select(User.email).where(User.email.in_(wanted))))
    created = []
    rows = []
    now = utcnow()
    for point, login in zip(candidates, wanted):
        if login in taken:
            # Codes "HN-A" and "hn-a" give one login, and an account may already hold it:
            # the point still gets its own, numbered, rather than none without a word.
            login = _free_login(login, taken)
        taken.add(login)
        password = generate_password()
        created.append((point, login, password))
        # A point's name may be longer than an account's.
        name = f"Điều phối {point.name}"[:User.display_name.type.length]
        rows.append({"email": login, "password_hash": hash_generated(password), "active": True,
                     "display_name": name, "role": Role.COORDINATOR, "created_at": now,
                     "search_text": user_search_text(login, name)})
    if rows:
        db.session.execute(insert(User.__table__), rows)
        user_ids = dict(db.session.execute(
            select(User.email, User.id).where(User.email.in_([row["email"] for row in rows]))
        ).all())
        db.session.execute(insert(point_coordinators), [
            {"user_id": user_ids[login], "point_id": point.id} for point, login, _ in created
        ])
        record("coordinator.create_many", target=conference, conference_id=conference.id,
               count=len(created))
        # Each account too, as one made alone is logged: which login went to which point,
        # found by the log's point filter.
        record_each("coordinator.create", [
            (User, user_ids[login], conference.id, point.id,
             {"login": login, "points": [point.code]}) for point, login, _ in created])
    return created


@dataclass(frozen=True)
class GrantQuery:
    """A page of the conference's coordinators, maybe searched by point or person."""
    text: str = ""
    page: int = 1
    per_page: int = 100

    @classmethod
    def from_args(cls, args) -> GrantQuery:
        return cls(text=args.get("q", "").strip()[:100], page=page_number(args))

    def args(self, **changes) -> dict:
        values = {"q": self.text, "page": self.page, **changes}
        return {name: value for name, value in values.items()
                if value != "" and not (name == "page" and value == 1)}


def grants(conference_id: int, query: GrantQuery) -> Page[tuple[User, BroadcastPoint]]:
    """Who coordinates which of the conference's points, by point code: one row a grant.
    A search finds the point's code or name, or the coordinator's login or name, folded."""
    statement = (
        select(User, BroadcastPoint)
        .join(point_coordinators, point_coordinators.c.user_id == User.id)
        .join(BroadcastPoint, BroadcastPoint.id == point_coordinators.c.point_id)
        .where(BroadcastPoint.conference_id == conference_id)
    )
    if query.text:
        folded = fold(query.text)
        statement = statement.where(or_(
            BroadcastPoint.search_text.contains(folded, autoescape=True),
            User.search_text.contains(folded, autoescape=True)))
    total = db.session.scalar(select(func.count()).select_from(
        statement.with_only_columns(point_coordinators.c.point_id).subquery()))
    rows = db.session.execute(
        statement.order_by(BroadcastPoint.code, User.email)
        .limit(query.per_page).offset((query.page - 1) * query.per_page)).all()
    return Page([tuple(row) for row in rows], total, query)
