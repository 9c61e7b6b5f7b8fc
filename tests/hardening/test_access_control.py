"""Access control, enumerated: every rule of the app's URL map (every method) and every Socket.IO handler on
/live is walked, so a new endpoint is checked the day it is added.

- PUBLIC is the explicit, small allow-list of what anyone may use; each entry says why.
- Ticket-token endpoints (/t/<token>…, /api/v1/t/<token>…) are guarded by the 256-bit token: an unknown
  token gets 404 and nothing else.
- Everything else refuses anonymous visitors: /staff/ pages redirect to /staff/login, the API answers 401
  (also to a guest's ticket token used as bearer), and anything outside both fails the walker until it is
  protected or added to PUBLIC with a reason.
- Scanner-role accounts get 403 wherever an admin is needed; SCANNER_API / SCANNER_PAGES list what scanners
  may use (the door: check-ins, batch, undo, offline list, guest search; the scan page, badges).
- Socket.IO: connect and sync are public; every other event refuses anonymous and scanner connections.
- A revoked device stops working at once: its session cookie, its remember cookie and its bearer token."""

import re
import secrets
import uuid

import pytest

from tests.hardening.conftest import Browser, build_fuzz_app, figure, is_error_json, login
from tests.helpers import SLUG, make_staff

PUBLIC = {
    "static": "stylesheets, scripts, icons",
    "web.index": "redirects to the current event's agenda",
    "web.service_worker": "the offline agenda's service worker",
    "web.healthz": "liveness probe, says nothing",
    "agenda_pages.agenda": "the public agenda (phones)",
    "agenda_pages.screen": "projector view",
    "agenda_pages.door_screen": "door screen of one room",
    "agenda_pages.manifest": "web app manifest",
    "agenda_pages.ical": "export of the public agenda",
    "agenda_pages.frab_xml": "export of the public agenda",
    "agenda_pages.c3voc_json": "export of the public agenda",
    "matchmaking_pages.public_board": "the public board (consenting municipalities only)",
    "matchmaking_pages.board_screen": "the board on the projector",
    "checkin_pages.register": "guests register themselves",
    "checkin_calendar.feed": "a guest's calendar subscription, named by its own 256-bit secret",
    "agenda_api.agenda": "public GET of the agenda",
    "matchmaking_api.public_board": "public GET of the board",
    "checkin_api.stats": "public GET of the arrival counts (no names)",
    "series_api.search_places": "the gazetteer's suggestions for the municipality pickers (public data)",
    "staff.login": "the way in",
    "checkin_scan.pair": "a phone pairs with a one-time code from an admin (GET only asks)",
}
# What scanner-role accounts (paired phones) may use; everything else staff-only needs an admin.
SCANNER_API = {
    "checkin_api.check_in",
    "checkin_api.check_in_batch",
    "checkin_api.undo",
    "checkin_api.offline_list",
    "checkin_api.list_guests",
}
SCANNER_PAGES = {
    "staff.index",
    "staff.logout",
    "checkin_scan.scan",
    # badges: the door reprints a guest's badge after a scan (and may print the sheets)
    "checkin_badges.sheets",
    "checkin_badges.badge",
    # the self check-in kiosk: a paired kiosk is a door account; door staff may open it to try it out
    "checkin_kiosk.kiosk",
    "checkin_kiosk.places_json",
    "checkin_kiosk.check_in",
    "checkin_kiosk.leave",
    # one's own account (password, own tokens, own logins): every account has one
    "staff.account",
    "staff.account_password",
    "staff.account_revoke_token",
    "staff.account_revoke_logins",
}
PUBLIC_SOCKET_EVENTS = {"connect", "disconnect", "sync"}
SCANNER_SOCKET_EVENTS = set()
TICKET_PATH = re.compile(r"^(/api/v1)?/t/<token>")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("access")
    f = build_fuzz_app(f"sqlite:///{tmp / 'access.sqlite3'}", tmp)
    yield f
    from webapp.core.extensions import db

    f.watch.close()
    with f.app.app_context():
        db.session.remove()
        db.engine.dispose()


