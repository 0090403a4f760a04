"""Finding accounts among tens of thousands (mostly coordinators): search, filters, pages."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from confmgr.accounts.models import User, point_coordinators
from confmgr.db import db
from confmgr.enums import Role
from confmgr.paging import Page, page_number
from confmgr.points.models import BroadcastPoint
from confmgr.text import fold

ROLE_LABELS = {
    Role.ADMIN: _l("Quản trị viên"),
    Role.ORGANISER: _l("Ban tổ chức"),
    Role.COORDINATOR: _l("Điều phối viên"),
    Role.PRESENTER: _l("Báo cáo viên"),
}

#: The status filter, as it appears in addresses, and its labels.
STATUS_LABELS = {"active": _l("Đang hoạt động"), "inactive": _l("Đã khóa")}
STATUSES = tuple(STATUS_LABELS)


@dataclass(frozen=True)
class UserQuery:
    text: str = ""
    role: str = ""
    status: str = ""
    page: int = 1
    per_page: int = 50

    @classmethod
    def from_args(cls, args) -> UserQuery:
        role = args.get("role", "")
        status = args.get("status", "")
        return cls(
            text=args.get("q", "").strip()[:100],
            role=role if role in {r.value for r in Role} else "",
            status=status if status in STATUSES else "",
            page=page_number(args),
        )

    def args(self, **changes) -> dict:
        """The query as URL arguments, for links to other pages of the same list."""
        values = {"q": self.text, "role": self.role, "status": self.status, "page": self.page}
        values.update(changes)
        if values["page"] == 1:
            del values["page"]
        return {name: value for name, value in values.items() if value != ""}


def find_users(query: UserQuery) -> Page[User]:
    """Users matching the query, by email. The text matches the email or login, the name,
    or the name or code of a point the user coordinates ("uong bi" finds Uông Bí's)."""
    statement = select(User)
    if query.text:
        coordinates_a_match = select(point_coordinators.c.user_id).join(
            BroadcastPoint, BroadcastPoint.id == point_coordinators.c.point_id
        ).where(BroadcastPoint.search_text.contains(fold(query.text), autoescape=True))
        statement = statement.where(or_(
            User.search_text.contains(fold(query.text), autoescape=True),
            User.id.in_(coordinates_a_match),
        ))
    if query.role:
        statement = statement.where(User.role == Role(query.role))
    if query.status:
        statement = statement.where(User.active == (query.status == "active"))
    total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    items = list(db.session.scalars(
        statement.order_by(User.email).limit(query.per_page)
        .offset((query.page - 1) * query.per_page)))
    return Page(items, total, query)
