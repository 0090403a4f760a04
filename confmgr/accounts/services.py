"""Creating users and checking credentials: plain functions shared by views and the CLI."""
from __future__ import annotations

import hmac
import secrets
import unicodedata
from datetime import timedelta
from functools import cache

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, delete, false, func, select, text, update
from werkzeug.security import generate_password_hash

from confmgr.accounts.models import SignIn, User, sign_in_digest
from confmgr.accounts.passwords import password_problems
from confmgr.api.tokens import revoke_all
from confmgr.audit.services import record
from confmgr.db import db, utcnow
from confmgr.enums import Role
from confmgr.text import one_line, whole_number


class AccountError(ValueError):
    """A user could not be created; the message says why, in the interface language."""


#: The users.email column's size, and what the sign-in form accepts.
LOGIN_MAX_LENGTH = 254


def normalise_email(email: str) -> str:
    # NFC: a Vietnamese keyboard may type "nguyễn@…" composed on one device and decomposed
    # on another; both are one login.
    return unicodedata.normalize("NFC", email).strip().lower()


def login_for_log(typed: str) -> dict[str, str]:
    """How the audit log names a failed sign-in's login: as typed when an account holds it
    or it reads as an email address, else by a fingerprint alone. People type their
    password into the login field; the log, which every administrator reads, must not keep
    it. The fingerprint still shows the same unknown login tried again and again."""
    login = normalise_email(typed)
    if find_user(login) is not None or _reads_as_address(login):
        return {"email": login}
    key = current_app.config["SECRET_KEY"]
    digest = hmac.new(key.encode() if isinstance(key, str) else key, login.encode(), "sha256")
    return {"login_withheld": digest.hexdigest()[:10]}


def _reads_as_address(login: str) -> bool:
    try:
        validate_email(login, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def login_problem(login: str) -> str | None:
    """What is wrong with ``login`` (already normalised) as a new account's login, or None.

    A login that breaks these rules could never be typed into the sign-in form."""
    if not login:
        return _("Cần nhập tên đăng nhập.")
    if len(login) > LOGIN_MAX_LENGTH:
        return _("Tên đăng nhập dài tối đa %(max)d ký tự.", max=LOGIN_MAX_LENGTH)
    # Cc: control characters (tab, newline, NUL...); Cf: invisible ones (zero-width space).
    if any(char.isspace() or unicodedata.category(char) in ("Cc", "Cf") for char in login):
        return _("Tên đăng nhập không được chứa dấu cách hay ký tự điều khiển.")
    return None


def check_new_login(login: str) -> str:
    """``login`` normalised, if no account holds it and it is a valid login; else AccountError."""
    login = normalise_email(login)
    problem = login_problem(login)
    if problem:
        raise AccountError(problem)
    if find_user(login) is not None:
        raise AccountError(_("Tên đăng nhập %(login)s đã có người dùng.", login=login))
    return login


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(email: str, password: str, display_name: str, role: Role) -> User:
    """Add a user to the session (the caller commits); refuse a taken email, a display name
    longer than its column or a weak password."""
    email = normalise_email(email)
    # As the setup form's check reads an address ("@" alone is none).
    if login_problem(email) or not _reads_as_address(email):
        raise AccountError(_("Địa chỉ email không hợp lệ: %(email)s.", email=email))
    # The shell passes any text through (the web form has the same limit).
    display_name = one_line(display_name).strip()
    limit = User.__table__.c.display_name.type.length
    if not display_name:  # the shell's prompt takes a blank line
        raise AccountError(_("Hãy nhập họ và tên."))
    if len(display_name) > limit:
        raise AccountError(_("Họ và tên dài quá %(limit)d ký tự.", limit=limit))
    problems = password_problems(password, login=email, display_name=display_name)
    if problems:
        raise AccountError(" ".join(problems))
    if find_user(email) is not None:
        raise AccountError(_("Đã có tài khoản với email %(email)s.", email=email))
    user = User(email=email, display_name=display_name, role=role)
    user.set_password(password)
    db.session.add(user)
    record("user.create", target=user, email=email, role=role.value)
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None; the same answer for every failure,
    in the same time: response times must not reveal which accounts exist."""
    user = find_user(email)
    # Checked as a user's password is (twice for a password typed decomposed), so that the
    # time of every failure is the same.
    dummy = User(password_hash=_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]))
    if user is None:
        dummy.check_password(password)
        return None
    # The password is checked first, so a locked account answers no faster than others.
    if user.check_password(password) and user.active:
        user.last_login_at = utcnow()
        return user
    if hash_method(user.password_hash) != hash_method(dummy.password_hash):
        # Generated passwords have a light hash that fails in a few milliseconds; without
        # this a coordinator's or presenter's login would answer far sooner than an unknown
        # one.
        dummy.check_password(password)
    return None


def hash_method(password_hash: str) -> str:
    """The method and cost a werkzeug hash was made with: "scrypt:32768:8:1"."""
    return password_hash.partition("$")[0]


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash("not a real password", method=method)


# ---------------------------------------------------------------- sign-ins


def begin_sign_in(user: User) -> None:
    """A new sign-in for this browser; its key reaches the cookies through user.get_id().
    The caller commits."""
    if user.id is None:
        db.session.flush()  # a new account (the first admin) gets its id
    key = secrets.token_urlsafe(24)
    db.session.add(SignIn(user_id=user.id, key_digest=sign_in_digest(key)))
    user.sign_in_key = key
    # Browsers closed without signing out leave their sign-ins: they go once no remember-me
    # cookie could still name them.
    db.session.execute(delete(SignIn).where(SignIn.user_id == user.id,
                                            SignIn.created_at < utcnow() - _longest_sign_in()))


def _longest_sign_in() -> timedelta:
    duration = current_app.config.get("REMEMBER_COOKIE_DURATION", timedelta(days=365))
    return duration if isinstance(duration, timedelta) else timedelta(seconds=duration)


def end_sign_in(user: User) -> None:
    """Signing out: the sign-in ends on the server, whatever copies of its cookies exist.
    The caller commits."""
    if user.sign_in_key:
        db.session.execute(delete(SignIn).where(
            SignIn.key_digest == sign_in_digest(user.sign_in_key)))


def end_every_sign_in(user: User) -> None:
    db.session.execute(delete(SignIn).where(SignIn.user_id == user.id))


# Every signed-in request runs it: built once (a statement's SQL is cached by its identity).
_SIGNED_IN = select(User).join(SignIn, SignIn.user_id == User.id).where(
    User.id == bindparam("user_id"), SignIn.key_digest == bindparam("key_digest"))


def signed_in_user(session_id: str) -> User | None:
    """The user a session or remember-me cookie names ("id:stamp:key"), if that sign-in is
    still on, the account active and its password and lock count unchanged since.

    Cookies from before sign-ins were kept name none: their holders sign in again."""
    user_id, stamp, key = (session_id.split(":") + ["", ""])[:3]
    if whole_number(user_id) is None or not key:
        return None
    user = db.session.scalar(_SIGNED_IN, {"user_id": int(user_id),
                                          "key_digest": sign_in_digest(key)})
    keys = [current_app.config["SECRET_KEY"],
            *(current_app.config.get("SECRET_KEY_FALLBACKS") or ())]
    if user is None or not user.active or not any(
            hmac.compare_digest(stamp, user.session_stamp_under(k)) for k in keys):
        return None
    user.sign_in_key = key
    return user


def any_user_exists() -> bool:
    return db.session.scalar(select(func.count()).select_from(User)) > 0


def hold_users() -> None:
    """Keep others from adding users until commit, so that two first-administrator setups
    sent at once take turns and the second finds the first's account (each checked that
    no user existed, then both made one). On SQLite a write, even of no row, takes the
    database's write lock; PostgreSQL locks the table against writers, not readers."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("LOCK TABLE users IN EXCLUSIVE MODE"))
    else:
        db.session.execute(update(User).where(false()).values(email=User.email))


