"""Shell commands: ``flask --app confmgr <command>``.

The command line speaks English, like click's own words around it ("Error:", "Aborted!",
the prompts): every command runs with the English catalogue, so the services' messages
come out in English too. Bad input and an unreachable database end in one "Error: ..."
line and exit status 1, never a traceback.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from confmgr import config
from confmgr.accounts.services import AccountError, create_user
from confmgr.db import db
from confmgr.enums import Role


def init_app(app: Flask) -> None:
    app.cli.add_command(create_user_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(generate_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(check_counts_command)


def in_english(command: Callable) -> Callable:
    """Run a command (inside its application context) with the English catalogue."""
    @functools.wraps(command)
    def run(*args, **kwargs):
        with force_locale("en"):
            return command(*args, **kwargs)
    return run


@contextmanager
def database_errors(app: Flask) -> Iterator[None]:
    """A database that cannot be opened or reached: one line saying which and why."""
    try:
        yield
    except OperationalError as error:
        url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        shown = url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)
        reason = str(error.orig or error).strip().splitlines()[0]
        raise click.ClickException(f"Cannot use the database {shown}: {reason}") from error


def checked_database_url(url: str) -> str:
    """A --db URL as the application takes it, if it names a database confmgr runs on;
    else the configuration's own one-line refusal, naming --db."""
    config.checked_database_url(url, "--db")
    return url


