"""Creating users and checking credentials: plain functions shared by views and the CLI."""
from __future__ import annotations

from functools import cache

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from confmgr.accounts.models import User
from confmgr.accounts.passwords import password_problems
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
    problems = password_problems(password, login=email, display_name=display_name)
    if problems:
        raise AccountError(" ".join(problems))
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
    # The password is checked first, so a locked account answers no faster than others.
    if not user.check_password(password) or not user.active:
        return None
    user.last_login_at = utcnow()
    return user


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash("not a real password", method=method)


def any_user_exists() -> bool:
    return db.session.scalar(select(func.count()).select_from(User)) > 0


def change_password(user: User, new_password: str) -> None:
    """The user's own new password, already checked against the policy; the caller commits."""
    user.set_password(new_password)
    record("user.password_change", target=user)


def reset_password(user: User) -> str:
    """A new generated password for ``user``, returned once to hand over; the caller commits."""
    from confmgr.accounts.coordinators import generate_password  # which imports this module

    password = generate_password()
    # Twelve random characters pass the policy but for a vanishing chance; make sure.
    while password_problems(password, login=user.email, display_name=user.display_name):
        password = generate_password()
    user.set_password(password)
    record("user.password_reset", target=user, email=user.email)
    return password


def set_active(user: User, active: bool, *, by: User) -> None:
    """Deactivate (or reactivate) an account; nobody locks themselves out. The caller commits."""
    if user.id == by.id and not active:
        raise AccountError(_("Bạn không thể tự khóa tài khoản của mình."))
    if user.active == active:
        return
    user.active = active
    if not active:
        user.session_epoch = (user.session_epoch or 0) + 1
    record("user.reactivate" if active else "user.deactivate", target=user, email=user.email)
