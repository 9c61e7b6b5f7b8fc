"""A real Treffpunkt server process for tests: migrated SQLite database with the demo event, `python run.py`
on a free 127.0.0.1 port, an admin bearer token. Used by the live tests and the browser tests."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    def __init__(self, workdir, async_mode="eventlet", env=None):
        self.workdir = Path(workdir)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{self.workdir / 'db.sqlite3'}",
            "SECRET_KEY": "test-server-secret",
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "ASYNC_MODE": async_mode,
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.proc = None
        self.log_path = self.workdir / "server.log"
        self.verify = True  # for HTTPS (CERT_FILE): the certificate to trust

    def flask(self, *args):
        """Run `flask --app wsgi ARGS` against this server's database; returns stdout."""
        out = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if out.returncode:
            raise RuntimeError(f"flask {' '.join(args)} failed: {out.stderr[-2000:]}")
        return out.stdout

    def prepare(self):
        self.flask("db", "upgrade")
        self.flask("demo")
        self.flask("staff", "add", "tester", "--role", "admin", "--password", "tester-password")
        self.token = self.flask("staff", "token", "tester").strip().splitlines()[-1]
        return self

    def command(self):
        """What serves: `python run.py`, as `make run` does (subclasses serve otherwise)."""
        return [sys.executable, "run.py"], ROOT

    def launch(self):
        """Start the process without waiting for it to answer."""
        self.log = open(self.log_path, "ab")
        command, cwd = self.command()
        self.proc = subprocess.Popen(
            command, cwd=cwd, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    def start(self, timeout=30):
        self.launch()
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
            try:
                if requests.get(self.base_url + "/healthz", timeout=1, verify=self.verify).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log_path.read_text()[-3000:]}")

    def stop(self, kill=False):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        if self.proc:
            self.log.close()
        self.proc = None

    def restart(self):
        self.stop()
        return self.start()

    def api(self, method, path, token=True, **kw):
        headers = kw.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {self.token if token is True else token}"
        return requests.request(method, self.base_url + path, headers=headers, timeout=10, **kw)
