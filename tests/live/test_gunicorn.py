"""The documented gunicorn deployment (docs/deployment.md, deploy/treffpunkt@.service): the unit's own
ExecStart command — gunicorn with gevent-websocket's worker — serves websockets on /live, and a change made
through the API reaches a connected client with the next revision."""

import shlex
import subprocess
import sys

import pytest
import websocket

from tests.helpers import SLUG
from tests.live.client import LiveClient
from tests.server import ROOT, ServerProcess

UNIT = ROOT / "deploy" / "treffpunkt@.service"
WORKER = "geventwebsocket.gunicorn.workers.GeventWebSocketWorker"


def unit_command(port):
    """ExecStart of deploy/treffpunkt@.service for instance PORT, run with this interpreter."""
    text = UNIT.read_text().replace("\\\n", " ")
    line = next(row for row in text.splitlines() if row.startswith("ExecStart="))
    argv = shlex.split(line.removeprefix("ExecStart=").replace("%i", str(port)))
    assert argv[0].endswith("/.venv/bin/gunicorn"), argv
    return [sys.executable, "-m", "gunicorn", *argv[1:]]


# ServerProcess.prepare's four `flask --app wsgi …` commands, in one process (each start costs ~2.5 s).
PREPARE = """
from webapp import create_app
app = create_app()
runner = app.test_cli_runner()
for args in (["db", "upgrade"], ["demo"], ["staff", "add", "tester", "--role", "admin", "--password",
             "tester-password"], ["staff", "token", "tester"]):
    with app.app_context():  # as the `flask` command pushes one around every command
        result = runner.invoke(args=args)
    if result.exit_code:
        raise SystemExit(f"flask {' '.join(args)} failed: {result.output}{result.exception!r}")
print(result.output.strip().splitlines()[-1])
"""


class GunicornProcess(ServerProcess):
    def prepare(self):
        out = subprocess.run(
            [sys.executable, "-c", PREPARE], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120
        )
        if out.returncode:
            raise RuntimeError(f"preparing the database failed: {out.stderr[-2000:]}")
        self.token = out.stdout.strip().splitlines()[-1]
        return self

    def command(self):
        return unit_command(self.port), ROOT


@pytest.fixture(scope="module")
def gunicorn_server(tmp_path_factory):
    # ASYNC_MODE=eventlet in the environment on purpose: the unit's `--env ASYNC_MODE=gevent` must win, as
    # it does over an EnvironmentFile that names eventlet for run.py.
    proc = GunicornProcess(tmp_path_factory.mktemp("gunicorn"), async_mode="eventlet").prepare().start()
    yield proc
    proc.stop()


def test_the_unit_runs_gunicorn_with_the_gevent_websocket_worker(gunicorn_server):
    command, _ = gunicorn_server.command()
    assert command[command.index("--worker-class") + 1] == WORKER
    assert command[command.index("--workers") + 1] == "1"  # Socket.IO state lives in one process
    assert f"Using worker: {WORKER}" in gunicorn_server.log_path.read_text()


def test_a_staff_change_reaches_a_websocket_client_under_gunicorn(gunicorn_server):
    rev = gunicorn_server.api("GET", f"/api/v1/events/{SLUG}/agenda", token=False).json()["revision"]
    client = LiveClient(gunicorn_server.base_url)  # websocket transport only, no polling fallback
    try:
        assert client.sio.transport() == "websocket"
        assert client.wait_for(lambda c: c.received("synced"))
        assert client.revision == rev
        r = gunicorn_server.api("PATCH", f"/api/v1/events/{SLUG}/sessions/2", json={"delay_minutes": 5})
        assert r.status_code == 200 and r.json()["revision"] == rev + 1
        assert client.wait_revision(rev + 1, timeout=3)
        ((_, change),) = client.received("change")
        assert change["revision"] == rev + 1 and change["kind"] == "session.delayed"
        assert [s["delay_minutes"] for s in change["sessions"] if s["id"] == 2] == [5]
    finally:
        client.close()


def first_frame(server, origin):
    ws = websocket.create_connection(
        server.base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket", origin=origin, timeout=3
    )
    try:
        return ws.recv()
    except (websocket.WebSocketException, OSError):
        return ""
    finally:
        ws.close()


def test_a_websocket_from_a_foreign_origin_gets_no_session_under_gunicorn(gunicorn_server):
    # gevent-websocket completes the handshake (101) before the app runs; the origin check then closes the
    # socket before Engine.IO opens a session, so a foreign page gets nothing.
    assert first_frame(gunicorn_server, gunicorn_server.base_url).startswith('0{"sid"')
    assert not first_frame(gunicorn_server, "https://evil.example").startswith("0")
