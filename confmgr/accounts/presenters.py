"""Presenter accounts: a sign-in for a presenter (báo cáo viên) to answer the questions on
their topics and those assigned to them."""
from __future__ import annotations

from confmgr.accounts.coordinators import generate_password, hash_generated
from confmgr.accounts.models import User
from confmgr.accounts.services import AccountError, find_user, normalise_email
from confmgr.audit.services import record
from confmgr.conferences.models import Conference, Presenter
from confmgr.db import db
from confmgr.enums import Role


def login_for(conference: Conference, presenter: Presenter) -> str:
    return f"bcv{presenter.id}@{conference.slug}".lower()


def give_account(presenter: Presenter, login: str) -> tuple[User, str]:
    """A new account for the presenter, with a generated password returned once, to hand
    out. A login already in use is refused whoever holds it, so the answer tells nothing
    about other accounts."""
    login = normalise_email(login)
    if not login:
        raise AccountError("a login is required")
    if presenter.user_id is not None:
        raise AccountError("the presenter already has an account")
    if find_user(login) is not None:
        raise AccountError(f"the login {login} is already taken")
    password = generate_password()
    user = User(email=login, display_name=presenter.name, role=Role.PRESENTER,
                password_hash=hash_generated(password))
    db.session.add(user)
    db.session.flush()
    presenter.user_id = user.id
    record("presenter.account", target=presenter, conference_id=presenter.conference_id,
           login=login)
    return user, password
