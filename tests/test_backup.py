"""Backing up and restoring the database from the shell, on SQLite and on PostgreSQL."""
from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, func, insert, inspect, select, text

from confmgr.accounts.services import begin_sign_in, find_user
from confmgr.api.tokens import issue
from confmgr.audit.models import AuditEntry
from confmgr.backup import head_revisions
from confmgr.db import db
from confmgr.enums import TokenScope
from confmgr.points.models import BroadcastPoint
from confmgr.roster.models import Participant
from tests.conftest import make_app

#: Rows that the test changes, and one that it does not.
COUNTED = (Participant, AuditEntry, BroadcastPoint)


def counts(app) -> dict[str, int]:
    with app.app_context():
        found = {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
                 for model in COUNTED}
        db.session.remove()
        return found


def delegate(app, person_id: int) -> tuple | None:
    with app.app_context():
        found = db.session.execute(
            select(Participant.full_name, Participant.position, Participant.phone,
                   Participant.point_id).where(Participant.id == person_id)).first()
        db.session.remove()
        return tuple(found) if found else None


def test_backup_then_restore_brings_back_exactly_the_backed_up_rows(app, demo, runner, tmp_path):
    with app.app_context():
        kept_id = db.session.scalar(select(func.min(Participant.id)))
        conference_id, point_id = db.session.execute(
            select(Participant.conference_id, Participant.point_id)
            .where(Participant.id == kept_id)).one()
        sqlite = db.engine.dialect.name == "sqlite"
        url = db.engine.url
        db.session.remove()
    kept = delegate(app, kept_id)
    before = counts(app)

    # A write under way while the backup runs: it neither blocks the copy nor gets into it.
    writer = create_engine(url)
    with writer.connect() as connection:
        transaction = connection.begin()
        connection.execute(insert(AuditEntry.__table__).values(action="test.in_flight"))
        result = runner.invoke(args=["backup"])
        transaction.commit()
    writer.dispose()
    assert result.exit_code == 0, result.output
    [written] = (Path(app.instance_path) / "backups").iterdir()
    assert re.fullmatch(r"confmgr-\d{8}-\d{6}\." + ("sqlite3" if sqlite else "dump"),
                        written.name)
    assert result.output == (f"Backed up {_shown(url)} to {written} "
                             f"({written.stat().st_size:,} bytes).\n")
    assert runner.invoke(args=["backup", str(written)]).output == (
        f"Error: {written} already exists; give another path.\n")

    # Change the data: one delegate gone, another added.
    with app.app_context():
        db.session.delete(db.session.get(Participant, kept_id))
        db.session.add(Participant(conference_id=conference_id, point_id=point_id,
                                   full_name="Người Mới"))
        db.session.commit()
        db.session.remove()
    changed = counts(app)
    assert changed == {**before, "audit_log": before["audit_log"] + 1}
    assert delegate(app, kept_id) is None

    [head] = head_revisions()
    described = f"{written}: a {'sqlite' if sqlite else 'postgresql'} backup at schema revision {head}.\n"
    # Without --yes it asks, and "no" changes nothing.
    result = runner.invoke(args=["restore", str(written)], input="n\n")
    assert result.exit_code == 1
    assert result.output == (f"{described}Replace everything in {_shown(url)} with it? "
                             "[y/N]: n\nAborted!\n")
    assert counts(app) == changed

    result = runner.invoke(args=["restore", str(written), "--yes"])
    assert result.exit_code == 0, result.output
    assert result.output == (f"{described}Restored. Schema revision {head}: the latest this "
                             "version knows.\n")
    assert counts(app) == before
    assert delegate(app, kept_id) == kept
    with app.app_context():
        assert db.session.scalar(select(Participant.id).where(
            Participant.full_name == "Người Mới")) is None
        assert db.session.scalar(select(AuditEntry.id).where(
            AuditEntry.action == "test.in_flight")) is None
        db.session.remove()


def _shown(url) -> str:
    if url.get_backend_name() == "sqlite":
        return url.database
    return url.set(drivername="postgresql").render_as_string(hide_password=True)


