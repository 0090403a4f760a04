from __future__ import annotations

from functools import wraps

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_login.utils import decode_cookie
from sqlalchemy.exc import IntegrityError

from confmgr import security
from confmgr.accounts import listing, services
from confmgr.accounts.forms import ChangePasswordForm, LoginForm, SetupForm
from confmgr.accounts.models import User
from confmgr.accounts.permissions import administers_accounts
from confmgr.audit.services import record
from confmgr.db import db
from confmgr.enums import Role
from confmgr.errors import is_api_request
from confmgr.extensions import login_manager
from confmgr.i18n import counted, safe_next_url, split_address

bp = Blueprint("accounts", __name__)

# Reached while no account exists yet; everything else sends the visitor to setup.
_OPEN_BEFORE_SETUP = {"accounts.setup", "static", "i18n.set_language"}


def init_app(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Vui lòng đăng nhập để tiếp tục.")
    login_manager.login_message_category = "warning"
    app.before_request(_offer_setup_until_first_user)


@login_manager.unauthorized_handler
def sign_in_first():
    """Where a request that needs a signed-in user goes without one: the sign-in page,
    then back to the page the request was made from."""
    if request.headers.get("HX-Request") == "true":
        # htmx would follow a redirect and swap the sign-in page into a fragment, or
        # nothing: a tap would be lost without a word. A refusal lets the page say so.
        response = make_response(_("Vui lòng đăng nhập để tiếp tục."), 401)
        if request.method == "GET":  # a search or a live update: nothing to lose
            response.headers["HX-Redirect"] = url_for(
                "accounts.login", next=_page_on_this_site(request.headers.get("HX-Current-URL")))
        return response
    flash(login_manager.login_message, login_manager.login_message_category)
    # A form posted as a page (a tap without script) has an address that answers POST
    # only: after signing in, back to the page the form was on.
    came_from = (request.full_path.rstrip("?") if request.method == "GET"
                 else _page_on_this_site(request.referrer))
    return redirect(url_for("accounts.login", next=came_from))


def _page_on_this_site(address: str | None) -> str | None:
    """The path and query of ``address`` if it is a page of this site, else None."""
    if not address:
        return None
    parts = split_address(address)
    if parts is None or (parts.scheme, parts.netloc) != (request.scheme, request.host):
        return None
    return safe_next_url(parts.path + (f"?{parts.query}" if parts.query else ""), None)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    # A deactivated account, one whose password changed since the session began, or a
    # sign-in ended by signing out, opens nothing any more (User.get_id).
    user = services.signed_in_user(session_id)
    if user is not None and session.get("_user_id") == session_id != user.get_id():
        # Stamped under a key now in SECRET_KEY_FALLBACKS: stamped again under the current
        # one, the session outlives that fallback's removal.
        session["_user_id"] = user.get_id()
    return user


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
        services.hold_users()
        if services.any_user_exists():  # someone else's setup, committed while this waited
            db.session.rollback()
            flash(_("Tài khoản quản trị đầu tiên vừa được người khác tạo; hãy đăng nhập."),
                  "warning")
            return redirect(url_for("accounts.login"))
        try:
            user = services.create_user(
                form.email.data, form.password.data, form.display_name.data, Role.ADMIN
            )
            services.begin_sign_in(user)
            db.session.commit()
        except (services.AccountError, IntegrityError) as refused:
            # Two first administrators sent at once: the second finds the first's login,
            # or, the first not yet committed when it looked, its row at the commit.
            db.session.rollback()
            form.email.errors.append(str(refused) if isinstance(refused, services.AccountError)
                                     else _("Đã có tài khoản với email %(email)s.",
                                            email=services.normalise_email(form.email.data)))
            return render_template("accounts/setup.html", form=form)
        login_user(user)
        flash(_("Đã tạo tài khoản quản trị đầu tiên."), "success")
        response = redirect(url_for("dashboard.home"))
        security.remember_device(response, user.email)
        return response
    return render_template("accounts/setup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        # Where the link meant to lead (a page opened from another tab that signed in).
        return redirect(safe_next_url(request.args.get("next"), url_for("dashboard.home")))
    form = LoginForm()
    refusal = None
    if request.method == "POST":
        # As the form has read it (control characters dropped), so that no other spelling
        # of a locked login finds its way past the lock.
        refusal = security.check_login_attempt(form.email.data or "")
        if refusal is None and form.validate_on_submit():
            email = services.normalise_email(form.email.data)
            refusal = security.reserve_failed_login(email)
            try:
                # Locked by an attempt counted a moment ago, it is not checked.
                user = None if refusal else services.authenticate(email, form.password.data)
            except Exception:
                security.release_failed_login(email)  # never checked: the database failed
                raise
            if refusal is None and user is None:
                logged_as = services.login_for_log(email)
                record("user.login_failed", **logged_as)
                # Locked by this attempt, the last allowed, or by one sent with it.
                refusal = security.login_lock(email)
                if refusal is not None:
                    record("user.login_locked", **logged_as)
                db.session.commit()
                form.password.errors.append(_("Email hoặc mật khẩu không đúng."))
            elif user is not None:
                security.forget_failed_logins(user.email)
                services.begin_sign_in(user)
                # A new CSRF token for the signed-in session: the one shown before sign-in
                # may have been seen by whoever used this browser before.
                session.pop("csrf_token", None)
                login_user(user, remember=form.remember.data)
                record("user.login", target=user, user_id=user.id)
                db.session.commit()
                response = redirect(safe_next_url(request.args.get("next"),
                                                  url_for("dashboard.home")))
                # From now on this browser is the owner's: failures elsewhere, which lock
                # the account, do not keep it out.
                security.remember_device(response, user.email)
                return response
    if refusal is not None:
        return refused(render_template("accounts/login.html", form=form, refusal=refusal),
                       refusal)
    return render_template("accounts/login.html", form=form)


def refused(page: str, refusal: security.LoginRefusal):
    response = make_response(page, 429)
    response.headers["Retry-After"] = str(refusal.retry_after)
    return response


@bp.post("/logout")
@login_required
def logout():
    # A POST with the CSRF token: a link or image elsewhere cannot log anyone out.
    services.end_sign_in(current_user)
    db.session.commit()
    logout_user()
    # The CSRF token lives on until the next sign-in replaces it: a sheet left open in
    # another tab then hears "sign in again" for its taps rather than "bad request".
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("public.index"))


# ---------------------------------------------------------------- one's own password


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm(current_user)
    # Guessing the current password here is guessing a login: the same locks apply.
    refusal = security.login_lock(current_user.email) if request.method == "POST" else None
    if refusal is None and form.validate_on_submit():
        refusal = security.reserve_failed_login(current_user.email)
        right = refusal is None and current_user.check_password(form.current_password.data)
        if refusal is None and not right:
            refusal = security.login_lock(current_user.email)
            record("user.password_change_failed", target=current_user)
            db.session.commit()
            form.current_password.errors.append(_("Mật khẩu hiện tại không đúng."))
        elif right:
            # The owner, proven: the slips before count no more (as after a sign-in).
            security.forget_failed_logins(current_user.email)
            # Remembered again only if this very sign-in was: a browser keeps a remember-me
            # cookie that no longer works (someone else's, on a shared PC).
            cookie = request.cookies.get(
                current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token"))
            remembered = (cookie is not None and cookie.isascii()
                          and decode_cookie(cookie) == current_user.get_id())
            revoked = services.change_password(current_user, form.password.data)
            db.session.commit()
            # Other sessions end with the old password; this one carries on under the new
            # (the old remember-me cookie names the old one).
            login_user(current_user._get_current_object(), remember=remembered)
            flash(_("Đã đổi mật khẩu."), "success")
            if revoked:
                flash(counted("Đã thu hồi %(count)d token API tạo trước khi đổi mật khẩu; hãy "
                              "tạo token mới cho các ứng dụng còn dùng.", revoked), "warning")
            return redirect(url_for("dashboard.home"))
    page = render_template("accounts/password.html", form=form, refusal=refusal)
    return refused(page, refusal) if refusal is not None else page


# ---------------------------------------------------------------- administration


def admin_required(view):
    @wraps(view)
    @login_required
    def checked(*args, **kwargs):
        if not administers_accounts(current_user):
            abort(403)
        return view(*args, **kwargs)

    return checked


@bp.get("/admin/users")
@admin_required
def users():
    query = listing.UserQuery.from_args(request.args)
    page = listing.find_users(query)
    return render_template(
        "accounts/users.html", page=page, query=query, role_labels=listing.ROLE_LABELS,
        status_labels=listing.STATUS_LABELS, login_locks=security.login_locks(page.items))


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _back_to_list():
    # The list the action was taken from, with its search and page.
    return redirect(safe_next_url(request.form.get("next"), url_for("accounts.users")))


@bp.post("/admin/users/<int:user_id>/reset-password")
@admin_required
def reset_password(user_id: int):
    user = _user_or_404(user_id)
    if user.id == current_user.id:
        flash(_("Hãy đổi mật khẩu của chính bạn ở trang Đổi mật khẩu."), "warning")
        return _back_to_list()
    password = services.reset_password(user)
    db.session.commit()
    # Shown in this answer only, never stored in the session or sent again.
    response = make_response(render_template(
        "accounts/password_reset.html", user=user, password=password,
        back=safe_next_url(request.form.get("next"), url_for("accounts.users"))))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/admin/users/<int:user_id>/deactivate")
@admin_required
def deactivate(user_id: int):
    return _set_active(_user_or_404(user_id), False)


@bp.post("/admin/users/<int:user_id>/reactivate")
@admin_required
def reactivate(user_id: int):
    return _set_active(_user_or_404(user_id), True)


def _set_active(user: User, active: bool):
    was_active = user.active
    try:
        services.set_active(user, active, by=current_user)
    except services.AccountError as error:
        flash(str(error), "danger")
        return _back_to_list()
    db.session.commit()
    if active and was_active:
        # An account nobody locked: what was lifted is the lock of mistyped passwords.
        flash(_("Đã gỡ khóa đăng nhập của %(email)s; tài khoản này đăng nhập lại được.",
                email=user.email), "success")
    elif active:
        flash(_("Đã mở khóa tài khoản %(email)s.", email=user.email), "success")
    else:
        flash(_("Đã khóa tài khoản %(email)s; tài khoản này không đăng nhập được nữa.",
                email=user.email), "success")
    return _back_to_list()
