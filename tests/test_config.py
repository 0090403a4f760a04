"""Configuration order (code, instance/config.py, environment) and the SQLite defaults."""
from __future__ import annotations

import stat

from sqlalchemy import text

from confmgr import TEMPLATES_DIR, create_app
from confmgr.config import normalise_database_url
from confmgr.db import db


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
