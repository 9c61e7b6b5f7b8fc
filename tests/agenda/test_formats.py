"""The standard formats: iCalendar, frab schedule.xml and c3voc schedule.json out; schedule.json and
schedule.xml in, as one transaction with one live change."""

import json
from datetime import datetime, timedelta
from pathlib import Path

import icalendar
import jsonschema
import pytest
from lxml import etree
from sqlalchemy import func, select

from tests.helpers import SLUG
from webapp.agenda import domain
from webapp.agenda.imports import ImportError_, import_schedule
from webapp.agenda.models import Room, Session, Speaker, Topic
from webapp.core.events import get_event, local_iso
from webapp.core.extensions import db
from webapp.core.models import Event
from webapp.live.models import Change

FORMATS = Path("/work/shared/formats")
pytestmark = pytest.mark.usefixtures("app")  # every test runs in the app context, on the demo event

PRETALX = FORMATS / "example-pretalx-democon.json"
FRAB = FORMATS / "example-frab-camp2019.json"


# ---- helpers ---------------------------------------------------------------------------------------------


def xml_schema():
    return etree.XMLSchema(etree.parse(str(FORMATS / "schedule.xml.xsd")))


def json_validator():
    schema = json.loads((FORMATS / "schedule.schema.json").read_text())
    return jsonschema.Draft6Validator(schema, format_checker=jsonschema.Draft6Validator.FORMAT_CHECKER)


def session_by_title(title, slug=SLUG):
    return db.session.execute(
        select(Session).join(Event).where(Event.slug == slug, Session.title == title)
    ).scalar_one()


def file_events(document):
    """Every event of a c3voc/pretalx schedule.json, in file order."""
    return [e for day in document["schedule"]["conference"]["days"] for events in day["rooms"].values() for e in events]


def json_events_by_guid(client, slug=SLUG):
    return {e["guid"]: e for e in file_events(client.get(f"/e/{slug}/schedule.json").json)}


def xml_events_by_guid(client, slug=SLUG):
    root = etree.fromstring(client.get(f"/e/{slug}/schedule.xml").data)
    return {e.get("guid"): e for e in root.iterfind("day/room/event")}


def ical_events(client, slug=SLUG):
    calendar = icalendar.Calendar.from_ical(client.get(f"/e/{slug}/agenda.ics").data)
    return calendar, {str(v["UID"]).removesuffix("@treffpunkt"): v for v in calendar.walk("VEVENT")}


def delay(client, auth, session, minutes):
    r = client.patch(f"/api/v1/events/{SLUG}/sessions/{session.id}", json={"delay_minutes": minutes}, headers=auth)
    assert r.status_code == 200


def database_state():
    """What a failed import must leave untouched."""
    return {
        "events": db.session.scalar(select(func.count(Event.id))),
        "sessions": db.session.scalar(select(func.count(Session.id))),
        "rooms": db.session.scalar(select(func.count(Room.id))),
        "changes": db.session.scalar(select(func.count(Change.id))),
        "titles": sorted(db.session.execute(select(Session.title)).scalars()),
        "revision": db.session.scalar(select(Event.revision).filter_by(slug=SLUG)),
    }


def agenda_essentials(slug):
    """What the Fahrplan formats carry of a session (they have one track, no status, no planned time)."""
    event = get_event(slug)
    db.session.refresh(event)
    return sorted(
        (
            s["title"],
            s["room"],
            s["start"],
            s["end"],
            tuple(s["speakers"]),
            s["kind"],
            s["abstract"],
            tuple(s["topics"][:1]),
        )
        for s in domain.agenda_json(event)["sessions"]
    )


# ---- exports ---------------------------------------------------------------------------------------------


def test_schedule_xml_validates_against_the_xsd(client):
    r = client.get(f"/e/{SLUG}/schedule.xml")
    assert r.status_code == 200 and r.mimetype == "application/xml"
    root = etree.fromstring(r.data)
    schema = xml_schema()
    assert schema.validate(root), schema.error_log
    assert root.findtext("conference/acronym") == "kl_2018"
    assert len(root.findall("day/room/event")) == 16
    assert [d.get("date") for d in root.iterfind("day")] == ["2018-10-26"]


