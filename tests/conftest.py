"""Fixtures: every database test runs on SQLite and, when configured, on PostgreSQL."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, make_url, text

from confmgr import create_app
from confmgr.db import db

POSTGRES_URL_VARIABLE = "CONFMGR_TEST_DATABASE_URL"


def _worker_database(url: str) -> str:
    """The database this process tests on: the configured one, or under pytest-xdist a
    database of its own beside it for every worker but the first (created empty)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    if worker == "gw0":
        return url
    configured = make_url(url)
    name = f"{configured.database}_{worker}"
    server = create_engine(configured, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    return configured.set(database=name).render_as_string(hide_password=False)


def _reset_postgres_schema(url: str) -> None:
    # The test database is the suite's own: start every run from an empty schema.
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
        # Commits need not wait for the disk here: a test's data need not outlive a crash
        # of the server, and each test commits its demo data many times over. (Every
        # connection to this database, the app processes the tests start among them.)
        name = make_url(url).database
        connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    engine.dispose()


def make_app(database_url: str, instance_path: Path, **config):
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            # Real hashing, at a cost that keeps the suite quick.
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            **config,
        },
        instance_path=str(instance_path),
    )


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory) -> str:
    """A migrated, empty database for the whole run, one per backend."""
    if request.param == "postgresql":
        url = os.environ.get(POSTGRES_URL_VARIABLE)
        if not url:
            pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set: PostgreSQL run skipped")
        from confmgr.config import normalise_database_url

        url = _worker_database(normalise_database_url(url))
        _reset_postgres_schema(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite3'}"
    app = make_app(url, tmp_path_factory.mktemp("instance"))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture
def app(database_url, tmp_path):
    """The application, with no context pushed: requests in a test run as in production."""
    app = make_app(database_url, tmp_path / "instance")
    yield app
    with app.app_context():
        _empty_all_tables()
        db.engine.dispose()


@pytest.fixture
def ctx(app):
    """An application context for tests that call services and models directly."""
    with app.app_context():
        yield app
        db.session.remove()


def _empty_all_tables() -> None:
    tables = [t.name for t in db.metadata.sorted_tables]
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in reversed(tables):
                connection.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


#: Each database's rows right after the demo loaded, kept for the run: copying them in is
#: several times quicker than building the demo again, which most tests start from.
_DEMO_ROWS: dict[str, dict[str, list[dict]]] = {}


@pytest.fixture
def demo(app, database_url):
    """The demo conference, loaded (built once per database, then copied in)."""
    from confmgr.demo.loader import load_demo

    with app.app_context():
        rows = _DEMO_ROWS.get(database_url)
        if rows is None:
            load_demo()
            _DEMO_ROWS[database_url] = _all_rows()
        else:
            _copy_in(rows)
    return app


def _all_rows() -> dict[str, list[dict]]:
    with db.engine.connect() as connection:
        # In key order, so a row that refers to another of its table (a merged question, a
        # point's parent) comes after it, as it was made.
        return {table.name: [dict(row._mapping) for row in connection.execute(
                    table.select().order_by(*table.primary_key.columns))]
                for table in db.metadata.sorted_tables}


def _copy_in(rows: dict[str, list[dict]]) -> None:
    with db.engine.begin() as connection:
        for table in db.metadata.sorted_tables:
            if rows[table.name]:
                connection.execute(table.insert(), rows[table.name])
        if connection.dialect.name == "postgresql":
            # Rows came with their ids; the next new row must not reuse one.
            for table in db.metadata.sorted_tables:
                if "id" in table.c and rows[table.name]:
                    connection.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT max(id) FROM {table.name}))"))


CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, url: str = "/") -> str:
    page = client.get(url, follow_redirects=True).get_data(as_text=True)
    match = CSRF_PATTERN.search(page)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def login(client, email: str, password: str):
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(client)},
    )
