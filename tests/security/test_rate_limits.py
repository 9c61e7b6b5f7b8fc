"""Rate limits (webapp/web/limits.py): login, ticket tokens, typed-code lookups, registration and failed bearer
tokens are limited per client; a working scanner never is. Limits are off in TestConfig and switched on here.
Every request goes through the Flask test client (no network); a client's address is set per request."""

import socket
import time
import uuid

import pytest
from sqlalchemy import select

from tests.helpers import SLUG, require
from tests.security import app_on_copy, prepared_database, staff
from webapp.checkin import guests as guest_domain
from webapp.checkin.models import Guest
from webapp.core.config import Config
from webapp.core.extensions import db
from webapp.core.models import Event
from webapp.web.limits import LIMIT_KEYS, storage_uri

UNKNOWN_TOKEN = "x" * 43


def ip(n):
    return {"REMOTE_ADDR": f"10.0.0.{n}"}


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return prepared_database(tmp_path_factory.mktemp("limits"))


def make_app(template, directory, name="limits.sqlite3", **overrides):
    return app_on_copy(template, directory, name, RATELIMIT_ENABLED=True, **overrides)


@pytest.fixture
def app(template, tmp_path):
    app = make_app(template, tmp_path)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def a_guest():
    """A delegate of Trier who registered herself with Trier's invitation code."""
    event = db.session.execute(select(Event).filter_by(slug=SLUG)).scalar_one()
    return guest_domain.create_guest(
        event, {"name": "Erika Mustermann", "city": "Trier", "delegate": True}, source="self"
    )


def assert_429(response, api):
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 3600
    if api:
        assert response.json["error"]["code"] == "rate_limited"
        assert response.json["error"]["message"]
    else:
        assert response.mimetype == "text/html"
        assert "Zu viele Anfragen" in response.get_data(as_text=True)


def test_the_chosen_limits():
    assert {key: getattr(Config, key) for key in LIMIT_KEYS} == {
        "RATELIMIT_LOGIN": "10 per minute",
        "RATELIMIT_LOGIN_ACCOUNT": "5 per minute;30 per hour",
        "RATELIMIT_TICKET": "300 per minute",
        "RATELIMIT_TICKET_MISS": "60 per minute",
        "RATELIMIT_PAIRING": "30 per minute",
        "RATELIMIT_LOOKUP": "60 per minute",
        "RATELIMIT_REGISTER": "20 per minute",
        "RATELIMIT_AUTH_FAIL": "20 per minute",
        "RATELIMIT_PUBLIC": "300 per minute",
    }


def test_limits_are_off_unless_switched_on(template, tmp_path):
    app = app_on_copy(template, tmp_path, "off.sqlite3")
    with app.app_context():
        client = app.test_client()
        assert {client.get(f"/t/{UNKNOWN_TOKEN}").status_code for _ in range(80)} == {404}
        db.session.remove()
        db.engine.dispose()


def test_login_ten_a_minute_per_address(app, client):
    staff("anna", password="right-password")
    for n in range(10):  # a different account name each time: only the per-address limit counts here
        r = client.post("/staff/login", data={"name": f"who-{n}", "password": "wrong"}, environ_base=ip(1))
        assert r.status_code == 401
    assert_429(
        client.post("/staff/login", data={"name": "anna", "password": "right-password"}, environ_base=ip(1)), api=False
    )
    # Another address is not affected; the login page itself (GET) is never limited.
    assert client.get("/staff/login", environ_base=ip(1)).status_code == 200
    assert (
        client.post("/staff/login", data={"name": "anna", "password": "right-password"}, environ_base=ip(2)).status_code
        == 302
    )


def test_failed_logins_per_address_and_account_name(app, client):
    """5 failed logins a minute (30 an hour) per address and account name: the guessing address is locked
    out of that account, the real person signing in from elsewhere is not."""
    app.config["RATELIMIT_LOGIN_ACCOUNT"] = "3 per minute"  # 5/minute in production; fewer hashes here
    staff("anna", password="right-password")
    staff("bert", password="bert-password")
    for n in range(3):  # spelled differently: case and spaces do not make another account name
        r = client.post(
            "/staff/login", data={"name": ("Anna ", "anna", " ANNA")[n], "password": f"guess-{n}"}, environ_base=ip(10)
        )
        assert r.status_code == 401
    # The next attempt on the account from that address is refused, even with the right password …
    assert_429(
        client.post("/staff/login", data={"name": "anna", "password": "right-password"}, environ_base=ip(10)), api=False
    )
    # … while anna herself, from another address, signs in.
    with app.test_client() as own:
        assert (
            own.post(
                "/staff/login", data={"name": "anna", "password": "right-password"}, environ_base=ip(20)
            ).status_code
            == 302
        )
    # The guessing address can still sign in to another account (its per-address limit is 10 a minute).
    with app.test_client() as other:
        assert (
            other.post(
                "/staff/login", data={"name": "bert", "password": "bert-password"}, environ_base=ip(10)
            ).status_code
            == 302
        )
    # Successful logins do not count: bert signs in four times from one address.
    for _ in range(4):
        with app.test_client() as other:
            assert (
                other.post(
                    "/staff/login", data={"name": "bert", "password": "bert-password"}, environ_base=ip(30)
                ).status_code
                == 302
            )