def test_schedule_json_validates_against_the_schema(client):
    document = client.get(f"/e/{SLUG}/schedule.json").json
    errors = [f"{list(e.path)}: {e.message}" for e in json_validator().iter_errors(document)]
    assert errors == []
    conference = document["schedule"]["conference"]
    assert conference["acronym"] == "kl_2018" and conference["time_zone_name"] == "Europe/Berlin"
    assert len(file_events(document)) == 16
    opening = next(e for e in file_events(document) if e["title"] == "Begrüßung und Eröffnung")
    assert opening["date"] == "2018-10-26T14:00:00+02:00" and opening["start"] == "14:00"
    assert opening["duration"] == "00:15" and opening["room"] == "Forum" and opening["type"] == "opening"
    assert opening["persons"][0]["name"] == "Dr. Klaus Weichel"


def test_ical_has_one_vevent_per_session_in_berlin_time(client):
    calendar, vevents = ical_events(client)
    assert calendar["X-WR-TIMEZONE"] == "Europe/Berlin" and "Digitales Netzwerktreffen" in calendar["X-WR-CALNAME"]
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    sessions = get_event(SLUG).sessions
    assert set(vevents) == {s.guid for s in sessions}
    for session in sessions:
        vevent = vevents[session.guid]
        start = vevent.decoded("DTSTART")
        assert vevent["DTSTART"].params["TZID"] == "Europe/Berlin" and str(start.tzinfo) == "Europe/Berlin"
        assert start == session.planned_start and vevent.decoded("DTEND") == session.planned_end
        assert str(vevent["SUMMARY"]) == session.title and str(vevent["STATUS"]) == "CONFIRMED"
    opening = vevents[session_by_title("Begrüßung und Eröffnung").guid]
    assert str(opening["LOCATION"]) == "Forum, IT-Campus im PRE-Gelände, Kaiserslautern"
    assert "Dr. Klaus Weichel" in str(opening["DESCRIPTION"])


def test_a_delay_moves_the_session_in_all_three_exports(client, auth):
    park = session_by_title("Park App")
    planned_start, planned_end, guid = park.planned_start, park.planned_end, park.guid
    delay(client, auth, park, 10)
    moved = timedelta(minutes=10)

    _, vevents = ical_events(client)
    assert vevents[guid].decoded("DTSTART") == planned_start + moved
    assert vevents[guid].decoded("DTEND") == planned_end + moved
    assert int(vevents[guid]["SEQUENCE"]) == 1  # the revision: calendars take the update
    assert vevents[guid].decoded("LAST-MODIFIED") > vevents[guid].decoded("DTSTART")
    assert "+10 min" in str(vevents[guid]["DESCRIPTION"])

    event = json_events_by_guid(client)[guid]
    assert (event["date"], event["start"], event["duration"]) == ("2018-10-26T16:05:00+02:00", "16:05", "00:20")
    element = xml_events_by_guid(client)[guid]
    assert (element.findtext("date"), element.findtext("start")) == ("2018-10-26T16:05:00+02:00", "16:05")
    # the others stay where they were
    unchanged = session_by_title("Drohnenschule")
    assert vevents[unchanged.guid].decoded("DTSTART") == unchanged.planned_start


def test_a_cancelled_session_is_marked_in_ical_and_left_out_of_the_fahrplan(client, auth):
    klar = session_by_title("KLAR")
    r = client.patch(f"/api/v1/events/{SLUG}/sessions/{klar.id}", json={"status": "cancelled"}, headers=auth)
    assert r.status_code == 200
    _, vevents = ical_events(client)
    assert str(vevents[klar.guid]["STATUS"]) == "CANCELLED"
    assert sum(str(v["STATUS"]) != "CANCELLED" for v in vevents.values()) == 15
    assert klar.guid not in json_events_by_guid(client) and klar.guid not in xml_events_by_guid(client)
    assert xml_schema().validate(etree.fromstring(client.get(f"/e/{SLUG}/schedule.xml").data))
    assert not list(json_validator().iter_errors(client.get(f"/e/{SLUG}/schedule.json").json))


