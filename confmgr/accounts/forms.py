from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, StopValidation

from confmgr.accounts.passwords import password_problems
from confmgr.accounts.services import LOGIN_MAX_LENGTH
from confmgr.forms import Form


class LoginForm(Form):
    # Generated coordinator logins ("06811@tap-huan-2025") are not addresses, so no Email().
    email = StringField(_l("Email hoặc tên đăng nhập"),
                        validators=[DataRequired(), Length(max=LOGIN_MAX_LENGTH)])
    password = PasswordField(_l("Mật khẩu"), validators=[DataRequired()])
    remember = BooleanField(_l("Ghi nhớ đăng nhập"))


class PasswordPolicy:
    """The password policy on a field, for the account the form's ``password_owner()`` names."""

    def __call__(self, form, field):
        login, display_name = form.password_owner()
        problems = password_problems(field.data or "", login=login, display_name=display_name)
        if problems:
            field.errors.extend(problems)
            raise StopValidation()


def new_password_fields(label):
    password = PasswordField(label, validators=[DataRequired(), PasswordPolicy()])
    confirm = PasswordField(
        _l("Nhập lại mật khẩu"),
        validators=[DataRequired(), EqualTo("password", message=_l("Hai mật khẩu không khớp."))],
    )
    return password, confirm


class SetupForm(Form):
    """Creates the first administrator of a new installation."""

    display_name = StringField(_l("Họ và tên"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Email"),
                       validators=[DataRequired(), Email(), Length(max=LOGIN_MAX_LENGTH)])
    password, confirm = new_password_fields(_l("Mật khẩu"))

    def password_owner(self) -> tuple[str, str]:
        return self.email.data or "", self.display_name.data or ""


class ChangePasswordForm(Form):
    """A signed-in user's new password, with the current one as proof."""

    current_password = PasswordField(_l("Mật khẩu hiện tại"), validators=[DataRequired()])
    password, confirm = new_password_fields(_l("Mật khẩu mới"))

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def password_owner(self) -> tuple[str, str]:
        return self.user.email, self.user.display_name
