"""Privacy (webapp/privacy/): a guest downloads and deletes their data from /t/<token>; `flask --app wsgi
purge SLUG` removes an event's personal data after the event; the scanner's offline list holds the minimum
and is wiped on logout. Assertions are on rows: gone, anonymised, or kept."""

import json
import re
import uuid

import pytest
from sqlalchemy import func, select

from tests.helpers import SLUG
from tests.security import prepared_database, staff
from tests.security.conftest import csrf_of
from webapp.agenda.models import Session
from webapp.checkin import devices as device_domain
from webapp.checkin import guests as guest_domain
from webapp.checkin.models import CheckIn, Device, Guest, Scan
from webapp.core.config import ROOT
from webapp.core.extensions import db
from webapp.core.models import Event
from webapp.live.models import Change
from webapp.matchmaking.board import plan_json
from webapp.matchmaking.models import Interest, MeetingRequest
from webapp.privacy import cli as cli_module
from webapp.privacy import domain as privacy
from webapp.staff.models import ApiToken, StaffUser


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return prepared_database(tmp_path_factory.mktemp("privacy"), board=True)


def event():
    return db.session.execute(select(Event).filter_by(slug=SLUG)).scalar_one()


def everything_stored():
    """Every row of every table as text: personal data must be nowhere in it after deletion."""
    out = []
    for table in db.metadata.sorted_tables:
        out.extend(str(tuple(row)) for row in db.session.execute(table.select()).all())
    return "\n".join(out)


@pytest.fixture
def erika(client):
    """A delegate of Trier who registered herself (with Trier's invitation code), agreed to be a contact,
    named her city's topics, and was checked in (typed code, then the ticket URL again)."""
    guest = guest_domain.create_guest(
        event(),
        {
            "name": "Erika Mustermann",
            "city": "Trier",
            "organisation": "Stadtverwaltung Trier, Amt 12",
            "role": "CDO",
            "email": "erika@trier.example",
            "consent_contact": True,
            "delegate": True,
        },
        source="self",
    )
    r = client.put(
        f"/api/v1/t/{guest.token}/interests",
        json={
            "consent": True,
            "contact": True,
            "interests": [{"topic": "park-app", "stage": "plans"}, {"topic": "bildung", "stage": "runs"}],
        },
    )
    assert r.status_code == 200
    _, door = staff("Einlass Nord", role="scanner")
    scans = [f"{guest.code[:4].lower()}-{guest.code[4:].lower()}", f"https://treffpunkt.example/t/{guest.token}"]
    results = [
        client.post(
            f"/api/v1/events/{SLUG}/checkins",
            headers={"Authorization": f"Bearer {door}"},
            json={"code": code, "nonce": str(uuid.uuid4())},
        ).json["result"]
        for code in scans
    ]
    assert results == ["ok", "already"]
    return guest


def test_a_guest_downloads_everything_stored_about_them(client, erika):
    page = client.get(f"/t/{erika.token}/my-data")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "private, no-store"
    html = page.get_data(as_text=True)
    assert "erika@trier.example" in html and "Endgültig löschen" in html
    r = client.get(f"/t/{erika.token}/my-data.json")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "private, no-store"
    assert r.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(r.get_data(as_text=True))
    assert {k: data["registration"][k] for k in ("name", "municipality", "organisation", "role", "email")} == {
        "name": "Erika Mustermann",
        "municipality": "Trier",
        "organisation": "Stadtverwaltung Trier, Amt 12",
        "role": "CDO",
        "email": "erika@trier.example",
    }
    assert data["ticket"]["code"] == erika.code and data["ticket"]["url"].endswith(f"/t/{erika.token}")
    assert data["check_in"]["at"].startswith("20") and data["check_in"]["at"].endswith(("+01:00", "+02:00"))
    assert data["consents"] == {
        "processing_for_this_event": True,
        "named_as_contact_person": True,
        "municipality_on_public_board": True,
    }
    assert {
        (i["topic_slug"], i["stage"], i["you_are_named_as_contact"]) for i in data["interests_of_your_municipality"]
    } == {("park-app", "plans", True), ("bildung", "runs", True)}
    assert [e["result"] for e in data["door_log"]] == ["ok", "already"]
    # The ticket page links to it.
    assert f"/t/{erika.token}/my-data" in client.get(f"/t/{erika.token}").get_data(as_text=True)
    assert client.get(f"/t/{'x' * 43}/my-data.json").status_code == 404


