"""Configuration order (code, instance/config.py, environment) and the SQLite defaults."""
from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest
from sqlalchemy import text

from confmgr import TEMPLATES_DIR, create_app
from confmgr.config import ConfigurationError, normalise_database_url
from confmgr.db import db

EXAMPLES = "postgresql://user:password@host:5432/name or sqlite:////path/to/file.sqlite3"


def test_defaults_put_sqlite_and_a_new_secret_key_in_the_instance_folder(tmp_path, monkeypatch):
    for name in ("CONFMGR_DATABASE_URL", "CONFMGR_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    instance = tmp_path / "instance"
    app = create_app(instance_path=str(instance))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'confmgr.sqlite3'}"
    key_file = instance / "secret_key"
    assert app.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(app.config["SECRET_KEY"]) == 64
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # The key survives restarts: sessions stay valid.
    assert create_app(instance_path=str(instance)).config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_instance_config_then_environment_override_the_defaults(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(
        'DATABASE_URL = "sqlite:////srv/from-instance.sqlite3"\n'
        'SECRET_KEY = "from-instance"\n'
        'MAX_CONTENT_LENGTH = 1024\n'
    )
    monkeypatch.delenv("CONFMGR_DATABASE_URL", raising=False)
    monkeypatch.delenv("CONFMGR_SECRET_KEY", raising=False)
    app = create_app(instance_path=str(instance))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:////srv/from-instance.sqlite3"
    assert app.config["SECRET_KEY"] == "from-instance"
    assert app.config["MAX_CONTENT_LENGTH"] == 1024

    monkeypatch.setenv("CONFMGR_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/prod")
    monkeypatch.setenv("CONFMGR_SECRET_KEY", "from-environment")
    monkeypatch.setenv("CONFMGR_MAX_CONTENT_LENGTH", "2048")
    app = create_app(instance_path=str(instance))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == (
        "postgresql+psycopg://postgres@127.0.0.1:5432/prod"
    )
    assert app.config["SECRET_KEY"] == "from-environment"
    assert app.config["MAX_CONTENT_LENGTH"] == 2048
    assert not (instance / "secret_key").exists()


def test_a_secret_key_file_left_empty_is_made_again(tmp_path, monkeypatch):
    """A start that stopped between making the file and writing the key left it empty:
    every page then failed for want of a key."""
    monkeypatch.delenv("CONFMGR_SECRET_KEY", raising=False)
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "secret_key").write_text("")
    key = create_app(instance_path=str(instance)).config["SECRET_KEY"]
    assert len(key) == 64 and (instance / "secret_key").read_text() == key + "\n"
    assert stat.S_IMODE((instance / "secret_key").stat().st_mode) == 0o600
    assert sorted(path.name for path in instance.iterdir()) == ["secret_key"]


def test_settings_from_the_environment_keep_their_types(tmp_path, monkeypatch):
    """JSON read a key of digits as a number (the first session failed) and Python's
    False as the text "False", which turned secure cookies on."""
    monkeypatch.setenv("CONFMGR_SECRET_KEY", "83920175629301847561029384756102")
    monkeypatch.setenv("CONFMGR_SESSION_COOKIE_SECURE", "False")
    monkeypatch.setenv("CONFMGR_SESSION_COOKIE_HTTPONLY", "yes")
    app = create_app(instance_path=str(tmp_path))
    assert app.config["SECRET_KEY"] == "83920175629301847561029384756102"
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    monkeypatch.setenv("CONFMGR_SESSION_COOKIE_SECURE", "sometimes")
    with pytest.raises(ConfigurationError) as refused:
        create_app(instance_path=str(tmp_path))
    assert refused.value.message == (
        "CONFMGR_SESSION_COOKIE_SECURE='sometimes' is neither true nor false.")


