"""Reading broadcast points: plain functions shared by pages and tests."""
from __future__ import annotations

from flask import abort
from sqlalchemy import func, select

from confmgr.accounts.models import User
from confmgr.accounts.permissions import coordinated_point_ids
from confmgr.db import db
from confmgr.enums import RegistrationStatus
from confmgr.points.models import BroadcastPoint
from confmgr.roster.models import Participant


def point_by_code(conference_id: int, code: str) -> BroadcastPoint:
    point = db.session.scalar(
        select(BroadcastPoint).where(
            BroadcastPoint.conference_id == conference_id, BroadcastPoint.code == code
        )
    )
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
    return dict(rows.tuples())


def coordinated_points(user: User, conference_id: int) -> list[BroadcastPoint]:
    """A coordinator's points and every point below them."""
    ids = coordinated_point_ids(user, conference_id)
    return list(
        db.session.scalars(
            select(BroadcastPoint)
            .where(BroadcastPoint.id.in_(ids))
            .order_by(BroadcastPoint.code)
        )
    )
