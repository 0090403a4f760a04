"""Backing up and restoring the database from the shell, on SQLite and on PostgreSQL."""
from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select

from confmgr.audit.models import AuditEntry
from confmgr.backup import head_revisions
from confmgr.db import db
from confmgr.points.models import BroadcastPoint
from confmgr.roster.models import Participant

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
