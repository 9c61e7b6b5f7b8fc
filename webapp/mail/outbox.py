"""The outbox and its delivery (docs/mail.md).

Queueing adds a row in the caller's transaction, so a message exists exactly when the change that caused it
was committed. One delivery task per serving process claims due rows with a conditional UPDATE (two
processes never send the same row), builds each message with the builder its area registered, sends it over
one SMTP connection per batch, and records the server's answer:

- accepted: `sent`, never sent again;
- refused for good (5xx): `failed` with the server's answer, until staff retry it;
- refused for now (4xx) or the server unreachable: back to `pending` with a doubling pause. An unreachable
  server ends the batch at once (one connection attempt per pause, not one per queued message).

A row left in `sending` by a process that died is sent again once its claim is stale (three times
SMTP_TIMEOUT: no live send takes that long): the only case in which a
guest may get a message twice (the SMTP server had accepted it, the process died before it could record
that); both copies carry the same Message-ID.
"""

import smtplib
import socket
import ssl
from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, update

from ..core.db import utcnow
from ..core.dbhealth import report_loop_failure
from ..core.errors import DomainError
from ..core.extensions import db, socketio
from .models import Mailing, OutboxMessage

BATCH = 50  # messages per SMTP connection and per round of the loop
MAX_TEMPORARY_FAILURES = 8  # 4xx answers for one message before it counts as failed (~1 h with the pause)
MAX_PAUSE = timedelta(minutes=10)
IDLE_POLL_SECONDS = 15  # rows queued by another process or the CLI are found within this
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}

_wake = {"now": False}


class MailError(Exception):
    """The SMTP server could not be used; `answer` is what it (or the network) said."""

    def __init__(self, answer, permanent=False, unreachable=False):
        super().__init__(answer)
        self.answer = answer
        self.permanent = permanent
        self.unreachable = unreachable


def register_builder(app, kind, build):
    """How an area builds the messages it queues: build(row) -> EmailMessage with Subject and body; the
    outbox adds From, To, Date, Message-ID. Called inside a request context on the row's base URL."""
    app.extensions.setdefault("mail_builders", {})[kind] = build


def enabled(config=None):
    config = config or current_app.config
    return bool(config.get("SMTP_HOST")) and bool(config.get("MAIL_FROM"))


def sender(config=None):
    config = config or current_app.config
    name, address = parseaddr(config.get("MAIL_FROM") or "")
    return name, address


def check_settings(config):
    """What is wrong with the mail settings, in words for `make run` and the staff page, or None."""
    if not config.get("SMTP_HOST"):
        return None
    name, address = sender(config)
    if "@" not in address:
        return f"MAIL_FROM must be an address like Treffpunkt <treffpunkt@example.de> (got {config.get('MAIL_FROM')!r})"
    if not config.get("PUBLIC_URL"):
        # A mail's links must not take the Host header of whoever caused it (an anonymous registration).
        return "SMTP_HOST is set: PUBLIC_URL must be set too, the base of the links in mails"
    if config.get("SMTP_SECURITY") not in DEFAULT_PORTS:
        return f"SMTP_SECURITY must be starttls, tls or none (got {config.get('SMTP_SECURITY')!r})"
    return None


def queue(event_id, kind, to_address, guest_id=None, mailing_id=None):
    """A message to send after the caller commits. Raises DomainError when mail is not set up."""
    if not enabled():
        raise DomainError(
            "mail_disabled",
            _(
                "Auf diesem Server ist der E-Mail-Versand nicht eingerichtet. Bitte die Technik bitten, ihn "
                "einzurichten (SMTP_HOST, MAIL_FROM)."
            ),
            409,
        )
    domain = sender()[1].rpartition("@")[2]
    row = OutboxMessage(
        event_id=event_id,
        kind=kind,
        to_address=to_address,
        guest_id=guest_id,
        mailing_id=mailing_id,
        message_id=make_msgid(domain=domain),
        next_attempt_at=utcnow(),
    )
    db.session.add(row)
    _wake_after_commit()
    return row


def start_mailing(event_id, kind, recipients, label=""):
    """One mailing: a message of `kind` to each (guest_id, address), one row per guest at most (a unique
    constraint). The caller chooses the recipients (and leaves out those with the same message on its way).
    Returns the Mailing, uncommitted."""
    mailing = Mailing(event_id=event_id, kind=kind, label=label)
    db.session.add(mailing)
    db.session.flush()
    for guest_id, address in recipients:
        queue(event_id, kind, address, guest_id=guest_id, mailing_id=mailing.id)
    return mailing


def mailing_progress(mailing):
    counts = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.mailing_id == mailing.id)
            .group_by(OutboxMessage.status)
        ).all()
    )
    return {
        "id": mailing.id,
        "kind": mailing.kind,
        "created_at": mailing.created_at.isoformat(),
        "queued": sum(counts.values()),
        "sent": counts.get("sent", 0),
        "failed": counts.get("failed", 0),
        "pending": counts.get("pending", 0) + counts.get("sending", 0),
    }


