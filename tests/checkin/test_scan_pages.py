"""The door's staff pages (scanner, arrivals dashboard, devices, conflicts) and the projector's arrivals panel:
who may open them, what they contain, and that they keep to the CSP (no inline scripts or styles)."""

import json
import re
import uuid

import pytest

from tests.checkin.test_devices import Browser
from tests.helpers import SLUG, add_guest, make_staff

ADMIN_PAGES = [
    f"/staff/e/{SLUG}/checkin",
    f"/staff/e/{SLUG}/checkin/recent.json",
    f"/staff/e/{SLUG}/devices",
    f"/staff/e/{SLUG}/conflicts",
]
ADMIN_POSTS = [
    f"/staff/e/{SLUG}/devices",
    f"/staff/e/{SLUG}/devices/1/revoke",
    f"/staff/e/{SLUG}/devices/1/code",
    f"/staff/e/{SLUG}/conflicts/1/reviewed",
]
SCAN_PAGE = f"/staff/e/{SLUG}/scan"


def signed_in(app, name, role):
    make_staff(name, role=role, password="pw-x")
    browser = Browser(app)
    assert browser.post("/staff/login", data={"name": name, "password": "pw-x"}).status_code == 302
    return browser


@pytest.fixture
def admin(app):
    return signed_in(app, "ops", "admin")


def batch(client, headers, *codes):
    r = client.post(
        f"/api/v1/events/{SLUG}/checkins/batch",
        headers=headers,
        json={
            "scans": [
                {"code": code, "nonce": str(uuid.uuid4()), "scanned_at": "2018-10-26T13:05:00+02:00"} for code in codes
            ]
        },
    )
    assert r.status_code == 200, r.get_json()
    return r.get_json()["answers"]


def assert_csp_clean(html):
    """No inline script (only src= or JSON data blocks) and no style attributes: the CSP forbids both."""
    for attrs in re.findall(r"<script([^>]*)>", html):
        assert "src=" in attrs or 'type="application/json"' in attrs, attrs
    assert not re.search(r"\sstyle=", html)
    assert "<style" not in html


def test_anonymous_visitors_go_to_login(app):
    anonymous = Browser(app)
    for url in [SCAN_PAGE, *ADMIN_PAGES]:
        r = anonymous.get(url)
        assert r.status_code == 302 and r.location.startswith("/staff/login"), url
    for url in ADMIN_POSTS:
        r = anonymous.post(url)
        assert r.status_code == 302 and r.location.startswith("/staff/login"), url


def test_scanner_accounts_get_the_scanner_but_not_the_admin_pages(app):
    door = signed_in(app, "door", "scanner")
    assert door.get(SCAN_PAGE).status_code == 200
    for url in ADMIN_PAGES:
        assert door.get(url).status_code == 403, url
    for url in ADMIN_POSTS:
        assert door.post(url, data={"name": "Einlass 9"}).status_code == 403, url


def test_scanner_page_has_what_the_script_needs(admin):
    r = admin.get(SCAN_PAGE)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert_csp_clean(html)
    assert re.search(r'<meta name="csrf-token" content="[^"]+">', html)
    config = json.loads(
        re.search(r'<script type="application/json" id="scan-config">(.*?)</script>', html, re.S).group(1)
    )
    assert config["api"] == f"/api/v1/events/{SLUG}" and config["device"] == "ops" and config["undo_seconds"] == 30
    strings = json.loads(re.search(r'<script type="application/json" id="i18n">(.*?)</script>', html, re.S).group(1))
    assert strings["offline_note"] == "offline – noch nicht bestätigt"
    assert "{time}" in strings["already_detail"] and "{by}" in strings["already_detail"]
    for hook in (
        'id="code"',
        "autofocus",
        'id="result"',
        'aria-live="assertive"',
        'id="net"',
        'id="q"',
        'id="video"',
        'id="undo"',
    ):
        assert hook in html, hook
    assert 'src="/static/js/scanner.js"' in html


def test_scanner_page_in_english(admin):
    html = admin.get(SCAN_PAGE + "?lang=en").get_data(as_text=True)
    assert "Type or scan a code" in html and "Code eingeben" not in html