def test_deleting_needs_the_csrf_token_and_the_confirmation(client, erika):
    token = csrf_of(client.get(f"/t/{erika.token}/my-data").get_data(as_text=True))
    no_csrf = client.post(f"/t/{erika.token}/my-data/delete", data={"confirm": "y"})
    not_confirmed = client.post(f"/t/{erika.token}/my-data/delete", data={"csrf_token": token})
    assert (no_csrf.status_code, not_confirmed.status_code) == (422, 422)
    assert "Bitte bestätigen Sie das Löschen" in not_confirmed.get_data(as_text=True)
    assert db.session.get(Guest, erika.id) is not None
    assert db.session.scalar(select(func.count(CheckIn.id))) == 1


def test_deleting_removes_the_guest_and_anonymises_the_log(client, erika, socket_client):
    personal = ("Erika Mustermann", "erika@trier.example", "Stadtverwaltung Trier, Amt 12", erika.code, erika.token)
    token, code, guest_id = erika.token, erika.code, erika.id
    assert all(p in everything_stored() for p in personal)
    stats_before = client.get(f"/api/v1/events/{SLUG}/stats").json
    board = client.get(f"/api/v1/events/{SLUG}/board").json
    assert any(c.get("contact") == "Erika Mustermann" for t in board["topics"] for c in t["cities"])
    live = socket_client()
    live.get_received("/live")

    csrf = csrf_of(client.get(f"/t/{token}/my-data").get_data(as_text=True))
    r = client.post(f"/t/{token}/my-data/delete", data={"csrf_token": csrf, "confirm": "y"})
    assert r.status_code == 200 and "Ihre Daten wurden gelöscht" in r.get_data(as_text=True)

    db.session.expire_all()
    assert db.session.get(Guest, guest_id) is None
    assert db.session.scalar(select(func.count(CheckIn.id))) == 0
    scans = db.session.execute(select(Scan).order_by(Scan.id)).scalars().all()
    assert len(scans) == 2  # the door's log keeps its rows …
    assert [(s.guest_id, s.input, s.response["guest"], s.result) for s in scans] == [
        (None, "gelöscht", None, "ok"),
        (None, "gelöscht", None, "already"),
    ]  # … without her
    assert [s.device for s in scans] == ["Einlass Nord"] * 2
    assert not any(p in everything_stored() for p in personal), "personal data left in the database"
    assert code not in everything_stored().upper().replace("-", "")
    # Counters re-sent; the board lost her as contact, in one new revision.
    stats = client.get(f"/api/v1/events/{SLUG}/stats").json
    assert (stats["registered"], stats["checked_in"]) == (stats_before["registered"] - 1, 0)
    received = live.get_received("/live")
    assert [m["args"][0]["checked_in"] for m in received if m["name"] == "stats"] == [0]
    after = client.get(f"/api/v1/events/{SLUG}/board").json
    assert after["revision"] == board["revision"] + 1
    assert not any("contact" in c for t in after["topics"] for c in t["cities"])
    assert [m["args"][0]["revision"] for m in received if m["name"] == "change"] == [after["revision"]]
    assert db.session.scalar(select(func.count(Interest.id)).where(Interest.contact_guest_id.is_not(None))) == 0
    # Her link is dead.
    assert client.get(f"/t/{token}").status_code == 404
    assert client.get(f"/api/v1/t/{token}/interests").status_code == 404


def test_when_the_last_delegate_of_a_town_leaves_the_tables_are_replanned(client):
    trier = db.session.execute(select(Guest).filter_by(city="Trier")).scalars().all()
    assert [g.name for g in trier] == ["Demo-Delegation Trier"]
    assert any("Trier" in t["cities"] for t in plan_json(event()))
    revision = event().revision
    token = trier[0].token
    csrf = csrf_of(client.get(f"/t/{token}/my-data").get_data(as_text=True))
    assert client.post(f"/t/{token}/my-data/delete", data={"csrf_token": csrf, "confirm": "y"}).status_code == 200
    db.session.expire_all()
    assert not any("Trier" in t["cities"] for t in plan_json(event()))
    assert event().revision == revision + 1
    last = db.session.execute(select(Change).order_by(Change.revision.desc())).scalars().first()
    assert last.kind == "board.planned"


