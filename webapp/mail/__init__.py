"""E-mail through the organisation's own SMTP server: a durable outbox in the database, delivered by one
background task with retries (docs/mail.md). It knows no area: the areas register how to build each kind of
message (`register_builder`) and queue rows (`queue`)."""

from . import models  # noqa: F401  (the tables)


def init_app(app):
    pass
