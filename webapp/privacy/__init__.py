"""Personal data out and away: a guest's own export and deletion, and the purge of an event after it."""

from flask_babel import lazy_gettext as _l

from ..live import register_change_actor
from . import cli, pages


def init_app(app):
    app.register_blueprint(pages.bp)
    cli.register(app)
    register_change_actor("Datenschutz", _l("Datenschutz"))  # the actor of its board changes
