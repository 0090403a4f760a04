"""A user's API tokens, in their account settings: made, listed, revoked."""
from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user
from wtforms import HiddenField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from confmgr.accounts.models import User
from confmgr.accounts.services import signed_in_user
from confmgr.api import tokens
from confmgr.api.models import ApiToken
from confmgr.db import db, hold_rows, utcnow
from confmgr.enums import TokenScope
from confmgr.forms import Form

bp = Blueprint("api_tokens", __name__, url_prefix="/account/tokens")

SCOPE_LABELS = {
    TokenScope.READ: _l("Chỉ đọc"),
    TokenScope.WRITE: _l("Đọc và ghi (đăng ký đại biểu, điểm danh)"),
}


class TokenForm(Form):
    name = StringField(_l("Tên gợi nhớ"), validators=[DataRequired(), Length(max=100)],
                       description=_l("Ví dụ: Phần mềm quản lý của Sở Nội vụ"))
    scope = SelectField(_l("Quyền"), choices=[SelectChoice(s.value, label) for s, label in
                                              SCOPE_LABELS.items()])
    days = IntegerField(_l("Hết hạn sau (ngày)"), validators=[
        Optional(), NumberRange(min=1, max=3650)],
        description=_l("Để trống nếu không hết hạn."))
    #: Matches the one the session keeps for this page (FORM_KEY): the form is used once.
    once = HiddenField()


#: The session's copy of the form's single-use value: a form sent again (the browser's
#: "resubmit" after the page that shows the secret) makes no second token. The secret itself
#: is in that page only, never in a cookie or an address.
FORM_KEY = "api_token_form"


@bp.route("", methods=["GET", "POST"])
@login_required
def index():
    form = TokenForm()
    secret = None
    if form.validate_on_submit():
        expected = session.pop(FORM_KEY, "")
        # Compared as bytes: compare_digest refuses text that is not ASCII (a 500).
        if not expected or not hmac.compare_digest((form.once.data or "").encode(),
                                                   expected.encode()):
            flash(_("Biểu mẫu này đã được gửi một lần: không tạo thêm token."), "warning")
            return redirect(url_for("api_tokens.index"))
        if not _still_signed_in():
            db.session.rollback()
            logout_user()
            return current_app.login_manager.unauthorized()  # to sign in again
        expires_at = utcnow() + timedelta(days=form.days.data) if form.days.data else None
        _token, secret = tokens.issue(current_user, form.name.data,
                                      TokenScope(form.scope.data), expires_at)
        db.session.commit()
        form = TokenForm(formdata=None)
    if secret is not None or FORM_KEY not in session:
        session[FORM_KEY] = secrets.token_urlsafe(16)
    form.once.data = session[FORM_KEY]
    response = make_response(render_template(
        "api/tokens.html", form=form, secret=secret, tokens=tokens.tokens_of(current_user),
        scope_labels=SCOPE_LABELS, now=utcnow()))
    if secret is not None:
        response.cache_control.no_store = True  # the secret must not outlive this page
    return response


def _still_signed_in() -> bool:
    """Whether this sign-in still holds once the user's row is held: a password change, a
    reset or a lock committing meanwhile revoked every token it found, and a token made
    after it, by the sign-in it ended, would have kept the way in."""
    user = current_user._get_current_object()
    hold_rows(User.__table__, User.id == user.id)
    db.session.expire(user)  # read again, as held
    return signed_in_user(session.get("_user_id", "")) is not None


@bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    tokens.revoke(token)
    db.session.commit()
    flash(_("Đã thu hồi token «%(name)s».", name=token.name), "success")
    return redirect(url_for("api_tokens.index"))
