"""Configuration: defaults here, then ``instance/config.py``, then ``CONFMGR_*`` variables."""
from __future__ import annotations

import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

#: The databases confmgr runs on, by SQLAlchemy backend name.
DATABASE_BACKENDS = ("sqlite", "postgresql")

DATABASE_URL_EXAMPLES = ("postgresql://user:password@host:5432/name or "
                         "sqlite:////path/to/file.sqlite3")


class ConfigurationError(click.ClickException):
    """A setting the application cannot start with.

    A ClickException, so ``flask run`` and the commands print it as one "Error: ..." line
    and exit with status 1; under a WSGI server it ends the traceback with that line.
    """


class Defaults:
    #: A PostgreSQL or SQLite URL (SQLAlchemy's form; postgresql:// uses psycopg 3); empty
    #: means SQLite at ``instance/confmgr.sqlite3``.
    DATABASE_URL = ""
    #: Pooled connections are checked before use only after a second idle (confmgr/db.py).
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    #: Languages offered by the switch, the first being the default.
    LANGUAGES = ("vi", "en")
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    #: True when the site is served over HTTPS (``CONFMGR_SESSION_COOKIE_SECURE=true``); the
    #: remember-me cookie follows it unless ``REMEMBER_COOKIE_SECURE`` is set on its own.
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
    #: werkzeug's hashing method; the tests choose a fast one, production keeps scrypt.
    PASSWORD_HASH_METHOD = "scrypt"
    #: For passwords the system generates (12 random characters, about 59 bits): their
    #: strength is in the randomness, so a light hash lets thousands be made in seconds.
    GENERATED_PASSWORD_HASH_METHOD = "pbkdf2:sha256:2000"
    #: Largest request body accepted (uploads included), in bytes.
    MAX_CONTENT_LENGTH = 32 * 1024 * 1024
    #: Largest topic material accepted, in bytes.
    MATERIAL_MAX_BYTES = 20 * 1024 * 1024

    # Abuse limits (confmgr/security.py). Counters live in RATELIMIT_STORAGE_URI: memory://
    # is per process, so with several workers use Redis ("redis://127.0.0.1:6379/0").
    # RATELIMIT_ENABLED defaults to on, except under TESTING (see load_config).
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_KEY_PREFIX = "confmgr"
    #: While the store cannot be reached, count in each process's memory (Flask-Limiter for
    #: the API, confmgr/security.py for sign-ins) and log a warning. Neither fail-open nor
    #: fail-closed: closed, a Redis blip stops every sign-in and every hall's check-ins;
    #: open, it lifts the brute-force limits. In memory the limits still hold, only per
    #: process (with N workers an address gets up to N times its attempts) and without the
    #: locks counted before the outage. False fails closed: 503 until the store is back.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    #: Passed to the Redis client: a Redis that stops answering (rather than refusing
    #: connections) would otherwise hold every request; after a second it counts as down.
    RATELIMIT_STORAGE_OPTIONS = {"socket_timeout": 1, "socket_connect_timeout": 1}
    #: X-RateLimit-* and Retry-After on the API's answers.
    RATELIMIT_HEADERS_ENABLED = True
    #: Sign-in attempts (POST /login) from one client address.
    LOGIN_LIMIT_PER_ADDRESS = "10 per minute"
    #: Failed sign-ins for one account before it is locked for the rest of the window; from
    #: a browser holding the account's device cookie, for that cookie instead.
    LOGIN_FAILURES_PER_ACCOUNT = "5 per 15 minutes"
    #: The cookie a browser gets for a login once it has signed in to it there: with it,
    #: other people's failures do not lock the owner out of that browser.
    DEVICE_COOKIE_NAME = "login_device"
    #: How long that trust lasts after the browser's last sign-in to the login (a timedelta,
    #: or seconds: CONFMGR_DEVICE_COOKIE_DURATION=31536000).
    DEVICE_COOKIE_DURATION = timedelta(days=365)
    #: JSON API requests per token (per address for requests without one) ...
    API_LIMIT_PER_CALLER = "600 per minute"
    #: ... and from one address whatever the tokens: a hall of devices behind one NAT.
    API_LIMIT_PER_ADDRESS = "3000 per minute"
    #: How long after a session's check-in closes a device that was offline may still send
    #: what it recorded, in hours; later, attendance goes in as a paper list.
    API_LATE_CHECKIN_HOURS = 24
    #: How long the organiser dashboard's live figures, once made, are served to every
    #: dashboard that refreshes (each does every 15 s), in seconds; 0 makes them afresh
    #: for each. See confmgr/attendance/live.py.
    ATTENDANCE_LIVE_SECONDS = 10
    #: How many proxies in front of the app to trust for X-Forwarded-For/-Proto (0: none).
    #: Behind nginx set CONFMGR_PROXY_FIX=1, or every client has the proxy's address.
    PROXY_FIX = 0


