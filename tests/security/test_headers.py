"""Web hardening on every page type: Content-Security-Policy (own origin only, no inline script or eval),
the usual security headers, no server version, pages without inline script/handlers/styles or third-party
resources, CSRF tokens on every form, cookie flags, and the Socket.IO origin check."""

import re
import runpy
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from tests.helpers import SLUG
from tests.security import app_on_copy, prepared_database, staff
from tests.security.conftest import csrf_of
from webapp import create_app
from webapp.checkin import guests as guest_domain
from webapp.core.config import ROOT, TestConfig
from webapp.core.extensions import db
from webapp.core.models import Event

HOST = "localhost"  # the test client's host


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return prepared_database(tmp_path_factory.mktemp("headers"), board=True)


def login(client, name="anna", password="pw-for-tests"):
    token = csrf_of(client.get("/staff/login").get_data(as_text=True))
    return client.post("/staff/login", data={"name": name, "password": password, "csrf_token": token})


class Page(HTMLParser):
    """What a page loads and runs: scripts, resource URLs, inline handlers and styles, forms."""

    def __init__(self):
        super().__init__()
        self.scripts, self.resources, self.inline, self.forms = [], [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for name in a:
            if name.startswith("on") or name == "style":
                self.inline.append(f"<{tag} {name}=…>")
        if tag == "script":
            self.scripts.append(a)
        if tag == "style":
            self.inline.append("<style>")
        for name in ("src", "srcset", "poster", "data"):
            if a.get(name):
                self.resources.append(a[name])
        if tag == "link" and a.get("href"):
            self.resources.append(a["href"])
        if tag == "form":
            self.forms.append({"method": (a.get("method") or "get").lower(), "action": a.get("action"), "csrf": False})
        if tag == "input" and a.get("name") == "csrf_token" and self.forms:
            self.forms[-1]["csrf"] = True

    def handle_data(self, data):
        if (
            self.scripts
            and self.lasttag == "script"
            and data.strip()
            and not self.scripts[-1].get("src")
            and self.scripts[-1].get("type") != "application/json"
        ):
            self.inline.append("inline <script>")


def parse_csp(value):
    directives = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def check_headers(response, what):
    h = response.headers
    csp = parse_csp(h["Content-Security-Policy"])
    allowed = {"'self'", "'none'", f"ws://{HOST}", f"wss://{HOST}"}
    for directive, sources in csp.items():
        extra = set(sources) - allowed - ({"data:"} if directive == "img-src" else set())
        assert not extra, f"{what}: {directive} allows {extra}"
    for directive in (
        "default-src",
        "script-src",
        "style-src",
        "connect-src",
        "object-src",
        "base-uri",
        "form-action",
        "frame-ancestors",
    ):
        assert directive in csp, f"{what}: no {directive}"
    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    assert set(csp["connect-src"]) == {"'self'", f"ws://{HOST}", f"wss://{HOST}"}
    assert "unsafe" not in h["Content-Security-Policy"]
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["X-Frame-Options"] == "DENY"
    assert h["Referrer-Policy"] in ("same-origin", "no-referrer")
    assert not re.search(r"\d", h.get("Server", "")), f"{what}: Server header names a version"


def check_html(response, what):
    page = Page()
    page.feed(response.get_data(as_text=True))
    assert not page.inline, f"{what}: inline {page.inline}"
    for script in page.scripts:
        assert script.get("src", "").startswith("/static/") or script.get("type") == "application/json", (
            f"{what}: script {script}"
        )
    third_party = [url for url in page.resources if re.match(r"^(https?:)?//", url)]
    assert not third_party, f"{what}: loads {third_party}"
    for form in page.forms:
        if form["method"] == "post":
            assert form["csrf"], f"{what}: POST form {form['action']} without CSRF token"
    return page


def test_every_page_type_has_the_headers_and_no_inline_code(app, client):
    event = db.session.execute(select(Event).filter_by(slug=SLUG)).scalar_one()
    guest = guest_domain.create_guest(event, {"name": "Erika Mustermann", "city": "Trier"})
    staff("anna")
    public = {
        "agenda": f"/e/{SLUG}/",
        "screen": f"/e/{SLUG}/screen",
        "room screen": f"/e/{SLUG}/screen/forum",
        "board": f"/e/{SLUG}/board",
        "board screen": f"/e/{SLUG}/board/screen",
        "register": f"/e/{SLUG}/register",
        "ticket": f"/t/{guest.token}",
        "ticket print": f"/t/{guest.token}/print",
        "my data": f"/t/{guest.token}/my-data",
        "delegate": f"/t/{guest.token}/board",
        "delegate plan": f"/t/{guest.token}/plan",
        "staff login": "/staff/login",
    }
    for what, path in public.items():
        r = client.get(path)
        assert r.status_code == 200, f"{what}: {r.status_code}"
        check_headers(r, what)
        check_html(r, what)
    assert login(client).status_code == 302
    staff_pages = {
        "staff home": "/staff/",
        "editor": f"/staff/e/{SLUG}/",
        "scanner": f"/staff/e/{SLUG}/scan",
        "guests": f"/staff/e/{SLUG}/guests",
        "devices": f"/staff/e/{SLUG}/devices",
    }
    for what, path in staff_pages.items():
        r = client.get(path)
        assert r.status_code == 200, f"{what}: {r.status_code}"
        check_headers(r, what)
        page = check_html(r, what)
        assert any(f["action"] == "/staff/logout" for f in page.forms), f"{what}: no logout form"
    # Not only pages: JSON, errors, static files.
    for what, path in {
        "api": f"/api/v1/events/{SLUG}/agenda",
        "api error": "/api/v1/events/nope/agenda",
        "404 page": "/e/nope/",
        "static": "/static/js/scan-store.js",
    }.items():
        check_headers(client.get(path), what)


def test_the_rate_limit_page_has_the_headers_too(template, tmp_path):
    app = app_on_copy(template, tmp_path, "rl.sqlite3", RATELIMIT_ENABLED=True, RATELIMIT_TICKET_MISS="1 per minute")
    with app.app_context():
        client = app.test_client()
        client.get(f"/t/{'x' * 43}")
        r = client.get(f"/t/{'x' * 43}")
        assert r.status_code == 429
        check_headers(r, "429 page")
        check_html(r, "429 page")
        db.engine.dispose()


def test_session_cookie_is_httponly_and_lax_and_secure_with_secure_cookies(app, client, monkeypatch):
    staff("anna")
    r = login(client)
    cookie = next(c for c in r.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # plain http (make run)
    # SECURE_COOKIES=1 (what run.py sets when serving HTTPS) → Config.SESSION_/REMEMBER_COOKIE_SECURE …
    monkeypatch.setenv("SECURE_COOKIES", "1")
    monkeypatch.setenv("SECRET_KEY", "x")
    config = runpy.run_path(str(ROOT / "webapp" / "core" / "config.py"))["Config"]
    assert (config.SESSION_COOKIE_SECURE, config.REMEMBER_COOKIE_SECURE) == (True, True)
    # … and then both cookies carry Secure.
    secure = create_app(
        TestConfig,
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        SESSION_COOKIE_SECURE=True,
        REMEMBER_COOKIE_SECURE=True,
        WTF_CSRF_ENABLED=False,
    )
    with secure.app_context():
        r = secure.test_client().post(
            "/staff/login",
            data={"name": "anna", "password": "pw-for-tests", "remember": "y"},
            base_url="https://localhost",
        )
        cookies = {c.split("=", 1)[0]: c for c in r.headers.getlist("Set-Cookie")}
        for name in ("session", "remember_token"):
            assert {"Secure", "HttpOnly", "SameSite=Lax"} <= {p.strip() for p in cookies[name].split(";")}, name


def test_csrf_on_forms_and_on_session_authenticated_api_writes(app, client):
    staff("anna")
    # A login without the token is refused and signs no one in.
    r = client.post("/staff/login", data={"name": "anna", "password": "pw-for-tests"})
    assert r.status_code in (400, 401) and client.get("/staff/").status_code == 302
    assert login(client).status_code == 302
    session_id = db.session.execute(select(Event).filter_by(slug=SLUG)).scalar_one().sessions[0].id
    path = f"/api/v1/events/{SLUG}/sessions/{session_id}"
    r = client.patch(path, json={"delay_minutes": 5})
    assert r.status_code == 403 and r.json["error"]["code"] == "csrf"
    token = csrf_of(client.get("/staff/").get_data(as_text=True))
    assert client.patch(path, json={"delay_minutes": 5}, headers={"X-CSRFToken": token}).status_code == 200
    # A logout posted by another site (no token) does not log out.
    client.post("/staff/logout")
    assert client.get("/staff/").status_code == 200


def handshake(client, origin=None, **headers):
    if origin:
        headers["Origin"] = origin
    return client.get("/socket.io/?EIO=4&transport=polling", headers=headers)


def test_socketio_refuses_a_foreign_origin(app, client):
    assert handshake(client, "http://evil.example").status_code == 400
    assert handshake(client, "http://localhost.evil.example").status_code == 400
    assert handshake(client, "https://localhost").status_code == 400  # another scheme is another origin
    ok = handshake(client, "http://localhost")
    assert ok.status_code == 200 and ok.get_data(as_text=True).startswith("0{")
    assert handshake(client).status_code == 200  # no Origin: not a browser page, nothing to protect
    # A forged X-Forwarded-Host does not help without PROXY_FIX.
    assert (
        handshake(
            client, "https://evil.example", X_Forwarded_Host="evil.example", X_Forwarded_Proto="https"
        ).status_code
        == 400
    )


def test_socketio_origins_from_config_and_behind_a_proxy(tmp_path):
    app = create_app(
        TestConfig,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'o.sqlite3'}",
        CORS_ALLOWED_ORIGINS=["https://screens.example"],
        PROXY_FIX=True,
    )
    client = app.test_client()
    assert handshake(client, "https://screens.example").status_code == 200
    assert handshake(client, "http://localhost").status_code == 200  # the own origin stays allowed
    assert handshake(client, "http://evil.example").status_code == 400
    assert (
        handshake(
            client, "https://treffpunkt.example", X_Forwarded_Host="treffpunkt.example", X_Forwarded_Proto="https"
        ).status_code
        == 200
    )


EVENTLET_PROBE = """
import eventlet
eventlet.monkey_patch()
import eventlet.wsgi, urllib.request
from webapp import create_app
from webapp.core.config import TestConfig
app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI="sqlite://")
sock = eventlet.listen(("127.0.0.1", 0))
eventlet.spawn(eventlet.wsgi.server, sock, app, log_output=False)
r = urllib.request.urlopen(f"http://127.0.0.1:{sock.getsockname()[1]}/healthz", timeout=10)
print(r.status, r.headers.get_all("Server"))
"""


@pytest.fixture(scope="module", autouse=True)
def eventlet_probe():
    """Started before the first test of this module and read by the last (it runs meanwhile)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", EVENTLET_PROBE],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": "/usr/bin:/bin", "SECRET_KEY": "x", "PYTHONPATH": str(ROOT)},
    )
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_the_venue_server_does_not_name_its_version(eventlet_probe):
    """`make run` serves with eventlet: the only Server header is ours, without versions. (Werkzeug's
    development server, used only with ASYNC_MODE=threading, adds its own with versions: docs/security.md.)"""
    out, err = eventlet_probe.communicate(timeout=60)
    assert out.strip() == "200 ['Treffpunkt']", err[-2000:]