# ---- the purge ---------------------------------------------------------------------------------------


@pytest.fixture
def after_the_event(client, erika):
    """Erika (contact, checked in, a meeting request), Max with an e-mail, a paired device with a token and
    a scan of an unknown code; an organiser account that must survive."""
    guest_domain.create_guest(event(), {"name": "Max Beispiel", "city": "Koblenz", "email": "max@koblenz.example"})
    device, _ = device_domain.create_device(event(), "Handy von Jana")
    _, device_token = ApiToken.issue(device.staff, label="pairing")
    db.session.commit()
    r = client.post(
        f"/api/v1/events/{SLUG}/checkins",
        headers={"Authorization": f"Bearer {device_token}"},
        json={"code": "ZZZZZZZZ", "nonce": "unknown-scan"},
    )
    assert r.json["result"] == "unknown"
    assert (
        client.post(
            f"/api/v1/t/{erika.token}/meetings", json={"with": "kaiserslautern", "topic": "park-app"}
        ).status_code
        == 201
    )
    staff("orga")
    return {
        "personal": (
            "Erika Mustermann",
            "erika@trier.example",
            "Max Beispiel",
            "max@koblenz.example",
            "Handy von Jana",
            erika.code,
            erika.token,
            "ZZZZZZZZ",
        ),
        "guests": db.session.scalar(select(func.count(Guest.id))),
        "sessions": db.session.scalar(select(func.count(Session.id))),
        "interests": db.session.scalar(select(func.count(Interest.id))),
    }


def counts_in(output):
    """{label: n} from the lines "     n  label" of the purge's output."""
    return {label: int(n) for n, label in re.findall(r"^\s+(\d+)\s{2}(.+)$", output, re.M)}


def test_purge_refuses_without_yes_and_asks_when_interactive(app, after_the_event, monkeypatch):
    runner = app.test_cli_runner()
    r = runner.invoke(args=["purge", SLUG])
    assert r.exit_code != 0 and "--yes" in r.output
    monkeypatch.setattr(cli_module, "_interactive", lambda: True)
    r = runner.invoke(args=["purge", SLUG], input="n\n")
    assert r.exit_code != 0 and "Remove it now?" in r.output
    assert counts_in(r.output)["guests deleted"] == after_the_event["guests"]  # the preview
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Guest.id))) == after_the_event["guests"]
    assert "gelöscht" not in everything_stored()
    assert runner.invoke(args=["purge", "no-such-event", "--yes"]).exit_code != 0