def test_a_session_without_room_and_a_late_delay_stay_valid_and_survive_the_round_trip(client, auth):
    r = client.post(
        f"/api/v1/events/{SLUG}/sessions",
        headers=auth,
        json={
            "title": "Nachtwanderung",
            "planned_start": "2018-10-26T23:30:00+02:00",
            "planned_end": "2018-10-27T00:30:00+02:00",
        },
    )
    assert r.status_code == 201
    delay(client, auth, session_by_title("Nachtwanderung"), 45)  # now starts on the next day
    root = etree.fromstring(client.get(f"/e/{SLUG}/schedule.xml").data)
    assert xml_schema().validate(root), xml_schema().error_log
    assert [d.get("date") for d in root.iterfind("day")] == ["2018-10-26", "2018-10-27"]
    document = client.get(f"/e/{SLUG}/schedule.json").json
    assert not list(json_validator().iter_errors(document))
    night = document["schedule"]["conference"]["days"][1]["rooms"][""][0]
    assert (night["title"], night["date"], night["room"]) == ("Nachtwanderung", "2018-10-27T00:15:00+02:00", "")
    _, vevents = ical_events(client)
    assert str(vevents[night["guid"]]["LOCATION"]) == "IT-Campus im PRE-Gelände, Kaiserslautern"  # venue only
    import_schedule("kl-copy", json.dumps(document).encode())
    assert session_by_title("Nachtwanderung", "kl-copy").room is None
    assert agenda_essentials("kl-copy") == agenda_essentials(SLUG)


# ---- imports ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [PRETALX, FRAB], ids=["pretalx", "frab"])
def test_import_of_the_example_files_creates_an_event(path):
    document = json.loads(path.read_text())
    events = file_events(document)
    calls = []
    event, counts = import_schedule(
        "imported", path.read_bytes(), progress=lambda done, total: calls.append((done, total))
    )
    assert counts == {
        "rooms": len({e["room"] for e in events}),
        "sessions": len(events),
        "speakers": len({p.get("public_name") or p.get("name") for e in events for p in e["persons"]}),
        "topics": len({e["track"] for e in events if e["track"]}),
    }
    assert calls[-1] == (len(events), len(events)) and len(calls) == len(events) + 1
    event = get_event("imported")
    conference = document["schedule"]["conference"]
    assert event.title == conference["title"] and event.timezone == conference["time_zone_name"]
    assert len(event.sessions) == len(events) and event.revision == 0
    assert db.session.scalar(select(func.count(Change.id)).where(Change.event_id == event.id)) == 0
    first = events[0]
    session = next(s for s in event.sessions if s.guid == first["guid"])  # guids kept
    assert session.planned_start == datetime.fromisoformat(first["date"])
    assert session.room.name == first["room"] and session.title == first["title"]
    assert session.kind in ("talk", "workshop", "other")


def test_types_map_to_kinds():
    event, _ = import_schedule("camp", FRAB.read_bytes())
    kinds = {s.kind for s in event.sessions}
    assert kinds == {"talk", "other"}  # lecture -> talk, performance -> other


def test_the_same_file_twice_gets_fresh_guids_for_the_second_event():
    first, _ = import_schedule("democon-a", PRETALX.read_bytes())
    second, _ = import_schedule("democon-b", PRETALX.read_bytes())
    assert len({s.guid for s in first.sessions} | {s.guid for s in second.sessions}) == 72


def test_a_schedule_xml_from_frab_xml_imports(client):
    event, counts = import_schedule("kl-xml", client.get(f"/e/{SLUG}/schedule.xml").data)
    assert counts == {"rooms": 4, "sessions": 16, "speakers": 4, "topics": 10}
    assert agenda_essentials("kl-xml") == agenda_essentials(SLUG)