def test_dashboard_shows_counts_per_municipality_and_latest_scans(app, admin, auth):
    api = Browser(app)
    erika = add_guest(api, auth, "Erika Mustermann", "Trier")
    add_guest(api, auth, "Max Beispiel", "Koblenz")
    api.post(f"/api/v1/events/{SLUG}/checkins", headers=auth, json={"code": erika["code"], "nonce": "n-1"})
    api.post(f"/api/v1/events/{SLUG}/checkins", headers=auth, json={"code": "ZZZZZZZZ", "nonce": "n-2"})
    r = admin.get(f"/staff/e/{SLUG}/checkin")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert_csp_clean(html)
    assert '<span id="dash-count" aria-live="polite">1 / 2</span>' in html
    assert re.search(r"<th scope=\"row\">Trier</th><td class=\"num\">1</td><td class=\"num\">1</td>", html)
    assert "Erika Mustermann" in html and "unbekannt" in html
    stats = json.loads(re.search(r'id="dash-stats">(.*?)</script>', html, re.S).group(1))
    assert stats["checked_in"] == 1 and stats["registered"] == 2
    for link in (
        "/staff/e/kl-2018/scan",
        "/staff/e/kl-2018/devices",
        "/staff/e/kl-2018/conflicts",
        "/staff/e/kl-2018/attendance.csv",
    ):
        assert f'href="{link}"' in html, link

    recent = admin.get(f"/staff/e/{SLUG}/checkin/recent.json").get_json()
    assert [s["result"] for s in recent["scans"]] == ["unknown", "ok"]
    assert recent["scans"][1]["guest"] == "Erika Mustermann" and recent["conflicts"] == 0


def test_offline_double_admission_is_listed_as_a_conflict_and_can_be_marked_reviewed(app, admin, auth):
    api = Browser(app)
    _, token_a = make_staff("Einlass 1", role="scanner")
    _, token_b = make_staff("Einlass 2", role="scanner")
    both = add_guest(api, auth, "Doppelt Eingelassen", "Mayen")
    single = add_guest(api, auth, "Nur Einmal", "Mayen")
    assert batch(api, {"Authorization": f"Bearer {token_a}"}, both["code"], single["code"])[0]["result"] == "ok"
    answer = batch(api, {"Authorization": f"Bearer {token_b}"}, both["ticket_url"])[0]
    assert answer["result"] == "already" and answer["by"] == "Einlass 1"

    html = admin.get(f"/staff/e/{SLUG}/conflicts").get_data(as_text=True)
    assert_csp_clean(html)
    row = re.search(r'<tr data-guest="Doppelt Eingelassen".*?</tr>', html, re.S).group(0)
    assert "Einlass 1" in row and "Einlass 2" in row and "Mayen" in row
    assert "Nur Einmal" not in html
    scan_id = int(re.search(r"/conflicts/(\d+)/reviewed", row).group(1))
    r = admin.post(f"/staff/e/{SLUG}/conflicts/{scan_id}/reviewed", follow_redirects=True)
    assert "geprüft von ops" in r.get_data(as_text=True)
    admin.post(f"/staff/e/{SLUG}/conflicts/{scan_id}/reviewed")  # twice is harmless
    assert admin.get(f"/staff/e/{SLUG}/checkin/recent.json").get_json()["conflicts"] == 1
    assert admin.post(f"/staff/e/{SLUG}/conflicts/999999/reviewed").status_code == 404


def test_devices_and_pairing_pages_keep_to_the_csp(app, admin):
    r = admin.post(f"/staff/e/{SLUG}/devices", data={"name": "Einlass 1"})
    html = r.get_data(as_text=True)
    assert_csp_clean(html)
    url = re.search(r'id="pair-url" href="([^"]+)"', html).group(1)
    html = Browser(app).get(re.sub(r"^https?://[^/]+", "", url)).get_data(as_text=True)
    assert_csp_clean(html)
    assert 'name="csrf_token"' in html and 'class="staffnav"' not in html


def test_projector_has_an_arrivals_panel_without_names(app, client, auth):
    add_guest(Browser(app), auth, "Geheimer Name", "Trier")
    html = Browser(app).get(f"/e/{SLUG}/screen").get_data(as_text=True)
    assert 'id="arrivals"' in html and 'id="arrivals-count"' in html and "Ankünfte" in html
    assert "Geheimer Name" not in html
    door = Browser(app).get(f"/e/{SLUG}/screen/forum")
    assert door.status_code == 200 and 'id="arrivals"' not in door.get_data(as_text=True)
    stats = Browser(app).get(f"/api/v1/events/{SLUG}/stats").get_json()
    assert "Geheimer Name" not in json.dumps(stats)
