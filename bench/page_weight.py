"""Page weight of the public pages: bytes transferred and requests for a first visit (empty cache) and a
revisit (same browser context, reload), plus DOMContentLoaded and load times, measured in headless Chromium
with the DevTools protocol (Network.loadingFinished encodedDataLength = bytes on the wire, headers included).

    .venv/bin/python bench/page_weight.py                         # starts its own server with the demo event
    .venv/bin/python bench/page_weight.py --base http://127.0.0.1:5000

Prints a table and writes bench/results/page_weight.json. Chromium: /usr/bin/chromium, or $CHROMIUM.
The page's own target (CDP) counts every request of the page; one the service worker answers has no bytes on
the page's wire. What the worker itself fetches from the network (network-first pages, saving the files of a
first visit) is counted apart, from Playwright's request events ("sw net" columns). Websocket frames are not
counted; the Socket.IO handshake over HTTP is."""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = ["/e/kl-2018/", "/e/kl-2018/screen", "/staff/login"]
LAUNCH_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-gpu"]
SETTLE_S = 4.0  # after `load`, how long to keep counting what the page starts by itself (live connection)


def progress(msg):
    print(f"[page_weight {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def chromium_path():
    wanted = os.environ.get("CHROMIUM")
    if wanted:
        return wanted
    for candidate in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"):
        found = candidate if Path(candidate).is_file() else shutil.which(candidate)
        if found:
            return found
    sys.exit("no Chromium found: install Debian's `chromium` or set CHROMIUM=/path/to/chrome")


class NetworkLog:
    """Collects one visit's network events from a CDP session."""

    def __init__(self, cdp):
        self.requests = {}
        self.cdp = cdp
        for name in ("requestWillBeSent", "responseReceived", "loadingFinished", "loadingFailed",
                     "requestServedFromCache"):
            cdp.on(f"Network.{name}", getattr(self, "_" + name))

    def reset(self):
        self.requests = {}

    def _entry(self, rid):
        return self.requests.setdefault(rid, {"url": None, "type": None, "status": None, "bytes": 0,
                                              "from_cache": False, "from_service_worker": False,
                                              "finished": False, "failed": False})

    def _requestWillBeSent(self, ev):
        e = self._entry(ev["requestId"])
        e["url"], e["type"] = ev["request"]["url"], ev.get("type")

    def _responseReceived(self, ev):
        e = self._entry(ev["requestId"])
        resp = ev["response"]
        e["status"] = resp.get("status")
        e["type"] = ev.get("type") or e["type"]
        e["from_cache"] = e["from_cache"] or bool(resp.get("fromDiskCache") or resp.get("fromPrefetchCache"))
        e["from_service_worker"] = bool(resp.get("fromServiceWorker"))
        e["url"] = e["url"] or resp.get("url")

    def _requestServedFromCache(self, ev):
        self._entry(ev["requestId"])["from_cache"] = True

    def _loadingFinished(self, ev):
        e = self._entry(ev["requestId"])
        e["bytes"] = int(ev.get("encodedDataLength") or 0)
        e["finished"] = True

    def _loadingFailed(self, ev):
        e = self._entry(ev["requestId"])
        e["failed"] = True
        e["error"] = ev.get("errorText")

    def summary(self):
        items = [e for e in self.requests.values() if e["url"] and not e["url"].startswith("data:")]
        return {
            "requests": len(items),
            "bytes": sum(e["bytes"] for e in items),
            "from_cache": sum(1 for e in items if e["from_cache"]),
            "from_service_worker": sum(1 for e in items if e["from_service_worker"]),
            "failed": sum(1 for e in items if e["failed"]),
            "resources": sorted(({k: e[k] for k in ("url", "type", "status", "bytes", "from_cache",
                                                    "from_service_worker", "failed")} for e in items),
                                key=lambda e: -e["bytes"]),
        }


def worker_summary(requests):
    items = []
    for r in list(requests):
        try:
            sizes = r.sizes()
            size = sizes["responseBodySize"] + sizes["responseHeadersSize"]
        except Exception:  # noqa: BLE001  (a request that vanished with its worker)
            size = 0
        response = r.response() if hasattr(r, "response") else None
        items.append({"url": r.url, "bytes": max(0, size), "status": response.status if response else None})
    return {"sw_network_requests": len(items), "sw_network_bytes": sum(i["bytes"] for i in items),
            "sw_network_resources": items}


def timings(page):
    nav = page.evaluate("""() => {
        const n = performance.getEntriesByType('navigation')[0];
        return n ? {dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd, ttfb: n.responseStart,
                    transfer: n.transferSize} : null;
    }""")
    return {k: round(v, 1) if isinstance(v, (int, float)) else v for k, v in (nav or {}).items()}


def measure(browser, base, path, settle=SETTLE_S):
    context = browser.new_context(base_url=base, viewport={"width": 360, "height": 800}, is_mobile=True,
                                  locale="de-DE", timezone_id="Europe/Berlin")
    context.set_default_timeout(15_000)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    log = NetworkLog(cdp)
    cdp.send("Network.enable")
    worker_requests = []  # requests the service worker sent to the network itself
    context.on("requestfinished", lambda r: worker_requests.append(r) if r.service_worker else None)
    result = {}
    for visit in ("first", "revisit"):
        progress(f"{path}: {visit} visit" if visit == "first" else f"{path}: revisit (reload)")
        log.reset()
        worker_requests.clear()
        if visit == "first":
            page.goto(path, wait_until="load")
        else:
            page.reload(wait_until="load")
        time.sleep(settle)
        result[visit] = {**log.summary(), **worker_summary(worker_requests), **timings(page)}
        progress(f"{path}: {visit}: {result[visit]['requests']} requests, "
                 f"{result[visit]['bytes'] / 1024:.1f} KiB, load {result[visit].get('load')} ms")
    cdp.detach()
    context.close()
    return result


def table(results, settle=SETTLE_S):
    head = (f"{'page':<19} {'visit':<8} {'requests':>8} {'KiB':>7} {'cache':>5} {'by sw':>5} "
            f"{'sw net':>6} {'sw KiB':>6} {'DCL ms':>7} {'load ms':>7}")
    lines = [head, "-" * len(head)]
    for path, visits in results.items():
        for visit, r in visits.items():
            lines.append(f"{path:<19} {visit:<8} {r['requests']:>8} {r['bytes'] / 1024:>7.1f} "
                         f"{r['from_cache']:>5} {r['from_service_worker']:>5} {r['sw_network_requests']:>6} "
                         f"{r['sw_network_bytes'] / 1024:>6.1f} "
                         f"{r.get('dcl', float('nan')):>7.0f} {r.get('load', float('nan')):>7.0f}")
    lines.append("KiB: bytes on the page's wire (CDP encodedDataLength, headers included); cache: from the HTTP "
                 "cache; by sw: answered by the service worker;")
    lines.append("sw net / sw KiB: what the service worker fetched from the network itself (within "
                 f"{settle} s after load).")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="a running server (default: start one with the demo event)")
    parser.add_argument("--settle", type=float, default=SETTLE_S,
                        help=f"seconds to keep counting after load (default {SETTLE_S})")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "page_weight.json"))
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    server = None
    tmp = None
    base = args.base
    if not base:
        from tests.server import ServerProcess

        tmp = tempfile.TemporaryDirectory(prefix="treffpunkt-bench-")
        progress("starting a server with the demo event …")
        server = ServerProcess(tmp.name).prepare().start()
        base = server.base_url
        progress(f"server on {base}")
    base = base.rstrip("/")
    try:
        with sync_playwright() as pw:
            path = chromium_path()
            progress(f"launching {path}")
            browser = pw.chromium.launch(executable_path=path, headless=True, args=LAUNCH_ARGS)
            results = {}
            for page_path in PAGES:
                results[page_path] = measure(browser, base, page_path, args.settle)
            version = browser.version
            browser.close()
    finally:
        if server:
            progress("stopping the server")
            server.stop()
        if tmp:
            tmp.cleanup()

    print(table(results, args.settle))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"base_url": base, "chromium": version, "settle_seconds": args.settle,
                               "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                               "pages": results}, indent=2))
    progress(f"wrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()