def load_config(app: Flask, overrides: dict | None = None) -> None:
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    # CONFMGR_DATABASE_URL -> DATABASE_URL, CONFMGR_SECRET_KEY -> SECRET_KEY, ...
    app.config.from_prefixed_env("CONFMGR")
    _read_environment_strictly(app)
    if overrides:
        app.config.update(overrides)
    # Tests that do not test the limits must not trip over them; those that do turn them on.
    app.config.setdefault("RATELIMIT_ENABLED", not app.config.get("TESTING", False))
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config["SESSION_COOKIE_SECURE"])

    url = app.config["DATABASE_URL"] or f"sqlite:///{Path(app.instance_path) / 'confmgr.sqlite3'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = checked_database_url(
        str(url), _database_url_setting(app, overrides))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path))


def normalise_database_url(url: str) -> str:
    """Let people write the usual ``postgresql://`` and still get psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _database_url_setting(app: Flask, overrides: dict | None) -> str:
    """Where the database URL came from, as the person who set it knows it."""
    if overrides and "DATABASE_URL" in overrides:
        return "DATABASE_URL"
    if "CONFMGR_DATABASE_URL" in os.environ:
        return "CONFMGR_DATABASE_URL"
    return f"DATABASE_URL in {Path(app.instance_path) / 'config.py'}"


def checked_database_url(written: str, setting: str) -> str:
    """The URL SQLAlchemy is given for ``written``, if it can open an engine on it for a
    database confmgr runs on.

    Otherwise a ConfigurationError naming ``setting`` and what is wrong, rather than
    SQLAlchemy's traceback from deep inside the extension's start-up. The URL is shown as
    written, without its password.
    """
    url = normalise_database_url(written)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigurationError(
            f"{setting} is not a database URL: {_without_password(written)} "
            f"(write it as {DATABASE_URL_EXAMPLES}).") from None
    except ValueError:  # the only number in a URL
        raise ConfigurationError(
            f"{setting} has a port that is not a number: {_without_password(written)}."
        ) from None
    shown = _shown(make_url(written))
    backend = parsed.get_backend_name()
    if backend not in DATABASE_BACKENDS:
        raise ConfigurationError(
            f"{setting} names the database {backend!r} ({shown}); confmgr runs on "
            f"PostgreSQL or SQLite: {DATABASE_URL_EXAMPLES}.")
    try:
        parsed.get_dialect().import_dbapi()
    except NoSuchModuleError:
        raise ConfigurationError(
            f"{setting} names the driver {parsed.get_driver_name()!r}, which SQLAlchemy "
            f"does not know for {backend} ({shown}).") from None
    except ImportError as error:
        extra = " (pip install -e '.[postgres]')" if error.name == "psycopg" else ""
        raise ConfigurationError(
            f"{setting} needs the Python package {error.name!r}, which is not "
            f"installed{extra}: {shown}.") from None
    return url


def _shown(url: URL) -> str:
    if "password" in url.query:  # libpq also takes the password as a parameter
        url = url.update_query_dict({"password": "***"})
    return url.render_as_string(hide_password=True)


def _without_password(text: str) -> str:
    """A string that is not a URL, without whatever may be credentials: all before its
    last @ but the scheme."""
    credentials, at, place = text.rpartition("@")
    if not at:
        return text
    scheme, separator, _rest = credentials.partition("//")
    return f"{scheme}{separator}***@{place}" if separator else f"***@{place}"


#: Environment values read as they are: JSON would make a key of digits a number.
_TEXT_SETTINGS = ("SECRET_KEY",)
_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}
#: Yes/no settings whose default is set later (it depends on others): read strictly too.
_LATER_YES_NO = ("RATELIMIT_ENABLED", "REMEMBER_COOKIE_SECURE")


def _read_environment_strictly(app: Flask) -> None:
    """Settings from CONFMGR_* as their defaults' types expect: text kept as written, and
    a yes/no setting that reads as neither refused (``False`` written the Python way was
    the truthy text "False": secure cookies on, and nobody could sign in over HTTP)."""
    for name in _TEXT_SETTINGS:
        if f"CONFMGR_{name}" in os.environ:
            app.config[name] = os.environ[f"CONFMGR_{name}"]
    for variable, written in os.environ.items():
        name = variable.removeprefix("CONFMGR_")
        if name == variable or not (name in _LATER_YES_NO or isinstance(
                app.default_config.get(name, getattr(Defaults, name, None)), bool)):
            continue
        said = written.strip().lower()
        if said in _TRUE | _FALSE:
            app.config[name] = said in _TRUE
        else:
            raise ConfigurationError(f"{variable}={written!r} is neither true nor false.")


def _instance_secret_key(instance: Path) -> str:
    """Read the installation's secret key, creating it on first start.

    Written whole to a file of its own, then linked into place: a worker starting at the
    same moment finds either no key or the whole key, never an empty file.
    """
    path = instance / "secret_key"
    if path.exists() and path.read_text().strip():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    fd, written = tempfile.mkstemp(dir=instance, prefix=".secret_key-")
    with os.fdopen(fd, "w") as handle:  # mkstemp makes it readable by its owner only
        handle.write(secrets.token_hex(32) + "\n")
    try:
        if path.exists():
            # Empty: left by a start that failed half way. Workers starting together
            # here may each replace it; each then reads back the last one's key.
            os.replace(written, path)
        else:
            os.link(written, path)
    except FileExistsError:
        pass  # another worker's key came first, and is kept
    finally:
        Path(written).unlink(missing_ok=True)
    return path.read_text().strip()
