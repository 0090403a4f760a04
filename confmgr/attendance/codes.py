"""Personal check-in codes: printed as a QR code on each delegate's badge.

Why a personal code rather than one code per point and session that delegates scan: a
commune hall rarely has a screen of its own to show a code on, many delegates sign in
without a smartphone, and a shared code would let anyone check in anyone. A badge code
names one delegate; the coordinator's phone scans it at the door (one tap to confirm),
and a delegate with a smartphone may scan their own while check-in is open.
"""
from __future__ import annotations

import re
import secrets

from sqlalchemy import select, update

from confmgr.db import db
from confmgr.enums import RegistrationStatus
from confmgr.points.models import BroadcastPoint
from confmgr.roster.models import Participant

CODE = re.compile(r"^[A-Za-z0-9_-]{12}$")


def new_code() -> str:
    return secrets.token_urlsafe(9)  # 12 characters, 72 random bits


def ensure_codes(point: BroadcastPoint) -> None:
    """Give every registered delegate of the point a code; the caller commits."""
    missing = db.session.scalars(select(Participant.id).where(
        Participant.point_id == point.id, Participant.checkin_code.is_(None),
        Participant.status == RegistrationStatus.REGISTERED))
    for participant_id in missing.all():
        # Only if still without one: a code printed by a request at the same moment must
        # never be replaced, or its badge would scan as unknown.
        db.session.execute(update(Participant).where(Participant.id == participant_id,
                                                     Participant.checkin_code.is_(None))
                           .values(checkin_code=new_code())
                           .execution_options(synchronize_session=False))


def participant_by_code(code: str) -> Participant | None:
    if not CODE.match(code):
        return None
    return db.session.scalar(select(Participant).where(
        Participant.checkin_code == code, Participant.status == RegistrationStatus.REGISTERED))
