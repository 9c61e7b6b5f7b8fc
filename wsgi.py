"""The WSGI application (for `flask --app wsgi …` and WSGI servers such as gunicorn -k gevent).
The development/venue server is `python run.py` (what `make run` starts)."""

import click

from webapp import create_app, freeze_startup_objects, start_background_tasks
from webapp.core.extensions import socketio  # noqa: F401  (gunicorn users: the app is socketio-wrapped already)

# Under a WSGI server the background tasks start with the app; inside a CLI command (`db upgrade`…) not.
context = click.get_current_context(silent=True)
serving = context is None or context.info_name == "run"
app = create_app(SERVING=serving)
if serving:
    start_background_tasks(app)
    freeze_startup_objects()
