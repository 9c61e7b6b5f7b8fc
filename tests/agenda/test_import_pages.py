"""The schedule import page (/staff/e/<slug>/import, Flask test client): the two real exports in
../shared/formats uploaded into a new and into an existing event; the preview's numbers and lists; nothing
written before "Übernehmen", then one transaction with one revision; a broken file shows where it is broken,
in German, and writes nothing; the preview is applied as shown (or shown again); other events' organisers
and anonymous visitors are refused."""

import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.helpers import SLUG, in_own_context, make_staff
from webapp.agenda.models import Room, Session, Speaker, Topic
from webapp.core.events import get_event
from webapp.core.extensions import db
from webapp.core.models import Event
from webapp.live.models import Change

FORMATS = Path("/work/shared/formats")
PRETALX = FORMATS / "example-pretalx-democon.json"
FRAB = FORMATS / "example-frab-camp2019.json"
NEW = "democon"


@pytest.fixture(autouse=True)
def upload_folder(app, tmp_path):
    folder = tmp_path / "schedule-imports"
    app.config["SCHEDULE_IMPORT_DIR"] = str(folder)
    return folder


def Browser(app):  # noqa: N802  (reads like the class it stands for)
    return in_own_context(app, app.test_client(), expire=True)


def login(app, name, events=()):
    make_staff(name, password=f"{name}-pw-123", quick=True, events=events)
    browser = Browser(app)
    assert browser.post("/staff/login", data={"name": name, "password": f"{name}-pw-123"}).status_code == 302
    return browser


@pytest.fixture
def new_event(app):
    start = db.session.get(Event, 1).starts_at
    db.session.add(Event(slug=NEW, title="DemoCon (leer)", starts_at=start, ends_at=start.replace(hour=18)))
    db.session.commit()
    return NEW


@pytest.fixture
def admin(app):
    return login(app, "orga")


def upload(browser, slug, data, name="schedule.json", **fields):
    return browser.post(
        f"/staff/e/{slug}/import",
        data={"file": (io.BytesIO(data), name), **fields},
        content_type="multipart/form-data",
    )


def token_of(page):
    return re.search(r'name="token" value="([^"]+)"', page).group(1)


def counts_of(page):
    """{kind: (created, changed, removed)} from the preview's table."""
    rows = re.findall(
        r'<tr data-kind="(\w+)">.*?<td data-created>(\d+)</td><td data-changed>(\d+)</td><td data-removed>(\d+)</td>',
        page,
        re.S,
    )
    return {kind: tuple(int(n) for n in numbers) for kind, *numbers in rows}


def listed(page, group):
    block = re.search(rf'<ul data-group="{group}">(.*?)</ul>', page, re.S)
    return re.findall(r"<strong>(.*?)</strong>", block.group(1)) if block else []


def rows(model, slug):
    return db.session.scalar(select(func.count(model.id)).join(Event).where(Event.slug == slug))


def state(slug):
    return {
        "revision": db.session.scalar(select(Event.revision).filter_by(slug=slug)),
        "changes": db.session.scalar(select(func.count(Change.id))),
        "sessions": sorted(
            (s.guid, s.title, s.planned_start, s.room_id, s.status, s.delay_minutes)
            for s in db.session.execute(select(Session).join(Event).where(Event.slug == slug)).scalars()
        ),
        "rooms": rows(Room, slug),
        "speakers": rows(Speaker, slug),
        "topics": rows(Topic, slug),
    }


def file_events(path):
    document = json.loads(path.read_text())
    return [
        (room, e) for day in document["schedule"]["conference"]["days"] for room, es in day["rooms"].items() for e in es
    ]


# ---- preview, then apply -----------------------------------------------------------------------------------------