def test_a_file_that_is_not_a_backup_is_refused_untouched(app, demo, runner, tmp_path):
    with app.app_context():
        dialect = db.engine.dialect.name
        db.session.remove()
    before = counts(app)
    garbage = tmp_path / "notes.sqlite3"
    garbage.write_text("danh sách đại biểu\n")
    foreign = tmp_path / "foreign.sqlite3"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE t (x)")
    connection.close()
    # A revision this version knows, and nothing else: restored, no page would open.
    revision_alone = tmp_path / "revision-alone.sqlite3"
    with sqlite3.connect(revision_alone) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
        connection.execute("INSERT INTO alembic_version VALUES ('48f2147a5a9a')")
    connection.close()
    backup = tmp_path / "good"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    cut = tmp_path / "cut"
    cut.write_bytes(backup.read_bytes()[:3000])
    missing = tmp_path / "missing.dump"

    refusals = {
        garbage: f"{garbage} is neither a SQLite database nor a pg_dump custom-format file: "
                 "it is not a confmgr backup.",
        missing: f"{missing} does not exist or is not a file.",
    }
    if dialect == "sqlite":
        refusals[foreign] = (f"{foreign} has no schema revision (alembic_version): it is not "
                             "a confmgr database.")
        refusals[revision_alone] = (
            f"{revision_alone} has no table agenda_sessions, broadcast_points, conferences, "
            "users: it is not a confmgr database.")
        refusals[cut] = f"{cut} cannot be read as a SQLite database: database disk image is malformed"
    else:
        refusals[foreign] = (f"{foreign} is a SQLite database, but the configured database is "
                             "postgresql: restore it where it came from.")
        refusals[cut] = (f"{cut} is not a readable pg_dump custom-format file: pg_restore: "
                         "error: could not read from input file: end of file")
    for path, message in refusals.items():
        result = runner.invoke(args=["restore", str(path), "--yes"])
        assert (result.exit_code, result.output) == (1, f"Error: {message}\n"), path
    assert counts(app) == before


#: A revision before the API tokens, check-in receipts and sign-ins, whose tables refer to
#: the users and points of the older schema.
OLD_REVISION = "fb26d62c3f7b"


def table_rows(app) -> dict[str, int]:
    """Every table in the database with its number of rows, at whatever schema revision."""
    with app.app_context():
        with db.engine.connect() as connection:
            found = {name: connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
                     for name in inspect(connection).get_table_names()}
        db.engine.dispose()
    return found


