"""Staff credentials can be ended (webapp/staff/auth.py, docs/security.md): server-side logins behind the
session and remember cookies, logout, password changes (account page and CLI), disabled accounts, bearer
tokens, an open Socket.IO connection; the login's redirect target; login timing for unknown names.

CSRF is on (tests/security/conftest.py). Each browser's requests run in their own app context, as in
production: Flask-Login keeps the signed-in user in `g`, which one long-lived context would share."""

import statistics
import time
from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select

from tests.helpers import SLUG, make_staff
from tests.security import prepared_database, staff
from tests.security.conftest import csrf_of
from webapp.agenda.models import Session
from webapp.core.db import utcnow
from webapp.core.extensions import db, socketio
from webapp.core.models import Event

PASSWORD = "pw-for-tests"  # tests.security.staff's default
GUESTS_API = f"/api/v1/events/{SLUG}/guests"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return prepared_database(tmp_path_factory.mktemp("credentials"))


class Browser:
    """A test client with each request in its own app context, and the staff forms it needs."""

    def __init__(self, app, cookies=None):
        self.app, self.client = app, app.test_client()
        for name, value in (cookies or {}).items():
            self.client.set_cookie(name, value)

    def __getattr__(self, method):
        def call(*args, **kwargs):
            with self.app.app_context():
                return getattr(self.client, method)(*args, **kwargs)

        return call

    def cookie(self, name):
        found = self.client.get_cookie(name)
        return found.value if found is not None else None

    def csrf(self, path="/staff/login"):
        return csrf_of(self.get(path).get_data(as_text=True))

    def login(self, name="anna", password=PASSWORD, remember=False, next=None):
        data = {"name": name, "password": password, "csrf_token": self.csrf()}
        if remember:
            data["remember"] = "y"
        return self.post("/staff/login", data=data, query_string={"next": next} if next is not None else None)

    def logout(self):
        return self.post("/staff/logout", data={"csrf_token": self.csrf("/staff/")})

    def signed_in(self):
        r = self.get("/staff/")
        assert r.status_code in (200, 302), r.status_code
        return r.status_code == 200


def copy_of(browser, *names):
    """Another browser holding only these cookies of `browser` (a stolen or copied cookie)."""
    return Browser(browser.app, {name: browser.cookie(name) for name in names})


def signed_in_browser(app, remember=False, name="anna", password=PASSWORD):
    browser = Browser(app)
    assert browser.login(name, password, remember=remember).status_code == 302
    assert browser.signed_in()
    return browser


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def bearer_status(app, token):
    return Browser(app).get(GUESTS_API, headers={"Authorization": f"Bearer {token}"}).status_code


# ---- logins are server-side ----------------------------------------------------------------------------


def test_logout_ends_the_session_and_the_remember_cookie_everywhere(app):
    staff("anna")
    browser = signed_in_browser(app, remember=True)
    session_copy, remember_copy = copy_of(browser, "session"), copy_of(browser, "remember_token")
    assert session_copy.signed_in() and remember_copy.signed_in()
    assert browser.logout().status_code == 302
    assert not browser.signed_in()
    assert not session_copy.signed_in(), "a copy of the session cookie still works after logout"
    assert not remember_copy.signed_in(), "the remember cookie still works after logout"


def test_each_login_has_its_own_remember_cookie_which_ends_on_the_server(app):
    staff("anna")
    first, second = signed_in_browser(app, remember=True), signed_in_browser(app, remember=True)
    assert first.cookie("remember_token") != second.cookie("remember_token")
    assert first.cookie("session") != second.cookie("session")
    from webapp.staff.models import StaffLogin

    session_only = signed_in_browser(app)
    logins = db.session.execute(select(StaffLogin).order_by(StaffLogin.created_at)).scalars().all()
    assert [login.expires_at - login.created_at for login in logins] == [timedelta(days=30)] * 2 + [timedelta(hours=24)]
    assert all(len(login.id) >= 16 and len(login.secret_hash) == 64 for login in logins)
    assert not any(first.cookie("session").find(login.secret_hash) >= 0 for login in logins)
    # The browser's cookie ends with the login (30 days), not after Flask-Login's default year.
    r = Browser(app).login(remember=True)
    header = next(h for h in r.headers.getlist("Set-Cookie") if h.startswith("remember_token="))
    expires = parsedate_to_datetime(next(p.split("=", 1)[1] for p in header.split("; ") if p.startswith("Expires=")))
    assert abs(expires - (utcnow() + timedelta(days=30))) < timedelta(minutes=5)
    # Expired on the server: that remember cookie is refused, the other login is not affected.
    remember_copy = copy_of(first, "remember_token")
    logins[0].expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert not remember_copy.signed_in() and not first.signed_in()
    assert second.signed_in() and session_only.signed_in()


