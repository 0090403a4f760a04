"""Failures the app must survive: a process killed in the middle of a bulk write, a busy
SQLite database, a PostgreSQL connection dropped by the server.

The bulk writes run in a worker process (``python -m tests.test_failures CONFIG``) that
stops itself at a chosen point inside the transaction, reports what that transaction sees
and waits; the test then kills it with SIGKILL. Stopping at a known statement, rather than
after a guessed delay, makes every run kill the same half-written transaction.
"""
from __future__ import annotations

import io
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, func, make_url, select, text
from sqlalchemy.exc import DBAPIError

from confmgr.accounts.models import User
from confmgr.api import tokens
from confmgr.db import db
from confmgr.demo.loader import SLUG
from confmgr.enums import RegistrationStatus, TokenScope
from confmgr.points.models import BroadcastPoint
from confmgr.roster.models import Participant
from tests.conftest import csrf_token, make_app
from tests.helpers import COORDINATOR, flashes, logged_in, post_form

ROOT = Path(__file__).resolve().parent.parent
WORKER_NAME = "confmgr-test-worker"
APP_NAME = "confmgr-test-app"
UONG_BI = f"/manage/c/{SLUG}/points/06811/delegates"
API_CONF = f"/api/v1/conferences/{SLUG}"
BUSY_MESSAGE = "Máy chủ đang bận, vui lòng thử lại sau ít giây."

#: What a transaction sees of the tables a bulk write touches, by name.
TALLIES = {
    "participants": "SELECT count(*) FROM participants",
    "registered": "SELECT coalesce(sum(registered_count), 0) FROM broadcast_points",
    "registered_by_category":
        "SELECT coalesce(sum(registered), 0) FROM point_category_registrations",
    "audit": "SELECT count(*) FROM audit_log",
    "attendance": "SELECT count(*) FROM attendance",
    "changes": "SELECT count(*) FROM attendance_changes",
    "receipts": "SELECT count(*) FROM checkin_receipts",
    "counted": "SELECT coalesce(sum(present + late + excused + absent), 0) "
               "FROM session_point_counts",
    "counted_by_category": "SELECT coalesce(sum(present + late + excused + absent), 0) "
                           "FROM session_point_category_counts",
}


def with_application_name(database_url: str, name: str) -> str:
    """The URL with a PostgreSQL application_name, so its connections can be told apart."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return database_url
    return url.update_query_dict({"application_name": name}).render_as_string(
        hide_password=False)


# ---------------------------------------------------------------- the worker process

IMPORT_ROWS = 20_000
BATCH_SIZE = 1_000


def import_delegates() -> None:
    """Import IMPORT_ROWS delegates into Uông Bí, as a coordinator's confirmed file does."""
    from confmgr.demo.names import random_full_name
    from confmgr.roster import importing
    from confmgr.spreadsheets import Row, Table

    point = db.session.scalar(select(BroadcastPoint).where(BroadcastPoint.code == "06811"))
    user = db.session.scalar(select(User).where(User.email == COORDINATOR[0]))
    rng = random.Random("killed import")
    rows = Table((Row(number, {"full_name": random_full_name(rng), "phone": f"07{number:08d}",
                               "position": "Chuyên viên"})
                  for number in range(2, IMPORT_ROWS + 2)), ("full_name", "phone", "position"))
    checked = importing.check_rows(point, rows)
    assert not any(item.errors for item in checked)
    token = importing.keep_for_confirmation(point, user.id, "dai-bieu.xlsx", checked)
    importing.confirm(point, user.id, token, organiser=True)


def quang_ninh_check_ins(limit: int) -> list:
    """Check-ins of Quảng Ninh's delegates to the sessions nobody recorded yet, session by
    session, each with an id made from what it records (so the test can send one again)."""
    from confmgr.attendance.batch import Sent
    from confmgr.attendance.models import Attendance
    from confmgr.conferences.models import AgendaSession
    from confmgr.enums import AttendanceStatus, SessionKind

    sessions = db.session.scalars(
        select(AgendaSession.id).where(AgendaSession.id.not_in(select(Attendance.session_id)),
                                       AgendaSession.kind != SessionKind.BREAK)  # none taken
        .order_by(AgendaSession.starts_at, AgendaSession.id)).all()
    people = db.session.scalars(
        select(Participant.id).join(BroadcastPoint, BroadcastPoint.id == Participant.point_id)
        .where(BroadcastPoint.province_code == "22",
               Participant.status == RegistrationStatus.REGISTERED)
        .order_by(Participant.id)).all()
    return [Sent(str(uuid.uuid5(uuid.NAMESPACE_URL, f"check-in/{session}/{person}")), person,
                 session, AttendanceStatus.PRESENT)
            for session in sessions for person in people][:limit]