def test_unknown_ticket_tokens_sixty_a_minute_per_address(app, client):
    guest = a_guest()
    for n in range(60):
        path = f"/t/{UNKNOWN_TOKEN[:-2]}{n:02d}" if n % 2 else f"/api/v1/t/{UNKNOWN_TOKEN[:-2]}{n:02d}/interests"
        assert client.get(path, environ_base=ip(1)).status_code == 404
    assert_429(client.get(f"/t/{UNKNOWN_TOKEN}", environ_base=ip(1)), api=False)
    assert_429(client.get(f"/api/v1/t/{UNKNOWN_TOKEN}/interests", environ_base=ip(1)), api=True)
    # The guessing address is blocked for its own ticket too; everyone else is not.
    assert client.get(f"/t/{guest.token}", environ_base=ip(1)).status_code == 429
    assert client.get(f"/t/{guest.token}", environ_base=ip(2)).status_code == 200


def test_a_delegate_using_their_pages_is_not_limited(app, client):
    guest = a_guest()
    paths = [
        f"/t/{guest.token}",
        f"/t/{guest.token}/qr.svg",
        f"/t/{guest.token}/board",
        f"/api/v1/t/{guest.token}/interests",
        f"/t/{guest.token}/my-data",
    ]
    statuses = [client.get(paths[n % len(paths)], environ_base=ip(3)).status_code for n in range(65)]
    assert statuses.count(200) == 65  # more than the 60 misses allowed: answered requests do not count there


def test_all_requests_to_token_pages_are_capped_per_address(app, client):
    app.config["RATELIMIT_TICKET"] = "12 per minute"  # the same class, a smaller number to keep the test short
    guest = a_guest()
    assert [client.get(f"/t/{guest.token}/qr.svg", environ_base=ip(4)).status_code for _ in range(12)] == [200] * 12
    assert_429(client.get(f"/t/{guest.token}/qr.svg", environ_base=ip(4)), api=False)


def test_registration_twenty_a_minute_per_address(app, client):
    for n in range(20):
        r = client.post(
            f"/e/{SLUG}/register",
            data={"name": f"Gast {n}", "municipality": "Trier", "consent": "y"},
            environ_base=ip(5),
        )
        assert r.status_code == 302
    assert_429(
        client.post(
            f"/e/{SLUG}/register", data={"name": "Gast 21", "municipality": "Trier", "consent": "y"}, environ_base=ip(5)
        ),
        api=False,
    )
    assert client.get(f"/e/{SLUG}/register", environ_base=ip(5)).status_code == 200  # the form still shows
    assert db.session.scalar(select(db.func.count(Guest.id)).where(Guest.name.like("Gast %"))) == 20


PUBLIC_PATHS = [
    "/",
    f"/e/{SLUG}/",
    f"/e/{SLUG}/screen",
    f"/e/{SLUG}/screen/forum",
    f"/e/{SLUG}/agenda.ics",
    f"/e/{SLUG}/schedule.xml",
    f"/e/{SLUG}/schedule.json",
    f"/e/{SLUG}/manifest.webmanifest",
    f"/e/{SLUG}/board",
    f"/e/{SLUG}/board/screen",
    f"/e/{SLUG}/register",
    f"/api/v1/events/{SLUG}/agenda",
    f"/api/v1/events/{SLUG}/board",
    f"/api/v1/events/{SLUG}/stats",
]


