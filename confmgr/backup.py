"""Backing up and restoring the configured database.

SQLite: sqlite3's online backup API, which copies a consistent snapshot while the
application keeps writing (WAL lets the copy read as writers commit), and the same API the
other way to restore, so the live file is replaced in one transaction. PostgreSQL:
``pg_dump --format=custom`` to back up; to restore, one psql transaction drops and recreates
schema public and runs the dump's SQL (``pg_restore --file=-``), so the database holds
exactly the dump, and a restore that fails half way leaves it as it was.

A file is checked before anything is touched: the right kind for the configured database,
readable, made by confmgr (it has the migrations' ``alembic_version``) at a schema revision
this code knows.
"""
from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from confmgr.extensions import MIGRATIONS_DIR

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
SUFFIXES = {SQLITE: "sqlite3", POSTGRESQL: "dump"}
_SQLITE_MAGIC = b"SQLite format 3\x00"
_PG_DUMP_MAGIC = b"PGDMP"
#: A restore waits this long for the application's locks before giving up untouched.
PG_LOCK_TIMEOUT = "10s"


class BackupError(Exception):
    """Why a backup or a restore was refused or failed; the message says what to do."""


@dataclass(frozen=True)
class Database:
    kind: str
    url: URL
    #: SQLite: the database file.
    path: Path | None = None

    @property
    def shown(self) -> str:
        """The database as messages name it: never with its password."""
        if self.path:
            return str(self.path)
        return self.url.set(drivername=POSTGRESQL).render_as_string(hide_password=True)

    def libpq(self) -> tuple[str, dict[str, str]]:
        """A libpq connection URI without the password, and the environment that carries
        it: a password on a command line is readable by every user of the machine."""
        uri = self.url.set(drivername="postgresql", password=None)
        env = dict(os.environ)
        if self.url.password:
            env["PGPASSWORD"] = str(self.url.password)
        return uri.render_as_string(hide_password=False), env


def database_of(sqlalchemy_url: str | URL) -> Database:
    """The database at ``sqlalchemy_url``: give the engine's, in which a relative SQLite
    path has been placed in the instance folder as the application opens it."""
    url = make_url(sqlalchemy_url)
    backend = url.get_backend_name()
    if backend == SQLITE:
        if not url.database or url.database == ":memory:":
            raise BackupError("An in-memory SQLite database has nothing to back up.")
        return Database(SQLITE, url, Path(url.database))
    if backend == POSTGRESQL:
        return Database(POSTGRESQL, url)
    raise BackupError(f"Backups handle SQLite and PostgreSQL, not {backend}.")


def default_path(instance_path: str | Path, database: Database, now: datetime | None = None
                 ) -> Path:
    """instance/backups/confmgr-YYYYmmdd-HHMMSS.(sqlite3|dump), in the machine's local time."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return Path(instance_path) / "backups" / f"confmgr-{stamp}.{SUFFIXES[database.kind]}"


def backup(database: Database, path: Path) -> Path:
    """Write a backup of ``database`` to ``path`` (never over an existing file)."""
    if path.exists():
        raise BackupError(f"{path} already exists; give another path.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BackupError(f"The folder {path.parent} cannot be made: {error.strerror}.") from None
    # Written beside the target and renamed: a backup cut short never has the final name.
    partial = path.with_name(path.name + ".partial")
    try:
        if database.kind == SQLITE:
            _sqlite_backup(database.path, partial)
        else:
            uri, env = database.libpq()
            _run(["pg_dump", "--format=custom", f"--file={partial}", f"--dbname={uri}"], env,
                 "pg_dump")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def _sqlite_backup(source: Path, target: Path) -> None:
    if not source.is_file():
        raise BackupError(f"The database file {source} does not exist.")
    try:
        with closing(sqlite3.connect(source)) as origin, \
                closing(sqlite3.connect(target)) as copy:
            # One step: the whole copy reads one snapshot, whatever commits meanwhile.
            origin.backup(copy)
            # A rollback-journal file stands alone: no -wal beside it to lose when copied.
            copy.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as error:
        raise BackupError(f"The SQLite backup failed: {error}") from None


# ---------------------------------------------------------------- restoring


@dataclass(frozen=True)
class BackupFile:
    path: Path
    kind: str
    #: The schema revision the backup was made at.
    revision: str


def check_backup(database: Database, path: Path) -> BackupFile:
    """The backup at ``path``, if it can be restored onto ``database``; else BackupError
    saying why. Reads the file only."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist or is not a file.")
    try:
        with path.open("rb") as handle:
            start = handle.read(len(_SQLITE_MAGIC))
    except OSError as error:  # not readable by this user, say
        raise BackupError(f"{path} cannot be read: {error.strerror}.") from None
    if start.startswith(_SQLITE_MAGIC):
        kind = SQLITE
    elif start.startswith(_PG_DUMP_MAGIC):
        kind = POSTGRESQL
    else:
        raise BackupError(f"{path} is neither a SQLite database nor a pg_dump custom-format "
                          "file: it is not a confmgr backup.")
    if kind != database.kind:
        names = {SQLITE: "a SQLite database", POSTGRESQL: "a PostgreSQL dump"}
        raise BackupError(f"{path} is {names[kind]}, but the configured database is "
                          f"{database.kind}: restore it where it came from.")
    revision = (_sqlite_revision(path) if kind == SQLITE
                else _dump_revision(path, database))
    if revision not in known_revisions():
        raise BackupError(f"{path} is at schema revision {revision}, which this version of "
                          "confmgr does not know: restore it with the version that made it.")
    return BackupFile(path, kind, revision)


