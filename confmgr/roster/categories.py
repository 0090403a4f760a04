"""Categories (thành phần) and what each level of point must send ("đúng thành phần")."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import selectinload

from confmgr.audit.services import record
from confmgr.conferences.editing import RuleBroken, changed_fields, hold_conference
from confmgr.conferences.models import Conference
from confmgr.conferences.scheduling import Problem
from confmgr.db import db
from confmgr.enums import PointLevel
from confmgr.points.listing import in_province
from confmgr.points.models import BroadcastPoint
from confmgr.roster.models import Category, CategoryRequirement, PointCategoryRegistration
from confmgr.roster.sorting import text_key
from confmgr.text import fold, normalise


def categories(conference: Conference, *, with_requirements: bool = False) -> list[Category]:
    """The conference's categories as every list shows them: by rank, then by name in
    Vietnamese order (the database's would put "Đ" and "Ủ" after "T")."""
    query = select(Category).where(Category.conference_id == conference.id)
    if with_requirements:
        query = query.options(selectinload(Category.requirements))
    return sorted(db.session.scalars(query), key=lambda c: (c.rank, text_key(c.name), c.id))


def listed_order(conference: Conference, category_id):
    """An SQL expression placing the categories whose ids ``category_id`` holds as
    ``categories`` lists them (those of one rank by their Vietnamese names, which no
    database orders so; the databases themselves differ), any other id last."""
    listed = [category.id for category in categories(conference)]
    if not listed:
        return literal(0)
    return case({id_: place for place, id_ in enumerate(listed)}, value=category_id,
                else_=len(listed))


#: As long as a category's name may be, counted as stored (NFC can lengthen what is typed).
NAME_LIMIT = 200


def add_category(conference: Conference, name: str, rank: int) -> Category:
    name = _checked_name(conference, name)
    category = Category(conference_id=conference.id, name=name, rank=rank)
    db.session.add(category)
    record("category.create", target=category, conference_id=conference.id, name=name,
           rank=rank)
    return category


def update_category(category: Category, name: str, rank: int, *,
                    shown: tuple[str, int] | None = None) -> bool:
    """Correct a category's name (a typo) or its place in protocol order; whether anything
    changed. Every list, report and file names the delegates' category as it is now.

    ``shown``: the name and rank the form was opened with. Changed by someone else since,
    the category is not overwritten unseen."""
    conference = db.session.get(Conference, category.conference_id)
    hold_conference(conference)
    db.session.refresh(category)  # as held, not as first read
    # Told before any other problem: the page shown again acknowledges what it says.
    if shown is not None and (normalise(shown[0]), shown[1]) != (category.name, category.rank):
        raise RuleBroken([Problem("name", _(
            "Người khác vừa sửa thành phần này thành «%(name)s», thứ tự %(rank)d; hãy xem "
            "lại rồi lưu.", name=category.name, rank=category.rank))])
    name = _checked_name(conference, name, keeping=category)
    before = {"name": category.name, "rank": category.rank}
    category.name, category.rank = name, rank
    changed = changed_fields(before, {"name": name, "rank": rank})
    if changed:
        record("category.update", target=category, conference_id=category.conference_id,
               **changed)
    return bool(changed)


def _checked_name(conference: Conference, name: str, *, keeping: Category | None = None
                  ) -> str:
    """``name`` as stored, once no other category of the conference has it (holding the
    conference), or the problem."""
    name = normalise(name)
    if not name:
        raise RuleBroken([Problem("name", _("Hãy nhập tên thành phần."))])
    if len(name) > NAME_LIMIT:
        raise RuleBroken([Problem("name", _("Dài quá %(limit)d ký tự.", limit=NAME_LIMIT))])
    # Imports find a category by its folded name ("can bo" finds "Cán bộ"), so two that
    # fold alike could not be told apart there. No constraint knows folding: two added at
    # once take turns.
    hold_conference(conference)
    for existing_id, existing in db.session.execute(select(Category.id, Category.name).where(
            Category.conference_id == conference.id)):
        if fold(existing) == fold(name) and (keeping is None or existing_id != keeping.id):
            raise RuleBroken([Problem("name", _("Đã có thành phần «%(name)s».",
                                                name=existing))])
    return name


def require(category: Category, level: PointLevel, min_count: int) -> None:
    """Every point of ``level`` must send ``min_count`` of the category; 0 removes the rule."""
    existing = db.session.scalar(select(CategoryRequirement).where(
        CategoryRequirement.category_id == category.id, CategoryRequirement.level == level))
    before = existing.min_count if existing is not None else 0
    min_count = max(min_count, 0)
    if before == min_count:
        return  # nothing to log either
    if min_count == 0:
        db.session.delete(existing)
    elif existing is None:
        db.session.add(CategoryRequirement(category_id=category.id, level=level,
                                           min_count=min_count))
    else:
        existing.min_count = min_count
    record("category.require", target=category, conference_id=category.conference_id,
           level=level.value, min_count=[before, min_count])


@dataclass(frozen=True)
class Shortfall:
    point_code: str
    point_name: str
    province_code: str | None
    category: str
    have: int
    need: int


def shortfalls(conference: Conference, *, province: str = "", limit: int = 200,
               offset: int = 0) -> tuple[list[Shortfall], int]:
    """The shortfalls of the points taking names that have registered fewer of a required
    category than asked, and how many such points there are (not shortfalls: one point
    short of three categories is one point). ``limit`` and ``offset`` count points, so a
    page never splits a point's shortfalls."""
    # The counters kept with every registration: the participants table is never counted.
    counts = PointCategoryRegistration.__table__
    have = func.coalesce(counts.c.registered, 0)
    query = (
        select(BroadcastPoint.code, BroadcastPoint.name, BroadcastPoint.province_code,
               Category.name, have, CategoryRequirement.min_count)
        .join(CategoryRequirement, CategoryRequirement.level == BroadcastPoint.level)
        .join(Category, and_(Category.id == CategoryRequirement.category_id,
                             Category.conference_id == BroadcastPoint.conference_id))
        .outerjoin(counts, and_(counts.c.point_id == BroadcastPoint.id,
                                counts.c.category_ref == Category.id))
        .where(BroadcastPoint.conference_id == conference.id)
        # A point that reports numbers registers no names: short of everything here, it is
        # judged by the headcounts it reports (the attendance report's compliance).
        .where(BroadcastPoint.headcount_only.is_(False))
        .where(have < CategoryRequirement.min_count)
    )
    if province:
        query = query.where(in_province(BroadcastPoint.province_code, province))
    short = query.with_only_columns(BroadcastPoint.code).distinct().subquery()
    total = db.session.scalar(select(func.count()).select_from(short))
    page = select(short.c.code).order_by(short.c.code).limit(limit).offset(offset)
    rows = db.session.execute(
        query.where(BroadcastPoint.code.in_(page))
        .order_by(BroadcastPoint.code, listed_order(conference, Category.id))
    ).all()
    return [Shortfall(*row) for row in rows], total
