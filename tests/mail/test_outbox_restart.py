"""The acceptance test of the outbox: a mailing to 200 guests from a real server process; half-way the SMTP
server shuts down (421, then gone), the app is killed while it waits, both come back — and every guest has
exactly one message, none missing."""

import time

from tests.helpers import SLUG, server_guest
from tests.mail.conftest import PUBLIC_URL
from tests.mail.smtp import SmtpServer
from tests.server import ServerProcess

GUESTS = 200


def wait_for(condition, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_mailing_survives_an_smtp_outage_and_a_crash_exactly_once(tmp_path):
    smtp = SmtpServer().start()
    env = {**smtp.env(), "PUBLIC_URL": PUBLIC_URL, "MAIL_RETRY_SECONDS": "0.3", "SMTP_TIMEOUT": "2"}
    server = ServerProcess(tmp_path, env=env).prepare().start()
    try:
        addresses = [f"gast{i:03d}@kommune.example" for i in range(GUESTS)]
        for i, address in enumerate(addresses):
            server_guest(server, f"Gast {i:03d}", email=address)
        smtp.inbox.closing_after = GUESTS // 3
        r = server.api("POST", f"/api/v1/events/{SLUG}/mailings", json={"guests": "all"})
        assert r.status_code == 202, r.text
        mailing = r.json()["mailing"]
        assert mailing["queued"] == GUESTS

        wait_for(lambda: smtp.inbox.count() >= GUESTS // 3, 60, "the first third")
        time.sleep(0.5)  # the app now gets 421 answers and keeps the rest for later
        smtp.stop()
        progress = server.api("GET", f"/api/v1/events/{SLUG}/mailings/{mailing['id']}").json()["mailing"]
        assert progress["sent"] == GUESTS // 3 and progress["pending"] == GUESTS - GUESTS // 3
        server.stop(kill=True)  # a crash, not a clean shutdown

        smtp.inbox.closing_after = None
        smtp.start()
        server.start()

        def done():
            p = server.api("GET", f"/api/v1/events/{SLUG}/mailings/{mailing['id']}").json()["mailing"]
            return p["pending"] == 0

        wait_for(done, 90, "the rest of the mailing after the restart")
        progress = server.api("GET", f"/api/v1/events/{SLUG}/mailings/{mailing['id']}").json()["mailing"]
        assert progress == {**progress, "queued": GUESTS, "sent": GUESTS, "failed": 0, "pending": 0}
        per_address = {address: len(smtp.inbox.to(address)) for address in addresses}
        assert [a for a, n in per_address.items() if n != 1] == []
        assert smtp.inbox.count() == GUESTS
        ids = {m["Message-ID"] for _, m in smtp.inbox.messages}
        assert len(ids) == GUESTS
    finally:
        server.stop()
        smtp.stop()