def fill(rule, f):
    """A URL for the rule: real ids where they matter, an unknown token for ticket routes."""
    values = {}
    for name, converter in rule._converters.items():
        kind = type(converter).__name__
        if kind == "IntegerConverter":
            values[name] = {"session_id": f.session_id, "guest_id": f.guest_id, "checkin_id": f.checkin_id}.get(name, 1)
        elif kind == "PathConverter":
            values[name] = "css/app.css"
        elif kind == "AnyConverter":
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = {
                "slug": SLUG,
                "token": secrets.token_urlsafe(32),
                "code": secrets.token_urlsafe(20),
                "municipality": f.municipality,
                "room_slug": "forum",
            }.get(name, "x")
    with f.app.test_request_context():
        from flask import url_for

        return (
            url_for(rule.endpoint, **values)
            if rule.endpoint != "static"
            else rule.rule.replace("<path:filename>", values["filename"])
        )


def walk(f):
    """[(endpoint, method, rule, url)] of every rule and method of the URL map."""
    out = []
    for rule in f.app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, rule, fill(rule, f)))
    return sorted(out, key=lambda x: (x[2].rule, x[1]))


def request(client, method, url, headers=None):
    if url.startswith("/api/"):
        return client.open(url, method=method, json={} if method != "GET" else None, headers=headers or {})
    return client.open(url, method=method, data={} if method != "GET" else None, headers=headers or {})


def is_login_redirect(r):
    return r.status_code in (302, 303) and r.headers.get("Location", "").split("?")[0].endswith("/staff/login")


def test_the_public_allow_list_is_current(site):
    endpoints = {rule.endpoint for rule in site.app.url_map.iter_rules()}
    stale = set(PUBLIC) - endpoints
    assert not stale, f"PUBLIC names endpoints that no longer exist: {stale}"


def anonymous_problems(site):
    anonymous = Browser(site.app)
    guest_bearer = {"Authorization": f"Bearer {site.delegate_token}"}
    problems, counts = [], {"public": 0, "ticket": 0, "staff page": 0, "staff api": 0}
    for endpoint, method, rule, url in walk(site):
        if endpoint in PUBLIC:
            counts["public"] += 1
            continue
        before = site.watch.state()
        r = request(anonymous, method, url)
        if TICKET_PATH.match(rule.rule):
            counts["ticket"] += 1
            if r.status_code != 404:
                problems.append(f"{method} {rule.rule}: unknown ticket token gave {r.status_code}, not 404")
        elif rule.rule.startswith("/staff/"):
            counts["staff page"] += 1
            if not is_login_redirect(r):
                problems.append(f"{method} {rule.rule}: anonymous got {r.status_code}, not the login redirect")
        elif rule.rule.startswith("/api/"):
            counts["staff api"] += 1
            if r.status_code != 401 or not is_error_json(r.get_json(silent=True)):
                problems.append(f"{method} {rule.rule}: anonymous got {r.status_code}, not 401 JSON")
            r = request(Browser(site.app), method, url, guest_bearer)
            if r.status_code != 401:
                problems.append(f"{method} {rule.rule}: a guest's ticket token as bearer got {r.status_code}, not 401")
        else:
            problems.append(
                f"{method} {rule.rule} ({endpoint}) is neither public nor protected: protect it, or add "
                f"it to PUBLIC with a reason (anonymous got {r.status_code})"
            )
        if site.watch.state() != before:
            problems.append(f"{method} {rule.rule}: a refused anonymous request changed the database")
    return problems, counts


def test_every_endpoint_refuses_anonymous_unless_public(site):
    problems, counts = anonymous_problems(site)
    assert not problems, "\n".join(problems)
    figure(
        "access control (anonymous)", ", ".join(f"{n} {k}" for k, n in counts.items()) + " rule×method pairs checked"
    )