def retry_failed(event_id, message_ids=None):
    """Failed messages of the event (all, or those ids) go back into the queue. Returns how many."""
    where = [OutboxMessage.event_id == event_id, OutboxMessage.status == "failed"]
    if message_ids is not None:
        where.append(OutboxMessage.id.in_(message_ids))
    result = db.session.execute(
        update(OutboxMessage).where(*where).values(status="pending", attempts=0, next_attempt_at=utcnow())
    )
    _wake_after_commit()
    return result.rowcount


def _wake_after_commit():
    db.session.info["mail_wake"] = True


def _after_commit(session):
    if session.info.pop("mail_wake", None):
        _wake["now"] = True


def _after_rollback(session):
    session.info.pop("mail_wake", None)


def install_listeners():
    from sqlalchemy import event as sa_event
    from sqlalchemy.orm import Session as OrmSession

    for name, listener in (("after_commit", _after_commit), ("after_rollback", _after_rollback)):
        if not sa_event.contains(OrmSession, name, listener):
            sa_event.listen(OrmSession, name, listener)


# --- sending ------------------------------------------------------------------------------------------


def connect(config):
    """An SMTP connection as configured (TLS verified against the system's CAs), logged in. MailError else."""
    security = config.get("SMTP_SECURITY") or "starttls"
    port = config.get("SMTP_PORT") or DEFAULT_PORTS.get(security, 587)
    timeout = config.get("SMTP_TIMEOUT") or 30
    try:
        if security == "tls":
            smtp = smtplib.SMTP_SSL(config["SMTP_HOST"], port, timeout=timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(config["SMTP_HOST"], port, timeout=timeout)
            if security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
        return smtp
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(_answer(exc), permanent=True) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise MailError(f"{exc} (SMTP_SECURITY?)", permanent=True) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(_answer(exc), unreachable=True) from exc


def _answer(exc):
    """The server's answer as people read it: "550 5.1.1 mailbox unavailable", or the network error."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()))
    elif isinstance(exc, smtplib.SMTPResponseException):
        code, text = exc.smtp_code, exc.smtp_error
    elif isinstance(exc, socket.timeout | TimeoutError):
        return "no answer from the SMTP server (timeout)"
    else:
        return (str(exc) or type(exc).__name__)[:500]
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}"[:500]


def _code(exc):
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return next(iter(exc.recipients.values()))[0]
    return getattr(exc, "smtp_code", None)


def finish(message, config, message_id, to_address, now=None):
    """The headers every message gets: From on the configured domain, To, Date, Message-ID; marked as
    sent by a program (RFC 3834), so out-of-office replies stay away."""
    name, address = sender(config)
    message["From"] = Address(display_name=name, addr_spec=address) if name else address
    message["To"] = to_address
    message["Date"] = format_datetime(now or utcnow())
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    return message


def send_test(config, to_address):
    """The staff page's "send a test mail": sends at once, returns the server's answer; MailError else."""
    message = EmailMessage()
    message["Subject"] = "Treffpunkt: Testnachricht / test message"
    message.set_content(
        "Diese Testnachricht zeigt, dass Treffpunkt über Ihren SMTP-Server Mails versenden kann.\n\n"
        "This test message shows that Treffpunkt can send mail through your SMTP server.\n"
    )
    domain = sender(config)[1].rpartition("@")[2]
    finish(message, config, make_msgid(domain=domain), to_address)
    smtp = connect(config)
    try:
        refused = smtp.send_message(message)
        if refused:
            raise MailError(_answer(smtplib.SMTPRecipientsRefused(refused)), permanent=True)
        return f"{to_address}: angenommen von {config['SMTP_HOST']}"
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(_answer(exc), permanent=_code(exc) is not None and _code(exc) >= 500) from exc
    finally:
        _quit(smtp)


def _quit(smtp):
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _pause(attempts, config):
    base = timedelta(seconds=config.get("MAIL_RETRY_SECONDS", 30))
    return min(base * (2 ** max(attempts - 1, 0)), MAX_PAUSE)


def _stale_before(now, config):
    """Claims older than this were left by a dead process: connect, login and send each end within
    SMTP_TIMEOUT, so a live send never takes three times as long."""
    return now - timedelta(seconds=3 * (config.get("SMTP_TIMEOUT") or 30))


def _claim(row_id, now, config):
    """Take one due row for this process; False if another process (or round) has it. The claim carries the
    moment it was made (not the round's start), so a long round's late claims are not taken for stale."""
    claimed = utcnow()
    stale = _stale_before(claimed, config)
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == row_id,
            or_(
                and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
                and_(OutboxMessage.status == "sending", OutboxMessage.claimed_at < stale),
            ),
        )
        .values(status="sending", claimed_at=claimed, attempts=OutboxMessage.attempts + 1)
    )
    db.session.commit()
    return result.rowcount == 1


def _due_ids(now, limit, config):
    stale = _stale_before(now, config)
    return (
        db.session.execute(
            select(OutboxMessage.id)
            .where(
                or_(
                    and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
                    and_(OutboxMessage.status == "sending", OutboxMessage.claimed_at < stale),
                )
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )


def _build(app, row, now):
    builder = app.extensions.get("mail_builders", {}).get(row.kind)
    if builder is None:
        raise MailError(f"no builder for messages of kind {row.kind!r}", permanent=True)
    with app.test_request_context("/", base_url=app.config["PUBLIC_URL"]):
        message = builder(row)
    return finish(message, app.config, row.message_id, row.to_address, now)


def _record(row, status, answer="", now=None, pause=None):
    row.status = status
    row.last_error = answer[:500]
    if status == "sent":
        row.sent_at = now
    if pause is not None:
        row.next_attempt_at = now + pause
    db.session.commit()


def deliver_due(app, now=None, limit=BATCH):
    """One round: send what is due, over one connection. Returns {"sent", "failed", "retry"} counts and
    "unreachable" (the server's answer) when the server could not be reached. Needs an app context."""
    now = now or utcnow()
    counts = {"sent": 0, "failed": 0, "retry": 0, "unreachable": None}
    ids = _due_ids(now, limit, app.config)
    if not ids:
        return counts
    smtp = None
    try:
        for row_id in ids:
            if not _claim(row_id, now, app.config):
                continue
            row = db.session.get(OutboxMessage, row_id)
            if row is None:  # the guest was deleted meanwhile (cascade)
                continue
            try:
                message = _build(app, row, now)
            except MailError as exc:
                _record(row, "failed", exc.answer, now)
                counts["failed"] += 1
                continue
            except Exception as exc:  # a bug in a builder fails this message, not the whole queue
                app.logger.exception("building mail %s failed", row.id)
                _record(row, "failed", f"could not build the message: {type(exc).__name__}", now)
                counts["failed"] += 1
                continue
            try:
                if smtp is None:
                    smtp = connect(app.config)
                refused = smtp.send_message(message, to_addrs=[row.to_address])
                if refused:
                    raise smtplib.SMTPRecipientsRefused(refused)
            except MailError as exc:
                if exc.unreachable or smtp is None:
                    # Not this message's fault (no server, or a login/TLS setting wrong for every message):
                    # back to pending without counting an attempt, and end the round.
                    row.attempts -= 1
                    _record(row, "pending", exc.answer, now, _pause(1, app.config))
                    counts["unreachable"] = exc.answer
                    _postpone_others(ids, row_id, now, _pause(1, app.config))
                    break
                _record(row, "failed", exc.answer, now)
                counts["failed"] += 1
            except smtplib.SMTPServerDisconnected as exc:
                row.attempts -= 1
                _record(row, "pending", _answer(exc), now, _pause(1, app.config))
                counts["retry"] += 1
                smtp = None
            except (OSError, smtplib.SMTPException) as exc:
                code = _code(exc)
                if code is not None and code >= 500:
                    _record(row, "failed", _answer(exc), now)
                    counts["failed"] += 1
                elif code is not None and row.attempts < MAX_TEMPORARY_FAILURES:
                    _record(row, "pending", _answer(exc), now, _pause(row.attempts, app.config))
                    counts["retry"] += 1
                elif code is not None:
                    _record(row, "failed", _answer(exc), now)
                    counts["failed"] += 1
                else:  # the connection broke mid-send: the server is gone
                    row.attempts -= 1
                    _record(row, "pending", _answer(exc), now, _pause(1, app.config))
                    counts["unreachable"] = _answer(exc)
                    _postpone_others(ids, row_id, now, _pause(1, app.config))
                    break
            else:
                _record(row, "sent", "", now)
                counts["sent"] += 1
    finally:
        if smtp is not None:
            _quit(smtp)
    return counts


def _postpone_others(ids, row_id, now, pause):
    """The server is unreachable: the rest of this round waits the same pause (one attempt per pause)."""
    later = [i for i in ids if i > row_id]
    if later:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(later), OutboxMessage.status == "pending")
            .values(next_attempt_at=now + pause)
        )
        db.session.commit()


def run_once(app, now=None):
    """One round in its own app context; failures are logged, never raised (the task runs all day)."""
    try:
        with app.app_context():
            try:
                return deliver_due(app, now)
            finally:
                db.session.remove()
    except Exception as exc:
        report_loop_failure(app, "mail delivery failed", exc)
        return None


def delivery_loop(app):
    """The background task (webapp.start_background_tasks): a round when something was queued in this
    process, when a round sent a full batch, and every IDLE_POLL_SECONDS otherwise."""
    if not enabled(app.config):
        return
    idle = 0.0
    while True:
        counts = run_once(app)
        busy = counts is not None and counts["unreachable"] is None and counts["sent"] + counts["failed"] >= BATCH
        idle = 0.0
        while not busy and not _wake["now"] and idle < IDLE_POLL_SECONDS:
            socketio.sleep(0.5)
            idle += 0.5
        _wake["now"] = False
