"""Secret feed addresses: issuing, finding, rotating; and the sessions users pick."""
from __future__ import annotations

import secrets

from sqlalchemy import and_, delete, select, update

from confmgr.accounts.models import User
from confmgr.audit.services import record
from confmgr.calendar.models import OWNER_COLUMNS, ChosenSession, FeedToken
from confmgr.conferences.models import Conference
from confmgr.db import db, dialect_insert, utcnow
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


def _owners_active(kind: FeedKind, conference_id: int, ids: dict[str, int | None]):
    """The condition on FeedToken rows: this owner's active tokens of this kind."""
    return and_(FeedToken.conference_id == conference_id, FeedToken.kind == kind,
                FeedToken.revoked_at.is_(None),
                *(getattr(FeedToken, column).is_(None) if value is None
                  else getattr(FeedToken, column) == value for column, value in ids.items()))


def active_token(kind: FeedKind, conference: Conference, **owner) -> FeedToken:
    """The owner's current token for this kind of feed, issued on first use."""
    ids = _owner(kind, **owner)
    token = _current(kind, conference.id, ids)
    if token is None:
        _issue(kind, conference.id, ids)
        token = _current(kind, conference.id, ids)
    return token


def _current(kind: FeedKind, conference_id: int, ids: dict[str, int | None]) -> FeedToken | None:
    return db.session.scalar(select(FeedToken).where(_owners_active(kind, conference_id, ids)))


def _issue(kind: FeedKind, conference_id: int, ids: dict[str, int | None]) -> None:
    """A new active token for the owner, unless another request has just issued one: the
    owner has one active token (a unique index), and theirs is then the one to show."""
    db.session.execute(
        dialect_insert(FeedToken.__table__)
        .values(token=secrets.token_urlsafe(TOKEN_BYTES), kind=kind,
                conference_id=conference_id, created_at=utcnow(), **ids)
        .on_conflict_do_nothing())


def rotate(token: FeedToken, by: User) -> FeedToken:
    """Revoke ``token`` (its address answers 404 from now on) and issue its successor. Two
    rotations at once leave one successor, both shown it."""
    ids = {column: getattr(token, column) for column in OWNER_COLUMNS}
    revoked = db.session.execute(
        update(FeedToken).where(FeedToken.id == token.id, FeedToken.revoked_at.is_(None))
        .values(revoked_at=utcnow()).execution_options(synchronize_session=False))
    db.session.refresh(token)
    if not revoked.rowcount:
        # Someone rotated it meanwhile: their successor is the owner's address now.
        return _current(token.kind, token.conference_id, ids)
    _issue(token.kind, token.conference_id, ids)
    successor = _current(token.kind, token.conference_id, ids)
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


def choose(user: User, conference: Conference, uid: str, chosen: bool) -> None:
    """Put the session in the user's calendar, or take it out. Said, not toggled: a
    double click, a second tab or Back and press again leave what the button said."""
    if not chosen:
        db.session.execute(delete(ChosenSession).where(
            ChosenSession.user_id == user.id, ChosenSession.conference_id == conference.id,
            ChosenSession.session_uid == uid))
        return
    # Two presses at once: the second finds the first's row, not a broken key.
    db.session.execute(dialect_insert(ChosenSession.__table__).values(
        user_id=user.id, conference_id=conference.id, session_uid=uid).on_conflict_do_nothing())
