"""Fan-out and check-in storm: many /live clients (bench/node/load-client.mjs) against one server, while the
server's CPU time and memory are read from /proc around the measured window.

fan-out: N clients connected (websocket; or long-polling, the polling rows); staff changes at a steady rate;
  each change must reach every client once.
  Reported: delivery latency p50/p99/max (change sent → message on the client), lost and duplicate messages,
  server CPU per delivered message (CPU time of the window ÷ messages delivered; heartbeats, pings and the
  staff request itself included, for every server alike) and memory per connection.
storm: 2,000 clients connected; 20 ticket scans per second for 60 s: scan answer time, how long until every
  client that shows the counters (all of them, or a few projectors among phones on the agenda, which connect
  with "stats": false) shows the final count, server CPU.
reconnect: N clients connected, the server killed (SIGKILL, as a crash or a power cut) and started again, one
  change made at once while the phones are away; the phones come back with socket.io's default back-off:
  time from the first close until every phone is at the current revision. The Node reference restarts the
  same way, its phones reconnect and then get the broadcast they missed (it keeps no history to catch up)."""

import json
import subprocess
import threading
import time
import uuid

from servers import NODE_DIR, server_cpu, server_rss

EVENT = "kl-2018"


def run_clients(server, config, progress, timeout, on_phase=None):
    """Run the load client against `server`; returns its result plus the server's CPU and memory figures."""
    config = {"url": server.base_url, "event": EVENT, "token": server.token, "runId": uuid.uuid4().hex[:8], **config}
    if getattr(server, "source_addresses", None):  # phone i connects from address i mod n
        config["localAddresses"] = list(server.source_addresses)
    rss_idle = server_rss(server)
    proc = subprocess.Popen(
        ["node", "load-client.mjs", json.dumps(config)],
        cwd=NODE_DIR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    marks, result, error = {}, None, None
    watchdog = threading.Timer(timeout, proc.kill)  # a hung server or client must not hang the bench
    watchdog.start()
    try:
        for line in proc.stdout:
            msg = json.loads(line)
            kind = msg.get("type")
            if kind == "phase":
                marks[msg["phase"]] = (time.monotonic(), server_cpu(server), server_rss(server))
                if on_phase:
                    answer = on_phase(msg["phase"], server)
                    if answer is not None:  # the client waits for it on stdin
                        proc.stdin.write(json.dumps(answer) + "\n")
                        proc.stdin.flush()
            elif kind == "progress":
                if "message" in msg:
                    progress(f"  {server.name}: {msg['message']}")
                else:
                    progress(
                        f"  {server.name}: {msg['connected']}/{msg['of']} connected"
                        + (f", {msg['failed']} failed" if msg["failed"] else "")
                    )
            elif kind == "result":
                result = msg
            elif kind == "error":
                error = msg["message"]
        proc.wait(10)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
    if result is None:
        raise RuntimeError(
            f"load client failed or ran longer than {timeout:.0f} s: {error or proc.stderr.read()[-2000:]}"
        )
    if config.get("drop") == "server":  # the process was replaced: no CPU window across two processes
        marks["measured"] = marks["measuring"]
    (t0, cpu0, _), (t1, cpu1, _) = marks["measuring"], marks["measured"]
    result["drop"] = config.get("drop")
    rss_connected = marks["connected"][2]
    result.update(
        server=server.name,
        server_cpu_s=round(cpu1 - cpu0, 3),
        window_s=round(t1 - t0, 2),
        server_cpu_share=round((cpu1 - cpu0) / (t1 - t0), 3) if t1 > t0 else None,
        rss_idle_mb=round(rss_idle / 2**20, 1),
        rss_connected_mb=round(rss_connected / 2**20, 1),
        memory_per_connection_kb=round((rss_connected - rss_idle) / 1024 / max(result["clients"], 1), 1),
    )
    return result


def fanout(server, clients, changes, rate, progress, payload=None, on_phase=None, transport="websocket"):
    """Connect `clients` (websocket, or Engine.IO long-polling), send `changes` changes at `rate` per second,
    measure their delivery."""
    config = {
        "mode": "fanout",
        "transport": transport,
        "clients": clients,
        "changes": changes,
        "rate": rate,
        "concurrency": 100,
        "drainMs": 20000,
    }
    if server.name == "node":
        config.update(target="reference", since=None, payload=payload)
    else:
        agenda = server.agenda()
        config.update(
            target="treffpunkt",
            since=agenda["revision"],
            sessions=[s["id"] for s in agenda["sessions"] if s["status"] == "scheduled"][:8],
        )
    result = run_clients(server, config, progress, timeout=120 + clients / 20 + changes / rate, on_phase=on_phase)
    delivered = result["delivered"]
    result["cpu_per_message_us"] = round(result["server_cpu_s"] / delivered * 1e6, 2) if delivered else None
    result["cpu_per_change_ms"] = (
        round(result["server_cpu_s"] / result["changes"] * 1e3, 2) if result["changes"] else None
    )
    return result


def reconnect(server, clients, progress, payload=None, drop="server"):
    """Connect `clients`, then drop them all at once — drop="server": kill and restart the server; "client":
    every client closes its connection (a Wi-Fi outage) — and measure how soon every client is current."""
    config = {"mode": "reconnect", "drop": drop, "clients": clients, "concurrency": 100, "drainMs": 90000}
    if server.name == "node":
        config.update(target="reference", since=None, payload=payload)
    else:
        agenda = server.agenda()
        config.update(target="treffpunkt", since=agenda["revision"])
        session = next(s["id"] for s in agenda["sessions"] if s["status"] == "scheduled")

    def on_phase(phase, server):
        if phase != "drop":
            return None
        answer = {}
        if drop == "server":
            t0 = time.monotonic()
            server.stop(kill=True)
            server.start()
            answer["restart_s"] = round(time.monotonic() - t0, 2)
        if server.name != "node":  # the change the phones missed while away
            answer["revision"] = server.api(
                "PATCH", f"/api/v1/events/{EVENT}/sessions/{session}", json={"delay_minutes": 5}
            ).json()["revision"]
        return answer

    return run_clients(server, config, progress, timeout=180 + clients / 20, on_phase=on_phase)


def storm(server, clients, rate, seconds, progress, watchers=None):
    """`rate` scans per second for `seconds` while `clients` are connected, `watchers` of them (default: all)
    showing the counters (Treffpunkt servers only)."""
    scans = int(rate * seconds)
    import_guests(server, scans)
    codes = [
        code
        for (code,) in server.sql(
            "SELECT code FROM guest WHERE status = 'registered' "
            "AND id NOT IN (SELECT guest_id FROM check_in) ORDER BY id"
        )
    ][:scans]
    before = server.sql("SELECT COUNT(*) FROM check_in")[0][0]
    config = {
        "mode": "storm",
        "clients": clients,
        "watchers": clients if watchers is None else watchers,
        "scans": scans,
        "rate": rate,
        "codes": codes,
        "checkedInBefore": before,
        "since": server.agenda()["revision"],
        "concurrency": 100,
        "drainMs": 15000,
    }
    result = run_clients(server, config, progress, timeout=180 + clients / 20 + seconds)
    result["cpu_per_scan_ms"] = round(result["server_cpu_s"] / scans * 1e3, 2)
    return result


def import_guests(server, count):
    """`count` guests through the CSV import, as a mayor's office list would arrive."""
    path = server.server.workdir / "guests.csv"
    towns = ["Kaiserslautern", "Trier", "Mainz", "Worms", "Speyer", "Landau in der Pfalz", "Mayen"]
    rows = ["Name;Ort;Organisation"] + [f"Gast {i};{towns[i % len(towns)]};Stadtverwaltung" for i in range(count)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    server.server.flask("guests", "import", EVENT, str(path))