def test_the_walker_catches_a_new_unprotected_endpoint(tmp_path):
    """The walk itself: endpoints added without protection (a page, an API route, a staff page) fail it."""
    f = build_fuzz_app(f"sqlite:///{tmp_path / 'walker.sqlite3'}", tmp_path)
    leaks = {
        "/e/<slug>/guest-list": "leak_page",
        "/api/v1/events/<slug>/export": "leak_api",
        "/staff/e/<slug>/forgot-the-decorator": "leak_staff",
    }
    for path, name in leaks.items():
        f.app.add_url_rule(path, name, lambda slug: {"guests": ["Erika Mustermann"]})
    try:
        problems, _ = anonymous_problems(f)
        for path in leaks:
            assert any(path in p for p in problems), (path, problems)
        assert len(problems) == len(leaks) + 1, problems  # the API route also lets a guest's token in
    finally:
        from webapp.core.extensions import db

        f.watch.close()
        with f.app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_scanner_accounts_get_403_where_an_admin_is_needed(site):
    from webapp.core.extensions import db

    with site.app.app_context():
        make_staff("walk-scanner", role="scanner", password="walk-scanner-pw")
        _, admin_token = make_staff("walk-admin", password="walk-admin-pw")
        db.session.remove()
    scanner_page = login(site.app, "walk-scanner", "walk-scanner-pw")
    admin_page = login(site.app, "walk-admin", "walk-admin-pw")
    scanner_api = {"Authorization": f"Bearer {site.scanner_token}"}
    admin_api = {"Authorization": f"Bearer {admin_token}"}
    problems, checked = [], 0
    for endpoint, method, rule, url in walk(site):
        if endpoint in PUBLIC or TICKET_PATH.match(rule.rule) or endpoint == "staff.logout":
            continue
        checked += 1
        if rule.rule.startswith("/api/"):
            r = request(Browser(site.app), method, url, scanner_api)
            a = request(Browser(site.app), method, url, admin_api)
        else:
            r, a = request(scanner_page, method, url), request(admin_page, method, url)
        allowed = SCANNER_API | SCANNER_PAGES
        if endpoint in allowed:
            if r.status_code in (401, 403) or is_login_redirect(r):
                problems.append(f"{method} {rule.rule}: a scanner is refused ({r.status_code}) but may use it")
        elif r.status_code != 403:
            problems.append(f"{method} {rule.rule}: a scanner got {r.status_code}, not 403")
        if a.status_code in (401, 403) or is_login_redirect(a):  # the walk reaches the real endpoint
            problems.append(f"{method} {rule.rule}: an admin is refused ({a.status_code})")
    assert not problems, "\n".join(problems)
    figure(
        "access control (roles)",
        f"{checked} staff rule×method pairs: scanner 403 except "
        f"{len(SCANNER_API | SCANNER_PAGES)} door endpoints, admin let through",
    )


def other_event(site):
    """A second event of the series in the walk's database (created once)."""
    from datetime import UTC, datetime

    from webapp.core.extensions import db
    from webapp.core.models import Event

    with site.app.app_context():
        if db.session.query(Event).filter_by(slug="trier-2019").one_or_none() is None:
            start = datetime(2019, 6, 5, 8, tzinfo=UTC)
            db.session.add(Event(slug="trier-2019", title="Netzwerktreffen Trier 2019", starts_at=start, ends_at=start))
            db.session.commit()
        db.session.remove()
    return "trier-2019"


def per_event(rule):
    return "<slug>" in rule.rule


