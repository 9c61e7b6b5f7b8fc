"""The ticket mail through a real SMTP server (aiosmtpd on 127.0.0.1): what arrives, parsed as a mail
program would; the QR decoded; the calendar parsed; queueing, selections, failures and retries."""

import io
from email.utils import parseaddr, parsedate_to_datetime

import icalendar
import pytest
from sqlalchemy import select

from tests.helpers import SLUG, add_guest, import_or_require, make_staff, signed_in
from tests.mail.conftest import PUBLIC_URL
from webapp.checkin.models import Guest
from webapp.core.events import get_event
from webapp.core.extensions import db
from webapp.mail import outbox
from webapp.mail.models import OutboxMessage


def deliver(app, rounds=5):
    total = {"sent": 0, "failed": 0}
    for _ in range(rounds):
        counts = outbox.deliver_due(app)
        total["sent"] += counts["sent"]
        total["failed"] += counts["failed"]
        if not counts["sent"] and not counts["failed"]:
            break
    db.session.expire_all()
    return total


def parts(message):
    return {part.get_content_type(): part for part in message.walk() if not part.is_multipart()}


def decode_qr(png):
    zxingcpp = import_or_require("zxingcpp", "REQUIRE_BROWSER", "zxing-cpp (requirements-dev.txt)")
    from PIL import Image

    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return [b.text for b in found]


def test_the_ticket_mail_arrives_with_text_html_qr_and_calendar(app, client, auth, smtp):
    guest = add_guest(client, auth, name="Dr. Käthe Muster", email="kaethe@trier.example")
    r = client.post(f"/api/v1/events/{SLUG}/guests/{guest['id']}/ticket-mail", headers=auth)
    assert r.status_code == 202, r.get_data(as_text=True)
    assert smtp.inbox.count() == 0  # queued, not sent inside the request
    assert deliver(app)["sent"] == 1

    [message] = smtp.inbox.to("kaethe@trier.example")
    event = get_event(SLUG)
    assert event.title in message["Subject"]
    assert parseaddr(message["From"])[1] == "treffpunkt@kaiserslautern.example"
    assert message["Message-ID"].endswith("@kaiserslautern.example>")
    assert parsedate_to_datetime(message["Date"]) is not None
    assert message["Auto-Submitted"] == "auto-generated"

    found = parts(message)
    text = found["text/plain"].get_content()
    html = found["text/html"].get_content()
    ticket_url = f"{PUBLIC_URL}/t/{guest['token']}"
    assert ticket_url in text and ticket_url in html
    code = guest["code"]
    assert f"{code[:4]} {code[4:]}" in text
    assert "Guten Tag Dr. Käthe Muster," in text
    # No remote images: the only image is the inline QR, referenced by its Content-ID.
    assert 'src="cid:ticket-qr"' in html and 'src="http' not in html
    qr = found["image/png"]
    assert qr["Content-ID"] == "<ticket-qr>"
    assert decode_qr(qr.get_content()) == [ticket_url]

    calendar = icalendar.Calendar.from_ical(found["text/calendar"].get_content())
    [vevent] = calendar.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == event.title
    assert vevent.decoded("DTSTART").astimezone().timestamp() == event.starts_at.timestamp()
    assert str(vevent["URL"]) == ticket_url

    row = db.session.execute(select(OutboxMessage)).scalar_one()
    assert (row.status, row.attempts, row.message_id) == ("sent", 1, message["Message-ID"])
    assert deliver(app)["sent"] == 0 and smtp.inbox.count() == 1  # sent once


def test_an_english_guest_gets_english_with_her_anrede(app, client, auth, smtp):
    guest = add_guest(client, auth, name="Anna Berg", email="anna@example.org")
    row = db.session.get(Guest, guest["id"])
    row.language, row.salutation, row.family_name = "en", "Frau", "Berg"
    db.session.commit()
    client.post(f"/api/v1/events/{SLUG}/guests/{guest['id']}/ticket-mail", headers=auth)
    deliver(app)
    [message] = smtp.inbox.to("anna@example.org")
    text = parts(message)["text/plain"].get_content()
    assert message["Subject"].startswith("Your ticket")
    assert text.startswith("Dear Ms Berg,")
    assert "Sehr geehrte" not in text


