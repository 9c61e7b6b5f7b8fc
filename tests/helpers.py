"""What many tests share: the demo event's slug, staff accounts, guests through the API, the skip-or-fail
rule for missing browsers and services, and the prepared demo database that test apps copy."""

import os
import shutil

import pytest
from sqlalchemy import select

SLUG = "kl-2018"


def require(env_name, what):
    """Skip with a reason, or fail when the environment says the dependency must be there (CI)."""

    def missing(reason):
        if os.environ.get(env_name) == "1":
            pytest.fail(f"{what} required ({env_name}=1) but {reason}")
        pytest.skip(f"{what} not available: {reason} (set {env_name}=1 to make this a failure)")

    return missing


def import_or_require(module, env_name, what):
    """pytest.importorskip that follows the same rule."""
    try:
        return __import__(module, fromlist=["_"])
    except ImportError as exc:
        require(env_name, what)(f"{module} cannot be imported ({exc})")


def make_staff(name, role="admin", password="pw-for-tests", quick=False, events=()):
    """A staff account and a bearer token. `quick`: a cheap password hash (tests that sign in often; the
    hash method is not what they test). `events`: slugs the account is scoped to (none: instance-wide)."""
    from werkzeug.security import generate_password_hash

    from webapp.core.extensions import db
    from webapp.staff.models import ApiToken, StaffUser

    user = StaffUser(name=name, role=role)
    if quick:
        user.password_hash = generate_password_hash(password, "pbkdf2:sha256:1000")
    else:
        user.set_password(password)
    db.session.add(user)
    if events:
        from webapp.core.events import get_event
        from webapp.staff.auth import set_event_roles

        set_event_roles(user, [get_event(slug) for slug in events], role)
    _, token = ApiToken.issue(user, label="test")
    db.session.commit()
    return user, token


def add_guest(client, auth, name="Erika Mustermann", city="Trier", **fields):
    """A guest through the API of a Flask test client (`auth`: the bearer header); the API's answer."""
    r = client.post(f"/api/v1/events/{SLUG}/guests", json={"name": name, "city": city, **fields}, headers=auth)
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.get_json()


def server_guest(server, name, city="Trier", **fields):
    """The same against a real server process (tests/server.py)."""
    r = server.api("POST", f"/api/v1/events/{SLUG}/guests", json={"name": name, "city": city, **fields})
    assert r.status_code == 201, r.text
    return r.json()


def prepared_database(directory, board=False):
    """A SQLite file with the demo event (and the demo board with one delegation per town)."""
    from webapp import create_app
    from webapp.agenda.demo import load_demo
    from webapp.core.config import TestConfig
    from webapp.core.extensions import db
    from webapp.core.models import Event
    from webapp.matchmaking.demo import load_board_demo

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
    """A fresh app (TestConfig plus overrides) on a copy of a prepared database (milliseconds, where
    building the demo costs a quarter of a second)."""
    from webapp import create_app
    from webapp.core.config import TestConfig

    path = directory / name
    shutil.copyfile(template, path)
    for suffix in ("-wal", "-shm"):
        if template.with_name(template.name + suffix).exists():
            shutil.copyfile(template.with_name(template.name + suffix), path.with_name(path.name + suffix))
    # Uploads of this test in its own folders, not in the checkout's instance/ (shared by every run).
    overrides.setdefault("GUEST_IMPORT_DIR", str(directory / "guest-imports"))
    overrides.setdefault("SCHEDULE_IMPORT_DIR", str(directory / "schedule-imports"))
    return create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", **overrides)


def in_own_context(app, client, expire=False):
    """A test client whose every request runs in its own app context, as in production: `g` (Flask-Login's
    user, Flask-Babel's locale) is then not shared with other clients through the `app` fixture's context.
    `expire`: the test's own database session forgets what it read before each answer is looked at."""

    class OwnContext:
        def __getattr__(self, method):
            def call(*args, **kwargs):
                with app.app_context():
                    response = getattr(client, method)(*args, **kwargs)
                if expire:
                    from webapp.core.extensions import db

                    db.session.expire_all()
                return response

            return call

    return OwnContext()


def signed_in(app, name, password):
    """A browser (test client in its own contexts) signed in as this staff account."""
    browser = in_own_context(app, app.test_client())
    r = browser.post("/staff/login", data={"name": name, "password": password})
    assert r.status_code == 302, f"login of {name} failed: {r.status_code}"
    return browser
