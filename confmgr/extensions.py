"""Flask extensions, created unbound and initialised by the application factory."""
from pathlib import Path

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf import CSRFProtect

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
migrate = Migrate(directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True)