def check_in_quang_ninh() -> None:
    """Send BATCH_SIZE check-ins at once, as the API's batch does."""
    from confmgr.accounts.permissions import can_view_point
    from confmgr.attendance.batch import record_batch
    from confmgr.conferences.models import Conference

    conference = db.session.scalar(select(Conference).where(Conference.slug == SLUG))
    user = db.session.scalar(select(User).where(User.email == COORDINATOR[0]))
    batch = quang_ninh_check_ins(BATCH_SIZE)
    assert len(batch) == BATCH_SIZE
    record_batch(conference, batch, user_id=user.id,
                 may_record=lambda point: can_view_point(user, point),
                 late_by=timedelta(days=36500))  # the demo's sessions closed in 2025


JOBS = {"import_delegates": import_delegates, "check_in_quang_ninh": check_in_quang_ninh}


def report_and_wait(connection, signal_file: str) -> None:
    """Write what this uncommitted transaction sees to ``signal_file``, then wait to be killed."""
    cursor = connection.connection.driver_connection.cursor()
    seen = {}
    for name, sql in TALLIES.items():
        cursor.execute(sql)
        seen[name] = int(cursor.fetchone()[0])
    cursor.close()
    partial = signal_file + ".part"
    Path(partial).write_text(json.dumps(seen))
    os.replace(partial, signal_file)  # the test never reads half a file
    # Killed long before this; should the test itself have died, end without committing.
    time.sleep(120)
    os._exit(3)


def run_worker(config: dict) -> None:
    """Run one job and stop inside its transaction where ``config["hold"]`` says.

    ``hold`` is ``["commit", 1]`` (every write done, the commit not sent) or words a
    statement holds (at its start, or in a WITH clause: PostgreSQL writes a check-in's log
    in the statement that writes its row) and which occurrence of them to stop after.
    """
    app = make_app(with_application_name(config["database_url"], WORKER_NAME),
                   Path(config["instance"]))
    statement, occurrence = config["hold"]
    with app.app_context():
        if statement == "commit":
            event.listen(db.engine, "commit",
                         lambda connection: report_and_wait(connection, config["signal"]))
        else:
            seen = 0

            def after_execute(connection, cursor, sql, parameters, context, executemany):
                nonlocal seen
                if re.match(rf"\s*(WITH .*)?{statement}", sql.upper(), re.S):
                    seen += 1
                    if seen == occurrence:
                        report_and_wait(connection, config["signal"])

            event.listen(db.engine, "after_cursor_execute", after_execute)
        JOBS[config["job"]]()
        db.session.commit()
    sys.exit("the job ended without reaching its hold: nothing was killed")


# ---------------------------------------------------------------- checks

def tallies(app) -> dict[str, int]:
    with app.app_context():
        return {name: db.session.scalar(text(sql)) for name, sql in TALLIES.items()}


def assert_consistent(app) -> None:
    """Every counter equals the rows it counts; on SQLite the file itself is sound."""
    from confmgr.attendance.models import (
        Attendance,
        SessionPointCategoryCount,
        SessionPointCount,
    )
    from confmgr.roster.models import PointCategoryRegistration

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            assert db.session.execute(text("PRAGMA integrity_check")).scalars().all() == ["ok"]
            assert db.session.execute(text("PRAGMA foreign_key_check")).all() == []

        def nonzero(rows) -> dict:
            return {tuple(key): count for *key, count in rows if count}

        registered = select(Participant).where(
            Participant.status == RegistrationStatus.REGISTERED).subquery()
        assert nonzero(db.session.execute(
            select(BroadcastPoint.id, BroadcastPoint.registered_count))) == nonzero(
            db.session.execute(select(registered.c.point_id, func.count())
                               .group_by(registered.c.point_id)))
        category = func.coalesce(registered.c.category_id, 0)
        assert nonzero(db.session.execute(select(
            PointCategoryRegistration.point_id, PointCategoryRegistration.category_ref,
            PointCategoryRegistration.registered))) == nonzero(db.session.execute(
                select(registered.c.point_id, category, func.count())
                .group_by(registered.c.point_id, category)))

        for counters, keys in ((SessionPointCount, ("session_id", "point_id")),
                               (SessionPointCategoryCount,
                                ("session_id", "point_id", "category_ref"))):
            columns = [getattr(Attendance, key) for key in keys]
            recorded = nonzero(db.session.execute(
                select(*columns, Attendance.status, func.count())
                .group_by(*columns, Attendance.status)))
            counted = {}
            for row in db.session.execute(select(counters)).scalars():
                for status in ("present", "late", "excused", "absent"):
                    if getattr(row, status):
                        key = (*(getattr(row, k) for k in keys), status)
                        counted[key] = getattr(row, status)
            assert counted == {(*key[:-1], str(key[-1])): n for key, n in recorded.items()}


