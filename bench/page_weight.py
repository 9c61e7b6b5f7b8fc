"""Page weight of the public pages and the staff scanner: bytes transferred and requests for a first visit
(empty cache) and a revisit (same browser context, reload), plus DOMContentLoaded and load times, measured in
headless Chromium with the DevTools protocol (Network.loadingFinished encodedDataLength = bytes on the wire,
headers included).

    .venv/bin/python bench/page_weight.py                         # starts its own server with the demo event
    .venv/bin/python bench/page_weight.py --base http://127.0.0.1:5000 [--user NAME --password PW]

Prints a table and writes bench/results/page_weight.json; bench/run.py calls measure(). Chromium:
/usr/bin/chromium, or $CHROMIUM.
Staff pages are measured logged in: the staff account logs in through the real form at /staff/login in another
tab of the same browser context, then the HTTP cache is cleared, so the login's own requests are not counted
and the first visit still starts with an empty cache (the session cookie is kept).
The page's own target (CDP) counts every request of the page; one the service worker answers has no bytes on
the page's wire. What the worker itself fetches from the network (network-first pages, saving the files of a
first visit) is counted apart, from Playwright's request events ("sw net" columns). Socket.IO connects over a
websocket first: its URL is listed ("websockets"), its handshake and frames are not counted (an HTTP polling
fallback would be). The browser has a fake camera, so the scanner starts its camera as on a door phone; this
headless Chromium has no BarcodeDetector, so the scanner loads its fallback QR decoder (jsQR), as on an iPhone
(Android's Chrome would not)."""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LOGIN_PATH = "/staff/login"
STAFF_PAGES = ["/staff/e/kl-2018/scan"]  # measured logged in
PAGES = ["/e/kl-2018/", "/e/kl-2018/screen", "/e/kl-2018/board", LOGIN_PATH, *STAFF_PAGES]
DEFAULT_USER, DEFAULT_PASSWORD = "tester", "tester-password"  # the admin tests/server.py's prepare() creates
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    # a camera for the scanner, which starts it by default (as on a door phone)
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
SETTLE_S = 4.0  # after `load`, how long to keep counting what the page starts by itself (live connection)
DEFAULT_OUT = ROOT / "bench" / "results" / "page_weight.json"


class ChromiumNotFound(RuntimeError):
    """No Chromium binary to measure with."""


