"""Secret feed addresses: issuing, finding, rotating; and the sessions users pick."""
from __future__ import annotations

import secrets

from sqlalchemy import delete, select

from confmgr.accounts.models import User
from confmgr.audit.services import record
from confmgr.calendar.models import ChosenSession, FeedToken
from confmgr.conferences.models import Conference
from confmgr.db import db, utcnow
from confmgr.enums import FeedKind
from confmgr.points.models import BroadcastPoint
from confmgr.roster.models import Participant

#: 32 random bytes, URL-safe: 43 characters nobody can guess.
TOKEN_BYTES = 32


def _owner(kind: FeedKind, *, user: User | None = None, point: BroadcastPoint | None = None,
           participant: Participant | None = None) -> dict[str, int | None]:
    return {
        "user_id": user.id if kind in (FeedKind.CONFERENCE, FeedKind.CHOSEN) else None,
        "point_id": point.id if kind == FeedKind.POINT else None,
        "participant_id": participant.id if kind == FeedKind.DELEGATE else None,
    }


def active_token(kind: FeedKind, conference: Conference, **owner) -> FeedToken:
    """The owner's current token for this kind of feed, issued on first use."""
    ids = _owner(kind, **owner)
    query = select(FeedToken).where(
        FeedToken.conference_id == conference.id, FeedToken.kind == kind,
        FeedToken.revoked_at.is_(None),
    ).order_by(FeedToken.id).limit(1)
    for column, value in ids.items():
        query = query.where(getattr(FeedToken, column).is_(None) if value is None
                            else getattr(FeedToken, column) == value)
    token = db.session.scalar(query)
    if token is None:
        token = FeedToken(token=secrets.token_urlsafe(TOKEN_BYTES), kind=kind,
                          conference_id=conference.id, **ids)
        db.session.add(token)
        db.session.flush()
    return token


def rotate(token: FeedToken, by: User) -> FeedToken:
    """Revoke ``token`` (its address answers 404 from now on) and issue its successor."""
    token.revoked_at = utcnow()
    successor = FeedToken(token=secrets.token_urlsafe(TOKEN_BYTES), kind=token.kind,
                          conference_id=token.conference_id, user_id=token.user_id,
                          point_id=token.point_id, participant_id=token.participant_id)
    db.session.add(successor)
    db.session.flush()
    # The token itself stays out of the audit trail: it is a secret.
    record("feed.rotate", target=successor, conference_id=token.conference_id,
           user_id=by.id, kind=token.kind.value, revoked_id=token.id)
    return successor


def find_active(token: str) -> FeedToken | None:
    if not 20 <= len(token) <= 64:
        return None
    return db.session.scalar(
        select(FeedToken).where(FeedToken.token == token, FeedToken.revoked_at.is_(None)))


# ---------------------------------------------------------------- chosen sessions


def chosen_uids(user: User, conference: Conference) -> set[str]:
    return set(db.session.scalars(select(ChosenSession.session_uid).where(
        ChosenSession.user_id == user.id, ChosenSession.conference_id == conference.id)))


def toggle_choice(user: User, conference: Conference, uid: str) -> bool:
    """Add the session to the user's calendar, or take it out; True when now chosen."""
    removed = db.session.execute(delete(ChosenSession).where(
        ChosenSession.user_id == user.id, ChosenSession.conference_id == conference.id,
        ChosenSession.session_uid == uid))
    if removed.rowcount:
        return False
    db.session.add(ChosenSession(user_id=user.id, conference_id=conference.id, session_uid=uid))
    db.session.flush()
    return True