@pytest.mark.parametrize("written", ["off", "no", "False", "0"])
def test_yes_no_settings_whose_default_comes_later_are_read_strictly_too(
        tmp_path, monkeypatch, written):
    """The rate limits and the remember-me cookie's flags get their defaults from other
    settings, so the strict reading missed them: "off" was the truthy text "off" (limits
    on, against docs/deploy.md) and "False" made the remember-me cookie Secure, never sent
    back over plain HTTP."""
    for name in ("RATELIMIT_ENABLED", "REMEMBER_COOKIE_SECURE", "REMEMBER_COOKIE_HTTPONLY"):
        monkeypatch.setenv(f"CONFMGR_{name}", written)
    app = create_app(instance_path=str(tmp_path))
    assert [app.config[name] for name in ("RATELIMIT_ENABLED", "REMEMBER_COOKIE_SECURE",
                                          "REMEMBER_COOKIE_HTTPONLY")] == [False] * 3
    monkeypatch.setenv("CONFMGR_RATELIMIT_ENABLED", "sometimes")
    with pytest.raises(ConfigurationError) as refused:
        create_app(instance_path=str(tmp_path))
    assert refused.value.message == (
        "CONFMGR_RATELIMIT_ENABLED='sometimes' is neither true nor false.")


@pytest.mark.parametrize("name, written, message", [
    ("LOGIN_LIMIT_PER_ADDRESS", "10 a minute",
     "LOGIN_LIMIT_PER_ADDRESS must be a limit such as \"5 per minute\", not '10 a minute'."),
    ("LOGIN_FAILURES_PER_ACCOUNT", "5 per fortnight", "LOGIN_FAILURES_PER_ACCOUNT must be a "
     "limit such as \"5 per minute\", not '5 per fortnight'."),
    ("API_LIMIT_PER_CALLER", "2 per minut",
     "API_LIMIT_PER_CALLER must be a limit such as \"5 per minute\", not '2 per minut'."),
    ("API_LIMIT_PER_ADDRESS", "", "API_LIMIT_PER_ADDRESS must be a limit such as "
     "\"5 per minute\", not ''."),
    ("PROXY_FIX", "yes", "PROXY_FIX must be a whole number of proxies (0: none), not 'yes'."),
    ("PROXY_FIX", "-1", "PROXY_FIX must be a whole number of proxies (0: none), not -1."),
])
def test_a_mistyped_limit_or_proxy_count_stops_the_app_at_start_in_one_line(
        tmp_path, monkeypatch, name, written, message):
    """A sign-in limit limits could not read let the app start, then failed every sign-in
    with a 500; an API limit likewise was quietly dropped, lifting the limit; a proxy
    count that was no number gave a traceback from every command."""
    monkeypatch.setenv(f"CONFMGR_{name}", written)
    with pytest.raises(ConfigurationError) as refused:
        create_app(instance_path=str(tmp_path))
    assert refused.value.message == message


def test_limits_and_proxy_counts_as_written_in_the_docs_start(tmp_path, monkeypatch):
    monkeypatch.setenv("CONFMGR_API_LIMIT_PER_CALLER", "600 per minute; 20 per second")
    monkeypatch.setenv("CONFMGR_LOGIN_LIMIT_PER_ADDRESS", "20/minute")
    monkeypatch.setenv("CONFMGR_PROXY_FIX", "1")
    app = create_app(instance_path=str(tmp_path))
    assert app.config["PROXY_FIX"] == 1
    monkeypatch.setenv("CONFMGR_PROXY_FIX", "")  # left blank in an environment file
    assert create_app(instance_path=str(tmp_path)).wsgi_app.__class__.__name__ != "ProxyFix"


def test_postgres_urls_use_psycopg_3():
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(tmp_path):
    app = create_app({"SECRET_KEY": "x"}, instance_path=str(tmp_path))
    with app.app_context():
        with db.engine.connect() as connection:
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        db.engine.dispose()


def test_templates_are_found_in_the_top_level_folder(tmp_path):
    app = create_app({"SECRET_KEY": "x"}, instance_path=str(tmp_path))
    assert app.jinja_loader.searchpath == [str(TEMPLATES_DIR)]
    assert (TEMPLATES_DIR / "base.html").is_file()


