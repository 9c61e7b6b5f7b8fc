"""Following a schedule URL (webapp/agenda/follow.py): a local HTTP server serves a copy of the pretalx
example; an organiser follows it from the import page; the served file is edited and pulled. A connected
/live client gets exactly the changed sessions as `change` messages (one per session, the right kind,
consecutive revisions) and nothing else; an unchanged file sends nothing; an HTTP error or a broken file is
recorded and changes nothing; the background task pulls when a pull is due."""

import copy
import hashlib
import http.server
import json
import re
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.helpers import in_own_context, make_staff
from webapp.agenda import follow
from webapp.agenda.domain import agenda_json
from webapp.agenda.imports import import_schedule
from webapp.agenda.models import Room, Session
from webapp.core.events import get_event
from webapp.core.extensions import db
from webapp.core.models import Event
from webapp.live.models import Change

PRETALX = Path("/work/shared/formats/example-pretalx-democon.json")
SLUG = "democon"
START = datetime(2020, 12, 14, 8, 0, tzinfo=timezone.utc)


# ---- the local schedule server ---------------------------------------------------------------------------------


class Served:
    """What the test server answers: the document (a c3voc/pretalx schedule.json as a dict) or raw bytes,
    a status, and whether it honours If-None-Match. Every request's headers are kept."""

    def __init__(self, document):
        self.document, self.raw, self.status, self.conditional, self.wait = document, None, 200, True, 0
        self.drip = False
        self.requests, self.url = [], ""

    @property
    def body(self):
        return self.raw if self.raw is not None else json.dumps(self.document, indent=1).encode()


