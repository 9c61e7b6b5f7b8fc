"""The servers under test and how the bench watches them: a Treffpunkt process as `make run` starts it (with
eventlet or gevent), two of them behind nginx with Redis (deploy/nginx.conf), or the Node.js socket.io
reference, each on a free 127.0.0.1 port; their CPU time and resident memory read from /proc; the Node
packages installed with npm into bench/node/node_modules."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
NODE_DIR = BENCH / "node"
sys.path.insert(0, str(ROOT))

from tests.server import ServerProcess, free_port  # noqa: E402

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


def server_pids(server):
    """The processes whose CPU time and memory count as the server's (two for a cluster)."""
    return getattr(server, "pids", None) or [server.pid]


def server_cpu(server):
    return sum(cpu_seconds(pid) for pid in server_pids(server))


def server_rss(server):
    return sum(rss_bytes(pid) for pid in server_pids(server))


def established(port):
    """Established TCP connections whose local port is `port` (from /proc/net/tcp: state 01)."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        count += state == "01" and int(local.rsplit(":", 1)[1], 16) == port
    return count


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


def cluster_missing():
    """Why the cluster row cannot run here, or None: it needs nginx and Redis on 127.0.0.1:6379."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        return "nginx is not installed (Debian: apt-get install nginx-light)"
    try:
        import redis

        redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means: no Redis to use
        return f"no Redis on 127.0.0.1:6379 ({exc})"
    return None


def nginx_site(upstream_ports, listen_port):
    """deploy/nginx.conf as documented, for the bench: plain HTTP on 127.0.0.1 (no certificate here) and the
    upstream processes' ports; the upstream, ip_hash, headers and websocket settings unchanged."""
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    site = site.split("# Plain http only redirects")[0]  # the port-80 redirect server
    servers = "".join(f"    server 127.0.0.1:{port} max_fails=3 fail_timeout=10s;\n" for port in upstream_ports)
    site = re.sub(r"(    server 127\.0\.0\.1:\d+ [^\n]*\n)+", servers, site)
    site = re.sub(r"    listen 443 ssl http2;[^\n]*\n", f"    listen 127.0.0.1:{listen_port};\n", site)
    site = re.sub(r"    listen \[::\]:443[^\n]*\n", "", site)
    site = re.sub(r"    ssl_[^\n]*\n", "", site)
    return site


class Cluster:
    """Two Treffpunkt processes (eventlet) on one database, with SOCKETIO_MESSAGE_QUEUE on Redis, behind
    nginx configured from deploy/nginx.conf. Clients reach nginx; ip_hash sends each client address's
    connections to one process, so the bench's clients come from two loopback addresses (127.0.0.1 and
    127.0.1.1: ip_hash looks at the first three octets, and these two land on different processes)."""

    name = "2× eventlet + Redis"
    source_addresses = ("127.0.0.1", "127.0.1.1")

    def __init__(self, workdir, redis_url="redis://127.0.0.1:6379/0"):
        self.workdir = Path(workdir)
        env = {"SOCKETIO_MESSAGE_QUEUE": redis_url, "PROXY_FIX": "1"}
        (self.workdir / "a").mkdir(parents=True, exist_ok=True)
        self.first = Treffpunkt(self.workdir / "a", "eventlet", env=env)
        database = self.first.server.env["DATABASE_URL"]
        (self.workdir / "b").mkdir(parents=True, exist_ok=True)
        self.second = ServerProcess(
            self.workdir / "b",
            async_mode="eventlet",
            env={"LIVE_MAX_PER_ADDRESS": "0", "DATABASE_URL": database, **env},
        )
        self.server = self.first.server  # for the bench's SQL and CLI helpers
        self.token = self.first.token
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.nginx = None

    def start(self):
        self.first.start()
        self.second.start()
        self.pids = [self.first.pid, self.second.proc.pid]
        self.backend_ports = [self.first.server.port, self.second.port]
        prefix = self.workdir / "nginx"
        for sub in ("logs", "tmp"):
            (prefix / sub).mkdir(parents=True, exist_ok=True)
        temp = "".join(
            f"    {kind}_temp_path {prefix / 'tmp' / kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        # Two workers: a proxied websocket holds two file descriptors in nginx, and one process may hold at
        # most 20,000 here.
        (prefix / "nginx.conf").write_text(
            "worker_processes 2;\nworker_rlimit_nofile 19000;\ndaemon off;\n"
            f"pid {prefix / 'nginx.pid'};\nerror_log {prefix / 'logs' / 'error.log'} warn;\n"
            "events { worker_connections 16000; }\n"
            "http {\n    access_log off;\n" + temp + nginx_site(self.backend_ports, self.port) + "}\n"
        )
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.nginx = subprocess.Popen(
            [nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
            stdout=subprocess.DEVNULL,
            stderr=open(prefix / "logs" / "stderr.log", "ab"),
            start_new_session=True,
        )
        import time

        for _ in range(100):
            try:
                if requests.get(self.base_url + "/healthz", timeout=1).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"nginx did not start: {(prefix / 'logs' / 'error.log').read_text()[-2000:]}")

    def connections(self):
        """Established connections on each Treffpunkt process."""
        return [established(port) for port in self.backend_ports]

    def stop(self, kill=False):
        if self.nginx and self.nginx.poll() is None:
            self.nginx.terminate()
            self.nginx.wait(10)
        self.second.stop(kill=kill)
        self.first.stop(kill=kill)

    def api(self, method, path, **kw):
        headers = {"Authorization": f"Bearer {self.token}", **kw.pop("headers", {})}
        return requests.request(method, self.base_url + path, headers=headers, timeout=10, **kw)

    def sql(self, query):
        return self.first.sql(query)

    def agenda(self):
        return requests.get(f"{self.base_url}/api/v1/events/kl-2018/agenda", timeout=10).json()
