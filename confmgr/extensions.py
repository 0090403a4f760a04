"""Flask extensions, created unbound and initialised by the application factory."""
from pathlib import Path

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf import CSRFProtect

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class _LoginManager(LoginManager):
    """Flask-Login's, taking a remember-me cookie that is not ASCII (mangled) for none:
    checking its digest raised TypeError, a 500 on every page until it was cleared."""

    def _load_user_from_remember_cookie(self, cookie):
        if not cookie.isascii():
            return None
        return super()._load_user_from_remember_cookie(cookie)


babel = Babel()
csrf = CSRFProtect()
login_manager = _LoginManager()
migrate = Migrate(directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True)