def handler_for(served):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the stdlib's name)
            served.requests.append(dict(self.headers))
            time.sleep(served.wait)
            if served.status != 200:
                self.send_error(served.status)
                return
            if served.drip:  # headers at once, then a byte now and then
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                try:
                    for _ in range(50):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(0.1)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                return
            body = served.body
            etag = '"' + hashlib.sha1(body).hexdigest() + '"'
            if served.conditional and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", "Mon, 14 Dec 2020 07:00:00 GMT")
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (too big)
                pass

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def served():
    state = Served(json.loads(PRETALX.read_text()))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_for(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/democon/schedule/export/schedule.json"
    yield state
    server.shutdown()
    server.server_close()


# ---- editing the served file --------------------------------------------------------------------------------------


def events_of(document):
    return [
        (day, room, e)
        for day in document["schedule"]["conference"]["days"]
        for room, es in day["rooms"].items()
        for e in es
    ]


def find(document, title):
    return next((day, room, e) for day, room, e in events_of(document) if e["title"] == title)


def delay(document, title, minutes):
    _, _, e = find(document, title)
    start = datetime.fromisoformat(e["date"]) + timedelta(minutes=minutes)
    e["date"], e["start"] = start.isoformat(), start.strftime("%H:%M")


def move(document, title, room):
    day, old, e = find(document, title)
    day["rooms"][old].remove(e)
    day["rooms"].setdefault(room, []).append(e)
    e["room"] = room


def add(document, title, like, minutes_later=600):
    day, room, e = find(document, like)
    new = copy.deepcopy(e)
    start = datetime.fromisoformat(e["date"]) + timedelta(minutes=minutes_later)
    new.update(guid=str(uuid.uuid4()), id=9999, title=title, date=start.isoformat(), start=start.strftime("%H:%M"))
    day["rooms"][room].append(new)
    return new["guid"]


def remove(document, title):
    day, room, e = find(document, title)
    day["rooms"][room].remove(e)


# ---- helpers ------------------------------------------------------------------------------------------------------

DELAYED = "Focused 5thgeneration hardware"
MOVED = "Managed stable function"
CANCELLED = "Secured mobile concept"
ADDED = "Neu: Lagebericht aus der Verwaltung"


def Browser(app):  # noqa: N802  (reads like the class it stands for)
    return in_own_context(app, app.test_client(), expire=True)


@pytest.fixture(autouse=True)
def upload_folder(app, tmp_path):
    app.config["SCHEDULE_IMPORT_DIR"] = str(tmp_path / "schedule-imports")


@pytest.fixture
def organiser(app):
    db.session.add(Event(slug=SLUG, title="DemoCon", starts_at=START, ends_at=START + timedelta(days=3)))
    db.session.commit()
    make_staff("orga-democon", password="orga-pw-123", quick=True, events=[SLUG])
    browser = Browser(app)
    assert browser.post("/staff/login", data={"name": "orga-democon", "password": "orga-pw-123"}).status_code == 302
    return browser


def follow_through_the_page(browser, served):
    page = browser.post(f"/staff/e/{SLUG}/import", data={"url": served.url, "follow": "y"})
    assert page.status_code == 200, page.get_data(as_text=True)[-2000:]
    html = page.get_data(as_text=True)
    assert "Danach folgt Treffpunkt dieser Adresse." in html
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    r = browser.post(f"/staff/e/{SLUG}/import/apply", data={"token": token})
    assert r.status_code == 302
    row = follow.follow_of(get_event(SLUG))
    assert row is not None and row.url == served.url and row.etag.startswith('"')
    assert len(get_event(SLUG).sessions) == 36


def changes(live):
    return [m["args"][0] for m in live.get_received("/live") if m["name"] == "change"]


def everything_received(live):
    return [m for m in live.get_received("/live") if m["name"] not in ("heartbeat", "stats")]


def state_after(snapshot, messages):
    """What a phone's state becomes (static/js/live-state.js: sessions upserted by id, then `replace`)."""
    state = copy.deepcopy(snapshot)
    for message in messages:
        by_id = {s["id"]: s for s in state["sessions"]}
        for s in message.get("sessions", []):
            by_id[s["id"]] = s
        state["sessions"] = list(by_id.values())
        for key, value in (message.get("replace") or {}).items():
            state[key] = value
    return state


def by_id(sessions):
    return {s["id"]: s for s in sessions}


def database_state():
    return {
        "revision": db.session.scalar(select(Event.revision).filter_by(slug=SLUG)),
        "changes": db.session.scalar(select(func.count(Change.id))),
        "sessions": sorted(
            (s.guid, s.title, s.planned_start, s.room_id, s.status)
            for s in db.session.execute(select(Session).join(Event).where(Event.slug == SLUG)).scalars()
        ),
        "rooms": db.session.scalar(select(func.count(Room.id))),
    }


# ---- the acceptance test ----------------------------------------------------------------------------------------


def test_an_edited_file_reaches_live_clients_as_exactly_the_changed_sessions(organiser, served, socket_client):
    follow_through_the_page(organiser, served)
    event = get_event(SLUG)
    before = agenda_json(event)
    revision = event.revision
    ids = {s.title: s.id for s in event.sessions}
    live = socket_client(slug=SLUG)
    live.get_received("/live")

    delay(served.document, DELAYED, 10)
    move(served.document, MOVED, "Gray Room")
    served.document["schedule"]["conference"]["days"][0]["rooms"]["Gray Room"][2]["state"] = "CANCELED"
    added_guid = add(served.document, ADDED, like="Networked modular help-desk", minutes_later=60)

    started = time.perf_counter()
    r = organiser.post(f"/staff/e/{SLUG}/import/follow/pull")
    seconds = time.perf_counter() - started
    assert r.status_code == 302
    assert "4 Änderungen übernommen" in organiser.get(f"/staff/e/{SLUG}/import").get_data(as_text=True)

    received = everything_received(live)
    assert [m["name"] for m in received] == ["change"] * 4, received  # nothing else
    messages = [m["args"][0] for m in received]
    assert [m["revision"] for m in messages] == list(range(revision + 1, revision + 5))
    assert all(len(m["sessions"]) == 1 for m in messages)
    kinds = {m["sessions"][0]["title"]: m["kind"] for m in messages}
    assert kinds == {
        DELAYED: "session.delayed",
        MOVED: "session.moved",
        CANCELLED: "session.cancelled",
        ADDED: "session.added",
    }
    sent = {m["sessions"][0]["title"]: m["sessions"][0] for m in messages}
    assert sent[DELAYED]["id"] == ids[DELAYED] and sent[DELAYED]["start"] == "2020-12-14T09:10:00+01:00"
    assert sent[DELAYED]["end"] == "2020-12-14T09:40:00+01:00"
    assert sent[MOVED]["room"] == "Gray Room" and sent[MOVED]["id"] == ids[MOVED]
    assert sent[CANCELLED]["status"] == "cancelled"
    new = db.session.execute(select(Session).filter_by(guid=added_guid)).scalar_one()
    assert sent[ADDED]["id"] == new.id and sent[ADDED]["room"] == "Gray Room"
    # a phone that applies the four messages has the server's agenda
    after = agenda_json(get_event(SLUG))
    assert by_id(state_after(before, messages)["sessions"]) == by_id(after["sessions"])
    unchanged = [t for t in ids if t not in kinds]
    assert all(by_id(before["sessions"])[ids[t]] == by_id(after["sessions"])[ids[t]] for t in unchanged)
    summaries = {m["kind"]: m["summary"] for m in messages}
    assert summaries["session.delayed"] == f"{DELAYED}: 14.12. 09:00–09:30 → 14.12. 09:10–09:40"
    assert summaries["session.moved"] == f"{MOVED}: Tan Room → Gray Room"
    assert db.session.scalar(select(Change.actor).order_by(Change.id.desc()).limit(1)) == "orga-democon"
    print(f"\n[follow] pull of the edited pretalx example (36 sessions, 4 changes): {seconds * 1000:.0f} ms")

    # The same file again: a 304 (If-None-Match sent), nothing sent, the result says so.
    state = database_state()
    assert follow.pull(get_event(SLUG))["status"] == "unchanged"
    assert served.requests[-1].get("If-None-Match", "").startswith('"')
    assert served.requests[-1].get("If-Modified-Since") == "Mon, 14 Dec 2020 07:00:00 GMT"
    # and a server that ignores conditional requests: the body's hash says it is the same
    served.conditional = False
    assert follow.pull(get_event(SLUG))["status"] == "unchanged"
    assert everything_received(live) == [] and database_state() == state

    # Restored, and one taken out: session.restored, then session.removed with the sessions left.
    del served.document["schedule"]["conference"]["days"][0]["rooms"]["Gray Room"][2]["state"]
    remove(served.document, "Stand-alone asymmetric toolset")
    result = follow.pull(get_event(SLUG))
    assert result["status"] == "applied" and result["changes"] == 2
    messages = changes(live)
    assert [m["kind"] for m in messages] == ["session.restored", "session.removed"]
    assert [m["revision"] for m in messages] == [revision + 5, revision + 6]
    assert messages[0]["sessions"][0]["title"] == CANCELLED and messages[0]["sessions"][0]["status"] == "scheduled"
    left = messages[1]["replace"]["sessions"]
    assert ids["Stand-alone asymmetric toolset"] not in by_id(left) and len(left) == 36
    assert by_id(left) == by_id(agenda_json(get_event(SLUG))["sessions"])


def test_a_new_room_comes_with_the_first_change_and_editor_changes_stay(organiser, served, socket_client):
    follow_through_the_page(organiser, served)
    event = get_event(SLUG)
    # staff delay one session in the editor; the file does not touch it
    kept = next(s for s in event.sessions if s.title == "Secured grid-enabled policy")
    r = organiser.post(f"/staff/e/{SLUG}/sessions/{kept.id}/delay", data={"step": "15"})
    assert r.status_code == 302
    live = socket_client(slug=SLUG)
    live.get_received("/live")
    move(served.document, MOVED, "Ratssaal")
    result = follow.pull(get_event(SLUG))
    assert result == {**result, "status": "applied", "changes": 1}
    [message] = changes(live)
    assert message["kind"] == "session.moved" and message["sessions"][0]["room"] == "Ratssaal"
    assert [r["name"] for r in message["replace"]["rooms"]] == ["Gray Room", "Tan Room", "Ratssaal"]
    assert db.session.get(Session, kept.id).delay_minutes == 15  # not undone by the pull


def test_an_http_error_or_a_broken_file_is_recorded_and_changes_nothing(organiser, served, socket_client):
    follow_through_the_page(organiser, served)
    live = socket_client(slug=SLUG)
    live.get_received("/live")
    state = database_state()
    known_hash = follow.follow_of(get_event(SLUG)).body_hash

    delay(served.document, DELAYED, 10)  # a change that must not land while the server fails
    served.status = 500
    result = follow.pull(get_event(SLUG))
    assert result["status"] == "error" and result["code"] == "http" and result["detail"].startswith("500")
    page = organiser.get(f"/staff/e/{SLUG}/import").get_data(as_text=True)
    assert "Fehler: Der Server antwortete mit dem Fehler 500 statt mit der Datei." in page
    english = organiser.get(f"/staff/e/{SLUG}/import?lang=en").get_data(as_text=True)
    assert "Error: The server answered with error 500 instead of the file." in english
    organiser.get(f"/staff/e/{SLUG}/import?lang=de")

    served.status, served.raw = 200, b'{"schedule": {"conference": '
    r = organiser.post(f"/staff/e/{SLUG}/import/follow/pull")
    assert r.status_code == 302
    page = organiser.get(f"/staff/e/{SLUG}/import").get_data(as_text=True)
    assert "Fehler: Fehlerhaftes JSON in Zeile 1, Spalte 29." in page
    assert follow.follow_of(get_event(SLUG)).result["code"] == "invalid_schedule"

    served.raw = None
    bad = copy.deepcopy(served.document)
    del bad["schedule"]["conference"]["days"][1]["rooms"]["Tan Room"][0]["duration"]
    served.raw = json.dumps(bad).encode()
    result = follow.pull(get_event(SLUG))
    assert result["detail"] == {  # kept as what and where, described in the language of whoever reads it
        "problem": "missing",
        "where": {"day": 2, "room": "Tan Room", "event": 1, "title": "Advanced 24hour hub"},
        "params": {"field": "duration"},
    }
    page = organiser.get(f"/staff/e/{SLUG}/import").get_data(as_text=True)
    assert "Tag 2, Raum „Tan Room“, Programmpunkt 1 („Advanced 24hour hub“): „Dauer“ fehlt." in page
    english = organiser.get(f"/staff/e/{SLUG}/import?lang=en").get_data(as_text=True)
    assert "Day 2, room “Tan Room”, session 1 (“Advanced 24hour hub”): ‘Duration’ is missing." in english
    organiser.get(f"/staff/e/{SLUG}/import?lang=de")

    assert everything_received(live) == []
    assert database_state() == state
    assert follow.follow_of(get_event(SLUG)).body_hash == known_hash  # the next good file is compared with it

    served.raw = None  # the server is back: the delay arrives
    assert follow.pull(get_event(SLUG))["changes"] == 1
    assert [m["kind"] for m in changes(live)] == ["session.delayed"]


def test_only_http_and_https_urls(organiser):
    for url in ("file:///etc/passwd", "ftp://example.org/schedule.json", "https://user:pw@example.org/x", "nope"):
        with pytest.raises(follow.FetchError) as refused:
            follow.check_url(url)
        assert refused.value.code == "bad_url"
        r = organiser.post(f"/staff/e/{SLUG}/import", data={"url": url})
        assert r.status_code == 422
        assert "mit http:// oder https:// beginnt" in r.get_data(as_text=True)
    assert follow.follow_of(get_event(SLUG)) is None


def test_too_big_and_too_slow(served, app):
    served.raw = b"{" + b" " * (follow.MAX_BODY + 10) + b"}"
    with pytest.raises(follow.FetchError) as refused:
        follow.fetch(served.url)
    assert refused.value.code == "too_large"
    served.raw, served.wait = None, 1.0
    started = time.monotonic()
    with pytest.raises(follow.FetchError) as refused:
        follow.fetch(served.url, timeout=0.3)
    assert refused.value.code == "timeout" and time.monotonic() - started < 0.9
    served.wait, served.drip = 0, True  # every read gets a byte in time, the whole takes too long
    started = time.monotonic()
    with pytest.raises(follow.FetchError) as refused:
        follow.fetch(served.url, timeout=0.5)
    assert refused.value.code == "timeout" and time.monotonic() - started < 1.0


def test_the_background_task_pulls_when_due(organiser, served, socket_client, app):
    follow_through_the_page(organiser, served)
    live = socket_client(slug=SLUG)
    live.get_received("/live")
    delay(served.document, DELAYED, 10)
    row = follow.follow_of(get_event(SLUG))
    row.last_checked_at = checked = START - timedelta(hours=30)
    db.session.commit()
    requests = len(served.requests)

    # before the day before the start, after the end, and two minutes after the last check: not due
    assert follow.run_once(app, now=START - timedelta(days=2)) == {}
    assert follow.run_once(app, now=START + timedelta(days=4)) == {}
    assert follow.run_once(app, now=checked + timedelta(minutes=2)) == {}
    assert len(served.requests) == requests and changes(live) == []

    # a day before the start and more than five minutes after the last check: one pull, which applies the delay
    due = START - timedelta(hours=20)
    results = follow.run_once(app, now=due)
    assert list(results) == [SLUG] and results[SLUG]["status"] == "applied" and results[SLUG]["changes"] == 1
    assert len(served.requests) == requests + 1
    [message] = changes(live)
    assert message["kind"] == "session.delayed" and message["sessions"][0]["title"] == DELAYED
    db.session.expire_all()
    assert db.session.scalar(select(Change.actor).order_by(Change.id.desc()).limit(1)) == follow.AUTO_ACTOR
    assert follow.follow_of(get_event(SLUG)).last_checked_at == due
    # the same round again (a second server process): nothing is due
    assert follow.run_once(app, now=due) == {}
    assert follow.run_once(app, now=due + timedelta(minutes=5))[SLUG]["status"] == "unchanged"
    # SCHEDULE_FOLLOW_MINUTES is read from the app's config
    app.config["SCHEDULE_FOLLOW_MINUTES"] = 60
    assert follow.run_once(app, now=due + timedelta(minutes=30)) == {}
    assert list(follow.run_once(app, now=due + timedelta(minutes=66))) == [SLUG]


def test_the_task_is_registered_but_not_started_by_create_app(app):
    from webapp import _started

    assert follow.follow_loop in app.extensions["background_tasks"]
    assert follow.follow_loop not in _started  # only run.py / wsgi.py start it


def test_stop_following(organiser, served):
    follow_through_the_page(organiser, served)
    r = organiser.post(f"/staff/e/{SLUG}/import/follow/stop")
    assert r.status_code == 302 and follow.follow_of(get_event(SLUG)) is None
    assert len(get_event(SLUG).sessions) == 36  # the programme stays
    page = organiser.get(f"/staff/e/{SLUG}/import").get_data(as_text=True)
    assert "Gefolgte Adresse" not in page
    assert organiser.post(f"/staff/e/{SLUG}/import/follow/pull").status_code == 302
    assert "Diese Veranstaltung folgt keiner Adresse." in organiser.get(f"/staff/e/{SLUG}/import").get_data(
        as_text=True
    )


def test_following_through_the_api(app, served, socket_client, auth):
    db.session.add(Event(slug=SLUG, title="DemoCon", starts_at=START, ends_at=START + timedelta(days=3)))
    db.session.commit()
    client = Browser(app)
    url = f"/api/v1/events/{SLUG}/schedule/follow"
    assert client.get(url, headers=auth).get_json() == {"follow": None}
    # bad input: nothing followed, nothing written
    for body, status, code in (
        ({}, 400, "invalid"),
        ({"url": 5}, 400, "invalid"),
        ({"url": "ftp://example.org/schedule.json"}, 422, "bad_url"),
        ({"url": served.url, "extra": 1}, 400, "invalid"),
    ):
        r = client.put(url, json=body, headers=auth)
        assert r.status_code == status and r.get_json()["error"]["code"] == code, (body, r.get_json())
    served.status = 404
    r = client.put(url, json={"url": served.url}, headers=auth)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "http"
    assert follow.follow_of(get_event(SLUG)) is None and get_event(SLUG).revision == 0
    served.status = 200

    r = client.put(url, json={"url": served.url}, headers=auth)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["follow"]["url"] == served.url and r.get_json()["counts"]["sessions"] == 36
    assert client.get(url, headers=auth).get_json()["follow"]["result"] == {"status": "imported", "changes": 36}
    live = socket_client(slug=SLUG)
    live.get_received("/live")
    move(served.document, MOVED, "Gray Room")
    r = client.post(url + "/pull", headers=auth)
    assert r.status_code == 200 and r.get_json()["result"]["status"] == "applied"
    [message] = changes(live)
    assert message["kind"] == "session.moved" and r.get_json()["revision"] == message["revision"] == 2
    assert client.delete(url, headers=auth).get_json() == {"stopped": True}
    r = client.post(url + "/pull", headers=auth)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_following"


def test_the_cli_follows_pulls_and_stops(app, served):
    db.session.add(Event(slug=SLUG, title="DemoCon", starts_at=START, ends_at=START + timedelta(days=3)))
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["schedule", "follow", SLUG, served.url])
    assert result.exit_code == 0, result.output
    assert f"Following {served.url} for {SLUG}: 2 rooms, 36 sessions" in result.output
    delay(served.document, DELAYED, 10)
    result = runner.invoke(args=["schedule", "pull", SLUG])
    assert result.exit_code == 0 and json.loads(result.output)["changes"] == 1
    served.status = 500
    result = runner.invoke(args=["schedule", "pull", SLUG])
    assert result.exit_code == 1 and json.loads(result.output)["code"] == "http"
    assert runner.invoke(args=["schedule", "unfollow", SLUG]).output.strip() == "stopped"
    result = runner.invoke(args=["schedule", "follow", SLUG, "file:///etc/passwd"])
    assert result.exit_code != 0 and "bad_url" in result.output


@pytest.mark.parametrize("case", ["no guids in the file", "guids taken by another event"])
def test_sessions_without_usable_guids_are_matched_again(organiser, served, socket_client, case):
    if case == "no guids in the file":
        for _, _, e in events_of(served.document):
            del e["guid"]
    else:
        import_schedule("democon-copy", served.body)
    follow_through_the_page(organiser, served)
    live = socket_client(slug=SLUG)
    live.get_received("/live")
    delay(served.document, DELAYED, 10)
    assert follow.pull(get_event(SLUG))["changes"] == 1
    assert [m["kind"] for m in changes(live)] == ["session.delayed"]
