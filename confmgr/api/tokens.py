"""Personal API tokens: made, shown once, checked on every request, revoked at will."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from confmgr.accounts.models import User
from confmgr.api.models import ApiToken
from confmgr.audit.services import record
from confmgr.db import db, utcnow
from confmgr.enums import TokenScope

#: Marks our tokens, so a leaked one is easy to recognise in logs and code searches.
SECRET_PREFIX = "cmt_"
#: Writing ``last_used_at`` on every request would make each read a write.
LAST_USED_PRECISION = timedelta(minutes=5)


def _hash(secret: str) -> str:
    # The secret is 256 random bits: a plain digest is enough, and fast enough per request.
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(user: User, name: str, scope: TokenScope, expires_at: datetime | None = None
          ) -> tuple[ApiToken, str]:
    """A new token for ``user`` and its secret, which is never shown again; the caller commits."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name.strip(), secret_hash=_hash(secret),
                     prefix=secret[:len(SECRET_PREFIX) + 6], scope=scope, expires_at=expires_at)
    db.session.add(token)
    record("api_token.issue", target=token, user_id=user.id, name=token.name,
           scope=scope.value)
    return token, secret


def revoke(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        # Done by whoever acts (an admin resetting or locking the account, or the owner),
        # so the log names them; the owner is in the details.
        record("api_token.revoke", target=token, name=token.name, email=token.user.email)


def revoke_all(user: User) -> int:
    """Revoke every token of ``user`` still in force, and say how many: after a new password
    or a lock, a token made before it must not keep (or later regain) the way in. The
    caller commits."""
    tokens = db.session.scalars(select(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))).all()
    for token in tokens:
        revoke(token)
    return len(tokens)


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id)))


def authenticate(secret: str, now: datetime | None = None) -> ApiToken | None:
    """The usable token with this secret whose user is active, else None."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 100:
        return None
    now = now or utcnow()
    token = db.session.scalar(select(ApiToken).where(ApiToken.secret_hash == _hash(secret)))
    if token is None or not token.usable(now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
        token.last_used_at = now
        db.session.commit()
    return token