def test_round_trip_through_schedule_json_keeps_the_agenda(client, auth):
    delay(client, auth, session_by_title("Park App"), 10)  # the export carries expected times
    exported = client.get(f"/e/{SLUG}/schedule.json").data
    event, counts = import_schedule("kl-copy", exported)
    assert counts == {"rooms": 4, "sessions": 16, "speakers": 4, "topics": 10}
    assert agenda_essentials("kl-copy") == agenda_essentials(SLUG)
    original, copy = get_event(SLUG), get_event("kl-copy")
    assert [(r.name, r.slug) for r in copy.rooms] == [(r.name, r.slug) for r in original.rooms]
    assert {(s.name, s.role) for s in copy.speakers} == {(s.name, s.role) for s in original.speakers}
    assert (copy.starts_at, copy.ends_at, copy.timezone) == (original.starts_at, original.ends_at, "Europe/Berlin")
    park = session_by_title("Park App", "kl-copy")
    assert park.delay_minutes == 0 and local_iso(park.planned_start, "Europe/Berlin") == "2018-10-26T16:05:00+02:00"

    # and the copy exports the same again (up to ids, guids and urls)
    def comparable(slug):
        return sorted(
            (e["title"], e["room"], e["date"], e["duration"], e["type"], tuple(p["name"] for p in e["persons"]))
            for e in json_events_by_guid(client, slug).values()
        )

    assert comparable("kl-copy") == comparable(SLUG)


def test_reimport_into_the_existing_event_is_one_live_change(client, socket_client):
    exported = json.loads(client.get(f"/e/{SLUG}/schedule.json").data)
    forum = exported["schedule"]["conference"]["days"][0]["rooms"]["Forum"]
    forum[0]["title"] = "Begrüßung"
    forum[1]["duration"] = "00:45"
    del forum[-1]  # "Ausblick" is dropped
    ids_before = {s.guid: s.id for s in get_event(SLUG).sessions}
    live = socket_client()
    live.get_received("/live")

    event, counts = import_schedule(SLUG, json.dumps(exported).encode(), actor="tester")

    assert counts["sessions"] == 15
    assert db.session.scalar(select(Event.revision).filter_by(slug=SLUG)) == 1
    change = db.session.execute(select(Change).where(Change.event_id == event.id)).scalar_one()
    assert (change.revision, change.kind, change.actor) == (1, "agenda.imported", "tester")
    messages = [m["args"][0] for m in live.get_received("/live") if m["name"] == "change"]
    assert len(messages) == 1
    message = messages[0]
    assert message["revision"] == 1 and message["kind"] == "agenda.imported"
    assert set(message["replace"]) == {"event", "rooms", "sessions"}
    titles = [s["title"] for s in message["replace"]["sessions"]]
    assert "Begrüßung" in titles and "Ausblick: die nächsten Netzwerktreffen" not in titles
    assert message["replace"] == {k: v for k, v in domain.agenda_json(get_event(SLUG)).items() if k != "announcements"}
    # sessions matched by guid keep their ids (links and the staff editor stay valid)
    assert all(ids_before[s.guid] == s.id for s in get_event(SLUG).sessions)


def test_a_new_event_has_no_live_change():
    event, _ = import_schedule("democon", PRETALX.read_bytes())
    assert event.revision == 0
    assert db.session.scalar(select(func.count(Change.id))) == 0


def test_reimport_replaces_rooms_speakers_and_topics(client):
    event, counts = import_schedule(SLUG, PRETALX.read_bytes())
    event = get_event(SLUG)
    assert [r.name for r in event.rooms] == ["Gray Room", "Tan Room"]
    assert counts["sessions"] == len(event.sessions) == 36
    assert db.session.scalar(select(func.count(Speaker.id)).where(Speaker.event_id == event.id)) == counts["speakers"]
    assert {t.name for t in event.topics} == {"Horizontal", "Phased"}
    assert db.session.scalar(select(func.count(Topic.id)).where(Topic.event_id == event.id)) == 2
    assert event.title.startswith("Digitales Netzwerktreffen")  # the event itself stays
    assert event.revision == 1


def bad_pretalx_without_start():
    document = json.loads(PRETALX.read_text())
    day = document["schedule"]["conference"]["days"][1]
    room = next(iter(day["rooms"]))
    del day["rooms"][room][2]["start"], day["rooms"][room][2]["date"]
    return json.dumps(document).encode(), "missing", f"Tag 2, Raum „{room}“, Programmpunkt 3"