def test_a_session_naming_only_the_account_id_is_refused(app, client):
    anna, _ = staff("anna")
    with client.session_transaction() as session:  # what Flask-Login stored before server-side logins
        session["_user_id"], session["_fresh"] = str(anna.id), True
    with app.app_context():
        assert client.get("/staff/").status_code == 302


def test_a_new_login_in_the_same_browser_replaces_its_previous_one(app):
    staff("anna")
    browser = signed_in_browser(app, remember=True)
    old_session, old_remember = copy_of(browser, "session"), copy_of(browser, "remember_token")
    assert browser.login().status_code == 302  # signs in again, this time without "stay signed in"
    assert browser.signed_in() and browser.cookie("remember_token") is None
    assert not old_session.signed_in() and not old_remember.signed_in()


# ---- the account page ----------------------------------------------------------------------------------


def change_password(browser, current, new, again=None, csrf=True):
    data = {"current_password": current, "new_password": new, "new_password_again": new if again is None else again}
    if csrf:
        data["csrf_token"] = browser.csrf("/staff/account")
    return browser.post("/staff/account/password", data=data)


def test_changing_the_password_on_the_account_page_ends_every_other_login(app):
    staff("anna")
    here = signed_in_browser(app)
    there = signed_in_browser(app, remember=True)
    there_remembered = copy_of(there, "remember_token")
    page = here.get("/staff/account")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Mein Konto" in html and html.count("<tr") >= 3 and "diese Anmeldung" in html  # two logins
    r = change_password(here, PASSWORD, "a-new-password-1")
    assert r.status_code == 302 and r.location == "/staff/account"
    assert "Passwort geändert" in here.get("/staff/account").get_data(as_text=True)
    assert here.signed_in(), "the person who changed the password stays signed in"
    assert not there.signed_in() and not there_remembered.signed_in()
    assert Browser(app).login().status_code == 401
    assert Browser(app).login(password="a-new-password-1").status_code == 302


def test_the_password_form_names_the_wrong_field_in_german(app):
    staff("anna")
    browser = signed_in_browser(app)
    cases = [
        (("falsch", "a-new-password-1"), "current_password", "Das aktuelle Passwort ist falsch."),
        (("", "a-new-password-1"), "current_password", "Bitte das aktuelle Passwort eingeben."),
        ((PASSWORD, "kurz"), "new_password", "Das neue Passwort muss mindestens 10 Zeichen lang sein."),
        (
            (PASSWORD, "a-new-password-1", "a-new-password-2"),
            "new_password_again",
            "Die beiden neuen Passwörter stimmen nicht überein.",
        ),
        ((PASSWORD, "x" * 201), "new_password", "Das Passwort darf höchstens 200 Zeichen lang sein."),
    ]
    for args, field, message in cases:
        r = change_password(browser, *args)
        html = r.get_data(as_text=True)
        assert r.status_code == 400, (args, r.status_code)
        assert f'<span class="error" id="{field}-err">{message}</span>' in html, (args, html[-3000:])
        assert f'aria-describedby="{field}-err"' in html
    # Without the CSRF token (a form posted by another site) nothing changes either.
    assert change_password(browser, PASSWORD, "a-new-password-1", csrf=False).status_code == 400
    assert browser.signed_in() and Browser(app).login().status_code == 302  # the old password still works


def test_the_account_page_lists_and_revokes_only_its_own_tokens(app):
    from webapp.staff.models import ApiToken

    _, own = staff("anna")
    _, bert = staff("bert")
    browser = signed_in_browser(app)
    html = browser.get("/staff/account").get_data(as_text=True)
    own_id, bert_id = (
        db.session.execute(select(ApiToken.id).join(ApiToken.staff).filter_by(name=name)).scalar_one()
        for name in ("anna", "bert")
    )
    assert f'data-token="{own_id}"' in html and f'data-token="{bert_id}"' not in html
    token = browser.csrf("/staff/account")
    assert browser.post(f"/staff/account/tokens/{bert_id}/revoke", data={"csrf_token": token}).status_code == 404
    assert bearer_status(app, bert) == 200
    assert browser.post(f"/staff/account/tokens/{own_id}/revoke", data={}).status_code == 400  # no CSRF token
    assert bearer_status(app, own) == 200
    r = browser.post(f"/staff/account/tokens/{own_id}/revoke", data={"csrf_token": token})
    assert r.status_code == 302
    assert bearer_status(app, own) == 401
    assert "widerrufen" in browser.get("/staff/account").get_data(as_text=True)