def default_progress(msg):
    print(f"[page_weight {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def chromium_path():
    wanted = os.environ.get("CHROMIUM")
    if wanted:
        found = wanted if Path(wanted).is_file() else shutil.which(wanted)
        if not found:
            raise ChromiumNotFound(f"no Chromium at CHROMIUM={wanted}")
        return found
    for candidate in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"):
        found = candidate if Path(candidate).is_file() else shutil.which(candidate)
        if found:
            return found
    raise ChromiumNotFound("no Chromium found: install Debian's `chromium` or set CHROMIUM=/path/to/chrome")


class NetworkLog:
    """Collects one visit's network events from a CDP session."""

    def __init__(self, cdp):
        self.requests = {}
        self.websockets = []
        self.cdp = cdp
        for name in (
            "requestWillBeSent",
            "responseReceived",
            "loadingFinished",
            "loadingFailed",
            "requestServedFromCache",
            "webSocketCreated",
        ):
            cdp.on(f"Network.{name}", getattr(self, "_" + name))

    def reset(self):
        self.requests = {}
        self.websockets = []

    def _webSocketCreated(self, ev):
        self.websockets.append(ev["url"])

    def _entry(self, rid):
        return self.requests.setdefault(
            rid,
            {
                "url": None,
                "type": None,
                "status": None,
                "bytes": 0,
                "from_cache": False,
                "from_service_worker": False,
                "finished": False,
                "failed": False,
            },
        )

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
            "websockets": list(self.websockets),
            "resources": sorted(
                (
                    {k: e[k] for k in ("url", "type", "status", "bytes", "from_cache", "from_service_worker", "failed")}
                    for e in items
                ),
                key=lambda e: -e["bytes"],
            ),
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
    return {
        "sw_network_requests": len(items),
        "sw_network_bytes": sum(i["bytes"] for i in items),
        "sw_network_resources": items,
    }


def timings(page):
    nav = page.evaluate("""() => {
        const n = performance.getEntriesByType('navigation')[0];
        return n ? {dcl_ms: n.domContentLoadedEventEnd, load_ms: n.loadEventEnd, ttfb_ms: n.responseStart,
                    document_transfer_bytes: n.transferSize} : null;
    }""")
    return {k: round(v, 1) if isinstance(v, (int, float)) else v for k, v in (nav or {}).items()}


def log_in(context, user, password):
    """Log in through the real form (CSRF token included) in a tab of its own; the session cookie stays in
    the context."""
    page = context.new_page()
    try:
        page.goto(LOGIN_PATH, wait_until="load")
        page.fill("#name", user)
        page.fill("#password", password)
        with page.expect_navigation(wait_until="load"):
            page.click("main form button[type=submit]")
        if urlsplit(page.url).path == LOGIN_PATH:
            raise RuntimeError(f"staff login as {user!r} failed (wrong name or password?)")
    finally:
        page.close()


def measure_page(browser, base, path, settle, progress, login=None):
    """First visit and revisit of one page in a fresh browser context; login=(user, password) logs in first."""
    context = browser.new_context(
        base_url=base,
        viewport={"width": 360, "height": 800},
        is_mobile=True,
        locale="de-DE",
        timezone_id="Europe/Berlin",
    )
    context.set_default_timeout(15_000)
    if login:
        progress(f"{path}: logging in as {login[0]}")
        log_in(context, *login)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    log = NetworkLog(cdp)
    cdp.send("Network.enable")
    if login:
        cdp.send("Network.clearBrowserCache")  # what the login pages left there
    worker_requests = []  # requests the service worker sent to the network itself
    context.on("requestfinished", lambda r: worker_requests.append(r) if r.service_worker else None)
    result = {"path": path, "logged_in": bool(login)}
    for visit in ("first", "revisit"):
        progress(f"{path}: {visit} visit" if visit == "first" else f"{path}: revisit (reload)")
        log.reset()
        worker_requests.clear()
        if visit == "first":
            page.goto(path, wait_until="load")
        else:
            page.reload(wait_until="load")
        if urlsplit(page.url).path != urlsplit(base + path).path:
            raise RuntimeError(f"{path} ended at {page.url} instead")
        page.wait_for_timeout(settle * 1000)  # not time.sleep: Playwright delivers the events while waiting
        r = result[visit] = {**timings(page), **log.summary(), **worker_summary(worker_requests)}
        progress(f"{path}: {visit}: {r['requests']} requests, {r['bytes'] / 1024:.1f} KiB, load {r.get('load_ms')} ms")
    cdp.detach()
    context.close()
    return result


def measure(base_url=None, progress=default_progress, *, settle=SETTLE_S, user=None, password=None):
    """Measure PAGES; start (and stop) a server with the demo event when base_url is None. user/password: the
    staff account for STAFF_PAGES (default: the tester admin; on an own server another name is created).
    Raises ChromiumNotFound without a Chromium. Returns {"base_url", "chromium", "settle_seconds",
    "measured_at", "staff_user", "pages": [{"path", "logged_in", "first": {...}, "revisit": {...}}]}."""
    browser_path = chromium_path()
    from playwright.sync_api import sync_playwright

    user, password = user or DEFAULT_USER, password or DEFAULT_PASSWORD
    server = tmp = None
    base = base_url
    try:
        if not base:
            from tests.server import ServerProcess

            tmp = tempfile.TemporaryDirectory(prefix="treffpunkt-bench-")
            progress("starting a server with the demo event …")
            server = ServerProcess(tmp.name).prepare()
            if (user, password) != (DEFAULT_USER, DEFAULT_PASSWORD):
                server.flask("staff", "add", user, "--role", "scanner", "--password", password)
            base = server.start().base_url
            progress(f"server on {base}")
        base = base.rstrip("/")
        with sync_playwright() as pw:
            progress(f"launching {browser_path}")
            browser = pw.chromium.launch(executable_path=browser_path, headless=True, args=LAUNCH_ARGS)
            try:
                pages = [
                    measure_page(
                        browser, base, path, settle, progress, login=(user, password) if path in STAFF_PAGES else None
                    )
                    for path in PAGES
                ]
                version = browser.version
            finally:
                browser.close()
    finally:
        if server:
            progress("stopping the server")
            server.stop()
        if tmp:
            tmp.cleanup()
    return {
        "base_url": base,
        "chromium": version,
        "settle_seconds": settle,
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "staff_user": user,
        "pages": pages,
    }


def table(results):
    width = max(len("page"), *(len(p["path"]) for p in results["pages"]))
    head = (
        f"{'page':<{width}} {'visit':<8} {'requests':>8} {'KiB':>7} {'cache':>5} {'by sw':>5} "
        f"{'sw net':>6} {'sw KiB':>6} {'DCL ms':>7} {'load ms':>7}"
    )
    lines = [head, "-" * len(head)]
    for p in results["pages"]:
        for visit in ("first", "revisit"):
            r = p[visit]
            lines.append(
                f"{p['path']:<{width}} {visit:<8} {r['requests']:>8} {r['bytes'] / 1024:>7.1f} "
                f"{r['from_cache']:>5} {r['from_service_worker']:>5} {r['sw_network_requests']:>6} "
                f"{r['sw_network_bytes'] / 1024:>6.1f} "
                f"{r.get('dcl_ms', float('nan')):>7.0f} {r.get('load_ms', float('nan')):>7.0f}"
            )
    lines.append(
        "KiB: bytes on the page's wire (CDP encodedDataLength, headers included); cache: from the HTTP "
        "cache; by sw: answered by the service worker;"
    )
    lines.append(
        "sw net / sw KiB: what the service worker fetched from the network itself (within "
        f"{results['settle_seconds']} s after load). Staff pages: logged in as {results['staff_user']}."
    )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="a running server (default: start one with the demo event)")
    parser.add_argument(
        "--user", default=DEFAULT_USER, help=f"staff account for {', '.join(STAFF_PAGES)} (default {DEFAULT_USER})"
    )
    parser.add_argument("--password", default=DEFAULT_PASSWORD, help="its password (default: the tester's)")
    parser.add_argument(
        "--settle", type=float, default=SETTLE_S, help=f"seconds to keep counting after load (default {SETTLE_S})"
    )
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)
    try:
        results = measure(args.base, settle=args.settle, user=args.user, password=args.password)
    except RuntimeError as exc:  # no Chromium, the server did not start, the staff login failed
        sys.exit(f"page_weight: {exc}")
    print(table(results))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    default_progress(f"wrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()
