"""The team page (instance admins): accounts added with a role and events, re-roled, given a new password
shown once, disabled and enabled; the last instance admin cannot be lost; paired phones are listed, not
managed here."""

import re

import pytest
from sqlalchemy import select

from tests.helpers import SLUG, in_own_context, make_staff, signed_in
from webapp.core.extensions import db
from webapp.staff.models import StaffUser


def csrf(page):
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


@pytest.fixture
def admin(app):
    make_staff("chefin", password="chefin-pw-123", quick=True)
    return signed_in(app, "chefin", "chefin-pw-123")


def team(browser):
    r = browser.get("/staff/team")
    assert r.status_code == 200, r.get_data(as_text=True)[-3000:]
    return r.get_data(as_text=True)


def test_an_admin_adds_a_door_account_for_one_event_which_can_log_in(app, admin):
    page = team(admin)
    r = admin.post(
        "/staff/team", data={"csrf_token": csrf(page), "name": "tür-nord", "role": "scanner", "events": [SLUG]}
    )
    assert r.status_code == 200
    shown = r.get_data(as_text=True)
    password = re.search(r'<p class="password"><code>([^<]+)</code>', shown).group(1)
    assert len(password) >= 12
    user = db.session.execute(select(StaffUser).filter_by(name="tür-nord")).scalar_one()
    assert user.role == "scanner" and [g.event.slug for g in user.event_roles] == [SLUG]
    assert password not in team(admin)  # shown once
    door = signed_in(app, "tür-nord", password)
    assert door.get(f"/staff/e/{SLUG}/scan").status_code == 200
    assert door.get(f"/staff/e/{SLUG}/guests").status_code == 403
    assert door.get("/staff/team").status_code == 403


def test_refusals_are_shown_at_the_field_and_write_nothing(admin):
    make_staff("vergeben", quick=True)
    before = db.session.query(StaffUser).count()
    for data, field, message in (
        ({"name": "vergeben", "role": "scanner"}, "name", "Diesen Namen trägt schon ein Konto."),
        ({"name": "", "role": "scanner"}, "name", "Bitte einen Benutzernamen eingeben."),
        ({"name": "neu", "role": "king"}, "role", ""),
    ):
        r = admin.post("/staff/team", data={"csrf_token": csrf(team(admin)), **data})
        assert r.status_code == 400
        assert re.search(rf'<span class="error" id="{field}-err">[^<]*{re.escape(message)}', r.get_data(as_text=True))
    assert db.session.query(StaffUser).count() == before


def test_re_role_new_password_disable_enable(app, admin):
    user, _ = make_staff("helga", role="scanner", password="helga-pw-12345", quick=True)
    helga = signed_in(app, "helga", "helga-pw-12345")
    page = team(admin)
    r = admin.post(
        f"/staff/team/{user.id}/role",
        data={f"a{user.id}-csrf_token": csrf(page), f"a{user.id}-role": "admin", f"a{user.id}-events": [SLUG]},
    )
    assert r.status_code == 302, r.get_data(as_text=True)[-2000:]
    db.session.expire_all()
    assert user.role == "admin" and [g.event.slug for g in user.event_roles] == [SLUG] and not user.is_admin
    assert helga.get(f"/staff/e/{SLUG}/guests").status_code == 200  # the open login has the new rights

    r = admin.post(f"/staff/team/{user.id}/password", data={"csrf_token": csrf(team(admin))})
    password = re.search(r'<p class="password"><code>([^<]+)</code>', r.get_data(as_text=True)).group(1)
    assert helga.get(f"/staff/e/{SLUG}/guests").status_code == 302  # the old login ended
    signed_in(app, "helga", password)

    assert admin.post(f"/staff/team/{user.id}/disable", data={"csrf_token": csrf(team(admin))}).status_code == 302
    db.session.expire_all()
    assert not user.active
    assert (
        in_own_context(app, app.test_client())
        .post("/staff/login", data={"name": "helga", "password": password})
        .status_code
        == 401
    )
    assert admin.post(f"/staff/team/{user.id}/enable", data={"csrf_token": csrf(team(admin))}).status_code == 302
    db.session.expire_all()
    assert user.active


def test_the_last_instance_admin_cannot_be_lost(admin):
    me = db.session.execute(select(StaffUser).filter_by(name="chefin")).scalar_one()
    for other in db.session.execute(select(StaffUser).where(StaffUser.id != me.id)).scalars():
        other.active = False
    db.session.commit()
    r = admin.post(
        f"/staff/team/{me.id}/role", data={f"a{me.id}-csrf_token": csrf(team(admin)), f"a{me.id}-role": "scanner"}
    )
    assert r.status_code == 409 and "Mindestens ein Konto muss Administrator" in r.get_data(as_text=True)
    r = admin.post(f"/staff/team/{me.id}/disable", data={"csrf_token": csrf(team(admin))})
    assert r.status_code == 409
    db.session.expire_all()
    assert me.is_admin and me.active


def test_paired_phones_are_listed_but_managed_on_the_devices_page(admin):
    from webapp.checkin import devices
    from webapp.core.events import get_event

    device, _ = devices.create_device(get_event(SLUG), "Eingang Nord")
    page = team(admin)
    assert "Eingang Nord" in page and "Scanner-Gerät für" in page
    assert f'action="/staff/team/{device.staff_id}/password"' not in page
    r = admin.post(f"/staff/team/{device.staff_id}/password", data={"csrf_token": csrf(page)})
    assert r.status_code == 409
