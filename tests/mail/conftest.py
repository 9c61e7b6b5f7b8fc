import pytest

from tests.helpers import app_on_copy
from tests.mail.smtp import SmtpServer
from webapp.core.extensions import db

PUBLIC_URL = "https://treffpunkt.kaiserslautern.example"


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def app(demo_database, tmp_path, smtp):
    """The app sending through the test's SMTP server, links on PUBLIC_URL, retries after a moment."""
    app = app_on_copy(demo_database, tmp_path, PUBLIC_URL=PUBLIC_URL, MAIL_RETRY_SECONDS=0.2, **smtp.settings())
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
