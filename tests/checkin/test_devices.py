"""Scanner devices: an admin creates one, a phone pairs with the one-time code (GET only asks, POST pairs),
checks guests in as that device (its name is the answer's `by` and the audit log's device), and revoking it
ends its session and its bearer tokens with the next request."""

import re
import uuid
from datetime import timedelta

import pytest
import zxingcpp
from PIL import Image, ImageDraw
from sqlalchemy import select

from tests.helpers import SLUG, add_guest, make_staff
from webapp.checkin import devices as device_domain
from webapp.checkin.models import Device, Scan
from webapp.core.db import utcnow
from webapp.core.extensions import db
from webapp.staff.models import ApiToken, StaffUser


class Browser:
    """A test client whose every request runs in its own app context, as in production: the `app` fixture
    keeps one context open for the whole test, and Flask-Login caches the signed-in user in `g`, so without
    this two clients (the admin's laptop and the phone) would share one user."""

    def __init__(self, app):
        self.app, self.client = app, app.test_client()

    def __getattr__(self, method):
        def call(*args, **kwargs):
            with self.app.app_context():
                return getattr(self.client, method)(*args, **kwargs)

        return call


@pytest.fixture
def admin(app):
    make_staff("ops", password="pw-1")
    c = Browser(app)
    assert c.post("/staff/login", data={"name": "ops", "password": "pw-1"}).status_code == 302
    return c


def create_device(admin, name="Einlass 1"):
    r = admin.post(f"/staff/e/{SLUG}/devices", data={"name": name})
    assert r.status_code == 200, r.get_data(as_text=True)
    page = r.get_data(as_text=True)
    url = re.search(r'id="pair-url" href="([^"]+)"', page).group(1)
    svg = re.search(r"<svg class=\"qr\".*?</svg>", page, re.S).group(0)
    return url, svg, page


def path_of(url):
    return re.sub(r"^https?://[^/]+", "", url)


def svg_to_image(svg, scale=8):
    """Rasterise the qrcode package's path SVG (unit squares "Mx,yHx+1Vy+1Hxz") for a real decoder."""
    size = int(float(re.search(r'viewBox="0 0 ([\d.]+)', svg).group(1)))
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y in re.findall(r"M(\d+),(\d+)H", svg):
        x, y = int(x), int(y)
        draw.rectangle([x * scale, y * scale, (x + 1) * scale - 1, (y + 1) * scale - 1], fill=0)
    return image


def csrf_of(client):
    page = client.get(f"/staff/e/{SLUG}/scan").get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


def test_pairing_qr_decodes_to_the_pairing_url(admin):
    url, svg, page = create_device(admin)
    assert "style=" not in svg  # the CSP allows no inline styles
    found = zxingcpp.read_barcodes(svg_to_image(svg))
    assert [f.text for f in found] == [url]
    assert re.fullmatch(r"http://localhost/staff/pair/[A-Za-z0-9_-]{27,}", url)  # >= 160 bits
    device = db.session.execute(select(Device)).scalar_one()
    assert device.name == "Einlass 1" and device.staff.role == "scanner" and device.staff.name == "Einlass 1"
    code = url.rsplit("/", 1)[1]
    assert device.pairing_hash != code and code not in page.replace(url, "")  # stored hashed; shown as the URL only
    assert timedelta(minutes=14) < device.pairing_expires_at - utcnow() <= timedelta(minutes=15)


def test_device_name_must_be_free_and_not_empty(admin):
    create_device(admin)
    r = admin.post(f"/staff/e/{SLUG}/devices", data={"name": "einlass 1"})
    assert r.status_code == 409 and "schon" in r.get_data(as_text=True)
    assert admin.post(f"/staff/e/{SLUG}/devices", data={"name": "  "}).status_code == 400
    assert db.session.execute(select(Device)).scalars().all().__len__() == 1


def test_a_device_account_cannot_sign_in_with_a_password(app, admin):
    create_device(admin)
    phone = Browser(app)
    for password in ("", "Einlass 1", "password"):
        r = phone.post("/staff/login", data={"name": "Einlass 1", "password": password})
        assert r.status_code != 302


def test_pairing_flow_get_confirms_post_pairs_once(app, admin, auth):
    url, _, _ = create_device(admin)
    phone = Browser(app)
    # A link preview or prefetch: GET shows the confirmation page and does not use the code up.
    for _ in range(2):
        r = phone.get(path_of(url))
        assert r.status_code == 200
        page = r.get_data(as_text=True)
        assert "Einlass 1" in page and "Koppeln und Scanner öffnen" in page
        assert r.headers["Cache-Control"] == "no-store"
    assert phone.get(f"/staff/e/{SLUG}/scan").status_code == 302  # not signed in yet

    r = phone.post(path_of(url))
    assert r.status_code == 302 and r.location == f"/staff/e/{SLUG}/scan"
    assert "remember_token" in r.headers.get("Set-Cookie", "") or any(
        "remember_token" in h for h in r.headers.getlist("Set-Cookie")
    )
    r = phone.get(f"/staff/e/{SLUG}/scan")
    assert r.status_code == 200 and "Einlass 1" in r.get_data(as_text=True)
    device = db.session.execute(select(Device)).scalar_one()
    db.session.refresh(device)
    assert device.paired_at is not None and device.pairing_hash is None

    # The code is used up: a second phone (or the same link again) is sent to the login page.
    other = Browser(app)
    for method in ("get", "post"):
        r = getattr(other, method)(path_of(url))
        assert r.status_code == 302 and r.location.startswith("/staff/login"), method
    assert other.get(f"/staff/e/{SLUG}/scan").status_code == 302


