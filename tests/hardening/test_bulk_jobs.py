"""Long jobs must not stall the door. A guest list of 7.9 MB used to hold every check-in of a real server for
more than 12 s (one ORM object and flush per row, in one request that never let others run), a schedule of
20,000 sessions for about 11 s (the same, under the database's write lock). Now the rows are made ready
first (split, checked, their values converted for the driver), pausing for other requests every few hundred
rows, and written with set-wise statements in one short transaction. A door phone scanning every 50 ms
meanwhile gets every answer, none slower than the bound."""

import json
import re
import sqlite3
import subprocess
import sys
import threading
import time
import uuid

import requests

from tests.helpers import SLUG
from tests.server import ROOT


def big_guest_list(size=7_900_000):
    cities = ["Trier", "Mayen", "Koblenz", "Landau in der Pfalz", "Kusel"]
    lines = ["Anrede;Vorname;Nachname;Kommune;Organisation;Funktion;E-Mail"]
    n, total = 0, 0
    while total < size:
        line = (
            f"Frau;Erika{n};Mustermann-Beispielname{n};{cities[n % 5]};Stadtverwaltung {cities[n % 5]} Amt "
            f"für Digitalisierung und Organisation;Digitalisierungsbeauftragte;erika{n}@stadt-{n % 5}.example"
        )
        lines.append(line)
        total += len(line.encode()) + 2
        n += 1
    return ("\r\n".join(lines) + "\r\n").encode(), n


def big_schedule(sessions=20_000, rooms=20):
    names = [f"Saal {i}" for i in range(rooms)]
    days, n = [], 0
    for d in range(5):
        day = {
            "index": d + 1,
            "date": f"2018-10-{22 + d:02d}",
            "day_start": f"2018-10-{22 + d:02d}T08:00:00+02:00",
            "day_end": f"2018-10-{23 + d:02d}T04:00:00+02:00",
            "rooms": {r: [] for r in names},
        }
        for i in range(sessions // 5):
            hours, minutes = divmod(8 * 60 + i // rooms, 60)
            day["rooms"][names[i % rooms]].append(
                {
                    "guid": str(uuid.UUID(int=n + 1)),
                    "id": n + 1,
                    "start": f"{hours % 24:02d}:{minutes:02d}",
                    "duration": "00:30",
                    "room": names[i % rooms],
                    "title": f"Vortrag {n}",
                    "track": f"Track {n % 10}",
                    "type": "lecture",
                    "language": "de",
                    "abstract": "",
                    "persons": [{"public_name": f"Person {n % 500}"}],
                }
            )
            n += 1
        days.append(day)
    return json.dumps(
        {
            "schedule": {
                "version": "1",
                "conference": {
                    "acronym": "kl_2018",
                    "title": "Groß",
                    "time_zone_name": "Europe/Berlin",
                    "rooms": [{"name": r} for r in names],
                    "days": days,
                },
            }
        }
    ).encode()


class Door(threading.Thread):
    """A door phone: one new guest's code after the other, every 50 ms, until stopped."""

    def __init__(self, server, codes):
        super().__init__(daemon=True)
        self.server, self.codes, self.stop = server, list(codes), threading.Event()
        self.times, self.answers = [], []

    def run(self):
        while not self.stop.is_set() and self.codes:
            sent = time.monotonic()
            r = requests.post(
                self.server.base_url + f"/api/v1/events/{SLUG}/checkins",
                timeout=60,
                headers={"Authorization": f"Bearer {self.server.token}"},
                json={"code": self.codes.pop(), "nonce": str(uuid.uuid4())},
            )
            self.times.append(time.monotonic() - sent)
            self.answers.append((r.status_code, r.json().get("result")))
            time.sleep(0.05)


def door_for(server, n=400):
    codes = [
        server.api("POST", f"/api/v1/events/{SLUG}/guests", json={"name": f"Tür {i}", "city": "Trier"}).json()["code"]
        for i in range(n)
    ]
    door = Door(server, codes)
    door.start()
    time.sleep(0.3)
    return door


def finish(door, bound):
    door.stop.set()
    door.join(60)
    assert door.answers and all(answer == (200, "ok") for answer in door.answers), door.answers[:5]
    slowest = max(door.times)
    assert slowest < bound, f"a check-in waited {slowest:.2f} s during the job"
    return slowest


def staff_session(server):
    from tests.security.conftest import csrf_of

    server.flask("staff", "add", "bulk-admin", "--role", "admin", "--password", "bulk-admin-pw")
    browser = requests.Session()
    page = browser.get(server.base_url + "/staff/login", timeout=10)
    r = browser.post(
        server.base_url + "/staff/login",
        timeout=10,
        allow_redirects=False,
        data={"name": "bulk-admin", "password": "bulk-admin-pw", "csrf_token": csrf_of(page.text)},
    )
    assert r.status_code == 302, r.text[:300]
    return browser


def test_a_big_guest_list_through_the_page_leaves_the_door_working(servers, tmp_path):
    from tests.hardening.conftest import figure
    from tests.security.conftest import csrf_of

    server = servers("csv")
    data, rows = big_guest_list()
    browser = staff_session(server)
    form = browser.get(server.base_url + f"/staff/e/{SLUG}/guests/import", timeout=10)
    door = door_for(server)
    started = time.monotonic()
    preview = browser.post(
        server.base_url + f"/staff/e/{SLUG}/guests/import",
        timeout=120,
        files={"file": ("gaeste.csv", data, "text/csv")},
        data={"csrf_token": csrf_of(form.text)},
    )
    assert preview.status_code == 200, preview.text[:300]
    upload_id = re.search(r'name="upload_id" type="hidden" value="([^"]+)"', preview.text).group(1)
    done = browser.post(
        server.base_url + f"/staff/e/{SLUG}/guests/import/confirm",
        timeout=120,
        allow_redirects=False,
        data={"upload_id": upload_id, "csrf_token": csrf_of(preview.text)},
    )
    assert done.status_code == 302
    took = time.monotonic() - started
    slowest = finish(door, bound=2.0)
    stats = server.api("GET", f"/api/v1/events/{SLUG}/stats", token=False).json()
    assert stats["registered"] >= rows
    figure(
        "bulk guest list",
        f"{len(data) / 1e6:.1f} MB, {rows} rows: preview + import {took:.1f} s; "
        f"{len(door.times)} check-ins meanwhile, slowest {slowest * 1000:.0f} ms",
    )


def test_a_big_schedule_import_leaves_the_door_working(servers, tmp_path):
    from tests.hardening.conftest import figure

    server = servers("schedule")
    path = tmp_path / "schedule.json"
    path.write_bytes(big_schedule())
    door = door_for(server)
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "schedule", "import", SLUG, str(path)],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    took = time.monotonic() - started
    assert out.returncode == 0, out.stderr[-1000:]
    slowest = finish(door, bound=4.0)
    with sqlite3.connect(server.workdir / "db.sqlite3") as con:
        assert con.execute("SELECT count(*) FROM session").fetchone()[0] == 20_000
    figure(
        "bulk schedule",
        f"20,000 sessions imported by the CLI in {took:.1f} s; {len(door.times)} check-ins "
        f"meanwhile, slowest {slowest * 1000:.0f} ms",
    )