def _sqlite_revision(path: Path) -> str:
    try:
        # Read-only, so checking a file never changes it.
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            problems = connection.execute("PRAGMA quick_check").fetchall()
            if problems != [("ok",)]:
                raise BackupError(f"{path} is damaged: {problems[0][0]}")
            row = _alembic_version(connection, path)
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise BackupError(f"{path} cannot be read as a SQLite database: {error}") from None
    return row


def _alembic_version(connection: sqlite3.Connection, path: Path) -> str:
    try:
        rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.OperationalError:
        rows = []
    if len(rows) != 1:
        raise BackupError(f"{path} has no schema revision (alembic_version): it is not a "
                          "confmgr database.")
    # Tables every revision has: a file holding its revision alone is no confmgr database.
    tables = {name for (name,) in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = sorted(_CORE_TABLES - tables)
    if missing:
        raise BackupError(f"{path} has no table {', '.join(missing)}: it is not a confmgr "
                          "database.")
    return rows[0][0]


#: Tables confmgr's first revision made, which every later one keeps.
_CORE_TABLES = frozenset({"users", "conferences", "agenda_sessions", "broadcast_points"})


_COPY_VERSION = re.compile(r"^COPY public\.alembic_version \(version_num\) FROM stdin;\n"
                           r"([0-9a-z_]+)\n\\\.$", re.M)


def _dump_revision(path: Path, database: Database) -> str:
    _, env = database.libpq()
    listing = _run(["pg_restore", "--list", str(path)], env, "pg_restore",
                   refused=f"{path} is not a readable pg_dump custom-format file")
    if not re.search(r"TABLE DATA public alembic_version ", listing):
        raise BackupError(f"{path} has no schema revision (alembic_version): it is not a "
                          "dump of a confmgr database.")
    tables = set(re.findall(r" TABLE public (\w+) ", listing))
    missing = sorted(_CORE_TABLES - tables)
    if missing:
        raise BackupError(f"{path} has no table {', '.join(missing)}: it is not a dump of a "
                          "confmgr database.")
    # The table's rows as SQL, read from the archive without a database.
    data = _run(["pg_restore", "--data-only", "--table=alembic_version", "--file=-",
                 str(path)], env, "pg_restore", refused=f"{path} cannot be read")
    found = _COPY_VERSION.search(data)
    if not found:
        raise BackupError(f"{path} has no single schema revision in alembic_version.")
    return found.group(1)


def restore(database: Database, backup_file: BackupFile) -> str:
    """Replace the database's contents with a checked backup; the schema revision after.

    The application's own connections must be closed first (``db.engine.dispose()``).
    """
    if database.kind == SQLITE:
        _sqlite_restore(backup_file.path, database.path)
    else:
        _pg_restore(database, backup_file.path)
    return current_revision(database)


def _pg_restore(database: Database, path: Path) -> None:
    """Replace schema public with the dump in one transaction.

    ``pg_restore --clean`` would drop only what the dump holds: tables that a later
    migration added would stay, with foreign keys into the tables being replaced (so the
    restore fails) and in the way of ``db upgrade`` afterwards. The transaction commits
    only once the whole script has run: a failure anywhere leaves the database as it was.
    """
    uri, env = database.libpq()
    # Waiting behind a running application's locks would hang: give up instead. The
    # notices of DROP ... CASCADE list every table; only problems are worth showing.
    env["PGOPTIONS"] = (f"{env.get('PGOPTIONS', '')} -c lock_timeout={PG_LOCK_TIMEOUT} "
                        "-c client_min_messages=warning").strip()
    with tempfile.TemporaryFile() as script_errors, tempfile.TemporaryFile() as load_errors:
        script = _start(["pg_restore", "--no-owner", "--file=-", str(path)], env,
                        stdout=subprocess.PIPE, stderr=script_errors)
        try:
            load = _start(["psql", "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1",
                           f"--dbname={uri}"], env, stdin=subprocess.PIPE, bufsize=0,
                          stdout=subprocess.DEVNULL, stderr=load_errors)
        except BackupError:
            script.kill()
            script.wait()
            raise
        psql_stopped = False
        try:
            load.stdin.write(b"BEGIN;\nDROP SCHEMA public CASCADE;\nCREATE SCHEMA public;\n")
            shutil.copyfileobj(script.stdout, load.stdin)
            script.wait()
            load.stdin.write(b"COMMIT;\n" if script.returncode == 0 else b"ROLLBACK;\n")
        except BrokenPipeError:
            # psql stopped at an error (ON_ERROR_STOP), its transaction rolled back.
            psql_stopped = True
        finally:
            load.stdin.close()  # unbuffered: nothing left to flush into a closed pipe
            script.stdout.close()
            script.wait()
            load.wait()
        # A pg_restore that failed first explains it; psql's complaint would be a side effect.
        if not psql_stopped and script.returncode != 0:
            complaint = _complaint(script_errors, "pg_restore", script.returncode)
        elif load.returncode != 0:
            complaint = _complaint(load_errors, "psql", load.returncode)
        else:
            return
    raise BackupError(f"The restore failed and was rolled back; the database is unchanged: "
                      f"{complaint}")


def _sqlite_restore(source: Path, target: Path) -> None:
    if not target.parent.is_dir():
        # sqlite3 would only say "unable to open database file".
        raise BackupError(f"The folder of the database file {target} does not exist: check "
                          "the database URL (CONFMGR_DATABASE_URL).")
    try:
        with closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
                     ) as origin, closing(sqlite3.connect(target, timeout=10)) as live:
            # The copy replaces the live file's pages in one write transaction: readers see
            # the old database or the restored one, never a mixture.
            origin.backup(live)
    except sqlite3.Error as error:
        raise BackupError(f"The restore failed ({error}); the database is unchanged.") from None


