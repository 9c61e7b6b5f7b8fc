"""The servers under test and how the bench watches them: a Treffpunkt process as `make run` starts it (with
eventlet or gevent) or the Node.js socket.io reference, each on a free 127.0.0.1 port; their CPU time and
resident memory read from /proc; the Node packages installed with npm into bench/node/node_modules."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
NODE_DIR = BENCH / "node"
sys.path.insert(0, str(ROOT))

from tests.server import ServerProcess  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_bytes(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def node_ready(progress):
    """npm install (once) of the pinned socket.io and ws into bench/node/node_modules."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise RuntimeError(
            "Node.js and npm are needed for the reference server and the load clients "
            "(Debian: apt-get install nodejs npm)"
        )
    if not (NODE_DIR / "node_modules" / "socket.io").is_dir() or not (NODE_DIR / "node_modules" / "ws").is_dir():
        progress("npm install socket.io 4.8.4 and ws into bench/node/node_modules")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR, check=True)
    return subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()


def copy_database(source, target):
    """A consistent copy of a SQLite database (WAL included), with SQLite's backup API."""
    import sqlite3

    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close(), dst.close()


class Treffpunkt:
    """A Treffpunkt server process with the demo event in a fresh SQLite database."""

    _template = None  # (database file, token) prepared once per bench, copied for every run

    def __init__(self, workdir, async_mode, env=None):
        self.name = async_mode
        # Thousands of clients from one address (127.0.0.1): no per-address cap on /live connections.
        self.server = ServerProcess(workdir, async_mode=async_mode, env={"LIVE_MAX_PER_ADDRESS": "0", **(env or {})})
        if Treffpunkt._template is None:
            self.server.prepare()
            template = Path(workdir).parent / "template.sqlite3"
            copy_database(self.server.workdir / "db.sqlite3", template)
            Treffpunkt._template = (template, self.server.token)
        else:
            copy_database(Treffpunkt._template[0], self.server.workdir / "db.sqlite3")
            self.server.token = Treffpunkt._template[1]
        self.base_url = self.server.base_url
        self.token = self.server.token

    def start(self):
        self.server.start()
        self.pid = self.server.proc.pid
        return self

    def stop(self, kill=False):
        self.server.stop(kill=kill)

    def api(self, method, path, **kw):
        return self.server.api(method, path, **kw)

    def sql(self, query):
        import sqlite3

        with sqlite3.connect(self.server.workdir / "db.sqlite3") as conn:
            return conn.execute(query).fetchall()

    def agenda(self):
        return requests.get(f"{self.base_url}/api/v1/events/kl-2018/agenda", timeout=10).json()


class NodeReference(ServerProcess):
    """bench/node/reference-server.mjs: socket.io 4.8 with the same /live messages and nothing else."""

    name = "node"
    token = None

    def command(self):
        return ["node", "reference-server.mjs", str(self.port)], NODE_DIR

    def start(self):
        super().start(timeout=20)
        self.pid = self.proc.pid
        return self
