"""The WSGI application (for `flask --app wsgi …` and WSGI servers such as gunicorn -k gevent).
The development/venue server is `python run.py` (what `make run` starts)."""

from webapp import create_app
from webapp.core.extensions import socketio  # noqa: F401  (gunicorn users: the app is socketio-wrapped already)

app = create_app()
