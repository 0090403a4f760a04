from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from confmgr.forms import Form

MIN_PASSWORD_LENGTH = 10


class LoginForm(Form):
    # Generated coordinator logins ("06811@tap-huan-2025") are not addresses, so no Email().
    email = StringField(_l("Email hoặc tên đăng nhập"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Mật khẩu"), validators=[DataRequired()])
    remember = BooleanField(_l("Ghi nhớ đăng nhập"))


class SetupForm(Form):
    """Creates the first administrator of a new installation."""

    display_name = StringField(_l("Họ và tên"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(
        _l("Mật khẩu"),
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                message=_l("Mật khẩu phải có ít nhất %(min)d ký tự."),
            ),
        ],
    )
    confirm = PasswordField(
        _l("Nhập lại mật khẩu"),
        validators=[DataRequired(), EqualTo("password", message=_l("Hai mật khẩu không khớp."))],
    )