def test_sign_out_everywhere_else_keeps_this_login(app):
    staff("anna")
    here, there, elsewhere = signed_in_browser(app), signed_in_browser(app, remember=True), signed_in_browser(app)
    remembered = copy_of(there, "remember_token")
    r = here.post("/staff/account/logins/revoke-others", data={"csrf_token": here.csrf("/staff/account")})
    assert r.status_code == 302
    assert "2 andere Anmeldungen beendet." in here.get("/staff/account").get_data(as_text=True)
    assert here.signed_in()
    assert not any(b.signed_in() for b in (there, elsewhere, remembered))


def test_the_staff_pages_link_to_the_account_page(app):
    staff("anna")
    assert 'href="/staff/account"' in signed_in_browser(app).get("/staff/").get_data(as_text=True)


# ---- the command line ----------------------------------------------------------------------------------


def test_a_new_password_from_the_cli_ends_every_login(app):
    staff("anna")
    browser = signed_in_browser(app, remember=True)
    remembered = copy_of(browser, "remember_token")
    result = cli(app, "staff", "add", "anna", "--role", "admin", "--password", "from-the-cli-1")
    assert result.exit_code == 0 and result.output.strip() == "Updated admin anna (instance-wide)"
    assert not browser.signed_in() and not remembered.signed_in()
    assert Browser(app).login(password="from-the-cli-1").status_code == 302


def test_a_disabled_account_is_refused_everywhere_until_enabled(app):
    _, token = staff("anna")
    browser = signed_in_browser(app, remember=True)
    remembered = copy_of(browser, "remember_token")
    assert bearer_status(app, token) == 200
    result = cli(app, "staff", "disable", "anna")
    assert result.exit_code == 0, result.output
    assert not browser.signed_in() and not remembered.signed_in()
    assert bearer_status(app, token) == 401
    assert Browser(app).login().status_code == 401
    result = cli(app, "staff", "enable", "anna")
    assert result.exit_code == 0, result.output
    assert not browser.signed_in() and not remembered.signed_in(), "enabling must not bring old logins back"
    assert bearer_status(app, token) == 200
    assert Browser(app).login().status_code == 302
    assert cli(app, "staff", "disable", "nobody").exit_code == 1


def test_a_revoked_device_account_cannot_be_enabled(app):
    from webapp.checkin import devices
    from webapp.core.events import get_event

    device, _ = devices.create_device(get_event(SLUG), "Einlass Nord")
    devices.revoke_device(get_event(SLUG), device)
    result = cli(app, "staff", "enable", device.staff.name)
    assert result.exit_code == 1 and "revoked scanner device" in result.output


def test_tokens_are_listed_and_revoked_from_the_cli(app):
    _, first = staff("anna")
    _, bert = staff("bert")
    result = cli(app, "staff", "token", "anna", "--label", "script")
    assert result.exit_code == 0
    second = result.output.strip().splitlines()[-1]  # the bare token is the last line, as before
    assert bearer_status(app, second) == 200
    listing = cli(app, "staff", "tokens", "anna").output.strip().splitlines()
    assert listing[0].split() == ["id", "label", "created", "revoked"]
    rows = [line.split() for line in listing[1:]]
    assert [(row[1], row[-1]) for row in rows] == [("test", "-"), ("script", "-")]
    first_id, second_id = int(rows[0][0]), int(rows[1][0])
    result = cli(app, "staff", "revoke-token", "anna", str(second_id))
    assert result.exit_code == 0 and f"Revoked token {second_id}" in result.output
    assert bearer_status(app, second) == 401 and bearer_status(app, first) == 200
    assert cli(app, "staff", "tokens", "anna").output.strip().splitlines()[2].split()[-1] == "UTC"
    assert cli(app, "staff", "revoke-token", "anna").exit_code == 2  # neither TOKEN_ID nor --all
    assert cli(app, "staff", "revoke-token", "anna", str(first_id), "--all").exit_code == 2
    assert cli(app, "staff", "revoke-token", "bert", str(first_id)).exit_code == 1  # not bert's
    assert bearer_status(app, first) == 200
    result = cli(app, "staff", "revoke-token", "anna", "--all")
    assert result.exit_code == 0 and "Revoked 1 token(s) of anna" in result.output
    assert bearer_status(app, first) == 401 and bearer_status(app, bert) == 200


