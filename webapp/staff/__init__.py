"""Staff accounts, their logins and bearer tokens, sign-in and the account page; who is asking (auth) for
every area's pages, API and socket events."""

from ..core.extensions import login_manager
from . import auth, cli, pages


def init_app(app):
    login_manager.init_app(app)
    login_manager.login_view = "staff.login"
    auth.install(app)
    app.register_blueprint(pages.bp)
    cli.register(app)
