"""Small helpers every area's views share."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from flask import abort, flash, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from confmgr.i18n import counted


T = TypeVar("T")


#: The most problems said as flash messages at once: they travel in the session cookie,
#: which a browser drops whole past 4 KB (a file refused on a thousand rows).
MAX_FLASHED = 20


def show_problems(form: FlaskForm | None, problems) -> None:
    """Put each problem on its field; problems without a field (or without a form) become a
    flash message, the first MAX_FLASHED of them, then how many more there are."""
    flashed = 0
    for problem in problems:
        target = getattr(form, problem.field, None) if form and problem.field else None
        if target is not None and hasattr(target, "errors"):
            if isinstance(target.errors, tuple):
                target.errors = list(target.errors)
            target.errors.append(problem.message)
            continue
        flashed += 1
        if flashed <= MAX_FLASHED:
            flash(problem.message, "danger")
    if flashed > MAX_FLASHED:
        flash(counted("Còn %(count)d lỗi nữa không liệt kê.", flashed - MAX_FLASHED), "danger")


def show_rule_problems(form: FlaskForm, problems) -> None:
    """After the form's own checks failed: the rules' problems on the fields those passed,
    so that one sending tells all that is wrong, not one round after another."""
    show_problems(form, [problem for problem in problems if problem.field
                         and not getattr(getattr(form, problem.field, None), "errors", True)])


#: The most boxes one form may tick: a list page shows 50 rows. More cannot come from the
#: page, and each becomes a parameter of one query, of which PostgreSQL takes 65,535.
MAX_TICKED = 1000


def ticked(name: str) -> list[str]:
    """The values of the boxes ticked under ``name``, each once; 400 past MAX_TICKED."""
    values = list(dict.fromkeys(request.form.getlist(name)))
    if len(values) > MAX_TICKED:
        abort(400)
    return values


def point_in_reach(slug: str, code: str):
    """The conference and one of its points, if the current user may work on that point."""
    from confmgr.accounts.permissions import can_view_point
    from confmgr.points.services import conference_and_point

    conference, point = conference_and_point(slug, code)
    if not can_view_point(current_user, point):
        abort(403)
    return conference, point


def point_and_session_in_reach(slug: str, code: str, session_id: int, *,
                               share_point: bool = False):
    """The conference, one of its points the current user may work on and one of its
    sessions, found in one query: every tap on a point's sheet starts here (with
    ``share_point``: see ``conference_point_and_session``)."""
    from confmgr.accounts.permissions import can_view_point
    from confmgr.points.services import conference_point_and_session

    conference, point, session, granted = conference_point_and_session(
        slug, code, session_id, current_user.id, share_point=share_point)
    if not can_view_point(current_user, point, granted=granted):
        abort(403)
    if session is None:
        abort(404)
    return conference, point, session


def province_asked(*, for_file: bool = False) -> str:
    """The ``province`` a list or report was asked for, if it is an official code or
    listing.NO_PROVINCE (the points outside every province), or "" for every province.

    A code that is not on the official list (an old bookmark: provinces were merged in
    2025) gives the whole country, said on the page; a file or a printed report is not
    made (404), so that nobody files national figures as a province's. What is returned may end up in a
    download's file name, so it never carries quotes or line breaks.
    """
    from confmgr.points.listing import NO_PROVINCE
    from confmgr.points.official import provinces

    province = request.args.get("province", "")
    if not province or province in provinces() or province == NO_PROVINCE:
        return province
    if for_file:
        abort(404)
    flash(_("Không có tỉnh, thành phố mã «%(code)s» trong danh mục hiện hành: đây là số liệu "
            "cả nước.", code=province[:10]), "warning")
    return ""


def commit_or_show(form: FlaskForm | None, action: Callable[[], T]) -> tuple[bool, T | None]:
    """Run ``action`` and commit; when it breaks a rule, roll back and put each problem on
    its field of ``form`` (see show_problems).

    Returns (True, what ``action`` returned), or (False, None) after a refusal.

    The rules are checked before writing, so two people saving at once (the same topic
    number, room or code) can both pass them; the database's unique constraint stops the
    second commit. That action is then run once more, when the rule sees the other's row
    and says which field clashes.
    """
    from sqlalchemy.exc import IntegrityError

    from confmgr.conferences.editing import RuleBroken
    from confmgr.db import db

    for _attempt in (1, 2):
        try:
            result = action()
            db.session.commit()
            return True, result
        except RuleBroken as broken:
            db.session.rollback()
            show_problems(form, broken.problems)
            return False, None
        except IntegrityError as error:
            db.session.rollback()
            if not is_unique_violation(error):
                raise  # a broken check constraint is a fault here, not someone else's save
    flash(_("Người khác vừa thay đổi cùng dữ liệu này; hãy xem lại rồi thử lại."), "warning")
    return False, None


@contextmanager
def login_taken_meanwhile(login: str) -> Iterator[None]:
    """Around creating an account and committing it: the login was checked free, then
    inserted, and another request creating it in between makes the insert break its
    uniqueness. Told as the check tells a login taken (AccountError), not a server error."""
    from sqlalchemy.exc import IntegrityError

    from confmgr.accounts.services import AccountError, normalise_email
    from confmgr.db import db

    try:
        yield
    except IntegrityError as error:
        db.session.rollback()
        if not is_unique_violation(error):
            raise
        raise AccountError(_("Tên đăng nhập %(login)s đã có người dùng.",
                             login=normalise_email(login))) from None


def is_unique_violation(error) -> bool:
    """Whether an IntegrityError is a unique constraint's (a row another save wrote)."""
    return (getattr(error.orig, "sqlstate", None) == "23505"  # PostgreSQL
            or "UNIQUE constraint failed" in str(error.orig))  # SQLite


def commit_or_flash(action: Callable[[], T]) -> tuple[bool, T | None]:
    """As commit_or_show, each problem a flash message: for actions without a form."""
    return commit_or_show(None, action)