def test_self_registration_sends_the_ticket_and_the_waiting_list_a_confirmation(app, web, smtp):
    r = web.post(
        f"/e/{SLUG}/register?lang=en",
        data={"name": "Lena Sommer", "municipality": "Trier", "email": "lena@trier.example", "consent": "y"},
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    event = get_event(SLUG)
    event.capacity = db.session.scalar(select(db.func.count(Guest.id)).where(Guest.status == "registered"))
    db.session.commit()
    r = web.post(
        f"/e/{SLUG}/register?lang=de",
        data={"name": "Tom Winter", "municipality": "Trier", "email": "tom@trier.example", "consent": "y"},
    )
    assert r.status_code == 302
    deliver(app)
    [ticket] = smtp.inbox.to("lena@trier.example")
    assert ticket["Subject"].startswith("Your ticket")  # the language she registered in
    assert "image/png" in parts(ticket)
    [waiting] = smtp.inbox.to("tom@trier.example")
    assert "Warteliste" in waiting["Subject"]
    assert "image/png" not in parts(waiting) and "text/calendar" not in parts(waiting)


def test_a_place_from_the_waiting_list_sends_the_ticket(app, client, auth, smtp):
    from webapp.checkin import guests

    event = get_event(SLUG)
    first = add_guest(client, auth, name="Erste", email="erste@example.org")
    event.capacity = db.session.scalar(select(db.func.count(Guest.id)).where(Guest.status == "registered"))
    db.session.commit()
    waiting = guests.create_guest(event, {"name": "Wartende", "email": "wartende@example.org"}, source="self")
    assert waiting.status == "waiting"
    guests.update_guest(event, db.session.get(Guest, first["id"]), {"status": "cancelled"})
    db.session.commit()
    deliver(app)
    kinds = [m["Subject"] for m in smtp.inbox.to("wartende@example.org")]
    assert len(kinds) == 2 and any("Warteliste" in s for s in kinds) and any("Platz ist frei" in s for s in kinds)


def test_a_mailing_goes_once_to_each_guest_without_a_ticket(app, client, auth, smtp):
    ids = [add_guest(client, auth, name=f"Gast {i}", email=f"gast{i}@example.org")["id"] for i in range(5)]
    add_guest(client, auth, name="Ohne Adresse")
    client.post(f"/api/v1/events/{SLUG}/guests/{ids[0]}/ticket-mail", headers=auth)
    r = client.post(f"/api/v1/events/{SLUG}/mailings", json={"guests": "not_sent"}, headers=auth)
    assert r.status_code == 202
    mailing = r.get_json()["mailing"]
    assert mailing["queued"] == 4  # guest 0 has hers queued already; the one without address is left out
    progress = client.get(f"/api/v1/events/{SLUG}/mailings/{mailing['id']}", headers=auth).get_json()["mailing"]
    assert (progress["pending"], progress["sent"]) == (4, 0)
    deliver(app)
    progress = client.get(f"/api/v1/events/{SLUG}/mailings/{mailing['id']}", headers=auth).get_json()["mailing"]
    assert progress == {**progress, "queued": 4, "sent": 4, "failed": 0, "pending": 0}
    assert all(len(smtp.inbox.to(f"gast{i}@example.org")) == 1 for i in range(5))
    again = client.post(f"/api/v1/events/{SLUG}/mailings", json={"guests": "not_sent"}, headers=auth)
    assert again.status_code == 409  # nobody left without a ticket
    chosen = client.post(f"/api/v1/events/{SLUG}/mailings", json={"guests": [ids[1], ids[2]]}, headers=auth)
    assert chosen.get_json()["mailing"]["queued"] == 2


@pytest.mark.parametrize(
    "body", [{"guests": "some"}, {"guests": []}, {"guests": [True]}, {"guests": ["1"]}, ["all"], {"guests": None}]
)
def test_a_bad_selection_is_refused_and_queues_nothing(app, client, auth, body):
    r = client.post(f"/api/v1/events/{SLUG}/mailings", json=body, headers=auth)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid"
    assert db.session.scalar(select(db.func.count(OutboxMessage.id))) == 0


def test_a_refused_address_is_listed_with_the_answer_and_can_be_retried(app, client, auth, smtp):
    smtp.inbox.refuse.add("weg@example.org")
    gone = add_guest(client, auth, name="Weg", email="weg@example.org")
    add_guest(client, auth, name="Da", email="da@example.org")
    client.post(f"/api/v1/events/{SLUG}/mailings", json={"guests": "all"}, headers=auth)
    assert deliver(app) == {"sent": 1, "failed": 1}
    row = db.session.execute(select(OutboxMessage).filter_by(guest_id=gone["id"])).scalar_one()
    assert row.status == "failed" and row.last_error.startswith("550")
    make_staff("orga", password="orga-pw")
    browser = signed_in(app, "orga", "orga-pw")
    page = browser.get(f"/staff/e/{SLUG}/mail").get_data(as_text=True)
    assert "550 5.1.1 Mailbox unavailable" in page and "Nicht zugestellt" in page
    smtp.inbox.refuse.clear()
    r = browser.post(f"/staff/e/{SLUG}/mail/retry", data={"message": row.id})
    assert r.status_code == 302
    assert deliver(app) == {"sent": 1, "failed": 0}
    assert len(smtp.inbox.to("weg@example.org")) == 1


def test_an_unreachable_server_keeps_the_messages_for_later(app, client, auth, smtp):
    import time

    add_guest(client, auth, name="Später", email="spaeter@example.org")
    client.post(f"/api/v1/events/{SLUG}/mailings", json={"guests": "all"}, headers=auth)
    smtp.stop()
    counts = outbox.deliver_due(app)
    assert counts["sent"] == 0 and counts["unreachable"]
    db.session.expire_all()
    row = db.session.execute(select(OutboxMessage)).scalar_one()
    assert (row.status, row.attempts) == ("pending", 0) and row.last_error
    smtp.start()
    time.sleep(0.3)  # MAIL_RETRY_SECONDS=0.2 in these tests
    assert deliver(app)["sent"] == 1


def test_the_test_mail_button_reports_the_servers_answer(app, smtp):
    make_staff("orga", password="orga-pw")
    browser = signed_in(app, "orga", "orga-pw")
    page = browser.get(f"/staff/e/{SLUG}/mail").get_data(as_text=True)
    assert "127.0.0.1" in page and "Testnachricht senden" in page
    r = browser.post(f"/staff/e/{SLUG}/mail/test", data={"address": "it@kaiserslautern.example"})
    assert r.status_code == 200 and "angenommen" in r.get_data(as_text=True)
    assert len(smtp.inbox.to("it@kaiserslautern.example")) == 1
    bad = browser.post(f"/staff/e/{SLUG}/mail/test", data={"address": "keine adresse"})
    assert bad.status_code == 400 and "keine E-Mail-Adresse" in bad.get_data(as_text=True)
    smtp.stop()
    down = browser.post(f"/staff/e/{SLUG}/mail/test", data={"address": "it@kaiserslautern.example"})
    assert "ging nicht hinaus" in down.get_data(as_text=True)


def test_mail_is_staff_only_for_that_event(app, client, auth):
    from webapp.core.models import Event

    other = Event(
        slug="anderes", title="Anderes Treffen", starts_at=get_event(SLUG).starts_at, ends_at=get_event(SLUG).ends_at
    )
    db.session.add(other)
    db.session.commit()
    guest = add_guest(client, auth, name="Gast", email="gast@example.org")
    _, token = make_staff("fremd", events=["anderes"])
    foreign = {"Authorization": f"Bearer {token}"}
    assert client.post(f"/api/v1/events/{SLUG}/guests/{guest['id']}/ticket-mail", headers=foreign).status_code == 403
    assert client.post(f"/api/v1/events/{SLUG}/mailings", json={"guests": "all"}, headers=foreign).status_code == 403
    assert client.post(f"/api/v1/events/{SLUG}/mailings", json={"guests": "all"}).status_code == 401
    # A guest id of another event is not found through this event.
    assert client.post(f"/api/v1/events/anderes/guests/{guest['id']}/ticket-mail", headers=auth).status_code == 404
    assert db.session.scalar(select(db.func.count(OutboxMessage.id))) == 0


def test_without_smtp_the_pages_say_so_and_the_api_refuses(demo_database, tmp_path):
    from tests.helpers import app_on_copy

    plain = app_on_copy(demo_database, tmp_path, SMTP_HOST="")
    with plain.app_context():
        make_staff("orga", password="orga-pw")
        _, token = make_staff("api", quick=True)
        client = plain.test_client()
        guest = add_guest(client, {"Authorization": f"Bearer {token}"}, email="gast@example.org")
        r = client.post(
            f"/api/v1/events/{SLUG}/guests/{guest['id']}/ticket-mail", headers={"Authorization": f"Bearer {token}"}
        )
        assert r.status_code == 409 and r.get_json()["error"]["code"] == "mail_disabled"
        page = signed_in(plain, "orga", "orga-pw").get(f"/staff/e/{SLUG}/mail").get_data(as_text=True)
        assert "kein E-Mail-Versand eingerichtet" in page
        db.session.remove()
        db.engine.dispose()


def test_a_guests_data_deletion_takes_her_queued_and_sent_messages_with_it(app, client, auth, smtp):
    from webapp.privacy.domain import delete_guest

    guest = add_guest(client, auth, name="Vergessen", email="vergessen@example.org")
    client.post(f"/api/v1/events/{SLUG}/guests/{guest['id']}/ticket-mail", headers=auth)
    deliver(app)
    client.post(f"/api/v1/events/{SLUG}/guests/{guest['id']}/ticket-mail", headers=auth)  # one more, pending
    assert db.session.scalar(select(db.func.count(OutboxMessage.id))) == 2
    delete_guest(db.session.get(Guest, guest["id"]))
    db.session.commit()
    assert db.session.scalar(select(db.func.count(OutboxMessage.id))) == 0
    assert deliver(app)["sent"] == 0 and len(smtp.inbox.to("vergessen@example.org")) == 1


def test_a_double_click_queues_nothing_twice_and_a_cancelled_guest_gets_no_ticket(app, client, auth, smtp):
    from webapp.checkin import guests

    add_guest(client, auth, name="Bleibt", email="bleibt@example.org")
    gone = add_guest(client, auth, name="Sagt ab", email="absage@example.org")
    first = client.post(f"/api/v1/events/{SLUG}/mailings", json={"guests": "all"}, headers=auth)
    again = client.post(f"/api/v1/events/{SLUG}/mailings", json={"guests": "all"}, headers=auth)
    assert first.get_json()["mailing"]["queued"] == 2 and again.status_code == 409
    guests.update_guest(get_event(SLUG), db.session.get(Guest, gone["id"]), {"status": "cancelled"})
    db.session.commit()
    assert deliver(app) == {"sent": 1, "failed": 1}
    assert len(smtp.inbox.to("bleibt@example.org")) == 1 and smtp.inbox.to("absage@example.org") == []
    row = db.session.execute(select(OutboxMessage).filter_by(guest_id=gone["id"])).scalar_one()
    assert row.status == "failed" and "cancelled" in row.last_error


def test_mail_without_public_url_stops_the_start(demo_database, tmp_path, smtp):
    from tests.helpers import app_on_copy

    with pytest.raises(ValueError, match="PUBLIC_URL"):
        app_on_copy(demo_database, tmp_path, PUBLIC_URL="", **smtp.settings())
