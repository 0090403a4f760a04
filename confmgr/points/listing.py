"""Finding points among tens of thousands: filters, diacritic-blind search, pages."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, func, or_, select

from confmgr.db import db
from confmgr.enums import ConnectionTestStatus, PointLevel
from confmgr.paging import Page, page_number
from confmgr.points.labels import NO_PROVINCE_NAME
from confmgr.points.models import BroadcastPoint
from confmgr.points.official import provinces
from confmgr.text import fold

#: The province filter's value for the points outside every province (central agencies,
#: the main venue): official codes are digits, so it is never one of them.
NO_PROVINCE = "none"

#: How far registration has got at a point, as the list filters it.
PROGRESS = ("none", "partial", "complete", "no_target")


@dataclass(frozen=True)
class PointQuery:
    text: str = ""
    province: str = ""
    level: str = ""
    test_status: str = ""
    progress: str = ""
    page: int = 1
    per_page: int = 50

    @classmethod
    def from_args(cls, args, *, province: str | None = None) -> PointQuery:
        """The query a list's address asks; ``province`` as checked by the caller
        (web.province_asked), else as sent."""
        def choice(name, allowed):
            value = args.get(name, "")
            return value if value in allowed else ""

        return cls(
            text=args.get("q", "").strip()[:100],
            province=province if province is not None
            else args.get("province", "").strip()[:10],
            level=choice("level", {level.value for level in PointLevel}),
            test_status=choice("test", {status.value for status in ConnectionTestStatus}),
            progress=choice("progress", PROGRESS),
            page=page_number(args),
        )

    def args(self, **changes) -> dict:
        """The query as URL arguments, for links to other pages of the same list."""
        values = {"q": self.text, "province": self.province, "level": self.level,
                  "test": self.test_status, "progress": self.progress, "page": self.page}
        values.update(changes)
        if values["page"] == 1:
            del values["page"]
        return {name: value for name, value in values.items() if value != ""}


def filtered(
    conference_id: int, query: PointQuery, within: Select | None = None,
    statuses: tuple[ConnectionTestStatus, ...] | None = None,
) -> Select:
    """The points matching ``query``; ``within`` limits them to a set of ids (a coordinator's),
    ``statuses`` to some connection-test results."""
    statement = select(BroadcastPoint).where(BroadcastPoint.conference_id == conference_id)
    if statuses:
        statement = statement.where(BroadcastPoint.connection_test_status.in_(statuses))
    if within is not None:
        statement = statement.where(BroadcastPoint.id.in_(within))
    if query.text:
        # One LIKE over the folded name and code: "uong bi" finds "Phường Uông Bí".
        statement = statement.where(BroadcastPoint.search_text.contains(fold(query.text),
                                                                        autoescape=True))
    if query.province:
        statement = statement.where(in_province(BroadcastPoint.province_code, query.province))
    if query.level:
        statement = statement.where(BroadcastPoint.level == PointLevel(query.level))
    if query.test_status:
        statement = statement.where(
            BroadcastPoint.connection_test_status == ConnectionTestStatus(query.test_status)
        )
    if query.progress:
        count, expected = BroadcastPoint.registered_count, BroadcastPoint.expected_delegates
        statement = statement.where({
            "none": (count == 0) & (expected > 0),
            "partial": (count > 0) & (count < expected),
            "complete": (expected > 0) & (count >= expected),
            "no_target": expected == 0,
        }[query.progress])
    return statement


def find_points(
    conference_id: int, query: PointQuery, within: Select | None = None,
    statuses: tuple[ConnectionTestStatus, ...] | None = None,
) -> Page[BroadcastPoint]:
    statement = filtered(conference_id, query, within, statuses)
    total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    items = list(db.session.scalars(
        statement.order_by(BroadcastPoint.code)
        .limit(query.per_page).offset((query.page - 1) * query.per_page)
    ))
    return Page(items, total, query)


def province_choices() -> list[tuple[str, str]]:
    """(code, name) of the 34 official provinces, then of "none of them", for the filter:
    no query needed."""
    return [*((p.code, p.name) for p in provinces().values()),
            (NO_PROVINCE, str(NO_PROVINCE_NAME))]


def province_name(code: str) -> str:
    """The name of an official province, or of NO_PROVINCE in the reader's language."""
    return str(NO_PROVINCE_NAME) if code == NO_PROVINCE else provinces()[code].name


def in_province(column, province: str) -> ColumnElement[bool]:
    """``column``, a province code, is ``province``: an official code, or NO_PROVINCE for
    the points outside every province (NULL on a point, "" in the counters)."""
    if province == NO_PROVINCE:
        return or_(column.is_(None), column == "")
    return column == province
