"""A running session that takes longer (issue 13): its end moves, its start stays. Through the API, the staff
socket event and the editor; one live change each; a delay of a session that has begun is refused (API) or
turned into an overrun (editor); bad values and the wrong people change nothing.

The demo event (kl-2018, Fri 26.10.2018, Europe/Berlin) in the Forum: "Teilautonomes Fahren …" 15:35–15:55,
"Park App" 15:55–16:15, "Mobiles WLAN" 16:15–16:35, then nothing until "Ausblick" at 17:30. The agenda's
clock (`domain.utcnow`) is set to a moment of that afternoon."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from tests.helpers import SLUG, make_staff, signed_in
from webapp.agenda import domain
from webapp.agenda.models import Session
from webapp.core.errors import DomainError
from webapp.core.extensions import db
from webapp.core.models import Event
from webapp.live.models import Change

BUS = "Teilautonomes Fahren mit einem Bus in der Fußgängerzone"


def at(hhmm):
    return datetime.fromisoformat(f"2018-10-26T{hhmm}:00+02:00").astimezone(UTC)


def local(hhmm):
    return f"2018-10-26T{hhmm}:00+02:00"


@pytest.fixture
def clock(monkeypatch):
    """clock("15:45"): the agenda's domain functions take that moment of the event's day as now."""

    def set_to(hhmm):
        monkeypatch.setattr(domain, "utcnow", lambda: at(hhmm))

    return set_to


def by_title(title):
    return db.session.execute(select(Session).filter_by(title=title)).scalar_one()


def revision():
    return db.session.execute(select(Event.revision).filter_by(slug=SLUG)).scalar_one()


def rows():
    """Everything a refused request must leave as it was."""
    db.session.expire_all()
    sessions = db.session.execute(select(Session).order_by(Session.id)).scalars().all()
    return revision(), [(s.delay_minutes, s.overrun_minutes, s.sequence, s.room_id, s.status) for s in sessions]


def patch(client, headers, session_id, body):
    return client.patch(f"/api/v1/events/{SLUG}/sessions/{session_id}", json=body, headers=headers)


def changes_of(received):
    return [m["args"][0] for m in received if m["name"] == "change"]


def test_overrun_of_a_running_session_moves_its_end_only_in_one_broadcast_change(client, auth, socket_client, clock):
    clock("15:45")
    bus, park = by_title(BUS), by_title("Park App")
    sequence = bus.sequence
    phone = socket_client(since=0)
    phone.get_received("/live")

    r = patch(client, auth, bus.id, {"overrun_minutes": 10})

    assert r.status_code == 200, r.get_data(as_text=True)
    answer = r.json["session"]
    assert (answer["start"], answer["end"]) == (local("15:35"), local("16:05"))
    assert (answer["planned_end"], answer["delay_minutes"], answer["overrun_minutes"]) == (local("15:55"), 0, 10)
    assert r.json["revision"] == 1
    [change] = changes_of(phone.get_received("/live"))
    assert change["revision"] == 1 and change["kind"] == "session.overrun"
    assert [(s["id"], s["start"], s["end"], s["overrun_minutes"]) for s in change["sessions"]] == [
        (bus.id, local("15:35"), local("16:05"), 10)
    ]
    assert change["summary"] == f"{BUS}: überzieht um 10 min, endet um 16:05 Uhr"
    assert db.session.scalar(select(func.count(Change.id))) == 1
    db.session.expire_all()
    assert by_title(BUS).sequence == sequence + 1
    assert (by_title("Park App").delay_minutes, by_title("Park App").sequence) == (0, park.sequence)
    agenda = client.get(f"/api/v1/events/{SLUG}/agenda").json
    shown = next(s for s in agenda["sessions"] if s["id"] == bus.id)
    assert (shown["start"], shown["end"], shown["overrun_minutes"]) == (local("15:35"), local("16:05"), 10)
    snapshot = socket_client(since=None).get_received("/live")[0]["args"][0]
    assert next(s for s in snapshot["sessions"] if s["id"] == bus.id)["end"] == local("16:05")

    again = patch(client, auth, bus.id, {"overrun_minutes": 10})
    assert again.status_code == 200 and again.json["revision"] == 1, "nothing changed: the revision stays"


def test_shift_following_moves_the_sessions_that_would_start_before_the_new_end(client, auth, socket_client, clock):
    clock("15:50")
    bus = by_title(BUS)
    phone = socket_client(since=0)
    phone.get_received("/live")

    r = patch(client, auth, bus.id, {"overrun_minutes": 10, "shift_following": True})

    assert r.status_code == 200 and r.json["revision"] == 1
    [change] = changes_of(phone.get_received("/live"))
    moved = {s["title"]: (s["start"], s["end"]) for s in change["sessions"]}
    # Park App would start at 15:55, before the new end at 16:05; pushed to 16:05–16:25 it pushes Mobiles WLAN.
    assert moved == {
        BUS: (local("15:35"), local("16:05")),
        "Park App": (local("16:05"), local("16:25")),
        "Mobiles WLAN": (local("16:25"), local("16:45")),
    }
    assert "Ausblick: die nächsten Netzwerktreffen" not in moved, "17:30 is after the gap"
    assert "Drohnenschule" not in moved, "another room"
    assert change["summary"].endswith("danach im Raum 10 min später: Park App, Mobiles WLAN")
    db.session.expire_all()
    assert [by_title(t).sequence for t in ("Park App", "Mobiles WLAN", "Drohnenschule")] == [1, 1, 0]


def test_an_overrun_into_a_gap_moves_nothing_after_it(client, auth, clock):
    clock("16:30")
    wlan = by_title("Mobiles WLAN")
    r = patch(client, auth, wlan.id, {"overrun_minutes": 15, "shift_following": True})
    assert r.status_code == 200
    change = db.session.execute(select(Change)).scalar_one()
    assert [s["title"] for s in change.payload["sessions"]] == ["Mobiles WLAN"]


def test_ends_now_sets_the_end_to_the_minute_and_a_session_not_begun_cannot_end(app, auth, clock):
    make_staff("ops", password="pw-ops", quick=True)
    editor = signed_in(app, "ops", "pw-ops")
    clock("15:49")
    bus, park = by_title(BUS), by_title("Park App")

    page = editor.get(f"/staff/e/{SLUG}/").get_data(as_text=True)
    assert f'formaction="/staff/e/{SLUG}/sessions/{bus.id}/end"' in page
    r = editor.post(f"/staff/e/{SLUG}/sessions/{bus.id}/end", data={"shift_following": "1"})
    assert r.status_code == 302
    db.session.expire_all()
    bus = by_title(BUS)
    assert (domain.expected_start(bus), domain.expected_end(bus), bus.overrun_minutes) == (at("15:35"), at("15:49"), -6)
    change = db.session.execute(select(Change)).scalar_one()
    assert (change.kind, change.summary, change.revision) == ("session.overrun", f"{BUS}: beendet um 15:49 Uhr", 1)
    assert by_title("Park App").delay_minutes == 0, "ending early pulls nothing forward"

    before = rows()
    r = editor.post(f"/staff/e/{SLUG}/sessions/{park.id}/end", follow_redirects=True)
    assert "Park App“ hat noch nicht begonnen und kann daher nicht jetzt enden." in r.get_data(as_text=True)
    assert rows() == before
    with app.test_request_context(), pytest.raises(DomainError) as refused:
        domain.end_session_now(by_title(BUS).event, by_title("Park App"), now=at("15:50"))
    assert refused.value.code == "not_started" and rows() == before


def test_ends_now_rounds_to_the_minute_and_can_end_a_session_running_past_its_end(app, auth, clock):
    bus = by_title(BUS)
    change = domain.end_session_now(bus.event, bus, now=at("15:58").replace(second=40))
    assert change.kind == "session.overrun"
    db.session.expire_all()
    assert domain.expected_end(by_title(BUS)) == at("15:59") and by_title(BUS).overrun_minutes == 4


def test_a_delay_of_a_started_session_is_refused_by_the_api_with_the_overrun_to_use(client, auth, clock):
    clock("15:40")
    bus = by_title(BUS)
    before = rows()
    r = patch(client, auth, bus.id, {"delay_minutes": 10, "shift_following": True})
    assert r.status_code == 409
    error = r.json["error"]
    assert error["code"] == "session_started" and error["overrun_minutes"] == 10
    assert error["field"] == "delay_minutes"  # the message names no field key, only what to do instead
    assert "hat um 15:35 Uhr begonnen" in error["message"] and "„überzieht“" in error["message"]
    assert "_minutes" not in error["message"]
    assert rows() == before
    # Before its start a delay moves it, as ever; an overrun is refused then.
    clock("15:30")
    before = rows()
    r = patch(client, auth, bus.id, {"overrun_minutes": 5})
    assert r.status_code == 409 and r.json["error"]["code"] == "not_started" and rows() == before
    r = patch(client, auth, bus.id, {"delay_minutes": 10})
    assert r.status_code == 200 and r.json["session"]["start"] == local("15:45")


def test_the_editor_offers_overrun_buttons_for_a_running_session_and_delay_buttons_before(app, clock):
    make_staff("ops", password="pw-ops", quick=True)
    editor = signed_in(app, "ops", "pw-ops")
    clock("15:45")
    bus, park = by_title(BUS), by_title("Park App")
    page = editor.get(f"/staff/e/{SLUG}/").get_data(as_text=True)
    row = page[page.index(f'id="s{bus.id}"') : page.index(f'id="s{park.id}"')]
    assert 'data-phase="running"' in row and "data-delay" not in row and 'data-step="' not in row
    for step in (5, 10, 15):
        assert f'aria-label="überzieht +{step} min: {BUS}">+{step}</button>' in row
    assert "jetzt beendet" in row and "Folgende Programmpunkte im Raum mitverschieben" in row
    later = page[page.index(f'id="s{park.id}"') :]
    later = later[: later.index("</tr>")]
    assert 'data-phase="upcoming"' in later and 'data-step="10"' in later and "data-overrun-step" not in later

    r = editor.post(f"/staff/e/{SLUG}/sessions/{bus.id}/overrun", data={"step": "10", "shift_following": "1"})
    assert r.status_code == 302 and r.location.endswith(f"#s{bus.id}")
    db.session.expire_all()
    assert (by_title(BUS).overrun_minutes, by_title(BUS).delay_minutes) == (10, 0)
    assert by_title("Park App").delay_minutes == 10 and revision() == 1
    page = editor.get(f"/staff/e/{SLUG}/").get_data(as_text=True)
    assert "überzieht um 10 min" in page and "bis 16:05" in page
    log = editor.get(f"/staff/e/{SLUG}/changes").get_data(as_text=True)
    assert "läuft 10 Minuten länger, bis 16:05 Uhr; danach 2 Programmpunkte 10 Minuten später: Park App" in log
    assert editor.post(f"/staff/e/{SLUG}/sessions/{bus.id}/overrun", data={"step": "7"}).status_code == 400
    assert revision() == 1


def test_the_editor_turns_a_delay_from_an_older_page_into_an_overrun_and_says_so(app, clock):
    make_staff("ops", password="pw-ops", quick=True)
    editor = signed_in(app, "ops", "pw-ops")
    clock("15:40")
    bus = by_title(BUS)
    r = editor.post(f"/staff/e/{SLUG}/sessions/{bus.id}/delay", data={"step": "10"}, follow_redirects=True)
    text = r.get_data(as_text=True)
    assert "hat schon begonnen: Der Beginn bleibt, nur das Ende ist verschoben, auf 16:05 Uhr." in text
    db.session.expire_all()
    bus = by_title(BUS)
    assert (bus.delay_minutes, bus.overrun_minutes, domain.expected_start(bus)) == (0, 10, at("15:35"))
    assert db.session.execute(select(Change.kind)).scalar_one() == "session.overrun"


def test_the_editor_rehearses_with_a_simulated_time(app):
    """?at= as on the phone and projector pages: the demo event, seven years ago, as if it were 15:40."""
    make_staff("ops", password="pw-ops", quick=True)
    editor = signed_in(app, "ops", "pw-ops")
    bus = by_title(BUS)
    page = editor.get(f"/staff/e/{SLUG}/").get_data(as_text=True)
    assert "Probelauf: so bearbeiten, als wäre es 15:40 Uhr am Veranstaltungstag" in page
    assert 'data-phase="past"' in page and "data-overrun-step" not in page, "today the demo day is history"
    page = editor.get(f"/staff/e/{SLUG}/?at=2018-10-26T15:40").get_data(as_text=True)
    assert "Probelauf mit simulierter Uhrzeit" in page and "data-overrun-step" in page
    assert 'name="at" value="2018-10-26T15:40:00+02:00"' in page
    r = editor.post(f"/staff/e/{SLUG}/sessions/{bus.id}/overrun", data={"step": "5", "at": "2018-10-26T15:40:00+02:00"})
    assert r.status_code == 302 and "?at=2018-10-26T15:40:00%2B02:00#s" in r.location
    db.session.expire_all()
    assert by_title(BUS).overrun_minutes == 5


@pytest.mark.parametrize(
    "body",
    [
        {"overrun_minutes": "10"},
        {"overrun_minutes": 2.5},
        {"overrun_minutes": True},
        {"overrun_minutes": None},
        {"overrun_minutes": 361},
        {"overrun_minutes": -361},
        {"overrun_minutes": -20},  # the 20-minute pitch would end at its start
        {"overrun_minutes": 10, "shift_following": "yes"},
        {"overrun_minutes": 10, "overrun": 5},
    ],
)
def test_bad_overruns_are_400_and_change_nothing(client, auth, clock, body):
    clock("15:45")
    before = rows()
    r = patch(client, auth, by_title(BUS).id, body)
    assert r.status_code == 400, r.get_data(as_text=True)
    assert r.json["error"]["code"] in ("invalid", "unknown_field")
    assert rows() == before


def test_only_staff_of_this_event_may_overrun(app, client, auth, clock):
    clock("15:45")
    start = datetime(2019, 6, 5, 8, tzinfo=UTC)
    db.session.add(Event(slug="trier-2019", title="Netzwerktreffen Trier 2019", starts_at=start, ends_at=start))
    db.session.commit()
    _, other_organiser = make_staff("org-trier", events=["trier-2019"], quick=True)
    _, door = make_staff("door", role="scanner", quick=True)
    bus = by_title(BUS)
    before = rows()
    for headers, status in (
        ({}, 401),
        ({"Authorization": "Bearer nope"}, 401),
        ({"Authorization": f"Bearer {door}"}, 403),
        ({"Authorization": f"Bearer {other_organiser}"}, 403),
    ):
        r = patch(client, headers, bus.id, {"overrun_minutes": 10})
        assert r.status_code == status, (headers, r.status_code)
    anonymous = app.test_client()
    assert anonymous.post(f"/staff/e/{SLUG}/sessions/{bus.id}/overrun", data={"step": "10"}).status_code == 302
    assert anonymous.post(f"/staff/e/{SLUG}/sessions/{bus.id}/end").status_code == 302
    assert rows() == before


def test_the_staff_socket_event_takes_overrun_minutes_too(app, socket_client, clock):
    clock("15:45")
    make_staff("ops", password="pw-ops", quick=True)
    admin = app.test_client()
    admin.post("/staff/login", data={"name": "ops", "password": "pw-ops"})
    c = socket_client(since=0, flask_client=admin)
    bus = by_title(BUS)
    ack = c.emit("update_session", {"id": bus.id, "overrun_minutes": 5}, namespace="/live", callback=True)
    assert ack["revision"] == 1 and ack["session"]["end"] == local("16:00")
    ack = c.emit("update_session", {"id": bus.id, "delay_minutes": 5}, namespace="/live", callback=True)
    assert ack["error"]["code"] == "session_started" and revision() == 1
