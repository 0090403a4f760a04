"""Fixtures: every database test runs on SQLite and, when configured, on PostgreSQL."""
from __future__ import annotations

import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
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


def _share_url_builders() -> None:
    """Tests that need other settings make apps of their own (test_security one a test),
    and werkzeug compiles two URL builders for each route of each app: about 0.1 s an
    app. A builder is a function of its rule's text, converters and defaults alone (it
    reads the converters from the rule it is bound to when called), so the tests' apps
    share them. Where werkzeug's internals differ from those this was written against,
    each compiles its own, as before."""
    from werkzeug.routing.rules import Rule

    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None or getattr(compile_builder, "shared", False):
        return
    built: dict[tuple, object] = {}

    def shared(self, append_unknown: bool = True):
        try:
            key = (self.rule, self.host, self.subdomain, self.merge_slashes,
                   self.map.host_matching, repr(sorted((self.defaults or {}).items())),
                   append_unknown, tuple((name, type(converter))
                                         for name, converter in self._converters.items()))
        except AttributeError:
            return compile_builder(self, append_unknown)
        if key not in built:
            built[key] = compile_builder(self, append_unknown)
        return built[key]

    shared.shared = True
    Rule._compile_builder = shared


_share_url_builders()


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
    _APPS[url] = app
    return url


#: One application per test database, made once and lent to every test. Making one per
#: test (its routes, its templates compiled on first use, its engine's compiled
#: statements) was a third of the suite's time. Each test hands it back as it found it
#: (_hand_back); a test that needs other settings makes its own with make_app.
_APPS: dict[str, Flask] = {}


@pytest.fixture
def app(database_url):
    """The application, with no context pushed: requests in a test run as in production."""
    app = _APPS[database_url]
    config, extensions = dict(app.config), set(app.extensions)
    files = set(Path(app.instance_path).iterdir())
    yield app
    _hand_back(app, config, extensions, files)


def _hand_back(app: Flask, config: dict, extensions: set[str], files: set[Path]) -> None:
    """Empty the database, and forget what the test left in the application: settings,
    what it keeps per process (app.extensions: caches, "a user exists") and the files it
    wrote in the instance folder. (Its limits are off: test_security makes its own.)"""
    with app.app_context():
        db.session.remove()
        _empty_all_tables()
    app.config.clear()
    app.config.update(config)
    for name in set(app.extensions) - extensions:
        del app.extensions[name]
    for path in set(Path(app.instance_path).iterdir()) - files:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


@pytest.fixture
def ctx(app):
    """An application context for tests that call services and models directly."""
    with app.app_context():
        yield app
        db.session.remove()


def _empty_all_tables() -> None:
    # DELETE, dependants first, rather than TRUNCATE: for the few rows a test leaves it is
    # several times quicker on PostgreSQL, which makes new files for a truncated table.
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as connection:
        _skip_reference_checks(connection)
        for name in tables:
            connection.execute(text(f"DELETE FROM {_quoted(connection, name)}"))
        if connection.dialect.name == "postgresql":
            # As a new database: the next row of every table is number 1 again.
            connection.execute(text(
                "SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND n.nspname = 'public'"))


def _skip_reference_checks(connection) -> None:
    """On PostgreSQL, for the rest of the transaction, no foreign key is checked row by row:
    the rows copied in were taken from a consistent database, and emptying every table
    leaves nothing to point anywhere. The checks were most of the time of both (the demo's
    1,220 attendance rows alone cost 150 ms). Only a superuser may; others go without."""
    if connection.dialect.name != "postgresql":
        return
    if connection.execute(text("SELECT current_setting('is_superuser')")).scalar() == "on":
        connection.execute(text("SET LOCAL session_replication_role = replica"))


def _quoted(connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


#: Each test database's demo rows, kept once per run: copying them back is several times
#: quicker than loading the demo again. On SQLite they stay in an attached file and come
#: back by INSERT ... SELECT; on PostgreSQL, where a second schema would go into the
#: backups the tests take, they are kept here in COPY's text format.
_DEMO_KEPT: dict[str, dict[str, bytes] | str] = {}
DEMO_SEED = "demo_seed"


@pytest.fixture
def demo(app, database_url):
    """The demo conference, loaded (built once per database, then copied in)."""
    from confmgr.demo.loader import load_demo

    with app.app_context():
        if database_url in _DEMO_KEPT:
            _copy_demo_in(_DEMO_KEPT[database_url])
        else:
            load_demo()
            _DEMO_KEPT[database_url] = _keep_demo(database_url)
    return app


@contextmanager
def _seed_attached(seed_file: str):
    """A connection in a transaction that sees the SQLite seed as schema ``DEMO_SEED``."""
    with db.engine.connect() as connection:
        # SQLite refuses ATTACH and DETACH inside a transaction. pysqlite sends no BEGIN
        # before them; commit() ends only the transaction SQLAlchemy began by itself.
        connection.exec_driver_sql(f"ATTACH DATABASE '{seed_file}' AS {DEMO_SEED}")
        connection.commit()
        try:
            with connection.begin():
                yield connection
        finally:
            connection.exec_driver_sql(f"DETACH DATABASE {DEMO_SEED}")
            connection.commit()


def _table_and_columns(connection, table) -> tuple[str, str]:
    """A table's quoted name and its column list, in the models' order."""
    return _quoted(connection, table.name), ", ".join(
        _quoted(connection, column.name) for column in table.columns)


def _keep_demo(database_url: str) -> dict[str, bytes] | str:
    """The seed: the SQLite file's name, or each PostgreSQL table's rows."""
    if db.engine.dialect.name == "sqlite":
        seed_file = make_url(database_url).database + ".demo-seed"
        with _seed_attached(seed_file) as connection:
            for table in db.metadata.sorted_tables:
                name, columns = _table_and_columns(connection, table)
                connection.execute(text(
                    f"CREATE TABLE {DEMO_SEED}.{name} AS SELECT {columns} FROM main.{name}"))
        return seed_file
    kept = {}
    with db.engine.connect() as connection, connection.connection.cursor() as cursor:
        for table in db.metadata.sorted_tables:
            name, columns = _table_and_columns(connection, table)
            with cursor.copy(f"COPY {name} ({columns}) TO STDOUT") as copy:
                kept[table.name] = b"".join(copy)
    return kept


def _copy_demo_in(seed: dict[str, bytes] | str) -> None:
    if db.engine.dialect.name == "sqlite":
        with _seed_attached(seed) as connection:
            for table in db.metadata.sorted_tables:
                name, columns = _table_and_columns(connection, table)
                connection.execute(text(
                    f"INSERT INTO main.{name} ({columns}) SELECT {columns} "
                    f"FROM {DEMO_SEED}.{name}"))
        return
    with db.engine.begin() as connection:
        _skip_reference_checks(connection)
        with connection.connection.cursor() as cursor:
            for table in db.metadata.sorted_tables:
                name, columns = _table_and_columns(connection, table)
                with cursor.copy(f"COPY {name} ({columns}) FROM STDIN") as copy:
                    copy.write(seed[table.name])
        # Rows came with their ids; the next new row must not reuse one. A table the demo
        # leaves empty gives setval a NULL, which it ignores.
        connection.execute(text("SELECT " + ", ".join(
            f"setval(pg_get_serial_sequence('{table.name}', 'id'), "
            f"(SELECT max(id) FROM {_quoted(connection, table.name)}))"
            for table in db.metadata.sorted_tables if "id" in table.c)))


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