def test_accounts_of_another_event_are_refused_on_every_endpoint_of_this_one(site):
    """An organiser and a door account of another event: 403 on every per-event page, API route (by session
    and by token) and staff socket event of this one, nothing changed; the same roles scoped to this event
    get what an instance admin / scanner gets."""
    from webapp.core.extensions import db

    other = other_event(site)
    with site.app.app_context():
        _, organiser_token = make_staff("org-other", password="org-other-pw", events=[other], quick=True)
        _, door_token = make_staff("door-other", role="scanner", password="door-other-pw", events=[other], quick=True)
        _, own_token = make_staff("org-own", password="org-own-pw", events=[SLUG], quick=True)
        _, own_door_token = make_staff("door-own", role="scanner", password="door-own-pw", events=[SLUG], quick=True)
        db.session.remove()
    pages = {name: login(site.app, name, f"{name}-pw") for name in ("org-other", "door-other", "org-own", "door-own")}
    tokens = {"org-other": organiser_token, "door-other": door_token, "org-own": own_token, "door-own": own_door_token}
    problems, checked = [], 0
    for endpoint, method, rule, url in walk(site):
        if endpoint in PUBLIC or TICKET_PATH.match(rule.rule) or endpoint == "staff.logout":
            continue
        if not per_event(rule):
            # Things of the instance (new events, the team): an organiser of one event is no instance admin.
            if endpoint not in SCANNER_API | SCANNER_PAGES:
                if rule.rule.startswith("/api/"):
                    r = request(Browser(site.app), method, url, {"Authorization": f"Bearer {organiser_token}"})
                else:
                    r = request(pages["org-other"], method, url)
                if r.status_code != 403:
                    problems.append(f"{method} {rule.rule}: an event's organiser got {r.status_code}, not 403")
            continue
        checked += 1
        answers = {}
        for name in tokens:
            before = site.watch.state()
            if rule.rule.startswith("/api/"):
                answers[name] = request(Browser(site.app), method, url, {"Authorization": f"Bearer {tokens[name]}"})
            else:
                answers[name] = request(pages[name], method, url)
            if name.endswith("other") and site.watch.state() != before:
                problems.append(f"{method} {rule.rule}: refused for {name} but the database changed")
        for name in ("org-other", "door-other"):
            r = answers[name]
            if r.status_code != 403 or (rule.rule.startswith("/api/") and not is_error_json(r.get_json(silent=True))):
                problems.append(f"{method} {rule.rule}: {name} (another event) got {r.status_code}, not 403")
        if answers["org-own"].status_code in (401, 403) or is_login_redirect(answers["org-own"]):
            problems.append(
                f"{method} {rule.rule}: the event's organiser is refused ({answers['org-own'].status_code})"
            )
        door = answers["door-own"]
        if endpoint in SCANNER_API | SCANNER_PAGES:
            if door.status_code in (401, 403) or is_login_redirect(door):
                problems.append(f"{method} {rule.rule}: the event's door account is refused ({door.status_code})")
        elif door.status_code != 403:
            problems.append(f"{method} {rule.rule}: the event's door account got {door.status_code}, not 403")
    assert not problems, "\n".join(problems)
    assert checked > 40, checked  # the walk reached the per-event endpoints

    # Socket.IO: the organiser of the other event, connected to this one, may send no staff event.
    scoped_flask = site.app.test_client()
    with site.app.app_context():
        assert (
            scoped_flask.post("/staff/login", data={"name": "org-other", "password": "org-other-pw"}).status_code == 302
        )
    sock = socket_client(site.app, scoped_flask)
    payload = {"id": site.session_id, "delay_minutes": 5, "text": "Fremde Veranstaltung"}
    try:
        for name in sorted(live_events() - PUBLIC_SOCKET_EVENTS):
            before = site.watch.state()
            answer = sock.emit(name, payload, namespace="/live", callback=True)
            assert is_error_json(answer) and answer["error"]["code"] == "forbidden", (name, answer)
            assert site.watch.state() == before
    finally:
        sock.disconnect("/live")
    figure("access control (events)", f"{checked} per-event rule×method pairs: accounts of another event get 403")


def test_session_authenticated_api_writes_need_the_csrf_token(site):
    """A staff session (cookie) without X-CSRFToken cannot write through the API."""
    from webapp.core.extensions import db

    with site.app.app_context():
        make_staff("walk-admin-csrf", password="walk-pw")
        db.session.remove()
    admin = login(site.app, "walk-admin-csrf", "walk-pw")
    problems = []
    for endpoint, method, rule, url in walk(site):
        if not rule.rule.startswith("/api/") or method == "GET" or TICKET_PATH.match(rule.rule) or endpoint in PUBLIC:
            continue
        r = request(admin, method, url)
        if r.status_code != 403 or r.get_json()["error"]["code"] != "csrf":
            problems.append(f"{method} {rule.rule}: session write without CSRF token got {r.status_code}")
    assert not problems, "\n".join(problems)


def socket_client(app, flask_client=None):
    from webapp.core.extensions import socketio

    return socketio.test_client(
        app, namespace="/live", auth={"event": SLUG, "since": None}, flask_test_client=flask_client
    )