def test_public_pages_are_capped_per_address_but_never_for_staff_static_files_or_scans(app, client, admin_token):
    """300 public page loads and reads a minute per address (a delegation behind one NAT); one address cannot
    keep the server busy while the door scans. Staff, static files, tickets and check-ins are not counted."""
    app.config["RATELIMIT_PUBLIC"] = f"{len(PUBLIC_PATHS)} per minute"  # 300 in production; shorter here
    _, door = staff("Einlass 2", role="scanner")
    staff("anna", password="right-password")
    guest = a_guest()
    statuses = [client.get(path, environ_base=ip(11)).status_code for path in PUBLIC_PATHS]
    assert all(code in (200, 302) for code in statuses), dict(zip(PUBLIC_PATHS, statuses))
    assert_429(client.get(f"/e/{SLUG}/", environ_base=ip(11)), api=False)
    assert_429(client.get(f"/api/v1/events/{SLUG}/agenda", environ_base=ip(11)), api=True)
    assert client.get(f"/e/{SLUG}/register", environ_base=ip(11)).status_code == 429
    # Another address is served; from the limited one, static files and the guest's own ticket still are.
    assert client.get(f"/e/{SLUG}/", environ_base=ip(12)).status_code == 200
    assert client.get("/static/css/base.css", environ_base=ip(11)).status_code == 200
    assert client.get(f"/t/{guest.token}", environ_base=ip(11)).status_code == 200
    # Staff behind the same address: a bearer token, a signed-in browser, a scanner checking someone in.
    bearer = {"Authorization": f"Bearer {admin_token}"}
    assert client.get(f"/api/v1/events/{SLUG}/agenda", headers=bearer, environ_base=ip(11)).status_code == 200
    browser = app.test_client()
    with app.app_context():  # each request in its own context, as in production (Flask-Login keeps the user in g)
        assert (
            browser.post(
                "/staff/login", data={"name": "anna", "password": "right-password"}, environ_base=ip(11)
            ).status_code
            == 302
        )
    with app.app_context():
        assert browser.get(f"/e/{SLUG}/", environ_base=ip(11)).status_code == 200
    r = client.post(
        f"/api/v1/events/{SLUG}/checkins",
        headers={"Authorization": f"Bearer {door}"},
        json={"code": guest.code, "nonce": str(uuid.uuid4())},
        environ_base=ip(11),
    )
    assert r.status_code == 200 and r.json["result"] == "ok"
    # A made-up token does not pass as staff.
    assert (
        client.get(
            f"/api/v1/events/{SLUG}/agenda", headers={"Authorization": "Bearer made-up"}, environ_base=ip(11)
        ).status_code
        == 429
    )


def test_guest_search_is_limited_per_staff_account(app, client):
    app.config["RATELIMIT_LOOKUP"] = "15 per minute"  # 60 in production (test_the_chosen_limits); shorter here
    _, door = staff("door-1", role="scanner")
    _, other = staff("door-2", role="scanner")
    url = f"/api/v1/events/{SLUG}/guests?q=tri"
    for _ in range(15):
        assert client.get(url, headers={"Authorization": f"Bearer {door}"}, environ_base=ip(6)).status_code == 200
    assert_429(client.get(url, headers={"Authorization": f"Bearer {door}"}, environ_base=ip(6)), api=True)
    # Counted per account, not per address: a second scanner behind the same address still searches.
    assert client.get(url, headers={"Authorization": f"Bearer {other}"}, environ_base=ip(6)).status_code == 200


def test_failed_bearer_tokens_twenty_a_minute_per_address(app, client, admin_token):
    url = f"/api/v1/events/{SLUG}/guests"
    for n in range(20):
        r = client.get(url, headers={"Authorization": f"Bearer wrong-{n}"}, environ_base=ip(7))
        assert r.status_code == 401
    assert_429(client.get(url, headers={"Authorization": "Bearer wrong-21"}, environ_base=ip(7)), api=True)
    assert_429(
        client.post(f"/api/v1/events/{SLUG}/checkins", json={"code": "ABCDEFGH", "nonce": "n"}, environ_base=ip(7)),
        api=True,
    )  # no credential at all: the same class
    # The public API and a valid token from the same address are not affected.
    assert client.get(f"/api/v1/events/{SLUG}/agenda", environ_base=ip(7)).status_code == 200
    assert client.get(url, headers={"Authorization": f"Bearer {admin_token}"}, environ_base=ip(7)).status_code == 200