def test_pretalx_into_a_new_event_preview_then_apply(admin, new_event):
    events = file_events(PRETALX)
    before = state(NEW)
    r = upload(admin, NEW, PRETALX.read_bytes())
    page = r.get_data(as_text=True)
    assert r.status_code == 200, page[-2000:]
    persons = {p["public_name"] for _, e in events for p in e["persons"]}
    assert counts_of(page) == {
        "sessions": (len(events), 0, 0),
        "rooms": (2, 0, 0),
        "speakers": (len(persons), 0, 0),
        "topics": (len({e["track"] for _, e in events}), 0, 0),
    }
    assert counts_of(page)["sessions"][0] == 36 and counts_of(page)["speakers"][0] == 27
    assert sorted(listed(page, "created")) == sorted(e["title"] for _, e in events)
    assert f"/staff/e/{NEW}/import/apply" in page and 'name="file"' not in page  # the preview replaces the form
    assert state(NEW) == before  # nothing written yet

    r = admin.post(f"/staff/e/{NEW}/import/apply", data={"token": token_of(page)})
    assert r.status_code == 302 and r.location.endswith(f"/staff/e/{NEW}/import")
    after = state(NEW)
    assert after["revision"] == 1 and after["changes"] == before["changes"] + 1  # one transaction, one revision
    assert len(after["sessions"]) == 36 and after["rooms"] == 2 and after["speakers"] == 27 and after["topics"] == 2
    change = db.session.execute(select(Change).order_by(Change.id.desc()).limit(1)).scalar_one()
    assert change.kind == "agenda.imported" and change.actor == "orga"
    page = admin.get(f"/staff/e/{NEW}/import").get_data(as_text=True)
    assert "Programm übernommen: 36 Programmpunkte in 2 Räumen." in page

    # The same file again: nothing to change, nothing to confirm.
    page = upload(admin, NEW, PRETALX.read_bytes()).get_data(as_text=True)
    assert "Keine Änderungen" in page and 'action="/staff/e/democon/import/apply"' not in page
    assert state(NEW) == after


def test_frab_export_into_the_existing_demo_event(admin):
    demo = get_event(SLUG)
    demo_titles = sorted(s.title for s in demo.sessions)
    demo_rooms = sorted(r.name for r in demo.rooms)
    events = file_events(FRAB)
    before = state(SLUG)
    page = upload(admin, SLUG, FRAB.read_bytes()).get_data(as_text=True)
    counts = counts_of(page)
    assert counts["sessions"] == (79, 0, len(demo_titles))  # other guids: all new, the demo's all go
    assert counts["rooms"] == (len({room for room, _ in events}), 0, len(demo_rooms))
    assert sorted(listed(page, "removed")) == demo_titles
    assert re.search(r"entfernt: [^<]*" + re.escape(demo_rooms[0]), page)
    assert state(SLUG) == before

    admin.post(f"/staff/e/{SLUG}/import/apply", data={"token": token_of(page)})
    after = state(SLUG)
    assert after["revision"] == before["revision"] + 1 and len(after["sessions"]) == 79
    assert sorted(r.name for r in get_event(SLUG).rooms) == sorted({room for room, _ in events})


