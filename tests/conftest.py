"""Fixtures shared by every test area: the Flask app on a fresh database with the demo event, clients,
staff tokens and a real server process."""
import os

import pytest

from tests.server import ServerProcess
from webapp import create_app
from webapp.agenda.demo import load_demo
from webapp.config import TestConfig
from webapp.extensions import db, socketio
from webapp.staff.models import ApiToken, StaffUser

SLUG = "kl-2018"


@pytest.fixture
def app(tmp_path):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'test.sqlite3'}")
    with app.app_context():
        db.create_all()
        load_demo()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def make_staff(name, role="admin", password="pw-for-tests"):
    user = StaffUser(name=name, role=role)
    user.set_password(password)
    db.session.add(user)
    _, token = ApiToken.issue(user, label="test")
    db.session.commit()
    return user, token


@pytest.fixture
def web(app, client):
    """The test client with each request in its own app context, as in production (Flask-Babel caches the
    chosen locale in `g`, which the long-lived `app` fixture context would otherwise share)."""
    class Web:
        def __getattr__(self, method):
            def call(*args, **kwargs):
                with app.app_context():
                    return getattr(client, method)(*args, **kwargs)
            return call

    return Web()


@pytest.fixture
def admin_token(app):
    return make_staff("admin-test")[1]


@pytest.fixture
def auth(admin_token):
    return {"Authorization": f"Bearer {admin_token}"}


@pytest.fixture
def socket_client(app):
    """A Socket.IO test client factory on /live (no network)."""
    clients = []

    def connect(since=None, flask_client=None, slug=SLUG):
        c = socketio.test_client(app, namespace="/live", auth={"event": slug, "since": since},
                                 flask_test_client=flask_client)
        clients.append(c)
        return c

    yield connect
    for c in clients:
        if c.is_connected("/live"):
            c.disconnect("/live")


def require(env_name, what):
    """Skip with a reason, or fail when the environment says the dependency must be there (CI)."""
    def missing(reason):
        if os.environ.get(env_name) == "1":
            pytest.fail(f"{what} required ({env_name}=1) but {reason}")
        pytest.skip(f"{what} not available: {reason} (set {env_name}=1 to make this a failure)")
    return missing


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real server process (eventlet) with the demo event; module-scoped, restartable."""
    proc = ServerProcess(tmp_path_factory.mktemp("server")).prepare().start()
    yield proc
    proc.stop()