def test_a_scanner_is_never_slowed_200_scans_at_20_per_second_or_more(app, client):
    """Even from an address that is over every limit, a valid device's scans all pass (20 scans/s per
    device must pass: here 200 single scans as fast as the test client goes, then a batch)."""
    _, token = staff("Einlass 1", role="scanner")
    event = db.session.execute(select(Event).filter_by(slug=SLUG)).scalar_one()
    for n in range(100):
        guest_domain.new_guest(event, {"name": f"Besucher {n:03d}", "city": "Trier"})
    db.session.commit()
    codes = [g.code for g in db.session.execute(select(Guest).where(Guest.name.like("Besucher %"))).scalars()]
    for n in range(25):  # the same address guessed tokens and codes before
        client.get(f"/api/v1/events/{SLUG}/guests", headers={"Authorization": f"Bearer bad-{n}"}, environ_base=ip(8))
    assert (
        client.get(
            f"/api/v1/events/{SLUG}/guests", headers={"Authorization": "Bearer bad"}, environ_base=ip(8)
        ).status_code
        == 429
    )
    headers = {"Authorization": f"Bearer {token}"}
    started = time.monotonic()
    answers = [
        client.post(
            f"/api/v1/events/{SLUG}/checkins",
            headers=headers,
            environ_base=ip(8),
            json={"code": codes[n % 100], "nonce": str(uuid.uuid4())},
        )
        for n in range(200)
    ]
    elapsed = time.monotonic() - started
    assert [r.status_code for r in answers] == [200] * 200
    results = [r.json["result"] for r in answers]
    assert results.count("ok") == 100 and results.count("already") == 100
    assert elapsed < 10, f"200 scans took {elapsed:.1f} s (< 20 scans/s)"
    batch = [{"code": codes[n], "nonce": str(uuid.uuid4())} for n in range(50)]
    r = client.post(f"/api/v1/events/{SLUG}/checkins/batch", headers=headers, environ_base=ip(8), json={"scans": batch})
    assert r.status_code == 200 and [a["result"] for a in r.json["answers"]] == ["already"] * 50


def test_a_revoked_or_made_up_scanner_token_is_limited(app, client):
    for n in range(20):
        r = client.post(
            f"/api/v1/events/{SLUG}/checkins",
            headers={"Authorization": f"Bearer made-up-{n}"},
            json={"code": "ABCDEFGH", "nonce": str(n)},
            environ_base=ip(9),
        )
        assert r.status_code == 401
    assert_429(
        client.post(
            f"/api/v1/events/{SLUG}/checkins",
            headers={"Authorization": "Bearer made-up"},
            json={"code": "ABCDEFGH", "nonce": "x"},
            environ_base=ip(9),
        ),
        api=True,
    )


def test_storage_is_shared_redis_when_the_message_queue_is_redis():
    assert storage_uri({}) == "memory://"
    assert storage_uri({"SOCKETIO_MESSAGE_QUEUE": None}) == "memory://"
    assert storage_uri({"SOCKETIO_MESSAGE_QUEUE": "redis://127.0.0.1:6379/0"}) == "redis://127.0.0.1:6379/0"
    assert storage_uri({"SOCKETIO_MESSAGE_QUEUE": "kafka://x"}) == "memory://"
    assert storage_uri({"SOCKETIO_MESSAGE_QUEUE": "redis://a/0", "RATELIMIT_STORAGE_URI": "memory://"}) == "memory://"


def test_two_processes_sharing_redis_share_their_counts(template, tmp_path):
    """Two app instances (as two server processes would) on one Redis: 5 failed logins through each and the
    11th attempt from that address is refused by either."""
    with socket.socket() as s:
        s.settimeout(1)
        if s.connect_ex(("127.0.0.1", 6379)) != 0:
            require("REQUIRE_SERVICES", "Redis")("nothing listens on 127.0.0.1:6379")
    prefix = f"treffpunkt-test-{uuid.uuid4().hex[:8]}"
    settings = {"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15", "RATELIMIT_KEY_PREFIX": prefix}
    a = make_app(template, tmp_path, "a.sqlite3", **settings)
    b = make_app(template, tmp_path, "b.sqlite3", **settings)
    try:
        for n in range(10):
            app = (a, b)[n % 2]
            r = app.test_client().post("/staff/login", data={"name": f"x{n}", "password": "y"}, environ_base=ip(1))
            assert r.status_code == 401
        for app in (a, b):
            assert (
                app.test_client()
                .post("/staff/login", data={"name": "z", "password": "y"}, environ_base=ip(1))
                .status_code
                == 429
            )
    finally:
        import redis

        client = redis.Redis.from_url("redis://127.0.0.1:6379/15")
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        client.close()
        for app in (a, b):
            with app.app_context():
                db.engine.dispose()