def test_expired_or_made_up_codes_are_refused(app, admin):
    url, _, _ = create_device(admin)
    device = db.session.execute(select(Device)).scalar_one()
    device.pairing_expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    phone = Browser(app)
    for path in (path_of(url), "/staff/pair/" + "x" * 27, "/staff/pair/short"):
        for method in ("get", "post"):
            r = getattr(phone, method)(path)
            assert r.status_code == 302 and r.location.startswith("/staff/login"), (method, path)
    assert phone.get(f"/staff/e/{SLUG}/scan").status_code == 302
    # The admin can issue a fresh code for the same device.
    r = admin.post(f"/staff/e/{SLUG}/devices/{device.id}/code")
    new_url = re.search(r'id="pair-url" href="([^"]+)"', r.get_data(as_text=True)).group(1)
    assert new_url != url
    assert phone.post(path_of(new_url)).location == f"/staff/e/{SLUG}/scan"


def test_a_code_pairs_once_even_when_looked_up_twice(app):
    from webapp.core.events import get_event

    device, code = device_domain.create_device(get_event(SLUG), "Einlass 2")
    # Two phones that both saw the confirmation page: only the first POST pairs (conditional UPDATE).
    assert device_domain.device_for_code(code) is not None and device_domain.device_for_code(code) is not None
    assert device_domain.redeem_code(code).id == device.id
    assert device_domain.redeem_code(code) is None
    assert device_domain.redeem_code("not-a-real-code-at-all-000") is None


def test_paired_device_checks_in_with_session_and_csrf_and_is_named(app, admin, auth):
    url, _, _ = create_device(admin)
    phone = Browser(app)
    phone.post(path_of(url))
    guest = add_guest(Browser(app), auth)
    body = {"code": guest["ticket_url"], "nonce": str(uuid.uuid4())}

    r = phone.post(f"/api/v1/events/{SLUG}/checkins", json=body)  # no CSRF header: refused
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "csrf"
    token = csrf_of(phone)
    r = phone.post(f"/api/v1/events/{SLUG}/checkins", json=body, headers={"X-CSRFToken": token})
    assert r.status_code == 200, r.get_json()
    answer = r.get_json()
    assert answer["result"] == "ok" and answer["by"] == "Einlass 1"
    scan = db.session.execute(select(Scan).filter_by(nonce=body["nonce"])).scalar_one()
    assert scan.device == "Einlass 1"

    # A second scan by someone else says when and by which device.
    r = Browser(app).post(
        f"/api/v1/events/{SLUG}/checkins", headers=auth, json={"code": guest["code"], "nonce": str(uuid.uuid4())}
    )
    assert r.get_json()["result"] == "already" and r.get_json()["by"] == "Einlass 1"

    # The device appears as paired and seen on the devices page.
    page = admin.get(f"/staff/e/{SLUG}/devices").get_data(as_text=True)
    row = re.search(r'<tr data-device="Einlass 1".*?</tr>', page, re.S).group(0)
    assert "gekoppelt" in row and "–" not in row.split("</td>")[1]


def test_revoking_ends_the_session_and_the_tokens_at_once(app, admin, auth):
    url, _, _ = create_device(admin)
    phone = Browser(app)
    phone.post(path_of(url))
    token = csrf_of(phone)
    device = db.session.execute(select(Device)).scalar_one()
    staff_id = device.staff_id
    _, bearer = ApiToken.issue(device.staff, label="script on the phone")
    db.session.commit()
    guest = add_guest(Browser(app), auth)
    bearer_headers = {"Authorization": f"Bearer {bearer}"}
    assert Browser(app).get(f"/api/v1/events/{SLUG}/checkin-list", headers=bearer_headers).status_code == 200

    r = admin.post(f"/staff/e/{SLUG}/devices/{device.id}/revoke", follow_redirects=True)
    assert r.status_code == 200 and "gesperrt" in r.get_data(as_text=True)

    # The very next request of the phone's session is anonymous: pages go to login, the API says 401.
    r = phone.get(f"/staff/e/{SLUG}/scan")
    assert r.status_code == 302 and r.location.startswith("/staff/login")
    r = phone.post(
        f"/api/v1/events/{SLUG}/checkins",
        headers={"X-CSRFToken": token},
        json={"code": guest["code"], "nonce": str(uuid.uuid4())},
    )
    assert r.status_code == 401
    r = Browser(app).get(f"/api/v1/events/{SLUG}/checkin-list", headers=bearer_headers)
    assert r.status_code == 401
    staff = db.session.get(StaffUser, staff_id)
    assert staff.active is False
    assert all(
        t.revoked_at is not None for t in db.session.execute(select(ApiToken).filter_by(staff_id=staff_id)).scalars()
    )
    # The name is free again for a replacement phone; the audit log keeps the old name with each scan.
    create_device(admin, "Einlass 1")
    assert db.session.execute(select(Device).where(Device.revoked_at.is_(None))).scalar_one().name == "Einlass 1"


def test_a_device_scans_for_its_own_event_only(app, admin):
    from webapp.core.models import Event

    url, _, _ = create_device(admin)
    other = Event(
        slug="other-2019",
        title="Anderes Treffen",
        timezone="Europe/Berlin",
        starts_at=utcnow(),
        ends_at=utcnow() + timedelta(hours=4),
    )
    db.session.add(other)
    db.session.commit()
    phone = Browser(app)
    phone.post(path_of(url))
    assert phone.get(f"/staff/e/{SLUG}/scan").status_code == 200
    assert phone.get("/staff/e/other-2019/scan").status_code == 403
