"""The bench: `make bench` (or `.venv/bin/python bench/run.py`). Only 127.0.0.1 (and 127.0.1.1 as a second client address); about 18–28 minutes.

1. fan-out — 100, 1,000, 2,000 and 5,000 /live clients on Treffpunkt with eventlet, with gevent, and on the
   Node.js socket.io 4.8 reference server (bench/node/reference-server.mjs), all driven by the same client
   (bench/node/load-client.mjs); plus, at 2,000 clients, Treffpunkt without the direct broadcast write
   (LIVE_FAST_SEND=0) to show what it changed;
2. check-in storm — 20 scans/s for 60 s with 2,000 clients connected: 20 projectors showing the counters among
   phones on the agenda (which ask for no counters), and all 2,000 watching the counters (eventlet and gevent);
3. reconnect storm — 2,000 and 5,000 clients dropped at once (Wi-Fi) or the server restarted, against Node;
4. scale — 10,000 clients on one process, on the same publishing through Redis, on two processes behind
   nginx with Redis (deploy/nginx.conf; needs nginx and Redis on 127.0.0.1:6379, else those rows are
   skipped), and on Node;
5. long-polling — 1,000 clients that poll instead of holding a websocket (a network that lets none
   through), fan-out on eventlet, gevent and Node: what such a client costs in memory and CPU;
6. page weight — agenda, projector, board and scanner pages in Chromium, first visit and revisit.

Progress goes to stderr; the tables to stdout; everything to bench/results/bench.json and a picture to
bench/results/bench.png. `--quick` is a smaller run (100/1,000 clients, a 10-s storm) to try the bench.
Each Treffpunkt run starts a fresh server (`python run.py`, as `make run` does) on a fresh SQLite database."""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import live_load  # noqa: E402
from servers import ROOT, Cluster, NodeReference, Treffpunkt, cluster_missing, node_ready  # noqa: E402

RESULTS = BENCH / "results"
SERVERS = ("eventlet", "gevent", "node")
_started = time.monotonic()


def progress(message):
    elapsed = int(time.monotonic() - _started)
    print(f"[bench {elapsed // 60:2d}:{elapsed % 60:02d}] {message}", file=sys.stderr, flush=True)


def machine():
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": platform.platform(),
        "commit": commit,
    }


def reference_payload(message_bytes):
    """A change payload for the reference server whose `change` frame has the size of Treffpunkt's."""
    payload = {
        "kind": "session.delayed",
        "summary": "Begrüßung und Eröffnung: +5 min",
        "at": datetime.now(timezone.utc).isoformat(),
        "sessions": [{"id": 2, "abstract": ""}],
    }
    frame = len(
        '42/live,["change",' + json.dumps({**payload, "revision": 1}, separators=(",", ":"), ensure_ascii=False) + "]"
    )
    payload["sessions"][0]["abstract"] = "x" * max(0, message_bytes - frame)
    return payload


def start(kind, workdir, env=None):
    server = NodeReference(workdir) if kind == "node" else Treffpunkt(workdir, kind, env=env)
    return server.start()


def run_fanout(sizes, changes, rate, baseline_size, repeat, workdir):
    """Every server at every size; at `baseline_size` (the size the goal is set at) `repeat` rounds, taken in
    turn (eventlet, gevent, node, eventlet, …) so that a busy moment of the machine hits all of them."""
    runs, message_bytes = [], 744
    plan = [(n, kind, None) for n in sizes for _ in range(repeat if n == baseline_size else 1) for kind in SERVERS]
    if baseline_size:  # what the direct write changed: the library's queue and writer task for every message
        plan += [(baseline_size, kind, {"LIVE_FAST_SEND": "0"}) for kind in ("eventlet", "gevent")]
    for i, (clients, kind, env) in enumerate(plan, 1):
        label = kind + (" (queued writes)" if env else "")
        progress(f"fan-out {i}/{len(plan)}: {clients} clients on {label}")
        server = start(kind, Path(tempfile.mkdtemp(dir=workdir)), env)
        try:
            result = live_load.fanout(
                server, clients, changes, rate, progress, payload=reference_payload(message_bytes)
            )
        finally:
            server.stop()
        if kind != "node" and result.get("message_bytes"):
            message_bytes = result["message_bytes"]
        result["label"] = label
        result["fast_send"] = env is None
        runs.append(result)
        progress(
            f"  {result['delivered']}/{result['expected']} delivered, p99 {fmt(result['latency']['p99_ms'])} ms,"
            f" {fmt(result['cpu_per_message_us'])} µs CPU per message"
        )
    return combine(runs)