def test_a_backup_from_an_older_revision_restores_exactly_and_upgrades_again(
        app, demo, runner, tmp_path):
    with app.app_context():
        dialect = db.engine.dialect.name
        kept_id = db.session.scalar(select(func.min(Participant.id)))
        conference_id, point_id = db.session.execute(
            select(Participant.conference_id, Participant.point_id)
            .where(Participant.id == kept_id)).one()
        db.session.remove()
        downgrade(revision=OLD_REVISION)
        db.engine.dispose()
    old = table_rows(app)
    assert {"api_tokens", "checkin_receipts", "sign_ins"} & set(old) == set()
    written = tmp_path / "old-backup"
    assert runner.invoke(args=["backup", str(written)]).exit_code == 0

    # At the latest revision, rows of the newer tables refer to the older tables' rows.
    with app.app_context():
        upgrade()
        admin = find_user("admin@example.org")
        issue(admin, "Sở Nội vụ", TokenScope.READ)
        begin_sign_in(admin)
        db.session.delete(db.session.get(Participant, kept_id))
        db.session.add(Participant(conference_id=conference_id, point_id=point_id,
                                   full_name="Người Mới"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()

    [head] = head_revisions()
    result = runner.invoke(args=["restore", str(written), "--yes"])
    assert (result.exit_code, result.output) == (0, (
        f"{written}: a {dialect} backup at schema revision {OLD_REVISION}.\n"
        f"Restored. Schema revision {OLD_REVISION}, older than this version's {head}: "
        "run `flask --app confmgr db upgrade`.\n"))
    # Exactly the backup: the newer tables are gone with their rows.
    assert table_rows(app) == old

    with app.app_context():
        upgrade()
        db.engine.dispose()
    upgraded = table_rows(app)
    assert {name: rows for name, rows in upgraded.items() if name in old} == old
    # The arrival counters are built from the backup's own attendance rows.
    assert {name: rows for name, rows in upgraded.items() if name not in old} == {
        "api_tokens": 0, "checkin_receipts": 0, "sign_ins": 0, "session_arrival_counts": 24}
    with app.app_context():
        assert db.session.get(Participant, kept_id) is not None
        assert db.session.scalar(select(Participant.id).where(
            Participant.full_name == "Người Mới")) is None
        db.session.remove()


def test_a_restore_that_fails_part_way_leaves_the_database_unchanged(
        app, demo, runner, tmp_path, monkeypatch):
    from confmgr import backup

    with app.app_context():
        dialect = db.engine.dialect.name
        url = db.engine.url
        db.session.remove()
    written = tmp_path / "full"
    assert runner.invoke(args=["backup", str(written)]).exit_code == 0
    # A change after the backup, which a failed restore must keep.
    with app.app_context():
        db.session.add(AuditEntry(action="test.after_backup"))
        db.session.commit()
        db.session.remove()
    before = table_rows(app)
    [head] = head_revisions()
    described = f"{written}: a {dialect} backup at schema revision {head}.\n"
    rolled_back = "Error: The restore failed and was rolled back; the database is unchanged: "

    # Cut after the part that the check reads: on PostgreSQL only the restore finds out.
    cut = tmp_path / "cut"
    cut.write_bytes(written.read_bytes()[:written.stat().st_size * 8 // 10])
    result = runner.invoke(args=["restore", str(cut), "--yes"])
    if dialect == "sqlite":
        assert (result.exit_code, result.output) == (
            1, f"Error: {cut} cannot be read as a SQLite database: database disk image is "
               "malformed\n")
    else:
        assert (result.exit_code, result.output) == (1, (
            f"{cut}: a postgresql backup at schema revision {head}.\n{rolled_back}"
            "pg_restore: error: could not read from input file: end of file\n"))
    assert table_rows(app) == before

    if dialect == "postgresql":
        # A running application's transaction holds a table: the restore gives up.
        monkeypatch.setattr(backup, "PG_LOCK_TIMEOUT", "200ms")
        holder = create_engine(url)
        with holder.connect() as connection, connection.begin():
            connection.execute(select(func.count()).select_from(Participant))
            result = runner.invoke(args=["restore", str(written), "--yes"])
        holder.dispose()
        assert (result.exit_code, result.output) == (1, (
            f"{described}{rolled_back}ERROR:  canceling statement due to lock timeout\n"))
        assert table_rows(app) == before


def test_a_backup_path_whose_folder_cannot_be_made_is_refused(app, runner, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("danh sách\n")
    refusals = {
        notes / "confmgr.sqlite3": f"The folder {notes} cannot be made: File exists.",
        Path("/proc/nope/confmgr.sqlite3"):
            "The folder /proc/nope cannot be made: No such file or directory.",
    }
    for path, message in refusals.items():
        result = runner.invoke(args=["backup", str(path)])
        assert (result.exit_code, result.output) == (1, f"Error: {message}\n"), path


def test_a_backup_says_the_uploaded_files_are_not_in_it(app, runner, tmp_path):
    uploads = Path(app.instance_path) / "uploads"
    (uploads / "materials").mkdir(parents=True, exist_ok=True)
    result = runner.invoke(args=["backup", str(tmp_path / "empty-uploads")])
    assert result.exit_code == 0 and "Uploaded files" not in result.output
    (uploads / "materials" / "bai-giang.pdf").write_bytes(b"%PDF-1.4")
    result = runner.invoke(args=["backup", str(tmp_path / "with-uploads")])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1] == (
        f"Uploaded files are not in it: copy {uploads} as well.")


def test_restoring_into_a_missing_folder_says_so(tmp_path):
    [head] = head_revisions()
    written = tmp_path / "backup.sqlite3"
    with sqlite3.connect(written) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
        connection.execute("INSERT INTO alembic_version VALUES (?)", (head,))
        for table in ("users", "conferences", "agenda_sessions", "broadcast_points"):
            connection.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)")
    connection.close()
    missing = tmp_path / "missing" / "confmgr.sqlite3"
    runner = make_app(f"sqlite:///{missing}", tmp_path / "instance").test_cli_runner()
    result = runner.invoke(args=["restore", str(written), "--yes"])
    assert (result.exit_code, result.output) == (1, (
        f"{written}: a sqlite backup at schema revision {head}.\n"
        f"Error: The folder of the database file {missing} does not exist: check the "
        "database URL (CONFMGR_DATABASE_URL).\n"))
    assert not missing.parent.exists()


def test_a_relative_sqlite_path_is_backed_up_and_restored_where_the_app_opens_it(
        tmp_path, monkeypatch):
    """The application opens "sqlite:///confmgr.sqlite3" inside instance/; the commands
    copy and replace that file, never one of the same name in the current directory."""
    from confmgr.accounts.models import User
    from confmgr.accounts.services import create_user
    from confmgr.enums import Role

    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    empty = make_app(f"sqlite:///{tmp_path / 'empty.sqlite3'}", tmp_path / "other")
    with empty.app_context():
        upgrade()
        db.engine.dispose()
    app = make_app("sqlite:///confmgr.sqlite3", tmp_path / "instance")
    with app.app_context():
        upgrade()
        create_user("a@example.org", "mot-mat-khau-dai", "A", Role.ADMIN)
        db.session.commit()
        assert Path(db.engine.url.database) == tmp_path / "instance" / "confmgr.sqlite3"
        db.session.remove()
        db.engine.dispose()
    runner = app.test_cli_runner()
    saved = runner.invoke(args=["backup", str(tmp_path / "saved.sqlite3")])
    assert saved.exit_code == 0, saved.output
    with sqlite3.connect(tmp_path / "saved.sqlite3") as copy:
        assert copy.execute("SELECT email FROM users").fetchall() == [("a@example.org",)]
    restored = runner.invoke(args=["restore", str(tmp_path / "empty.sqlite3"), "--yes"])
    assert restored.exit_code == 0, restored.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
        db.session.remove()
        db.engine.dispose()
    assert list(work.iterdir()) == []