def test_the_preview_says_what_changes(admin, new_event):
    page = upload(admin, NEW, PRETALX.read_bytes()).get_data(as_text=True)
    admin.post(f"/staff/e/{NEW}/import/apply", data={"token": token_of(page)})
    document = json.loads(PRETALX.read_text())
    gray = document["schedule"]["conference"]["days"][0]["rooms"]["Gray Room"]
    gray[0]["date"], gray[0]["start"] = "2020-12-14T09:10:00+01:00", "09:10"  # 10 minutes later
    gray[1]["title"] = "Quality-focused 7thgeneration"
    gray[2]["state"] = "CANCELED"
    tan = document["schedule"]["conference"]["days"][0]["rooms"]["Tan Room"]
    tan[0]["room"] = "Gray Room"
    gray.append(tan.pop(0))
    gone = document["schedule"]["conference"]["days"][2]["rooms"]["Gray Room"].pop()
    before = state(NEW)

    page = upload(admin, NEW, json.dumps(document).encode(), name="edited.json").get_data(as_text=True)
    assert counts_of(page)["sessions"] == (0, 4, 1)
    assert listed(page, "removed") == [gone["title"]]
    changed = re.search(r'<ul data-group="changed">(.*?)</ul>', page, re.S).group(1)
    items = {re.search(r"<strong>(.*?)</strong>", li).group(1): li for li in changed.split("<li>")[1:]}
    assert set(items) == {
        "Focused 5thgeneration hardware",
        "Quality-focused 6thgeneration website",
        "Secured mobile concept",
        "Managed stable function",
    }
    assert 'data-what="time"' in items["Focused 5thgeneration hardware"]
    assert "14.12. 09:00–09:30 → 14.12. 09:10–09:40" in items["Focused 5thgeneration hardware"]
    assert (
        "Quality-focused 6thgeneration website → Quality-focused 7thgeneration"
        in items["Quality-focused 6thgeneration website"]
    )
    assert "geplant → abgesagt" in items["Secured mobile concept"]
    assert "Tan Room → Gray Room" in items["Managed stable function"]
    assert state(NEW) == before

    admin.post(f"/staff/e/{NEW}/import/apply", data={"token": token_of(page)})
    event = get_event(NEW)
    assert event.revision == before["revision"] + 1 and len(event.sessions) == 35
    by_title = {s.title: s for s in event.sessions}
    assert by_title["Secured mobile concept"].status == "cancelled"
    assert by_title["Managed stable function"].room.name == "Gray Room"


def test_an_xml_export_is_read_too(admin, new_event):
    xml = admin.get(f"/e/{SLUG}/schedule.xml").data
    scheduled = [s for s in get_event(SLUG).sessions if s.status != "cancelled"]  # the Fahrplan leaves those out
    page = upload(admin, NEW, xml, name="schedule.xml").get_data(as_text=True)
    assert counts_of(page)["sessions"] == (len(scheduled), 0, 0)
    broken = xml.replace(b"</title>", b"</titel>", 3)
    r = upload(admin, NEW, broken, name="schedule.xml")
    assert r.status_code == 422 and "Fehlerhaftes XML in Zeile" in r.get_data(as_text=True)


# ---- refusals ---------------------------------------------------------------------------------------------------


def bad_pretalx():
    document = json.loads(PRETALX.read_text())
    day = document["schedule"]["conference"]["days"][1]
    del day["rooms"]["Tan Room"][1]["duration"]
    return json.dumps(document, indent=1).encode()


@pytest.mark.parametrize(
    "data, german",
    [  # what is wrong with the file itself (a faulty session is skipped instead: tests/agenda/test_messages.py)
        (b'{"schedule": {\n  "conference": \n', "Fehlerhaftes JSON in Zeile 3, Spalte 1."),
        (
            PRETALX.read_bytes().replace(b'"UTC"', b'"Mars/Olympus"'),
            "Konferenzangaben: Die Zeitzone „Mars/Olympus“ ist unbekannt (z. B. Europe/Berlin).",
        ),
        (b"BEGIN:VCALENDAR", "Das ist keine Fahrplan-Datei"),
        (
            json.dumps({"schedule": {"conference": {"title": "X", "days": [{"index": 1}]}}}).encode(),
            "Tag 1: Der Tag hat keine Räume",
        ),
    ],
    ids=["broken json", "unknown zone", "not a schedule", "day without rooms"],
)
def test_a_broken_file_shows_where_and_writes_nothing(admin, upload_folder, data, german):
    before = state(SLUG)
    r = upload(admin, SLUG, data)
    page = r.get_data(as_text=True)
    assert r.status_code == 422
    assert re.search(r'<span class="error" id="file-err" role="alert">Nichts übernommen\. [^<]*', page)
    assert german in page, re.search(r'id="file-err"[^>]*>([^<]*)', page).group(1)
    assert "/import/apply" not in page
    assert state(SLUG) == before
    assert not upload_folder.exists() or not any(upload_folder.iterdir())  # nothing kept


