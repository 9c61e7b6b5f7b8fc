"""Personal data out and away: a guest's own export and deletion, and the purge of an event after it."""

from . import cli, pages


def init_app(app):
    app.register_blueprint(pages.bp)
    cli.register(app)
