"""The production shape: two app processes on one PostgreSQL database and one Redis.

What must hold across processes: failed sign-ins counted in Redis lock an account on every
process, and the same delegates checked in through both at once leave one attendance row
each and counters equal to those rows. See docs/deploy.md.
"""
from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from tests.conftest import CSRF_PATTERN, POSTGRES_URL_VARIABLE
from tests.helpers import COORDINATOR

DATABASE = "confmgr_deploy_test"
REDIS_URL = os.environ.get("CONFMGR_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 30


def postgres_server_url() -> str:
    """The maintenance database of the server the suite's PostgreSQL runs use."""
    configured = os.environ.get(POSTGRES_URL_VARIABLE, "postgresql://postgres@127.0.0.1:5432/test")
    return urlunsplit(urlsplit(configured)._replace(path="/postgres"))


def database_url() -> str:
    return urlunsplit(urlsplit(postgres_server_url())._replace(path=f"/{DATABASE}"))


def reachable_services():
    """(psycopg connection to the server, Redis client), or a skip saying what is missing."""
    try:
        import psycopg
    except ImportError:
        pytest.skip("psycopg is not installed: pip install -e '.[postgres]'")
    try:
        import redis
    except ImportError:
        pytest.skip("the redis package is not installed: pip install -e '.[redis]'")
    try:
        server = psycopg.connect(postgres_server_url(), autocommit=True, connect_timeout=3)
    except psycopg.Error as error:
        pytest.skip(f"PostgreSQL is not reachable at {postgres_server_url()}: {error}")
    store = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        store.ping()
    except redis.RedisError as error:
        server.close()
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {error}")
    return server, store


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_command(port: int) -> list[str]:
    # gunicorn as in production when it is installed (the "bench" extra), else Flask's own
    # threaded server: either way a process of its own with its own memory.
    if importlib.util.find_spec("gunicorn"):
        return [sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "8",
                "--bind", f"127.0.0.1:{port}", "confmgr:create_app()"]
    return [sys.executable, "-m", "flask", "--app", "confmgr", "run", "--port", str(port),
            "--with-threads", "--no-reload", "--no-debugger"]


def wait_until_serving(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server at {url} stopped: {process.stderr.read()}")
        try:
            if requests.get(f"{url}/login", timeout=10).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    raise AssertionError(f"the server at {url} did not start in {STARTUP_SECONDS} s")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    server, store = reachable_services()
    server.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    server.execute(f"CREATE DATABASE {DATABASE}")
    store.flushdb()
    env = {
        **os.environ,
        "CONFMGR_DATABASE_URL": database_url(),
        "CONFMGR_RATELIMIT_STORAGE_URI": REDIS_URL,
        "CONFMGR_SECRET_KEY": "deploy-test-secret",
        "CONFMGR_INSTANCE_PATH": str(tmp_path_factory.mktemp("instance")),
    }
    processes = []
    try:
        subprocess.run([sys.executable, "-m", "flask", "--app", "confmgr", "demo"], env=env,
                       cwd=ROOT, check=True, capture_output=True, timeout=120)
        urls = []
        for _ in range(2):
            port = free_port()
            processes.append(subprocess.Popen(server_command(port), env=env, cwd=ROOT,
                                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                              text=True))
            urls.append(f"http://127.0.0.1:{port}")
        for url, process in zip(urls, processes):
            wait_until_serving(url, process)
        yield urls, store
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown; Flask's too
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        store.flushdb()
        server.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        server.close()


def sign_in(url: str, browser: requests.Session, email: str, password: str) -> requests.Response:
    token = CSRF_PATTERN.search(browser.get(f"{url}/login").text).group(1)
    return browser.post(f"{url}/login", data={"email": email, "password": password,
                                              "csrf_token": token}, allow_redirects=False)


def test_failed_sign_ins_on_both_processes_lock_the_account_on_both(deployment):
    (first, second), store = deployment
    browsers = {first: requests.Session(), second: requests.Session()}
    statuses = [sign_in(url, browsers[url], COORDINATOR[0], "sai-mat-khau-roi").status_code
                for url in (first, second, first, second, first)]
    assert statuses == [200, 200, 200, 200, 429]
    for url in (second, first):  # the right password, on each process
        refused = sign_in(url, browsers[url], *COORDINATOR)
        assert refused.status_code == 429
        assert "tạm thời bị khóa" in refused.text
        assert 1 <= int(refused.headers["Retry-After"]) <= 900
    # The lock is in Redis, not in either process.
    assert any(b"/login-locked/" in key for key in store.scan_iter("LIMITS:LIMITER/confmgr/*"))


def test_check_ins_sent_to_both_processes_at_once_are_recorded_once(deployment, tmp_path):
    import psycopg

    (first, second), _store = deployment
    secret, session_id, people = coordinator_token_and_delegates(tmp_path)
    headers = {"Authorization": f"Bearer {secret}"}

    def send(url, person, status, client_id):
        batch = {"checkins": [{"id": client_id, "participant_id": person,
                               "session_id": session_id, "status": status}]}
        response = requests.post(f"{url}/api/v1/conferences/tap-huan-cap-xa-2025/checkins",
                                 json=batch, headers=headers, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()["results"][0]

    # Half the delegates: two devices tap each one, with different statuses. The other half:
    # one device sends its batch again to the other process (the same id) as the first
    # answer is lost.
    disputed, retried = people[:len(people) // 2], people[len(people) // 2:]
    jobs = []
    with ThreadPoolExecutor(max_workers=16) as pool:
        for person in disputed:
            jobs.append(pool.submit(send, first, person, "present", str(uuid.uuid4())))
            jobs.append(pool.submit(send, second, person, "late", str(uuid.uuid4())))
        for person in retried:
            client_id = str(uuid.uuid4())
            jobs.append(pool.submit(send, first, person, "present", client_id))
            jobs.append(pool.submit(send, second, person, "present", client_id))
        results = [job.result() for job in jobs]
    replays = [r["replayed"] for r in results if r["participant_id"] in retried]
    assert sorted(replays) == [False] * len(retried) + [True] * len(retried)

    with psycopg.connect(database_url()) as connection:
        rows = connection.execute(
            "SELECT participant_id, count(*) FROM attendance WHERE session_id = %s"
            " AND participant_id = ANY(%s) GROUP BY participant_id", (session_id, people)
        ).fetchall()
        assert sorted(rows) == [(person, 1) for person in sorted(people)]
        assert connection.execute(
            "SELECT count(*) FROM checkin_receipts WHERE participant_id = ANY(%s)",
            (people,)).fetchone() == (len(disputed) * 2 + len(retried),)
        # Every counter of the session equals what its attendance rows say.
        truth = """SELECT point_id{extra}, sum((status = 'present')::int),
                          sum((status = 'late')::int), sum((status = 'excused')::int),
                          sum((status = 'absent')::int)
                   FROM attendance WHERE session_id = %s GROUP BY point_id{extra}
                   ORDER BY point_id{extra}"""
        counted = """SELECT point_id{extra}, present, late, excused, absent FROM {table}
                     WHERE session_id = %s AND present + late + excused + absent > 0
                     ORDER BY point_id{extra}"""
        for table, extra in (("session_point_counts", ""),
                             ("session_point_category_counts", ", category_ref")):
            expected = connection.execute(truth.format(extra=extra), (session_id,)).fetchall()
            assert connection.execute(counted.format(table=table, extra=extra),
                                      (session_id,)).fetchall() == expected, table
        # Nothing but the delegates sent was recorded in this session.
        assert connection.execute("SELECT count(*) FROM attendance WHERE session_id = %s",
                                  (session_id,)).fetchone() == (len(people),)


def coordinator_token_and_delegates(instance: Path) -> tuple[str, int, list[int]]:
    """A write token of Quảng Ninh's coordinator, the demo's last session (which nobody
    has attended yet) and the registered delegates of the coordinator's points."""
    from sqlalchemy import select

    from confmgr import create_app
    from confmgr.accounts.services import find_user
    from confmgr.api import tokens
    from confmgr.conferences.models import AgendaSession
    from confmgr.db import db, utcnow
    from confmgr.enums import RegistrationStatus, TokenScope
    from confmgr.points.models import BroadcastPoint
    from confmgr.roster.models import Participant

    app = create_app({"DATABASE_URL": database_url(), "SECRET_KEY": "deploy-test-secret",
                      "RATELIMIT_ENABLED": False}, instance_path=str(instance))
    with app.app_context():
        _token, secret = tokens.issue(find_user(COORDINATOR[0]), "hai tiến trình",
                                      TokenScope.WRITE)
        db.session.commit()
        session = db.session.scalar(select(AgendaSession)
                                    .order_by(AgendaSession.starts_at.desc()).limit(1))
        # Running now, as published: the demo's agenda lies in 2025, long closed.
        now = utcnow()
        session.starts_at, session.ends_at = now - timedelta(minutes=30), now + timedelta(minutes=30)
        session.published_starts_at, session.published_ends_at = session.starts_at, session.ends_at
        session_id = session.id
        db.session.commit()
        people = list(db.session.scalars(
            select(Participant.id).join(BroadcastPoint, BroadcastPoint.id == Participant.point_id)
            .where(BroadcastPoint.code.in_(["06811", "06688", "06793"]),
                   Participant.status == RegistrationStatus.REGISTERED)
            .order_by(Participant.id)))
        db.engine.dispose()
    return secret, session_id, people