def test_file_or_url_not_both_and_follow_needs_a_url(admin):
    r = admin.post(f"/staff/e/{SLUG}/import", data={})
    assert r.status_code == 422 and "Bitte eine Datei wählen oder eine Adresse angeben." in r.get_data(as_text=True)
    r = upload(admin, SLUG, PRETALX.read_bytes(), url="https://example.org/schedule.json")
    assert r.status_code == 422 and "entweder eine Datei" in r.get_data(as_text=True)
    r = upload(admin, SLUG, PRETALX.read_bytes(), follow="y")
    assert r.status_code == 422 and "nur einer Adresse" in r.get_data(as_text=True)
    r = admin.post(f"/staff/e/{SLUG}/import", data={"url": "http://127.0.0.1:9/nothing-listens-here"})
    assert r.status_code == 422 and "Die Adresse ist nicht erreichbar" in r.get_data(as_text=True)


def test_a_preview_made_stale_is_shown_again_before_anything_is_written(admin, new_event, auth):
    page = upload(admin, NEW, PRETALX.read_bytes()).get_data(as_text=True)
    admin.post(f"/staff/e/{NEW}/import/apply", data={"token": token_of(page)})
    page = upload(admin, NEW, FRAB.read_bytes()).get_data(as_text=True)
    assert counts_of(page)["sessions"] == (79, 0, 36)
    # meanwhile someone delays a session in the editor (so the preview would not be applied as shown)
    session = get_event(NEW).sessions[0]
    r = admin.patch(f"/api/v1/events/{NEW}/sessions/{session.id}", json={"delay_minutes": 5}, headers=auth)
    assert r.status_code == 200
    before = state(NEW)
    r = admin.post(f"/staff/e/{NEW}/import/apply", data={"token": token_of(page)})
    again = r.get_data(as_text=True)
    assert r.status_code == 409 and "Das Programm wurde seit der Vorschau geändert" in again
    assert state(NEW) == before
    r = admin.post(f"/staff/e/{NEW}/import/apply", data={"token": token_of(again)})
    assert r.status_code == 302 and len(state(NEW)["sessions"]) == 79


def test_an_upload_is_applied_once_and_only_by_who_made_it(app, admin, new_event, upload_folder):
    page = upload(admin, NEW, PRETALX.read_bytes()).get_data(as_text=True)
    token = token_of(page)
    colleague = login(app, "orga-2", events=[NEW])
    before = state(NEW)
    r = colleague.post(f"/staff/e/{NEW}/import/apply", data={"token": token})
    assert r.status_code == 302 and state(NEW) == before
    assert "Die Vorschau ist abgelaufen" in colleague.get(f"/staff/e/{NEW}/import").get_data(as_text=True)
    assert admin.post(f"/staff/e/{NEW}/import/apply", data={"token": token}).status_code == 302
    once = state(NEW)
    assert admin.post(f"/staff/e/{NEW}/import/apply", data={"token": token}).status_code == 302
    assert state(NEW) == once and once["revision"] == 1
    assert not any(upload_folder.iterdir())  # the upload went with the import
    # cancelling removes the kept file
    token = token_of(upload(admin, NEW, FRAB.read_bytes()).get_data(as_text=True))
    assert any(upload_folder.iterdir())
    admin.post(f"/staff/e/{NEW}/import/cancel", data={"token": token})
    assert not any(upload_folder.iterdir()) and state(NEW) == once


def test_other_events_organisers_and_anonymous_visitors_are_refused(app, new_event):
    client = Browser(app)
    owner = login(app, "orga-own", events=[NEW])
    token = token_of(upload(owner, NEW, PRETALX.read_bytes()).get_data(as_text=True))
    stranger = login(app, "orga-other", events=[SLUG])
    before = state(NEW)
    urls = [
        ("get", f"/staff/e/{NEW}/import", {}),
        ("post", f"/staff/e/{NEW}/import", {"url": "http://127.0.0.1:9/"}),
        ("post", f"/staff/e/{NEW}/import/apply", {"token": token}),
        ("post", f"/staff/e/{NEW}/import/cancel", {"token": token}),
        ("post", f"/staff/e/{NEW}/import/follow/pull", {}),
        ("post", f"/staff/e/{NEW}/import/follow/stop", {}),
    ]
    for method, url, data in urls:
        assert getattr(stranger, method)(url, data=data).status_code == 403, url
        r = getattr(client, method)(url, data=data)
        assert r.status_code == 302 and "/staff/login" in r.location, url
    assert state(NEW) == before
    assert owner.post(f"/staff/e/{NEW}/import/apply", data={"token": token}).status_code == 302
    assert state(NEW)["revision"] == 1  # the token survived the refused attempts