@pytest.mark.parametrize(("url", "message"), [
    ("postgres//x", f"CONFMGR_DATABASE_URL is not a database URL: postgres//x (write it as "
                    f"{EXAMPLES})."),
    ("nonsense", f"CONFMGR_DATABASE_URL is not a database URL: nonsense (write it as "
                 f"{EXAMPLES})."),
    ("postgres//binh:bi-mat@db.example.org/hoinghi",
     "CONFMGR_DATABASE_URL is not a database URL: postgres//***@db.example.org/hoinghi "
     f"(write it as {EXAMPLES})."),
    ("postgresql://binh:bi-mat@db.example.org:5432x/hoinghi",
     "CONFMGR_DATABASE_URL has a port that is not a number: "
     "postgresql://***@db.example.org:5432x/hoinghi."),
    ("mysql://binh:bi-mat@db.example.org/hoinghi",
     "CONFMGR_DATABASE_URL names the database 'mysql' (mysql://binh:***@db.example.org/"
     f"hoinghi); confmgr runs on PostgreSQL or SQLite: {EXAMPLES}."),
    ("oracle://db.example.org/hoinghi",
     "CONFMGR_DATABASE_URL names the database 'oracle' (oracle://db.example.org/hoinghi); "
     f"confmgr runs on PostgreSQL or SQLite: {EXAMPLES}."),
    ("postgresql+pg9000://binh:bi-mat@db.example.org/hoinghi",
     "CONFMGR_DATABASE_URL names the driver 'pg9000', which SQLAlchemy does not know for "
     "postgresql (postgresql+pg9000://binh:***@db.example.org/hoinghi)."),
    ("sqlite+pysqlcipher://:bi-mat@/hoinghi.db",
     "CONFMGR_DATABASE_URL needs the Python package 'pysqlcipher3', which is not installed: "
     "sqlite+pysqlcipher://:***@/hoinghi.db."),
    ("mysql://db.example.org/hoinghi?password=bi-mat",
     "CONFMGR_DATABASE_URL names the database 'mysql' (mysql://db.example.org/hoinghi?"
     f"password=%2A%2A%2A); confmgr runs on PostgreSQL or SQLite: {EXAMPLES}."),
])
def test_a_database_url_that_cannot_work_is_named_in_one_line(url, message, tmp_path,
                                                               monkeypatch):
    monkeypatch.setenv("CONFMGR_DATABASE_URL", url)
    with pytest.raises(ConfigurationError) as refused:
        create_app({"SECRET_KEY": "x"}, instance_path=str(tmp_path))
    assert refused.value.format_message() == message
    assert "bi-mat" not in message
    # Nothing of SQLAlchemy's error is chained on.
    error = refused.value
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)


def test_the_database_url_is_named_where_it_was_set(tmp_path, monkeypatch):
    monkeypatch.delenv("CONFMGR_DATABASE_URL", raising=False)
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text('DATABASE_URL = "sqlserver://db/hoinghi"\n')
    with pytest.raises(ConfigurationError) as refused:
        create_app({"SECRET_KEY": "x"}, instance_path=str(instance))
    assert refused.value.format_message().startswith(
        f"DATABASE_URL in {instance / 'config.py'} names the database 'sqlserver' ")
    with pytest.raises(ConfigurationError) as refused:
        create_app({"SECRET_KEY": "x", "DATABASE_URL": "nonsense"}, instance_path=str(instance))
    assert refused.value.format_message().startswith("DATABASE_URL is not a database URL: ")


def test_the_command_line_says_what_is_wrong_with_the_database_url_in_one_line(tmp_path):
    environment = {**os.environ, "CONFMGR_DATABASE_URL": "postgres//binh:bi-mat@db/hoinghi",
                   "CONFMGR_INSTANCE_PATH": str(tmp_path)}
    for command in (["routes"], ["create-user", "--email", "a@example.org", "--name", "A",
                                 "--password", "mot-mat-khau-dai"]):
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "confmgr", *command],
            env=environment, capture_output=True, text=True, timeout=120, check=False)
        assert (result.returncode, result.stdout, result.stderr) == (
            1, "", "Error: CONFMGR_DATABASE_URL is not a database URL: "
                   f"postgres//***@db/hoinghi (write it as {EXAMPLES}).\n")
