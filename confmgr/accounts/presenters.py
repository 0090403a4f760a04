"""Presenter accounts: a sign-in for a presenter (báo cáo viên) to answer the questions on
their topics and those assigned to them."""
from __future__ import annotations

from flask_babel import gettext as _

from confmgr.accounts.coordinators import generate_password, hash_generated
from confmgr.accounts.models import User
from confmgr.accounts.services import AccountError, check_new_login
from confmgr.audit.services import record
from confmgr.conferences.editing import hold_conference
from confmgr.conferences.models import Conference, Presenter
from confmgr.db import db
from confmgr.enums import Role


def login_for(conference: Conference, presenter: Presenter) -> str:
    return f"bcv{presenter.id}@{conference.slug}".lower()


def give_account(presenter: Presenter, login: str) -> tuple[User, str]:
    """A new account for the presenter, with a generated password returned once, to hand
    out. A login already in use is refused whoever holds it, so the answer tells nothing
    about other accounts."""
    # One after another with the conference's other account making: two at once for one
    # presenter would both find them without an account.
    hold_conference(db.session.get(Conference, presenter.conference_id))
    db.session.refresh(presenter)  # as it is now, held
    if presenter.user_id is not None:
        raise AccountError(_("Báo cáo viên này đã có tài khoản."))
    login = check_new_login(login)
    password = generate_password()
    user = User(email=login, display_name=presenter.name, role=Role.PRESENTER,
                password_hash=hash_generated(password))
    db.session.add(user)
    db.session.flush()
    presenter.user_id = user.id
    record("presenter.account", target=presenter, conference_id=presenter.conference_id,
           login=login)
    return user, password