# ---- the API ---------------------------------------------------------------------------------------------------


def test_the_api_previews_then_imports_as_one_live_change(app, new_event, auth, socket_client):
    url = f"/api/v1/events/{NEW}/schedule/import"
    client = Browser(app)
    live = socket_client(slug=NEW)
    live.get_received("/live")
    before = state(NEW)
    r = client.post(url + "?dry_run=1", data=PRETALX.read_bytes(), headers=auth, content_type="application/json")
    assert r.status_code == 200, r.get_json()
    preview = r.get_json()["preview"]
    assert preview["counts"]["sessions"] == {"created": 36, "changed": 0, "removed": 0}
    assert preview["counts"]["speakers"]["created"] == 27 and len(preview["sessions"]["created"]) == 36
    assert state(NEW) == before

    # bad input: a broken file, a stale preview; nothing written, nothing sent
    r = client.post(url, data=bad_pretalx(), headers=auth)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_schedule"
    message = r.get_json()["error"]["message"]  # the API imports a file whole: a faulty session refuses it
    assert message == "Tag 2, Raum „Tan Room“, Programmpunkt 2 („Cross-group dedicated success“): „Dauer“ fehlt."
    r = client.post(url + "?lang=en", data=bad_pretalx(), headers=auth)
    assert r.get_json()["error"]["message"] == (
        "Day 2, room “Tan Room”, session 2 (“Cross-group dedicated success”): ‘Duration’ is missing."
    )
    r = client.post(url + "?expect=" + "0" * 64, data=PRETALX.read_bytes(), headers=auth)
    assert r.status_code == 409 and r.get_json()["error"]["preview"]["digest"] == preview["digest"]
    assert state(NEW) == before and live.get_received("/live") == []

    r = client.post(url + "?expect=" + preview["digest"], data=PRETALX.read_bytes(), headers=auth)
    assert r.status_code == 200 and r.get_json()["changed"] is True and r.get_json()["revision"] == 1
    assert r.get_json()["counts"] == {"rooms": 2, "sessions": 36, "speakers": 27, "topics": 2}
    [message] = [m["args"][0] for m in live.get_received("/live") if m["name"] == "change"]
    assert (
        message["kind"] == "agenda.imported" and message["revision"] == 1 and len(message["replace"]["sessions"]) == 36
    )
    r = client.post(url, data=PRETALX.read_bytes(), headers=auth)  # the same again: nothing to do
    assert r.get_json() == {**r.get_json(), "changed": False, "revision": 1}


def test_the_api_refuses_other_events_and_anonymous_callers(app, new_event):
    _, other = make_staff("api-other", quick=True, events=[SLUG])
    client = Browser(app)
    before = state(NEW)
    calls = [
        ("post", f"/api/v1/events/{NEW}/schedule/import"),
        ("get", f"/api/v1/events/{NEW}/schedule/follow"),
        ("put", f"/api/v1/events/{NEW}/schedule/follow"),
        ("post", f"/api/v1/events/{NEW}/schedule/follow/pull"),
        ("delete", f"/api/v1/events/{NEW}/schedule/follow"),
    ]
    for method, url in calls:
        kwargs = {"data": PRETALX.read_bytes()} if url.endswith("import") else {"json": {"url": "http://127.0.0.1:9/"}}
        r = getattr(client, method)(url, headers={"Authorization": f"Bearer {other}"}, **kwargs)
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden", url
        r = getattr(client, method)(url, **kwargs)
        assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized", url
    assert state(NEW) == before