def kill_in_the_middle(app, tmp_path: Path, database_url: str, job: str,
                       hold: list) -> dict[str, int]:
    """Start the worker, wait until it holds its transaction open, SIGKILL it; return what
    the killed transaction saw."""
    signal_file = tmp_path / "held.json"
    config = {"database_url": database_url, "instance": str(tmp_path / "worker"),
              "signal": str(signal_file), "job": job, "hold": hold}
    errors = tmp_path / "worker.stderr"
    with errors.open("wb") as stderr:
        worker = subprocess.Popen([sys.executable, "-m", "tests.test_failures",
                                   json.dumps(config)], cwd=ROOT, stderr=stderr)
    try:
        deadline = time.monotonic() + 120
        while not signal_file.exists():
            if worker.poll() is not None:
                pytest.fail(f"the worker ended ({worker.returncode}) without holding: "
                            f"{errors.read_text()}")
            assert time.monotonic() < deadline, "the worker never reached its hold"
            time.sleep(0.02)
        seen = json.loads(signal_file.read_text())
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    assert worker.returncode == -signal.SIGKILL
    if make_url(database_url).get_backend_name() == "postgresql":
        wait_for_backends_to_end(app, WORKER_NAME)
    return seen


def backend_pids(app, name: str) -> list[int]:
    with app.app_context():
        return db.session.scalars(text(
            "SELECT pid FROM pg_stat_activity WHERE application_name = :name ORDER BY pid"),
            {"name": name}).all()


def wait_for_backends_to_end(app, name: str) -> None:
    # The server notices a dead client at once, but ends its backend a moment later.
    deadline = time.monotonic() + 30
    while backend_pids(app, name):
        assert time.monotonic() < deadline, f"the backends of {name} never ended"
        time.sleep(0.02)


# ---------------------------------------------------------------- killed mid-write

@pytest.mark.parametrize("hold, moved", [
    # Every row and counter written, the commit not sent.
    (["commit", 1], {"participants": IMPORT_ROWS, "registered": IMPORT_ROWS,
                     "registered_by_category": IMPORT_ROWS, "audit": 1}),
    # The rows and the point's counter written, the category counters not yet (the first
    # update of the point only holds it, before the rows).
    (["UPDATE BROADCAST_POINTS", 2], {"participants": IMPORT_ROWS, "registered": IMPORT_ROWS}),
], ids=["before-commit", "between-counters"])
def test_an_import_killed_midway_leaves_nothing(demo, client, database_url, tmp_path, hold,
                                                moved):
    before = tallies(demo)
    seen = kill_in_the_middle(demo, tmp_path, database_url, "import_delegates", hold)
    assert seen == {name: before[name] + moved.get(name, 0) for name in TALLIES}

    assert tallies(demo) == before
    assert_consistent(demo)

    # Started again, the app imports as it always does.
    logged_in(client, COORDINATOR)
    before = tallies(demo)
    rows = "\n".join(f"Đỗ Thị Hạnh {letter},0812000{index:03d}"
                     for index, letter in enumerate("ABCDEGHIKLMNOPQRSTUVXY"))
    page = client.post(f"{UONG_BI}/import", data={
        "csrf_token": csrf_token(client),
        "file": (io.BytesIO(f"Họ và tên,Điện thoại\n{rows}\n".encode()),
                 "ds.csv")}, content_type="multipart/form-data").get_data(as_text=True)
    token = re.search(r'/delegates/import/([A-Za-z0-9_-]+)"', page).group(1)
    done = post_form(client, f"{UONG_BI}/import/{token}", {}, follow_redirects=True)
    assert "Đã nhập 22 đại biểu." in flashes(done.get_data(as_text=True))
    assert tallies(demo) == {**before, "participants": before["participants"] + 22,
                             "registered": before["registered"] + 22,
                             "registered_by_category": before["registered_by_category"] + 22,
                             "audit": before["audit"] + 1}
    assert_consistent(demo)