def change_password(user: User, new_password: str) -> int:
    """The user's own new password, already checked against the policy; the caller commits.

    Whoever had the old password may have made an API token with it: every token goes, as
    every other session does (User.session_stamp). Returns how many tokens went."""
    user.set_password(new_password)
    record("user.password_change", target=user)
    return revoke_all(user)


def reset_password(user: User) -> str:
    """A new generated password for ``user``, returned once to hand over; the caller commits.

    Whoever had the old password loses every way in: the sessions (User.session_stamp) and
    the API tokens. The owner, locked out by mistyping, is let in again at once, from any
    browser."""
    # Both modules import this one.
    from confmgr.accounts.coordinators import generate_password
    from confmgr.security import lift_login_locks

    password = generate_password()
    # Twelve random characters pass the policy but for a vanishing chance; make sure.
    while password_problems(password, login=user.email, display_name=user.display_name):
        password = generate_password()
    user.set_password(password)
    revoke_all(user)
    end_every_sign_in(user)
    lift_login_locks(user.email)
    record("user.password_reset", target=user, email=user.email)
    return password


def set_active(user: User, active: bool, *, by: User) -> None:
    """Deactivate (or reactivate) an account; nobody locks themselves out. The caller commits.

    A lock ends the account's sessions and revokes its API tokens for good; unlocking lifts
    the locks that failed sign-ins put on it (and on its device cookies) too."""
    from confmgr.security import account_lock, lift_login_locks  # which import this module

    if user.id == by.id and not active:
        raise AccountError(_("Bạn không thể tự khóa tài khoản của mình."))
    if active:
        # Even on an account that was never deactivated: "Gỡ khóa đăng nhập" is how an admin
        # lets in someone whose mistyping locked them out. The log says so when a lock was on.
        if account_lock(user.email) is not None:
            record("user.login_unlock", target=user, email=user.email)
        lift_login_locks(user.email)
    if user.active == active:
        return
    user.active = active
    if not active:
        user.session_epoch = (user.session_epoch or 0) + 1
        revoke_all(user)
        end_every_sign_in(user)
    record("user.reactivate" if active else "user.deactivate", target=user, email=user.email)