def live_events():
    from webapp.core.extensions import socketio

    names = set(socketio.server.handlers.get("/live", {}))
    names |= {name for name, _, namespace in socketio.handlers if namespace == "/live"}
    names |= {
        name
        for namespace, handler in getattr(socketio, "namespace_handlers", [])
        if getattr(handler, "namespace", None) == "/live"
        for name in dir(handler)
        if name.startswith("on_")
    }
    return names


def test_staff_socket_events_refuse_anonymous_and_scanners(site):
    from webapp.core.extensions import db

    staff_events = sorted(live_events() - PUBLIC_SOCKET_EVENTS)
    assert staff_events, "no staff events on /live?"
    with site.app.app_context():
        make_staff("socket-scanner", role="scanner", password="socket-pw")
        db.session.remove()
    scanner_flask = site.app.test_client()
    with site.app.app_context():
        r = scanner_flask.post("/staff/login", data={"name": "socket-scanner", "password": "socket-pw"})
        assert r.status_code == 302
    anonymous, scanner = socket_client(site.app), socket_client(site.app, scanner_flask)
    payload = {"id": site.session_id, "delay_minutes": 5, "text": "Nur für Staff"}
    try:
        for name in staff_events:
            before = site.watch.state()
            answer = anonymous.emit(name, payload, namespace="/live", callback=True)
            assert is_error_json(answer) and answer["error"]["code"] == "unauthorized", (name, answer)
            if name not in SCANNER_SOCKET_EVENTS:
                answer = scanner.emit(name, payload, namespace="/live", callback=True)
                assert is_error_json(answer) and answer["error"]["code"] == "forbidden", (name, answer)
            assert site.watch.state() == before, f"{name}: refused but the database changed"
    finally:
        anonymous.disconnect("/live"), scanner.disconnect("/live")
    figure(
        "access control (sockets)",
        f"/live events {sorted(live_events())}: {staff_events} refuse anonymous and scanner connections",
    )


def test_a_revoked_device_stops_working_at_once(site):
    from webapp.checkin import devices
    from webapp.checkin.models import Device
    from webapp.core.events import get_event
    from webapp.core.extensions import db
    from webapp.staff.models import ApiToken

    with site.app.app_context():
        device, code = devices.create_device(get_event(SLUG), "Einlass Widerruf")
        _, token = ApiToken.issue(device.staff, label="device")
        db.session.commit()
        device_id = device.id
        db.session.remove()
    phone = Browser(site.app)
    r = phone.get(f"/staff/pair/{code}")
    assert r.status_code == 200  # GET only asks
    r = phone.post(f"/staff/pair/{code}", data={})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/staff/e/{SLUG}/scan"), r.status_code
    bearer = {"Authorization": f"Bearer {token}"}
    remember = phone.client.get_cookie("remember_token")
    assert remember is not None, "pairing should remember the phone"
    remembered = Browser(site.app)
    remembered.client.set_cookie("remember_token", remember.value)

    def scan(client, headers=None):
        return client.post(
            f"/api/v1/events/{SLUG}/checkins",
            headers=headers or {},
            json={"code": site.guest_code, "nonce": str(uuid.uuid4())},
        )

    assert phone.get(f"/staff/e/{SLUG}/scan").status_code == 200
    assert phone.get(f"/api/v1/events/{SLUG}/checkin-list").status_code == 200
    assert remembered.get(f"/staff/e/{SLUG}/scan").status_code == 200
    assert scan(Browser(site.app), bearer).status_code == 200
    with site.app.app_context():
        devices.revoke_device(get_event(SLUG), db.session.get(Device, device_id))
        db.session.remove()
    assert is_login_redirect(phone.get(f"/staff/e/{SLUG}/scan")), "the session cookie still works"
    assert phone.get(f"/api/v1/events/{SLUG}/checkin-list").status_code == 401
    assert is_login_redirect(remembered.get(f"/staff/e/{SLUG}/scan")), "the remember cookie still works"
    r = scan(Browser(site.app), bearer)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized", "the bearer token still works"
    assert phone.post(f"/staff/pair/{code}", data={}).status_code == 302  # the used code pairs nothing
    assert is_login_redirect(phone.get(f"/staff/e/{SLUG}/scan"))
    figure("device revocation", "session cookie, remember cookie and bearer token refused on the next request")
