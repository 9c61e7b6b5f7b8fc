"""Staff accounts, their logins and bearer tokens, sign-in and the account page; who is asking (auth) for
every area's pages, API and socket events."""

from flask_babel import lazy_gettext as _l

from ..core.extensions import login_manager
from ..core.validation import register_field_labels
from . import auth, cli, pages

# What the team page calls the fields an account is checked by (core.validation.field_label).
FIELDS = {"role": _l("Rolle"), "events": _l("Veranstaltungen"), "password": _l("Passwort"), "label": _l("Bezeichnung")}


def init_app(app):
    login_manager.init_app(app)
    login_manager.login_view = "staff.login"
    auth.install(app)
    app.register_blueprint(pages.bp)
    cli.register(app)
    register_field_labels(FIELDS)
