"""Configuration: defaults here, then ``instance/config.py``, then ``CONFMGR_*`` variables."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask


class Defaults:
    #: Any SQLAlchemy URL; empty means SQLite at ``instance/confmgr.sqlite3``.
    DATABASE_URL = ""
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
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
    #: X-RateLimit-* and Retry-After on the API's answers.
    RATELIMIT_HEADERS_ENABLED = True
    #: Sign-in attempts (POST /login) from one client address.
    LOGIN_LIMIT_PER_ADDRESS = "10 per minute"
    #: Failed sign-ins for one account before it is locked for the rest of the window.
    LOGIN_FAILURES_PER_ACCOUNT = "5 per 15 minutes"
    #: JSON API requests per token (per address for requests without one) ...
    API_LIMIT_PER_CALLER = "600 per minute"
    #: ... and from one address whatever the tokens: a hall of devices behind one NAT.
    API_LIMIT_PER_ADDRESS = "3000 per minute"
    #: How many proxies in front of the app to trust for X-Forwarded-For/-Proto (0: none).
    #: Behind nginx set CONFMGR_PROXY_FIX=1, or every client has the proxy's address.
    PROXY_FIX = 0


def load_config(app: Flask, overrides: dict | None = None) -> None:
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    # CONFMGR_DATABASE_URL -> DATABASE_URL, CONFMGR_SECRET_KEY -> SECRET_KEY, ...
    app.config.from_prefixed_env("CONFMGR")
    if overrides:
        app.config.update(overrides)
    # Tests that do not test the limits must not trip over them; those that do turn them on.
    app.config.setdefault("RATELIMIT_ENABLED", not app.config.get("TESTING", False))
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config["SESSION_COOKIE_SECURE"])

    url = app.config["DATABASE_URL"] or f"sqlite:///{Path(app.instance_path) / 'confmgr.sqlite3'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(url)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path))


def normalise_database_url(url: str) -> str:
    """Let people write the usual ``postgresql://`` and still get psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _instance_secret_key(instance: Path) -> str:
    """Read the installation's secret key, creating it on first start."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker started at the same moment
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key
