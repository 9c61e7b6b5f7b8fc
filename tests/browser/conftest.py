"""Browser tests: headless Chromium driven by Playwright (sync API) against a real server process.

Chromium comes from the system (Debian's `chromium`, /usr/bin/chromium); `CHROMIUM=/path/to/chrome` overrides.
Without a usable browser the tests skip with the reason, or fail when REQUIRE_BROWSER=1 (CI).
Every test here gets the `browser` marker (`pytest -m "not browser"` leaves them out).

Fixtures and helpers:
- `browser` (session): the launched Chromium.
- `new_context(**options)` (per test): a fresh context (own cookies, storage, cache, service workers) with
  the server as base URL and bounded timeouts; every request URL it makes is recorded (`request_urls`).
  Open pages are screenshotted into test-artifacts/ when the test fails; contexts are closed afterwards.
- `request_urls(context)` (fixture): the live list of every URL the context requested.
- `assert_same_origin(urls, base_url)`: no URL went anywhere but the server.
- `screenshot(page, name)`: save test-artifacts/<name>.png on demand.
"""

import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.helpers import require

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
BROWSER_DIR = Path(__file__).resolve().parent
TIMEOUT_MS = 10_000  # the longest any single wait may take
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]

PHONE = {"viewport": {"width": 360, "height": 800}, "is_mobile": True, "has_touch": True, "device_scale_factor": 1}
SCREEN = {"viewport": {"width": 1920, "height": 1080}}

need_browser = require("REQUIRE_BROWSER", "headless Chromium")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if BROWSER_DIR in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Remember each phase's report on the item, so fixtures can tell in teardown whether the test failed.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def chromium_path():
    """CHROMIUM from the environment, else the system's Chromium; None if there is none."""
    wanted = os.environ.get("CHROMIUM")
    if wanted:
        return wanted if Path(wanted).exists() or shutil.which(wanted) else None
    for candidate in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"):
        found = candidate if Path(candidate).is_file() else shutil.which(candidate)
        if found:
            return found
    return None


def launch_chromium(playwright, path=None):
    """Launch headless Chromium the way the tests and bench/page_weight.py do."""
    return playwright.chromium.launch(
        executable_path=path or chromium_path(), headless=True, args=LAUNCH_ARGS, timeout=30_000
    )


@pytest.fixture(scope="session")
def playwright_instance():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        need_browser(f"the playwright package is not installed ({exc})")
    manager = sync_playwright()
    pw = manager.start()
    try:
        from playwright.sync_api import expect

        expect.set_options(timeout=TIMEOUT_MS)
        yield pw
    finally:
        manager.__exit__(None, None, None)


@pytest.fixture(scope="session")
def browser(playwright_instance):
    path = chromium_path()
    if path is None:
        need_browser("no Chromium binary found (install Debian's `chromium` or set CHROMIUM=/path/to/chrome)")
    try:
        browser = launch_chromium(playwright_instance, path)
    except Exception as exc:  # noqa: BLE001  (any launch failure means: no browser here)
        need_browser(f"{path} did not launch: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    yield browser
    browser.close()


def _safe_name(text):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:120]


def screenshot(page, name, full_page=False):
    """Save test-artifacts/<name>.png (the folder is gitignored); returns the path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{_safe_name(name)}.png"
    page.screenshot(path=str(path), full_page=full_page, timeout=TIMEOUT_MS)
    return path


def requests_of(context):
    """Every URL the context requested so far (pages, workers, service workers, websockets)."""
    return context._treffpunkt_requests


def record_requests(context):
    """Start recording the request URLs of a context (also for websockets, which are not `request`s)."""
    if not hasattr(context, "_treffpunkt_requests"):
        urls = []
        context._treffpunkt_requests = urls
        context.on("request", lambda request: urls.append(request.url))
        context.on("page", lambda page: _record_page(page, urls))
        for page in context.pages:
            _record_page(page, urls)
    return context._treffpunkt_requests


def _record_page(page, urls):
    page.on("websocket", lambda ws: urls.append(ws.url))


def _origin(url):
    parts = urlsplit(url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return scheme, parts.hostname, parts.port or {"http": 80, "https": 443}.get(scheme)


def foreign_urls(urls, base_url):
    """The URLs that left the server's origin (data:, blob: and about: stay in the page)."""
    own = _origin(base_url)
    return [
        u for u in urls if urlsplit(u).scheme not in ("data", "blob", "about", "chrome-extension") and _origin(u) != own
    ]


def assert_same_origin(urls, base_url):
    foreign = foreign_urls(urls, base_url)
    assert not foreign, f"requests to another origin than {base_url}: {sorted(set(foreign))}"
    assert urls, "no requests were recorded at all"


@pytest.fixture
def request_urls():
    """`request_urls(context)` -> the list of every URL that context requested so far (kept up to date)."""
    return record_requests


@pytest.fixture
def new_context(browser, server, request):
    """Factory for fresh browser contexts on the test server; records requests; screenshots on failure."""
    contexts = []

    def make(**options):
        options.setdefault("base_url", server.base_url)
        options.setdefault("locale", "de-DE")
        options.setdefault("timezone_id", "Europe/Berlin")
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        record_requests(context)
        contexts.append(context)
        return context

    yield make
    failed = any(getattr(getattr(request.node, f"rep_{when}", None), "failed", False) for when in ("setup", "call"))
    for i, context in enumerate(contexts):
        if failed:
            for j, page in enumerate(context.pages):
                try:
                    screenshot(page, f"FAILED-{request.node.name}-{i}-{j}", full_page=True)
                except Exception:  # noqa: BLE001  (a crashed page must not hide the real failure)
                    pass
        try:
            context.close()
        except Exception:  # noqa: BLE001
            pass
