"""The database handle, the declarative base and column types shared by every area."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from functools import partial

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, Table, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError, InvalidatePoolError
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so Alembic migrations can name what they alter or drop.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


#: How long a write on SQLite waits for another writer's lock before it fails with
#: "database is locked", in milliseconds; ``SQLITE_BUSY_TIMEOUT_MS`` in the configuration
#: changes it.
SQLITE_BUSY_TIMEOUT_MS = 5000

#: A pooled connection idle for longer than this, in seconds, is checked with a round trip
#: before a request gets it: a restart, a failover or an idle timeout may have closed it
#: meanwhile. One used more recently is not checked: under load every connection is, and
#: checking at every request cost 12 % of a check-in's CPU on PostgreSQL. A connection
#: dropped within the second fails its request with a 503 (confmgr/errors.py) and is
#: replaced. ``DATABASE_PING_AFTER_IDLE_SECONDS`` in the configuration changes it.
DATABASE_PING_AFTER_IDLE_SECONDS = 1.0


class Database(SQLAlchemy):
    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        busy_ms = int(app.config.get("SQLITE_BUSY_TIMEOUT_MS", SQLITE_BUSY_TIMEOUT_MS))
        idle = float(app.config.get("DATABASE_PING_AFTER_IDLE_SECONDS",
                                    DATABASE_PING_AFTER_IDLE_SECONDS))
        with app.app_context():
            engines = list(self.engines.values())
        for engine in engines:
            ping_after_idle(engine, idle)
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", partial(_set_busy_timeout, busy_ms))


#: Where a pooled connection keeps when it last went back to the pool.
RETURNED_AT = "confmgr.returned_at"


def ping_after_idle(engine: Engine, seconds: float) -> None:
    """Check a connection that sat in ``engine``'s pool over ``seconds`` before handing it
    out, and replace it if it no longer answers."""

    def returned(dbapi_connection, record) -> None:
        record.info[RETURNED_AT] = time.monotonic()

    def taken(dbapi_connection, record, proxy) -> None:
        returned_at = record.info.get(RETURNED_AT)  # none on a connection just made
        if returned_at is None or time.monotonic() - returned_at <= seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool drops the connection and hands out a new one; when the server is
            # gone, every connection made before it too (a restart ended them all).
            gone = engine.dialect.is_disconnect(error, dbapi_connection, None)
            raise (InvalidatePoolError if gone else DisconnectionError)(str(error)) from error

    event.listen(engine, "checkin", returned)
    event.listen(engine, "checkout", taken)


def _set_busy_timeout(busy_ms: int, dbapi_connection, connection_record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={busy_ms:d}")
    cursor.close()


db = Database(model_class=Base)


class UTCDateTime(TypeDecorator):
    """An instant, always stored in UTC and always returned timezone-aware.

    SQLite has no time zone type, so the UTC value is stored naive there;
    PostgreSQL keeps ``timestamp with time zone``. Either way Python code only
    ever sees aware datetimes, and a naive one is refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, connection_record):
    # Every SQLite connection enforces foreign keys; WAL lets readers run while a
    # check-in writes. How long a writer waits on a busy database is the app's setting
    # (Database.init_app); other engines keep Python's default of 5 s.
    if type(dbapi_connection).__module__.split(".")[0] != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def hold_rows(table: Table, condition) -> None:
    """Hold the rows of ``table`` that meet ``condition`` until the commit, as a write of
    them would. PostgreSQL locks each row, here in the order of their ids (an update takes
    them as it finds them: two holders of rows in common could wait for each other).
    SQLite has no row locks and reads outside a write see none: a write that changes
    nothing takes the database's write lock, so the reads after it are current."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(table.c.id).where(condition).order_by(table.c.id)
                           .with_for_update(key_share=True))
    else:
        # Columns dated on update named too, or a write of nothing would date a change.
        unchanged = {column.name: column for column in table.c
                     if column.primary_key or column.onupdate is not None}
        db.session.execute(table.update().where(condition).values(unchanged))


def read_one_snapshot() -> None:
    """Make every read from here to the transaction's end see the database as at the
    first of them. A report reads its tables in several statements, each of which saw
    the check-ins committed by then: the sheets of one file disagreed, and a province's
    row could add up to more than it registered. Commits what came before (a report
    writes nothing); call it before the report's first read."""
    db.session.commit()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    else:
        # pysqlite begins a transaction only before a write; in one (WAL) reads share
        # a snapshot and writers go on.
        db.session.connection().exec_driver_sql("BEGIN")


def dialect_insert(table):
    """INSERT that can take ON CONFLICT, in the dialect of the database in use."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def bulk_insert(table, rows: list[dict]) -> None:
    """Insert many rows in the current transaction: COPY on PostgreSQL, where it is several
    times faster than INSERT, and executemany elsewhere.

    Values go to the database as they are, past column types' own conversions: give
    aware UTC datetimes and enum members, as the models would store them.
    """
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(table.insert(), rows)
        return
    columns = list(rows[0])
    names = ", ".join(f'"{name}"' for name in columns)
    with connection.connection.driver_connection.cursor() as cursor:
        with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([row[name] for name in columns])
