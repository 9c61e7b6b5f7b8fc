"""The series: setting up each meeting — creating and editing events, preparing the next one from an
earlier one, the municipalities taking part (picked from the built-in gazetteer). Stands on the areas:
copying an event asks each area to copy its part."""

from ..core.extensions import csrf
from . import api, cli, pages


def init_app(app):
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    csrf.exempt(api.bp)  # bearer requests; session writes are checked by staff.auth.api_staff
    cli.register(app)
