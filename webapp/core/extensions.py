"""Flask extensions, created once here and attached to the app in create_app."""

from flask_babel import Babel
from flask_compress import Compress
from flask_login import LoginManager
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData

# Named constraints, so that Alembic migrations work on SQLite (batch mode) and PostgreSQL alike.
naming = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
db = SQLAlchemy(metadata=MetaData(naming_convention=naming))
socketio = SocketIO()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
compress = Compress()  # gzip/brotli for pages, CSS, JS and JSON: weak venue Wi-Fi


def add_background_task(app, task):
    """An area's task for a serving process: task(app), run by webapp.start_background_tasks."""
    tasks = app.extensions.setdefault("background_tasks", [])
    if task not in tasks:
        tasks.append(task)