def _undecodable(value: str) -> bool:
    """Whether the command line's bytes were not UTF-8 (Python keeps them as surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


@click.command("create-user")
@click.option("--email", prompt=True)
@click.option("--name", "display_name", prompt="Display name")
@click.option(
    "--role", type=click.Choice([r.value for r in Role]), default=Role.ADMIN.value,
    show_default=True,
)
@click.password_option()
@with_appcontext
@in_english
def create_user_command(email: str, display_name: str, role: str, password: str) -> None:
    """Create a user (the first admin, for instance)."""
    for option, value in (("--email", email), ("--name", display_name),
                          ("--password", password)):
        if _undecodable(value):
            raise click.ClickException(f"{option} holds bytes that are not UTF-8: check the "
                                       "terminal's encoding.")
    with database_errors(current_app):
        try:
            user = create_user(email, password, display_name, Role(role))
        except AccountError as error:
            raise click.ClickException(str(error)) from error
        db.session.commit()
    click.echo(f"Created {user.role.value} {user.email}")


@click.command("demo")
@with_appcontext
@in_english
def demo_command() -> None:
    """Bring the schema up to date and load the demo conference (safe to run again)."""
    from flask_migrate import upgrade

    from confmgr.demo.loader import DEMO_ACCOUNTS, load_demo

    with database_errors(current_app):
        upgrade()
        created = load_demo()
    click.echo("Loaded the demo conference." if created else "The demo conference is already loaded.")
    for account in DEMO_ACCOUNTS:
        click.echo(f"  {account.role.value:<12} {account.email}  password: {account.password}")


@click.command("generate")
@click.option("--preset", type=click.Choice(["small", "province", "national", "record"]),
              default="small", show_default=True)
@click.option("--db", "database_url", default=None,
              help="Database URL; by default CONFMGR_DATABASE_URL or the instance's SQLite.")
@with_appcontext
@in_english
def generate_command(preset: str, database_url: str | None) -> None:
    """Generate a realistic conference (points, delegates, attendance) at a preset size."""
    import time

    from flask_migrate import upgrade

    from confmgr import create_app
    from confmgr.demo.generator import PRESETS, counts, generate

    app = (create_app({"DATABASE_URL": checked_database_url(database_url)}) if database_url
           else current_app)
    with app.app_context(), database_errors(app):
        upgrade()
        started = time.perf_counter()
        conference = generate(PRESETS[preset], report=click.echo)
        figures = counts(conference)
        click.echo(f"{conference.slug}: {figures['points']:,} points, "
                   f"{figures['delegates']:,} delegates, {figures['sessions']} sessions, "
                   f"{figures['attendance']:,} attendance rows "
                   f"({time.perf_counter() - started:.1f} s)")


@click.command("backup")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
@in_english
def backup_command(path: Path | None) -> None:
    """Back up the database while the application runs (SQLite: a consistent copy;
    PostgreSQL: pg_dump). PATH defaults to instance/backups/confmgr-<date>-<time>.*"""
    from confmgr import backup

    try:
        # The engine's address: a relative SQLite path is read inside instance/.
        database = backup.database_of(db.engine.url)
        written = backup.backup(database, path or backup.default_path(current_app.instance_path,
                                                                      database))
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backed up {database.shown} to {click.format_filename(written)} "
               f"({written.stat().st_size:,} bytes).")
    uploads = Path(current_app.instance_path) / "uploads"
    if uploads.is_dir() and any(path.is_file() for path in uploads.rglob("*")):
        # The files live beside the database, not in it.
        click.echo(f"Uploaded files are not in it: copy {uploads} as well.")


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the database without asking.")
@with_appcontext
@in_english
def restore_command(path: Path, yes: bool) -> None:
    """Replace the database's contents with a backup made by the backup command.
    Stop the application first."""
    from confmgr import backup

    try:
        # The engine's address: a relative SQLite path is read inside instance/.
        database = backup.database_of(db.engine.url)
        checked = backup.check_backup(database, path)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{path}: a {checked.kind} backup at schema revision {checked.revision}.")
    if not yes:
        click.confirm(f"Replace everything in {database.shown} with it?", abort=True)
    # Nothing of this process may hold the database while it is replaced.
    db.session.remove()
    db.engine.dispose()
    try:
        revision = backup.restore(database, checked)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    heads = backup.head_revisions()
    if revision in heads:
        click.echo(f"Restored. Schema revision {revision}: the latest this version knows.")
    else:
        click.echo(f"Restored. Schema revision {revision}, older than this version's "
                   f"{', '.join(sorted(heads))}: run `flask --app confmgr db upgrade`.")


@click.command("check-counts")
@click.option("--conference", "slug", default=None, help="Only this conference (its slug).")
@click.option("--fix", is_flag=True,
              help="Recount a conference's counters from its rows where any differ. Run it "
                   "while nobody checks in: a check-in during the recount may be lost "
                   "from the counts.")
@with_appcontext
@in_english
def check_counts_command(slug: str | None, fix: bool) -> None:
    """Check the counters every report reads against the rows they count; exit status 1
    while any differ. Reads every attendance row: minutes at national size."""
    from sqlalchemy import select

    from confmgr.attendance.checkin import rebuild_counts
    from confmgr.attendance.consistency import LISTED, count_differences
    from confmgr.conferences.models import Conference
    from confmgr.points.importing import counts_follow_provinces
    from confmgr.points.services import refresh_registered_counts

    with database_errors(current_app):
        query = select(Conference).order_by(Conference.id)
        if slug is not None:
            query = query.where(Conference.slug == slug)
        conferences = db.session.scalars(query).all()
        if slug is not None and not conferences:
            raise click.ClickException(f"No conference has the slug {slug!r}.")
        if not conferences:
            click.echo("There is no conference to check.")
        differing = 0
        for conference in conferences:
            found = count_differences(conference.id)
            if not found:
                click.echo(f"{conference.slug}: every counter agrees with its rows.")
                continue
            _list_differences(f"{conference.slug}:", "found", found, LISTED)
            if fix:
                refresh_registered_counts(conference.id)
                rebuild_counts(conference.id)
                counts_follow_provinces(conference)
                db.session.commit()
                found = count_differences(conference.id)
                if found:
                    _list_differences(f"{conference.slug}: recounted from the rows;",
                                      "remain", found, LISTED)
                else:
                    click.echo(f"{conference.slug}: recounted from the rows; every counter "
                               "agrees now.")
            differing += bool(found)
    if differing:
        raise SystemExit(1)


def _list_differences(lead: str, verb: str, found: list, listed: int) -> None:
    # Past ``listed``, a query of the check may have stopped listing.
    many = f"{len(found)} or more" if len(found) >= listed else f"{len(found)}"
    click.echo(f"{lead} {many} differences {verb}:")
    for difference in found:
        click.echo(f"  {difference}")
