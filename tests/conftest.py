"""Fixtures shared by every test area: the Flask app on a copy of a database prepared once with the demo
event, clients, staff tokens and a real server process. Helpers (SLUG, make_staff, add_guest, require…) are in
tests/helpers.py."""

import pytest

from tests.helpers import SLUG, app_on_copy, in_own_context, make_staff, prepared_database
from tests.server import ServerProcess
from webapp.core.extensions import db, socketio
from webapp.live import revisions


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory):
    """The demo event, built once per test run; each test's app works on a copy."""
    return prepared_database(tmp_path_factory.mktemp("demo-template"))


@pytest.fixture
def app(demo_database, tmp_path):
    app = app_on_copy(demo_database, tmp_path)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    # The shared snapshots and catch-ups are per process and keyed by event id: the next test's copy has
    # the same ids with other contents.
    revisions._snapshots.clear()
    revisions._catch_ups.clear()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def web(app, client):
    """The test client with each request in its own app context, as in production (Flask-Babel caches the
    chosen locale in `g`, which the long-lived `app` fixture context would otherwise share)."""
    return in_own_context(app, client)


@pytest.fixture
def admin_token(app):
    return make_staff("admin-test", quick=True)[1]


@pytest.fixture
def auth(admin_token):
    return {"Authorization": f"Bearer {admin_token}"}


@pytest.fixture
def socket_client(app):
    """A Socket.IO test client factory on /live (no network)."""
    clients = []

    def connect(since=None, flask_client=None, slug=SLUG):
        c = socketio.test_client(
            app, namespace="/live", auth={"event": slug, "since": since}, flask_test_client=flask_client
        )
        clients.append(c)
        return c

    yield connect
    for c in clients:
        if c.is_connected("/live"):
            c.disconnect("/live")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real server process (eventlet) with the demo event; module-scoped, restartable."""
    proc = ServerProcess(tmp_path_factory.mktemp("server")).prepare().start()
    yield proc
    proc.stop()
