"""confmgr: hybrid training conferences, from the agenda to every broadcast point."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from werkzeug.routing import IntegerConverter

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


class DatabaseId(IntegerConverter):
    """An id in an address: at most nine digits, so it always fits the databases' integers.

    A longer number matches no route (a plain 404), rather than failing the conversion,
    which would make werkzeug answer 405 on addresses served per method.
    """

    regex = r"\d{1,9}"


def create_app(overrides: dict | None = None, instance_path: str | None = None) -> Flask:
    """Build the application; ``overrides`` win over every other configuration."""
    from confmgr import assets, cli, errors, i18n, security
    from confmgr.accounts import views as accounts_views
    from confmgr.api import token_views
    from confmgr.api import views as api_views
    from confmgr.attendance import code_views as checkin_code_views
    from confmgr.attendance import views as attendance_views
    from confmgr.audit import views as audit_views
    from confmgr.calendar import views as calendar_views
    from confmgr.conferences import views as agenda_views
    from confmgr.config import load_config
    from confmgr.dashboard import views as dashboard_views
    from confmgr.db import db
    from confmgr.extensions import csrf, login_manager, migrate
    from confmgr.points import views as points_views
    from confmgr.public import views as public_views
    from confmgr.questions import views as question_views
    from confmgr.roster import conference_views as delegate_views
    from confmgr.roster import views as roster_views

    app = Flask(
        __name__,
        instance_path=instance_path or os.environ.get("CONFMGR_INSTANCE_PATH") or None,
        instance_relative_config=True,
        template_folder=str(TEMPLATES_DIR),
    )
    load_config(app, overrides)
    # Ids in addresses stop short of the databases' 32-bit integers: a longer number is a
    # 404, not a driver overflow.
    app.url_map.converters["int"] = DatabaseId

    db.init_app(app)
    migrate.init_app(app, db)
    csrf.init_app(app)
    login_manager.init_app(app)
    i18n.init_app(app)
    accounts_views.init_app(app)

    app.register_blueprint(public_views.bp)
    app.register_blueprint(accounts_views.bp)
    app.register_blueprint(calendar_views.bp)
    app.register_blueprint(dashboard_views.bp)
    app.register_blueprint(agenda_views.bp)
    app.register_blueprint(points_views.bp)
    app.register_blueprint(roster_views.bp)
    app.register_blueprint(delegate_views.bp)
    app.register_blueprint(attendance_views.bp)
    app.register_blueprint(checkin_code_views.bp)
    app.register_blueprint(question_views.bp)
    app.register_blueprint(audit_views.bp)
    app.register_blueprint(i18n.bp)
    app.register_blueprint(api_views.bp)
    app.register_blueprint(token_views.bp)
    # The API is called with a Bearer token, never a session cookie, so CSRF cannot reach it.
    csrf.exempt(api_views.bp)
    security.init_app(app)
    assets.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    return app
