from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from confmgr.accounts import services
from confmgr.accounts.forms import LoginForm, SetupForm
from confmgr.accounts.models import User
from confmgr.audit.services import record
from confmgr.db import db
from confmgr.enums import Role
from confmgr.errors import is_api_request
from confmgr.extensions import login_manager
from confmgr.i18n import safe_next_url

bp = Blueprint("accounts", __name__)

# Reached while no account exists yet; everything else sends the visitor to setup.
_OPEN_BEFORE_SETUP = {"accounts.setup", "static", "i18n.set_language"}


def init_app(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Vui lòng đăng nhập để tiếp tục.")
    login_manager.login_message_category = "warning"
    app.before_request(_offer_setup_until_first_user)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


def _offer_setup_until_first_user():
    # Once a user exists the answer never changes back, so it is remembered per process.
    if current_app.extensions.get("confmgr.has_users"):
        return None
    if services.any_user_exists():
        current_app.extensions["confmgr.has_users"] = True
        return None
    # The API answers for itself (401 without a token) rather than with a setup page.
    if request.endpoint not in _OPEN_BEFORE_SETUP and not is_api_request():
        return redirect(url_for("accounts.setup"))
    return None


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    if services.any_user_exists():
        abort(404)
    form = SetupForm()
    if form.validate_on_submit():
        user = services.create_user(
            form.email.data, form.password.data, form.display_name.data, Role.ADMIN
        )
        db.session.commit()
        login_user(user)
        flash(_("Đã tạo tài khoản quản trị đầu tiên."), "success")
        return redirect(url_for("dashboard.home"))
    return render_template("accounts/setup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            record("user.login_failed", email=services.normalise_email(form.email.data))
            db.session.commit()
            form.password.errors.append(_("Email hoặc mật khẩu không đúng."))
        else:
            login_user(user, remember=form.remember.data)
            record("user.login", target=user, user_id=user.id)
            db.session.commit()
            return redirect(safe_next_url(request.args.get("next"), url_for("dashboard.home")))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    # A POST with the CSRF token: a link or image elsewhere cannot log anyone out.
    logout_user()
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("public.index"))