def current_revision(database: Database) -> str:
    """The schema revision the database is at now."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database.url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    finally:
        engine.dispose()


def known_revisions() -> set[str]:
    return {script.revision for script in _scripts().walk_revisions()}


def head_revisions() -> set[str]:
    return set(_scripts().get_heads())


def _scripts():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config)


def _run(command: list[str], env: dict[str, str], program: str, refused: str = "") -> str:
    """Run a PostgreSQL client program; its standard output, or BackupError with its
    complaint."""
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise _not_installed(program) from None
    if done.returncode != 0:
        complaint = done.stderr.strip() or f"{program} exited with status {done.returncode}"
        raise BackupError(f"{refused or program + ' failed'}: {complaint}")
    return done.stdout


def _start(command: list[str], env: dict[str, str], **streams) -> subprocess.Popen:
    try:
        return subprocess.Popen(command, env=env, **streams)
    except FileNotFoundError:
        raise _not_installed(command[0]) from None


def _not_installed(program: str) -> BackupError:
    return BackupError(f"{program} is not installed (it comes with the PostgreSQL client "
                       "programs, of the server's major version or newer).")


def _complaint(errors, program: str, returncode: int) -> str:
    """What a program wrote to its error file, or its exit status if nothing."""
    errors.seek(0)
    return (errors.read().decode(errors="replace").strip()
            or f"{program} exited with status {returncode}")
