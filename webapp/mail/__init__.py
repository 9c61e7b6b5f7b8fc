"""E-mail through the organisation's own SMTP server: a durable outbox in the database, delivered by one
background task with retries (docs/mail.md). It knows no area: the areas register how to build each kind of
message (`register_builder`) and queue rows (`queue`, `start_mailing`)."""

from ..core.extensions import add_background_task
from . import models  # noqa: F401  (the tables)
from .outbox import check_settings, delivery_loop, install_listeners


def init_app(app):
    problem = check_settings(app.config)
    if problem:
        raise ValueError(problem)  # a typo in the settings stops the start instead of failing every mail
    install_listeners()
    add_background_task(app, delivery_loop)
