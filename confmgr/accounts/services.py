"""Creating users and checking credentials: plain functions shared by views and the CLI."""
from __future__ import annotations

from functools import cache

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from confmgr.accounts.models import User
from confmgr.audit.services import record
from confmgr.db import db, utcnow
from confmgr.enums import Role




class AccountError(ValueError):
    """A user could not be created; the message says why."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(
    email: str, password: str, display_name: str, role: Role, *, min_length: int = 10
) -> User:
    """Add a user to the session (the caller commits); refuse a taken email or weak password."""
    email = normalise_email(email)
    if not email or "@" not in email:
        raise AccountError(f"invalid email address: {email!r}")
    if len(password) < min_length:
        raise AccountError(f"the password must have at least {min_length} characters")
    if find_user(email) is not None:
        raise AccountError(f"a user with the email {email} already exists")
    user = User(email=email, display_name=display_name.strip() or email, role=role)
    user.set_password(password)
    db.session.add(user)
    record("user.create", target=user, email=email, role=role.value)
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None; the same answer for every failure."""
    user = find_user(email)
    if user is None:
        # Spend the same time as a real check, so response times do not reveal accounts.
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return None
    if not user.active or not user.check_password(password):
        return None
    user.last_login_at = utcnow()
    return user


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash("not a real password", method=method)


def any_user_exists() -> bool:
    return db.session.scalar(select(func.count()).select_from(User)) > 0