# ---- Socket.IO -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("ending", ["logout over HTTP", "account disabled"])
def test_an_open_socket_refuses_staff_events_once_its_login_ended(app, ending):
    staff("anna")
    browser = signed_in_browser(app)
    event = db.session.execute(select(Event).filter_by(slug=SLUG)).scalar_one()
    session_id = event.sessions[0].id
    with app.app_context():
        live = socketio.test_client(
            app, namespace="/live", auth={"event": SLUG, "since": None}, flask_test_client=browser.client
        )

    def delay(minutes):
        with app.app_context():  # each event gets its own context in the server, too
            return live.emit(
                "update_session", {"id": session_id, "delay_minutes": minutes}, namespace="/live", callback=True
            )

    try:
        assert delay(5)["session"]["delay_minutes"] == 5
        if ending == "logout over HTTP":
            assert browser.logout().status_code == 302
        else:
            assert cli(app, "staff", "disable", "anna").exit_code == 0
        answer = delay(10)
        assert answer.get("error", {}).get("code") == "unauthorized", answer
        db.session.expire_all()
        assert db.session.get(Session, session_id).delay_minutes == 5
    finally:
        with app.app_context():
            if live.is_connected("/live"):
                live.disconnect("/live")


# ---- where the login leads -----------------------------------------------------------------------------


def test_the_login_only_redirects_to_local_paths(app):
    staff("anna")
    leaving = [
        "/\t/evil.example/",
        "/\n/evil.example/",
        "/\r\n/evil.example/",
        "/ /evil.example/",
        "\t//evil.example/",
        "/\\evil.example/",
        "/\\\\evil.example/",
        "\\\\evil.example/",
        "\\/evil.example/",
        "//evil.example/",
        "///evil.example/",
        "https://evil.example/",
        "HTTPS:evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/\u3000/evil.example/",
        "",
        " ",
    ]
    for target in leaving:
        r = Browser(app).login(next=target)
        assert r.status_code == 302 and r.location == "/staff/", (target, r.location)
    for target in ["/staff/e/kl-2018/", "/%2F%2Fevil.example/", "/staff/e/kl-2018/scan?from=login"]:
        r = Browser(app).login(next=target)
        assert r.status_code == 302 and r.location == target, (target, r.location)
    # Characters a query string cannot bring this far (the server refuses a NUL before the login sees it).
    from webapp.staff.pages import _safe_next

    with app.test_request_context("/staff/login"):
        assert [_safe_next(t) for t in ("/\x00/evil.example/", "/\x7f/evil.example/", "/\x0b/evil", None)] == [
            "/staff/"
        ] * 4
        assert _safe_next("/staff/\t") == "/staff/"  # cleaned, still local


# ---- timing --------------------------------------------------------------------------------------------


def test_unknown_and_disabled_names_take_as_long_as_a_wrong_password(app):
    make_staff("real-admin", password="the-right-password")  # the default hash method, as in production
    disabled, _ = make_staff("old-admin", password="old-password")
    disabled.active = False
    db.session.commit()
    browser = Browser(app)
    token = browser.csrf()

    def took(name):
        started = time.perf_counter()
        r = browser.post("/staff/login", data={"name": name, "password": "a-wrong-guess", "csrf_token": token})
        elapsed = time.perf_counter() - started
        assert r.status_code == 401
        return elapsed

    took("nobody-at-all")  # the first unknown name also makes the dummy hash
    times = {"known": [], "unknown": [], "disabled": []}
    for _ in range(3):
        for kind, name in (("known", "real-admin"), ("unknown", "nobody-at-all"), ("disabled", "old-admin")):
            times[kind].append(took(name))
    median = {kind: statistics.median(values) for kind, values in times.items()}
    assert median["unknown"] >= 0.5 * median["known"], median
    assert median["disabled"] >= 0.5 * median["known"], median
