"""Small helpers shared by the tests."""
from __future__ import annotations

import copy
import re
import threading
import time
from contextlib import contextmanager
from html import unescape

from sqlalchemy import event, select

from confmgr.conferences.models import AgendaSession, AgendaVersion
from confmgr.db import db
from tests.conftest import csrf_token, login

ORGANISER = ("organiser@example.org", "demo-organiser-2025")
COORDINATOR = ("quangninh@example.org", "demo-quangninh-2025")
ADMIN = ("admin@example.org", "demo-admin-2025")


def logged_in(client, account):
    response = login(client, *account)
    assert response.status_code == 302, "login failed"
    return client


def post_form(client, url: str, data: dict, **kwargs):
    """POST like a browser does: with the session's CSRF token."""
    # The token is per browser session, so any page that carries it will do.
    return client.post(url, data={**data, "csrf_token": csrf_token(client)}, **kwargs)


FIELD_BLOCK = re.compile(r'<div class="mb-3">\n(.*?)\n</div>', re.S)


def field_errors(page: str, name: str) -> list[str]:
    """The error messages shown under one form field (see templates/_form.html)."""
    for block in FIELD_BLOCK.findall(page):
        if f'name="{name}"' in block:
            return [unescape(m) for m in re.findall(r'<div class="invalid-feedback">(.*?)</div>', block)]
    raise AssertionError(f"no field {name} on the page")


def sent_by_form(page: str) -> dict[str, str]:
    """What a browser sends, untouched, of the page's form that posts back to the page
    (the first POST form without an action): its inputs' values (hidden ones included),
    each select's chosen option and each textarea's text."""
    form = re.search(r'<form method="post"(?![^>]*\baction=)[^>]*>(.*?)</form>', page,
                     re.S).group(1)
    sent = {name: unescape(value) for name, value in re.findall(
        r'<input[^>]*\bname="([^"]+)"[^>]*\bvalue="([^"]*)"', form)}
    for name, options in re.findall(r'<select[^>]*\bname="([^"]+)"[^>]*>(.*?)</select>',
                                    form, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected',
                           options)
        sent[name] = unescape(next(v for v in chosen.groups() if v is not None)) if chosen else ""
    for name, text in re.findall(r'<textarea[^>]*\bname="([^"]+)"[^>]*>(.*?)</textarea>',
                                 form, re.S):
        sent[name] = unescape(text.removeprefix("\r\n").removeprefix("\n"))
    return sent


def flashes(page: str) -> list[str]:
    return [unescape(m).strip() for m in re.findall(r'<div class="alert alert-\w+" role="status">(.*?)</div>', page, re.S)]


def unread_alert(page: str) -> str:
    """What an import's preview says of the columns it did not read ("" if nothing)."""
    found = re.search(r'<div class="alert alert-warning ignored-columns" role="alert">(.*?)</div>',
                      page)
    return unescape(found.group(1)) if found else ""


@contextmanager
def count_queries(app):
    """Count the SQL statements the app sends while the block runs."""
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def sessions_in_order(app) -> list[AgendaSession]:
    with app.app_context():
        sessions = list(
            db.session.scalars(select(AgendaSession).order_by(AgendaSession.starts_at))
        )
        db.session.expunge_all()
        return sessions


def bearer(app, email: str, scope=None, **kwargs) -> dict:
    """Headers carrying a new API token of the user with ``email`` (read-write by default)."""
    from confmgr.accounts.models import User
    from confmgr.api import tokens
    from confmgr.enums import TokenScope

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        _token, secret = tokens.issue(user, "kiểm thử", scope or TokenScope.WRITE, **kwargs)
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def as_published_before_topic_ids() -> AgendaVersion:
    """The first published version as versions were kept before their topics carried ids;
    in the caller's app context, committed."""
    version = db.session.scalar(select(AgendaVersion).order_by(AgendaVersion.id))
    snapshot = copy.deepcopy(version.snapshot)
    for entry in snapshot["sessions"]:
        if entry["topic"]:
            del entry["topic"]["id"]
    version.snapshot = snapshot
    db.session.commit()
    return version


def ministry_point(names: list[str]):
    """A central ministry's point, "BYT" (Bộ Y tế), in no province, with ``names``
    registered in that order; committed. Needs an app context with the demo loaded."""
    from confmgr.conferences.models import Conference
    from confmgr.demo.loader import SLUG
    from confmgr.points.models import BroadcastPoint
    from confmgr.points.services import save_point
    from confmgr.roster import services as roster

    conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
    save_point(conference, None, {"code": "BYT", "name": "Bộ Y tế", "level": "Khác",
                                  "expected_delegates": "0"})
    ministry = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "BYT"))
    for name in names:
        roster.register(ministry, roster.PersonFields(full_name=name), organiser=True)
    db.session.commit()
    return ministry


def run_at_once(*actions) -> None:
    """Run each action in a thread of its own, all started together, and fail with the
    first error any raised (a thread's error would otherwise pass unseen)."""
    errors: list[BaseException] = []

    def run(action) -> None:
        try:
            action()
        except BaseException as error:  # noqa: BLE001 - raised below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def race(demo, first, read, other) -> dict[str, BaseException]:
    """``first()`` runs until it has sent the statement beginning with ``read`` (or, a
    function, the first statement it says yes to), then waits while ``other()`` runs in
    another thread and commits; then ``first`` goes on and commits. Returns what either
    raised, by side ("first" or "other"). ``first`` waits until ``other`` is done, or
    waits for what ``first`` holds (one of its statements has not come back for half a
    second): a fixed pause let a busy machine resume ``first`` before ``other`` had done
    what it raced to do."""
    read_done, other_done, errors = threading.Event(), threading.Event(), {}
    is_read = read if callable(read) else lambda statement: statement.lstrip().startswith(read)
    other_sent_at: list[float | None] = [None]  # when other's statement under way was sent

    def one():
        try:
            with demo.app_context():
                try:
                    first()
                    db.session.commit()
                finally:
                    db.session.remove()
        except BaseException as error:  # noqa: BLE001 - judged by the caller
            errors["first"] = error

    def two():
        try:
            read_done.wait(10)
            with demo.app_context():
                try:
                    other()
                    db.session.commit()
                finally:
                    db.session.remove()
        except BaseException as error:  # noqa: BLE001 - judged by the caller
            errors["other"] = error
        finally:
            other_done.set()

    threads = [threading.Thread(target=one), threading.Thread(target=two)]

    def sending(conn, cursor, statement, parameters, context, many):
        if threading.current_thread() is threads[1]:
            other_sent_at[0] = time.monotonic()

    def sent(conn, cursor, statement, parameters, context, many):
        if threading.current_thread() is threads[1]:
            other_sent_at[0] = None
        elif (threading.current_thread() is threads[0] and not read_done.is_set()
              and is_read(statement)):
            read_done.set()
            deadline = time.monotonic() + 15
            while not other_done.wait(0.05) and time.monotonic() < deadline:
                if other_sent_at[0] is not None and time.monotonic() - other_sent_at[0] > 0.5:
                    break  # other waits for what first holds

    # Listened to before either starts: listeners added while a statement is being sent
    # break the loop that calls them.
    with demo.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", sending)
    event.listen(engine, "after_cursor_execute", sent)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        event.remove(engine, "before_cursor_execute", sending)
        event.remove(engine, "after_cursor_execute", sent)
    # Else the two ran one after the other, and the race was never run.
    assert read_done.is_set(), f"no statement was {read!r}"
    return errors
