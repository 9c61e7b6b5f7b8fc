"""Calendar subscriptions with a real subscription client: vdirsyncer (from PyPI) pulls the agenda feed and a
guest's starred-sessions feed from a real server process into a folder, twice; the second pull sees the
delay and the cancellation made in between, with a higher SEQUENCE, and no entry more or less.

vdirsyncer's http storage replaces every UID by a hash of the entry's content (it is made for feeds whose
UIDs change with each download), so the folder's entries are matched by their URL (`…#s<session id>`), and
that the UIDs stay the same is checked on the feed itself."""

import shutil
import subprocess
import sys
from pathlib import Path

import icalendar
import pytest

from tests.helpers import SLUG, server_guest

VDIRSYNCER = Path(sys.executable).with_name("vdirsyncer")


def pull(workdir, name, url):
    """vdirsyncer syncing the feed at `url` (read-only http storage) into workdir/name/; the entries there."""
    if not VDIRSYNCER.exists():
        pytest.fail("vdirsyncer is missing: it is in requirements-dev.txt (make install-dev)")
    local = workdir / name
    local.mkdir(exist_ok=True)
    config = workdir / f"{name}.conf"
    config.write_text(
        "[general]\n"
        f'status_path = "{workdir / (name + "-status")}"\n\n'
        f"[pair {name}]\n"
        f'a = "{name}_remote"\nb = "{name}_local"\ncollections = null\nconflict_resolution = "a wins"\n\n'
        f"[storage {name}_remote]\n"
        f'type = "http"\nurl = "{url}"\n\n'
        f"[storage {name}_local]\n"
        f'type = "filesystem"\npath = "{local}"\nfileext = ".ics"\n'
    )
    for command in (["discover"], ["sync"]):
        done = subprocess.run(
            [str(VDIRSYNCER), "-c", str(config), *command],
            capture_output=True,
            text=True,
            timeout=60,
            input="y\n" * 5,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    entries = {}
    for path in local.glob("*.ics"):
        for vevent in icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT"):
            entries[str(vevent["URL"]).rpartition("#")[2]] = vevent
    return entries


def feed_uids(server, url):
    body = server.api("GET", url.removeprefix(server.base_url), token=False).content
    return {str(v["URL"]).rpartition("#")[2]: str(v["UID"]) for v in icalendar.Calendar.from_ical(body).walk("VEVENT")}


def session_of(server, title_part):
    agenda = server.api("GET", f"/api/v1/events/{SLUG}/agenda", token=False).json()
    return next(s for s in agenda["sessions"] if title_part in s["title"] and s["status"] != "cancelled")


def test_the_agenda_subscription_sees_a_delay_at_the_next_pull(server, tmp_path):
    first = pull(tmp_path, "agenda", f"{server.base_url}/e/{SLUG}/agenda.ics")
    assert len(first) >= 10
    session = session_of(server, "Park App")
    key = f"s{session['id']}"
    before = first[key]
    uids = feed_uids(server, f"{server.base_url}/e/{SLUG}/agenda.ics")
    assert uids[key] == f"{session['guid']}@treffpunkt"

    r = server.api("PATCH", f"/api/v1/events/{SLUG}/sessions/{session['id']}", json={"delay_minutes": 15})
    assert r.status_code == 200, r.text
    second = pull(tmp_path, "agenda", f"{server.base_url}/e/{SLUG}/agenda.ics")
    after = second[key]
    assert set(second) == set(first)  # no entry added or lost
    assert feed_uids(server, f"{server.base_url}/e/{SLUG}/agenda.ics") == uids  # the same entries
    assert (after.decoded("DTSTART") - before.decoded("DTSTART")).total_seconds() == 15 * 60
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    server.api("PATCH", f"/api/v1/events/{SLUG}/sessions/{session['id']}", json={"delay_minutes": 0})


def test_a_guests_starred_sessions_follow_a_cancellation(server, tmp_path):
    guest = server_guest(server, "Abonnentin")
    ticket = guest["ticket_url"].split("/t/", 1)[1]
    starred = [session_of(server, "Park App"), session_of(server, "Digitale Dörfer")]
    r = server.api("PUT", f"/t/{ticket}/favourites", token=False, json={"sessions": [s["id"] for s in starred]})
    assert r.status_code == 200, r.text
    calendar = r.json()["calendar"]
    assert calendar["webcal"].startswith("webcal://127.0.0.1:") and ticket not in calendar["url"]

    first = pull(tmp_path, "mine", calendar["url"])
    assert set(first) == {f"s{s['id']}" for s in starred}
    uids = feed_uids(server, calendar["url"])
    cancelled = starred[1]
    r = server.api("PATCH", f"/api/v1/events/{SLUG}/sessions/{cancelled['id']}", json={"status": "cancelled"})
    assert r.status_code == 200, r.text
    try:
        second = pull(tmp_path, "mine", calendar["url"])
        entry = second[f"s{cancelled['id']}"]
        assert str(entry["STATUS"]) == "CANCELLED"
        assert int(entry["SEQUENCE"]) > int(first[f"s{cancelled['id']}"]["SEQUENCE"])
        assert set(second) == set(first)
        assert feed_uids(server, calendar["url"]) == uids
    finally:
        server.api("PATCH", f"/api/v1/events/{SLUG}/sessions/{cancelled['id']}", json={"status": "scheduled"})
    shutil.rmtree(tmp_path / "mine", ignore_errors=True)


def test_favourites_are_checked_and_the_feed_needs_its_own_secret(server):
    guest = server_guest(server, "Prüferin")
    ticket = guest["ticket_url"].split("/t/", 1)[1]
    for body in ({"sessions": "alle"}, {"sessions": [True]}, {"sessions": [10**9]}, {"sessions": list(range(501))}):
        r = server.api("PUT", f"/t/{ticket}/favourites", token=False, json=body)
        assert r.status_code == 400, (body, r.text)
    assert server.api("GET", f"/t/{ticket}/favourites", token=False).json()["sessions"] == []
    assert server.api("GET", f"/c/{ticket}.ics", token=False).status_code == 404  # the ticket token is no feed
    assert (
        server.api(
            "PUT", "/t/not-a-ticket-token-at-all-0000000000/favourites", token=False, json={"sessions": []}
        ).status_code
        == 404
    )
