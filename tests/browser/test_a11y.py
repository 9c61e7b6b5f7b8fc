"""Every public page in Chromium: axe-core (vendored from npm, tests/browser/vendor/) finds no serious or
critical accessibility violation, and no page requests anything from another origin."""

from pathlib import Path

import pytest

from tests.browser.conftest import assert_same_origin
from tests.helpers import SLUG

AXE = (Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js").read_text()
AT = "?at=2018-10-26T15:40:00%2B02:00"


@pytest.fixture(scope="module")
def ticket(server):
    r = server.api("POST", f"/api/v1/events/{SLUG}/guests", json={"name": "Axe Prüferin", "city": "Trier"})
    return r.json()


def public_pages(ticket):
    token = ticket["token"]
    return {
        "agenda": f"/e/{SLUG}/{AT}",
        "agenda-en": f"/e/{SLUG}/?lang=en",
        "screen": f"/e/{SLUG}/screen{AT}",
        "door-screen": f"/e/{SLUG}/screen/forum{AT}",
        "board": f"/e/{SLUG}/board",
        "board-screen": f"/e/{SLUG}/board/screen",
        "register": f"/e/{SLUG}/register",
        "ticket": f"/t/{token}",
        "ticket-print": f"/t/{token}/print",
        "delegate": f"/t/{token}/board",
        "staff-login": "/staff/login",
    }


def axe_violations(page):
    """Run axe-core in the page (evaluated through the DevTools protocol, so the page's CSP does not
    apply to the test tool) and return the serious and critical violations."""
    page.evaluate(AXE)
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ["violations"]});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                        nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ") + " " + n.html.slice(0, 160))}));
    }""")
    return [v for v in result if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize(
    "name",
    [
        "agenda",
        "agenda-en",
        "screen",
        "door-screen",
        "board",
        "board-screen",
        "register",
        "ticket",
        "ticket-print",
        "delegate",
        "staff-login",
    ],
)
def test_page_has_no_serious_accessibility_violations_and_no_third_party_requests(new_context, server, ticket, name):
    context = new_context(
        viewport={"width": 1920, "height": 1080} if "screen" in name else {"width": 360, "height": 800}
    )
    page = context.new_page()
    response = page.goto(public_pages(ticket)[name], wait_until="networkidle")
    assert response.status == 200
    violations = axe_violations(page)
    assert violations == [], f"{name}: {violations}"
    assert_same_origin(context._treffpunkt_requests, server.base_url)