def test_purge_removes_personal_data_keeps_agenda_and_counts(app, after_the_event):
    r = app.test_cli_runner().invoke(args=["purge", SLUG, "--yes"])
    assert r.exit_code == 0, r.output
    n = after_the_event["guests"]
    assert f"registered {n}, checked in 1" in r.output
    assert re.search(r"^\s+Trier: registered 2, checked in 1$", r.output, re.M)
    assert counts_in(r.output) == {
        "guests deleted": n,
        "check-ins deleted": 1,
        "e-mail addresses deleted (with their guests)": 2,
        "audit-log entries anonymised (input, guest, device name, staff account, stored answer)": 3,
        "meeting requests deleted": 1,
        "contact persons removed from board entries": 2,
        "scanner devices deleted": 1,
        "staff accounts of those devices deleted": 1,
        "API tokens of those devices deleted": 1,
        "change-log entries cleaned of contact names": 1,
        "guest-list uploads deleted (CSV files waiting for an import)": 0,
    }
    db.session.expire_all()
    for model in (Guest, CheckIn, MeetingRequest, Device):
        assert db.session.scalar(select(func.count(model.id))) == 0, model.__name__
    assert sorted(db.session.execute(select(StaffUser.name)).scalars()) == ["Einlass Nord", "orga"]
    assert db.session.scalar(select(func.count(ApiToken.id)).join(StaffUser).where(StaffUser.name == "orga")) == 1
    assert db.session.scalar(select(func.count(ApiToken.id))) == 2  # orga's and Einlass Nord's (a person's)
    scans = db.session.execute(select(Scan).order_by(Scan.id)).scalars().all()
    assert [(s.input, s.device, s.guest_id, s.staff_id, s.response) for s in scans] == [
        ("gelöscht", "Gerät 1", None, None, {"result": "ok"}),
        ("gelöscht", "Gerät 1", None, None, {"result": "already"}),
        ("gelöscht", "Gerät 2", None, None, {"result": "unknown"}),
    ]
    stored = everything_stored()
    assert not [p for p in after_the_event["personal"] if p in stored]
    # Kept: the agenda, the municipalities' board entries (without contacts), anonymous counts.
    assert db.session.scalar(select(func.count(Session.id))) == after_the_event["sessions"]
    assert db.session.scalar(select(func.count(Interest.id))) == after_the_event["interests"]
    assert f"{after_the_event['sessions']} sessions" in r.output
    assert app.test_client().get(f"/api/v1/events/{SLUG}/stats").json["registered"] == 0
    # Again: nothing left to remove.
    again = app.test_cli_runner().invoke(args=["purge", SLUG, "--yes"])
    assert again.exit_code == 0 and counts_in(again.output)["guests deleted"] == 0


def test_purge_is_one_transaction(app, after_the_event, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(privacy, "_scrub_change_log", fail)
    r = app.test_cli_runner().invoke(args=["purge", SLUG, "--yes"])
    assert r.exit_code != 0
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Guest.id))) == after_the_event["guests"]
    assert db.session.scalar(select(func.count(Scan.id)).where(Scan.input == "gelöscht")) == 0
    assert db.session.scalar(select(func.count(Device.id))) == 1


# ---- the scanner's offline data --------------------------------------------------------------------------


def test_the_offline_list_holds_salted_hashes_name_and_municipality_only(client, erika):
    _, door = staff("door", role="scanner")
    r = client.get(f"/api/v1/events/{SLUG}/checkin-list", headers={"Authorization": f"Bearer {door}"})
    body = r.get_data(as_text=True)
    entries = r.json["guests"]
    assert {frozenset(e) for e in entries} == {frozenset({"t", "c", "b", "name", "city", "status", "checked_in"})}
    assert all(re.fullmatch(r"[0-9a-f]{32}", e["t"]) and re.fullmatch(r"[0-9a-f]{32}", e["c"]) for e in entries)
    for secret in (erika.token, erika.code, erika.email, erika.organisation):
        assert secret not in body


def test_logout_wipes_the_scanner_store(client):
    """What the browser runs on logout is wired: every staff page (the scanner page with its own logout form
    too) loads staff-logout.js, which calls wipe() of scan-store.js on the logout form's submit; wipe()
    deletes the IndexedDB database and the scanner's localStorage keys. (Checked in Chromium: see
    docs/security.md, "Scanner data on the phone".)"""
    staff("anna", password="pw")
    login = client.get("/staff/login").get_data(as_text=True)
    assert "staff-logout.js" not in login  # nobody signed in, nothing to wipe
    client.post("/staff/login", data={"name": "anna", "password": "pw", "csrf_token": csrf_of(login)})
    for path in ("/staff/", f"/staff/e/{SLUG}/scan"):
        html = client.get(path).get_data(as_text=True)
        assert re.search(r'<form[^>]*action="/staff/logout"', html), path
        tag = re.search(
            r'<script type="module" src="/static/js/staff-logout.js" data-unsynced="([^"]+)"></script>', html
        )
        assert tag and "{n}" in tag.group(1), path
    logout_js = (ROOT / "static/js/staff-logout.js").read_text()
    store_js = (ROOT / "static/js/scan-store.js").read_text()
    assert 'import { wipe } from "./scan-store.js"' in logout_js
    assert 'form[action$="/staff/logout"]' in logout_js and "form.submit()" in logout_js
    assert "export async function wipe(" in store_js and "indexedDB.deleteDatabase(DB_NAME)" in store_js
    assert "localStorage.removeItem" in store_js