def bearer(app, email: str) -> dict[str, str]:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        _token, secret = tokens.issue(user, "kiểm thử", TokenScope.WRITE)
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.parametrize("hold, recorded", [
    (["commit", 1], BATCH_SIZE),
    (["INSERT INTO ATTENDANCE_CHANGES", BATCH_SIZE // 2], BATCH_SIZE // 2),
], ids=["before-commit", "halfway"])
def test_a_check_in_batch_killed_midway_records_nothing(demo, client, database_url, tmp_path,
                                                        hold, recorded, monkeypatch):
    headers = bearer(demo, COORDINATOR[0])
    # The demo's sessions closed in 2025: let the batch sent again below still be taken.
    monkeypatch.setitem(demo.config, "API_LATE_CHECKIN_HOURS", 36500 * 24)
    before = tallies(demo)
    seen = kill_in_the_middle(demo, tmp_path, database_url, "check_in_quang_ninh", hold)
    moved = ("attendance", "changes", "receipts", "counted", "counted_by_category")
    assert seen == {name: before[name] + (recorded if name in moved else 0) for name in TALLIES}

    assert tallies(demo) == before
    assert_consistent(demo)

    # The first check-ins of the killed batch, sent again, are new to the server: not one
    # receipt of that batch stayed.
    with demo.app_context():
        again = quang_ninh_check_ins(3)
    response = client.post(f"{API_CONF}/checkins", headers=headers, json={"checkins": [
        {"id": sent.client_id, "participant_id": sent.participant_id,
         "session_id": sent.session_id} for sent in again]})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [(r["id"], r["changed"], r["replayed"]) for r in response.get_json()["results"]] == [
        (sent.client_id, True, False) for sent in again]
    assert tallies(demo) == {**before, **{name: before[name] + 3 for name in moved}}
    assert_consistent(demo)


# ---------------------------------------------------------------- a busy SQLite

#: Tests of one database only: the other run would have nothing to test.
ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
ON_POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def sqlite_path(database_url: str) -> str:
    return make_url(database_url).database


def hold_write_lock(path: str) -> sqlite3.Connection:
    """Another process's writer, in the middle of its transaction."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


NEW_DELEGATE = {"full_name": "Vũ Thị Thu Trang", "position": "Chuyên viên",
                "phone": "0987000111"}


def registered_at_uong_bi(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Participant).join(
            BroadcastPoint, BroadcastPoint.id == Participant.point_id).where(
            BroadcastPoint.code == "06811"))


def test_a_failed_write_still_gets_the_sites_error_page(demo, database_url, tmp_path):
    """A write that fails unexpectedly (a unique key taken meanwhile) leaves the session
    waiting for a rollback; the error page read the signed-in user through it and failed
    in turn, and the server answered its own bare 500, without the site's headers."""
    own = make_app(database_url, tmp_path / "own", PROPAGATE_EXCEPTIONS=False)

    @own.get("/taken-meanwhile")
    def taken_meanwhile():
        from flask_login import current_user
        db.session.add(User(email=current_user.email, display_name="Trùng",
                            password_hash="x", role="organiser"))
        db.session.flush()
        return "not reached"

    try:
        client = own.test_client()
        logged_in(client, COORDINATOR)
        response = client.get("/taken-meanwhile")
        assert response.status_code == 500
        page = response.get_data(as_text=True)
        assert re.search(r'<p class="lead">(.*?)</p>', page).group(1) == (
            "Đã có lỗi ở máy chủ. Vui lòng thử lại sau.")
        assert "Content-Security-Policy" in response.headers
    finally:
        with own.app_context():
            db.engine.dispose()


@ON_SQLITE
def test_a_write_locked_past_the_busy_timeout_is_answered_503(demo, database_url, tmp_path):
    path = sqlite_path(database_url)
    busy = make_app(database_url, tmp_path / "busy", SQLITE_BUSY_TIMEOUT_MS=200)
    try:
        with busy.app_context():
            assert db.session.scalar(text("PRAGMA busy_timeout")) == 200
        client = busy.test_client()
        logged_in(client, COORDINATOR)
        token = csrf_token(client, f"{UONG_BI}/new")
        headers = bearer(busy, COORDINATOR[0])
        before = registered_at_uong_bi(busy)

        holder = hold_write_lock(path)
        try:
            started = time.monotonic()
            page = client.post(f"{UONG_BI}/new", data={**NEW_DELEGATE, "csrf_token": token})
            waited = time.monotonic() - started
            assert page.status_code == 503
            assert page.headers["Retry-After"] == "5"
            assert BUSY_MESSAGE in page.get_data(as_text=True)
            assert waited >= 0.2  # it waited the busy timeout before giving up

            api = client.post(f"{API_CONF}/points/06811/participants", headers=headers,
                              json=NEW_DELEGATE)
            assert api.status_code == 503
            assert api.content_type == "application/problem+json"
            assert api.headers["Retry-After"] == "5"
            assert api.get_json() == {
                "type": "about:blank", "title": "Service Unavailable", "status": 503,
                "detail": BUSY_MESSAGE, "instance": f"{API_CONF}/points/06811/participants",
                "errors": []}
        finally:
            holder.rollback()
            holder.close()
        assert registered_at_uong_bi(busy) == before

        # Once the other writer is done, the same request goes through.
        retried = client.post(f"{UONG_BI}/new", data={**NEW_DELEGATE, "csrf_token": token})
        assert retried.status_code == 302
        assert registered_at_uong_bi(busy) == before + 1
        assert_consistent(busy)
    finally:
        with busy.app_context():
            db.engine.dispose()


@ON_SQLITE
def test_a_lock_released_within_the_busy_timeout_only_delays_the_write(demo, client,
                                                                       database_url):
    logged_in(client, COORDINATOR)
    token = csrf_token(client, f"{UONG_BI}/new")
    before = registered_at_uong_bi(demo)
    holder = hold_write_lock(sqlite_path(database_url))
    writing = threading.Event()
    released_at = []

    def on_insert(connection, cursor, statement, parameters, context, executemany):
        if statement.startswith(("INSERT", "UPDATE")):  # the registration's first write
            writing.set()

    def release_while_the_app_waits():
        # The app's first write has started and waits on the lock; 0.3 s of its 5 s later, the
        # other writer finishes.
        writing.wait(timeout=30)
        time.sleep(0.3)
        holder.rollback()
        released_at.append(time.monotonic())

    with demo.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", on_insert)
    releaser = threading.Thread(target=release_while_the_app_waits)
    releaser.start()
    try:
        page = client.post(f"{UONG_BI}/new", data={**NEW_DELEGATE, "csrf_token": token})
        answered_at = time.monotonic()
    finally:
        event.remove(engine, "before_cursor_execute", on_insert)
        writing.set()
        releaser.join()
        holder.close()
    assert page.status_code == 302
    assert answered_at > released_at[0]
    assert registered_at_uong_bi(demo) == before + 1
    assert_consistent(demo)


# ---------------------------------------------------------------- a dropped PostgreSQL link

def without_csrf_tokens(response) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "", response.get_data(as_text=True))


@ON_POSTGRESQL
def test_a_dropped_postgresql_connection_is_replaced(demo, database_url, tmp_path):
    # Checked however briefly it sat idle: when it is not is the next test's.
    app = make_app(with_application_name(database_url, APP_NAME), tmp_path / "pg",
                   DATABASE_PING_AFTER_IDLE_SECONDS=0)

    def terminate_own_connection():
        db.session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return "unreachable"

    # Routes are fixed before the first request: this one loses its connection midway.
    app.add_url_rule("/test-only/dropped-midway", view_func=terminate_own_connection)
    client = app.test_client()
    other = create_engine(database_url)
    try:
        first = client.get(f"/c/{SLUG}/")
        assert first.status_code == 200
        [pid] = backend_pids(demo, APP_NAME)  # one request at a time: one pooled connection

        # The server drops the idle connection (a restart, a failover, an idle timeout).
        end_the_apps_connection(demo, other)
        second = client.get(f"/c/{SLUG}/")
        assert second.status_code == 200
        assert without_csrf_tokens(second) == without_csrf_tokens(first)
        [new_pid] = backend_pids(demo, APP_NAME)
        assert new_pid != pid

        # A request whose connection drops while it runs is told to try again shortly…
        midway = client.get("/test-only/dropped-midway")
        assert midway.status_code == 503
        assert midway.headers["Retry-After"] == "5"
        assert BUSY_MESSAGE in midway.get_data(as_text=True)
        # …and the next one is served on a new connection.
        wait_for_backends_to_end(demo, APP_NAME)
        third = client.get(f"/c/{SLUG}/")
        assert third.status_code == 200
        assert without_csrf_tokens(third) == without_csrf_tokens(first)
    finally:
        other.dispose()
        with app.app_context():
            db.engine.dispose()


@ON_POSTGRESQL
def test_a_transaction_postgresql_gives_up_in_a_deadlock_is_answered_503(demo, database_url,
                                                                         tmp_path):
    """PostgreSQL ends one of two transactions waiting for each other; asked again, the
    request goes through, so it is told to try again shortly rather than a server error."""
    app = make_app(database_url, tmp_path / "pg")
    holding_first = threading.Event()

    def waits_for_the_other():
        db.session.execute(text("SELECT pg_advisory_xact_lock(7001)"))
        holding_first.set()
        db.session.execute(text("SELECT pg_advisory_xact_lock(7002)"))
        return "unreachable"

    app.add_url_rule("/test-only/deadlocked", view_func=waits_for_the_other)
    other = create_engine(database_url)
    try:
        with other.connect() as connection:
            # The other side waits longer before looking for a deadlock: the app's is ended.
            connection.execute(text("SET deadlock_timeout = '20s'"))
            connection.execute(text("SELECT pg_advisory_xact_lock(7002)"))
            answers = []
            request = threading.Thread(target=lambda: answers.append(
                app.test_client().get("/test-only/deadlocked")))
            request.start()
            assert holding_first.wait(10)
            connection.execute(text("SELECT pg_advisory_xact_lock(7001)"))  # until it gives up
            connection.rollback()
            request.join(30)
        [answer] = answers
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == "5"
        assert BUSY_MESSAGE in answer.get_data(as_text=True)
    finally:
        other.dispose()
        with app.app_context():
            db.engine.dispose()


def end_the_apps_connection(demo, other) -> None:
    with other.begin() as connection:
        assert connection.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = :name"), {"name": APP_NAME}).scalars().all() == [True]
    wait_for_backends_to_end(demo, APP_NAME)


@ON_POSTGRESQL
def test_a_connection_dropped_before_it_idled_long_costs_one_request_a_503(demo, database_url,
                                                                           tmp_path):
    app = make_app(with_application_name(database_url, APP_NAME), tmp_path / "pg",
                   DATABASE_PING_AFTER_IDLE_SECONDS=60)
    client = app.test_client()
    other = create_engine(database_url)
    try:
        first = client.get(f"/c/{SLUG}/")
        assert first.status_code == 200
        [pid] = backend_pids(demo, APP_NAME)
        end_the_apps_connection(demo, other)
        # Not checked before use: the request is told to try again shortly ...
        unchecked = client.get(f"/c/{SLUG}/")
        assert (unchecked.status_code, unchecked.headers["Retry-After"]) == (503, "5")
        assert BUSY_MESSAGE in unchecked.get_data(as_text=True)
        # ... and the next one is served on a new connection.
        again = client.get(f"/c/{SLUG}/")
        assert again.status_code == 200
        assert without_csrf_tokens(again) == without_csrf_tokens(first)
        [new_pid] = backend_pids(demo, APP_NAME)
        assert new_pid != pid
    finally:
        other.dispose()
        with app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("idle_seconds, checked", [(0, True), (60, False)])
def test_a_pooled_connection_is_checked_before_use_only_after_idling(tmp_path, idle_seconds,
                                                                     checked):
    app = make_app(f"sqlite:///{tmp_path / 'ping.sqlite3'}", tmp_path / "instance",
                   DATABASE_PING_AFTER_IDLE_SECONDS=idle_seconds)
    with app.app_context():
        with db.engine.connect() as connection:
            dropped = connection.connection.dbapi_connection
        dropped.close()  # behind the pool's back, as a server drops an idle link
        with db.engine.connect() as connection:
            if checked:
                assert connection.execute(text("SELECT 1")).scalar() == 1
                assert connection.connection.dbapi_connection is not dropped
            else:
                # Handed out unchecked: its request fails (on PostgreSQL with a 503, the
                # test above) and the pool then replaces it.
                with pytest.raises(DBAPIError, match="closed database"):
                    connection.execute(text("SELECT 1"))
        db.engine.dispose()


if __name__ == "__main__":
    run_worker(json.loads(sys.argv[1]))