def combine(runs):
    """One row per server and size: the median round (by CPU per message) with the range of all rounds, and
    the ratio of medians to the Node reference with the same number of clients."""
    rows = []
    for run in runs:
        same = [r for r in runs if (r["label"], r["clients"]) == (run["label"], run["clients"])]
        if run is not same[0]:
            continue
        cpu = sorted(r["cpu_per_message_us"] for r in same if r["cpu_per_message_us"] is not None)
        median = sorted(same, key=lambda r: r["cpu_per_message_us"] or 0)[len(same) // 2]
        rows.append(
            {
                **median,
                "rounds": len(same),
                "cpu_per_message_range_us": [cpu[0], cpu[-1]] if cpu else None,
                "lost": sum(r["lost"] for r in same),
                "all_rounds": same if len(same) > 1 else None,
            }
        )
    for row in rows:
        node = next((r for r in rows if r["server"] == "node" and r["clients"] == row["clients"]), None)
        row["ratio_to_node"] = (
            round(row["cpu_per_message_us"] / node["cpu_per_message_us"], 2)
            if node and node["cpu_per_message_us"] and row["cpu_per_message_us"]
            else None
        )
    return rows


STORM_SCREENS = 20  # projectors and dashboards showing the counters at an event of 2,000


def run_storm(clients, rate, seconds, workdir):
    runs = []
    for kind, watchers in ((k, w) for k in ("eventlet", "gevent") for w in (STORM_SCREENS, clients)):
        progress(
            f"check-in storm on {kind}: {clients} clients, {watchers} showing the counters, "
            f"{rate} scans/s for {seconds} s"
        )
        server = start(kind, Path(tempfile.mkdtemp(dir=workdir)))
        try:
            result = live_load.storm(server, clients, rate, seconds, progress, watchers=watchers)
        finally:
            server.stop()
        runs.append(result)
        progress(
            f"  {result['results']}; answers p99 {fmt(result['answer']['p99_ms'])} ms; "
            f"{result['clients_converged']}/{result['watchers']} watching clients at the final count; "
            f"{fmt(result['cpu_per_scan_ms'])} ms CPU per scan"
        )
    return runs


def run_reconnect(sizes, workdir, message_bytes=744):
    """The reconnect storm at each size, Treffpunkt (eventlet) and the Node reference in turn."""
    runs = []
    for clients, drop, kind in ((c, d, k) for c in sizes for d in ("client", "server") for k in ("eventlet", "node")):
        how = "all clients drop at once" if drop == "client" else "server killed and restarted"
        progress(f"reconnect storm: {clients} clients on {kind}, {how}")
        server = start(kind, Path(tempfile.mkdtemp(dir=workdir)))
        try:
            result = live_load.reconnect(server, clients, progress, payload=reference_payload(message_bytes), drop=drop)
        finally:
            server.stop()
        runs.append(result)
        progress(
            f"  {result['current']}/{result['clients']} current after {fmt(result['all_current_s'])} s"
            f" (restart {fmt(result.get('restart_s'))} s, connect {fmt(result['connect_s'])} s)"
        )
    for run in runs:
        node = next(
            (r for r in runs if r["server"] == "node" and (r["clients"], r["drop"]) == (run["clients"], run["drop"])),
            None,
        )
        run["ratio_to_node"] = (
            round(run["all_current_s"] / node["all_current_s"], 2)
            if node and node["all_current_s"] and run["all_current_s"]
            else None
        )
    return runs


REDIS_QUEUE = "redis://127.0.0.1:6379/0"


def run_scale(clients, changes, rate, workdir, message_bytes=744):
    """`clients` /live clients on one Treffpunkt process, on the same process publishing through Redis (what
    the message queue adds), on two processes behind nginx with Redis (deploy/nginx.conf), and on Node."""
    missing = cluster_missing()
    plan = [
        ("eventlet", None),
        ("eventlet + Redis queue", {"SOCKETIO_MESSAGE_QUEUE": REDIS_QUEUE}),
        ("cluster", None),
        ("node", None),
    ]
    runs = []
    for i, (label, env) in enumerate(plan, 1):
        if missing and (env or label == "cluster"):
            progress(f"scale {i}/{len(plan)}: {label} skipped: {missing}")
            continue
        progress(f"scale {i}/{len(plan)}: {clients} clients on {label}")
        directory = Path(tempfile.mkdtemp(dir=workdir))
        server = (
            Cluster(directory, REDIS_QUEUE).start() if label == "cluster" else start(label.split()[0], directory, env)
        )
        split = {}

        def on_phase(phase, server, split=split):
            if phase == "connected" and hasattr(server, "connections"):
                split["per_process"] = server.connections()

        try:
            result = live_load.fanout(
                server, clients, changes, rate, progress, payload=reference_payload(message_bytes), on_phase=on_phase
            )
        finally:
            server.stop()
        result["label"] = server.name if label == "cluster" else label
        result["per_process"] = split.get("per_process")
        runs.append(result)
        progress(
            f"  {result['delivered']:,}/{result['expected']:,} delivered, p99 {fmt(result['latency']['p99_ms'])} ms,"
            f" {fmt(result['cpu_per_message_us'])} µs CPU per message"
            + (f", clients per process {result['per_process']}" if result["per_process"] else "")
        )
    alone = next((r for r in runs if r["label"] == "eventlet"), None)
    for run in runs:
        node = next((r for r in runs if r["server"] == "node"), None)
        run["ratio_to_node"] = (
            round(run["cpu_per_message_us"] / node["cpu_per_message_us"], 2)
            if node and node["cpu_per_message_us"] and run["cpu_per_message_us"]
            else None
        )
        run["added_ms"] = (
            {p: round(run["latency"][p] - alone["latency"][p], 1) for p in ("p50_ms", "p99_ms")}
            if alone and run is not alone and run["server"] != "node"
            else None
        )
    return {"clients": clients, "runs": runs, "skipped": missing}


def run_polling(clients, changes, rate, workdir, message_bytes=744):
    """The fan-out with long-polling clients on every server: memory and CPU of a client without websocket."""
    runs = []
    for kind in SERVERS:
        progress(f"long-polling: {clients} clients on {kind}")
        server = start(kind, Path(tempfile.mkdtemp(dir=workdir)))
        try:
            result = live_load.fanout(
                server, clients, changes, rate, progress, payload=reference_payload(message_bytes), transport="polling"
            )
        finally:
            server.stop()
        result["label"] = kind
        runs.append(result)
        progress(
            f"  {result['delivered']:,}/{result['expected']:,} delivered, p99 {fmt(result['latency']['p99_ms'])} ms,"
            f" {fmt(result['memory_per_connection_kb'])} KiB per client"
        )
    return combine(runs)


def run_pages():
    import page_weight

    try:
        return page_weight.measure(progress=lambda m: progress(f"pages: {m}"))
    except page_weight.ChromiumNotFound as exc:
        progress(f"pages skipped: {exc}")
        return {"skipped": str(exc)}


def fmt(value, digits=1):
    if value is None:
        return "–"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def print_table(headers, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    print("  ".join(str(h).rjust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).rjust(w) for c, w in zip(row, widths)))
    print()


def print_fanout_table(rows):
    """The fan-out's rows (and the long-polling rows, the same measurement): one per server and size."""
    print_table(
        [
            "clients",
            "server",
            "delivered",
            "lost",
            "p50 ms",
            "p99 ms",
            "max ms",
            "CPU µs/msg",
            "rounds: range",
            "vs Node",
            "CPU ms/change",
            "KiB/conn",
            "connect s",
        ],
        [
            [
                f"{r['clients']:,}",
                r["label"],
                f"{r['delivered']:,}/{r['expected']:,}",
                r["lost"],
                fmt(r["latency"]["p50_ms"]),
                fmt(r["latency"]["p99_ms"]),
                fmt(r["latency"]["max_ms"]),
                fmt(r["cpu_per_message_us"]),
                f"{r['rounds']}: {fmt(r['cpu_per_message_range_us'][0])}–{fmt(r['cpu_per_message_range_us'][1])}"
                if r["rounds"] > 1
                else "1",
                fmt(r["ratio_to_node"], 2),
                fmt(r["cpu_per_change_ms"]),
                fmt(r["memory_per_connection_kb"]),
                fmt(r["connect_s"]),
            ]
            for r in rows
        ],
    )


def report(results):
    if results.get("fanout"):
        print("Fan-out: changes to every /live client (server CPU per delivered message; ratio to Node)")
        print("Per row the median round; lost counts all rounds.")
        print_fanout_table(results["fanout"])
    if results.get("storm"):
        print("Check-in storm: scans at a steady rate; some or all of the clients show the counters")
        print_table(
            [
                "server",
                "clients",
                "watching",
                "scans",
                "results",
                "answer p50 ms",
                "p99 ms",
                "max ms",
                "converged",
                "converge ms",
                "unwanted stats",
                "server CPU",
                "CPU ms/scan",
            ],
            [
                [
                    r["server"],
                    f"{r['clients']:,}",
                    f"{r['watchers']:,}",
                    r["scans"],
                    " ".join(f"{k} {v}" for k, v in sorted(r["results"].items())),
                    fmt(r["answer"]["p50_ms"]),
                    fmt(r["answer"]["p99_ms"]),
                    fmt(r["answer"]["max_ms"]),
                    f"{r['clients_converged']}/{r['watchers']}",
                    fmt(r["converge_ms"], 0),
                    r["unwanted_stats"],
                    f"{r['server_cpu_share']:.0%}",
                    fmt(r["cpu_per_scan_ms"]),
                ]
                for r in results["storm"]
            ],
        )
    if results.get("reconnect"):
        print("Reconnect storm: every client dropped at once (Wi-Fi outage) or the server killed and restarted;")
        print("a change made while they are away; socket.io's default back-off. From the first close to all current.")
        print_table(
            [
                "clients",
                "drop",
                "server",
                "first connect s",
                "restart s",
                "back p50 s",
                "back p99 s",
                "failed attempts",
                "current",
                "all current s",
                "vs Node",
            ],
            [
                [
                    f"{r['clients']:,}",
                    "Wi-Fi" if r["drop"] == "client" else "restart",
                    r["server"],
                    fmt(r["connect_s"]),
                    fmt(r.get("restart_s"), 2),
                    fmt(r["back"]["p50_ms"] and r["back"]["p50_ms"] / 1000, 2),
                    fmt(r["back"]["p99_ms"] and r["back"]["p99_ms"] / 1000, 2),
                    r["failed_attempts"],
                    f"{r['current']:,}/{r['clients']:,}",
                    fmt(r["all_current_s"], 2),
                    fmt(r["ratio_to_node"], 2),
                ]
                for r in results["reconnect"]
            ],
        )
    scale = results.get("scale")
    if scale:
        print(f"Scale: {scale['clients']:,} /live clients, {results['settings']['changes']} changes to each of them.")
        print("One process; the same process publishing through Redis; two processes behind nginx with Redis")
        print("(deploy/nginx.conf); Node. 'vs alone': latency added compared with the one process without a queue.")
        if scale["skipped"]:
            print(f"(Redis rows skipped: {scale['skipped']})")
        print_table(
            [
                "server",
                "delivered",
                "lost",
                "p50 ms",
                "p99 ms",
                "max ms",
                "vs alone p50/p99 ms",
                "CPU µs/msg",
                "vs Node",
                "KiB/conn",
                "connect s",
                "per process",
            ],
            [
                [
                    r["label"],
                    f"{r['delivered']:,}/{r['expected']:,}",
                    r["lost"],
                    fmt(r["latency"]["p50_ms"]),
                    fmt(r["latency"]["p99_ms"]),
                    fmt(r["latency"]["max_ms"]),
                    f"{r['added_ms']['p50_ms']:+.0f} / {r['added_ms']['p99_ms']:+.0f}" if r["added_ms"] else "–",
                    fmt(r["cpu_per_message_us"]),
                    fmt(r["ratio_to_node"], 2),
                    fmt(r["memory_per_connection_kb"]),
                    fmt(r["connect_s"]),
                    " + ".join(f"{n:,}" for n in r["per_process"]) if r["per_process"] else "–",
                ]
                for r in scale["runs"]
            ],
        )
    polling = results.get("polling")
    if polling:
        print("Long-polling: the fan-out with clients that poll (Engine.IO polling, no websocket)")
        print_fanout_table(polling)
    pages = results.get("pages") or {}
    if pages.get("pages"):
        import page_weight

        print("Page weight (Chromium; bytes on the wire, headers included)")
        print(page_weight.table(pages))
    elif pages.get("skipped"):
        print(f"Page weight skipped: {pages['skipped']}")


def plot(results, path):
    """Three panels: CPU per delivered message, p99 latency, memory per connection — by clients."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    scale = (results.get("scale") or {}).get("runs", [])
    # The scale rows' lone process and Node continue the fan-out lines; the Redis rows are points of their own.
    runs = [r for r in results.get("fanout", []) if r["fast_send"]] + [
        r for r in scale if r["label"] in ("eventlet", "node")
    ]
    if not runs:
        return None
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), dpi=110)
    colours = {"eventlet": "#c0392b", "gevent": "#2874a6", "node": "#27ae60"}
    for kind in SERVERS:
        mine = sorted((r for r in runs if r["server"] == kind), key=lambda r: r["clients"])
        if not mine:
            continue
        xs = [r["clients"] for r in mine]
        label = "Node socket.io 4.8 (reference)" if kind == "node" else f"Treffpunkt, {kind}"
        style = dict(marker="o", color=colours[kind], label=label, linewidth=2)
        axes[0].plot(xs, [r["cpu_per_message_us"] for r in mine], **style)
        axes[1].plot(xs, [r["latency"]["p99_ms"] for r in mine], **style)
        axes[2].plot(xs, [r["memory_per_connection_kb"] for r in mine], **style)
    for r in results.get("fanout", []):
        if not r["fast_send"]:
            axes[0].scatter(
                [r["clients"]],
                [r["cpu_per_message_us"]],
                marker="x",
                s=70,
                color=colours[r["server"]],
                label=f"{r['label']}",
            )
    for r, marker in (
        (r, "D" if r["label"].startswith("2") else "s") for r in scale if r["label"] not in ("eventlet", "node")
    ):
        values = (r["cpu_per_message_us"], r["latency"]["p99_ms"], r["memory_per_connection_kb"])
        for ax, value in zip(axes, values):
            ax.scatter([r["clients"]], [value], marker=marker, s=60, color="#8e44ad", label=f"Treffpunkt, {r['label']}")
    titles = ("Server CPU per delivered message (µs)", "Delivery latency p99 (ms)", "Memory per connection (KiB)")
    for ax, title in zip(axes, titles):
        ax.set_title(title, fontsize=11)
        ax.set_xscale("log")
        ax.set_xlabel("connected clients")
        ax.grid(True, alpha=0.3, which="both")
        if ax is axes[0]:
            ax.set_yscale("log")  # 100 clients cost ~7x more per message than 2,000: keep both readable
            ax.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
            ax.yaxis.set_minor_formatter(ticker.FormatStrFormatter("%g"))
        else:
            ax.set_ylim(bottom=0)
    axes[0].legend(fontsize=8)
    m = results["machine"]
    fig.suptitle(
        f"Treffpunkt live fan-out vs Node socket.io — {m['cores']} cores, {m['cpu']}, commit {m['commit']}", fontsize=10
    )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 and 1,000 clients, a 10-s storm")
    parser.add_argument(
        "--only",
        default="fanout,storm,reconnect,scale,polling,pages",
        help="comma list of fanout, storm, reconnect, scale, polling, pages",
    )
    parser.add_argument(
        "--polling-clients", type=int, help="clients of the long-polling rows (default 1000; quick 200)"
    )
    parser.add_argument("--scale-clients", type=int, help="clients of the scale rows (default 10000; quick 2000)")
    parser.add_argument("--reconnect-sizes", help="reconnect storm client counts (default 2000,5000; quick 1000)")
    parser.add_argument("--sizes", help="fan-out client counts, e.g. 100,2000")
    parser.add_argument("--changes", type=int, default=20, help="changes per fan-out run (default 20)")
    parser.add_argument("--rate", type=float, default=2.0, help="changes per second (default 2)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds at 2,000 clients (default 3)")
    parser.add_argument("--out", type=Path, default=RESULTS / "bench.json")
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))
    sizes = (
        [int(s) for s in args.sizes.split(",")]
        if args.sizes
        else ([100, 1000] if args.quick else [100, 1000, 2000, 5000])
    )
    results = {
        "machine": machine(),
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "settings": {
            "sizes": sizes,
            "changes": args.changes,
            "rate": args.rate,
            "quick": args.quick,
            "repeat_at_2000": args.repeat,
        },
    }
    if parts & {"fanout", "storm", "reconnect", "scale", "polling"}:
        results["machine"]["node"] = node_ready(progress)
    with tempfile.TemporaryDirectory(prefix="treffpunkt-bench-") as workdir:
        if "fanout" in parts:
            results["fanout"] = run_fanout(
                sizes, args.changes, args.rate, None if args.quick else 2000, args.repeat, workdir
            )
        if "storm" in parts:
            results["storm"] = run_storm(1000 if args.quick else 2000, 20, 10 if args.quick else 60, workdir)
        if "reconnect" in parts:
            reconnect_sizes = (
                [int(s) for s in args.reconnect_sizes.split(",")]
                if args.reconnect_sizes
                else ([1000] if args.quick else [2000, 5000])
            )
            results["reconnect"] = run_reconnect(reconnect_sizes, workdir)
        if "scale" in parts:
            results["scale"] = run_scale(
                args.scale_clients or (2000 if args.quick else 10000), args.changes, args.rate, workdir
            )
        if "polling" in parts:
            results["polling"] = run_polling(
                args.polling_clients or (200 if args.quick else 1000), args.changes, args.rate, workdir
            )
    if "pages" in parts:
        results["pages"] = run_pages()
    results["seconds"] = round(time.monotonic() - _started)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    picture = plot(results, args.out.with_suffix(".png"))
    report(results)
    print(f"Results: {args.out}" + (f", picture: {picture}" if picture else "") + f" ({results['seconds']} s)")


if __name__ == "__main__":
    main()
