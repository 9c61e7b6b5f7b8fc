"""Security tests (issue 5, parts 6 and 7): rate limits, headers and cookies, privacy. See docs/security.md.

The demo database is built once per module and copied for each test (a copy costs milliseconds; building it
costs a quarter of a second), so the whole directory stays well under ten seconds."""
import shutil

from sqlalchemy import select

from webapp import create_app
from webapp.agenda.demo import load_demo
from webapp.agenda.models import Event
from webapp.config import TestConfig
from webapp.extensions import db
from webapp.matchmaking.demo import load_board_demo

SLUG = "kl-2018"


def prepared_database(directory, board=False):
    """A SQLite file with the demo event (and the demo board with one delegation per town)."""
    path = directory / "template.sqlite3"
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with app.app_context():
        db.create_all()
        load_demo()
        if board:
            load_board_demo(db.session.execute(select(Event).filter_by(slug=SLUG)).scalar_one())
        db.session.remove()
        db.engine.dispose()
    return path


def app_on_copy(template, directory, name="test.sqlite3", **overrides):
    """A fresh app (TestConfig plus overrides) on a copy of the prepared database."""
    path = directory / name
    shutil.copyfile(template, path)
    for suffix in ("-wal", "-shm"):
        if template.with_name(template.name + suffix).exists():
            shutil.copyfile(template.with_name(template.name + suffix), path.with_name(path.name + suffix))
    return create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", **overrides)


def staff(name, role="admin", password="pw-for-tests"):
    """A staff account and a bearer token, like tests.conftest.make_staff but with a quick password hash
    (these tests sign in often; the hash method is not what they test)."""
    from werkzeug.security import generate_password_hash

    from webapp.staff.models import ApiToken, StaffUser

    user = StaffUser(name=name, role=role, password_hash=generate_password_hash(password, "pbkdf2:sha256:1000"))
    db.session.add(user)
    _, token = ApiToken.issue(user, label="test")
    db.session.commit()
    return user, token