XXE = (
    b'<?xml version="1.0"?>\n<!DOCTYPE schedule [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
    b"<schedule><version>1</version><conference><title>&secret;</title></conference>"
    b'<day index="1" date="2018-10-26" start="2018-10-26T10:00:00+02:00" end="2018-10-26T12:00:00+02:00">'
    b'<room name="Forum"><event id="1" guid="9e9a2b5c-5d8c-4c1e-9a3e-0e6f0c7c1a11"><room>Forum</room>'
    b"<title>&secret;</title><type>talk</type><date>2018-10-26T10:00:00+02:00</date><start>10:00</start>"
    b"<duration>00:30</duration><abstract/><track/></event></room></day></schedule>"
)

# (the file, the problem's stable key, the German message: outside a request the catalogue's own language)
BAD_FILES = {
    "broken json": (b'{"schedule": {"conference": ', "broken_json", "Fehlerhaftes JSON in Zeile 1, Spalte 29."),
    "broken xml": (b"<schedule><conference></schedule>", "broken_xml", "Fehlerhaftes XML in Zeile 1."),
    "json without schedule": (b'{"conference": {}}', "no_schedule", "Es fehlt das Objekt „schedule“"),
    "not a schedule": (b"BEGIN:VCALENDAR", "not_schedule", "Das ist keine Fahrplan-Datei"),
    "wrong xml root": (b"<html><body/></html>", "xml_root", "Das Wurzelelement ist <html>, nicht <schedule>."),
    "external entity": (XXE, "xml_entities", "XML mit Entity-Deklarationen"),
    "bad duration": (
        PRETALX.read_bytes().replace(b'"duration": "00:30"', b'"duration": "half an hour"', 1),
        "not_hhmm",
        "Tag 1, Raum „Gray Room“, Programmpunkt 1 („Focused 5thgeneration hardware“): „Dauer“ muss die Form "
        "HH:MM haben, nicht „half an hour“.",
    ),
    "unknown zone": (
        PRETALX.read_bytes().replace(b'"UTC"', b'"Mars/Olympus"'),
        "unknown_zone",
        "Konferenzangaben: Die Zeitzone „Mars/Olympus“ ist unbekannt",
    ),
}


@pytest.mark.parametrize("slug", [SLUG, "new-event"], ids=["existing", "new"])
@pytest.mark.parametrize("name", [*BAD_FILES, "event without start"])
def test_a_bad_file_is_refused_with_a_clear_message_and_changes_nothing(name, slug):
    data, problem, message = bad_pretalx_without_start() if name == "event without start" else BAD_FILES[name]
    before = database_state()
    with pytest.raises(ImportError_) as refused:
        import_schedule(slug, data)
    assert refused.value.code == "invalid_schedule" and refused.value.detail["problem"] == problem
    assert message in str(refused.value)
    if name == "event without start":
        assert str(refused.value).endswith("„Beginn“ fehlt.")
    assert database_state() == before


def test_a_failure_while_writing_leaves_the_event_as_it_was():
    before = database_state()

    def failing_progress(done, total):
        if done == 5:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        import_schedule(SLUG, PRETALX.read_bytes(), progress=failing_progress)
    assert database_state() == before
    assert get_event(SLUG).revision == 0


def test_a_new_event_needs_a_usable_slug():
    with pytest.raises(ImportError_, match="Der Kurzname „Not A Slug!“ passt nicht"):
        import_schedule("Not A Slug!", PRETALX.read_bytes())


# ---- CLI ---------------------------------------------------------------------------------------------------


def test_cli_imports_and_prints_counts(app):
    result = app.test_cli_runner().invoke(args=["schedule", "import", "kl-x", str(PRETALX)])
    assert result.exit_code == 0, result.output
    assert "Imported into kl-x: 2 rooms, 36 sessions, 27 speakers, 2 topics" in result.output
    assert len(get_event("kl-x").sessions) == 36


def test_cli_refuses_a_bad_file_with_the_message(app, tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_bytes(b'{"schedule": ')
    result = app.test_cli_runner().invoke(args=["schedule", "import", "kl-x", str(bad)])
    assert result.exit_code != 0
    assert "Fehlerhaftes JSON in Zeile 1" in result.output
    assert db.session.execute(select(Event).filter_by(slug="kl-x")).scalar_one_or_none() is None
