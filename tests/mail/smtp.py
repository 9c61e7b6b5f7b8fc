"""A real SMTP server for the mail tests: aiosmtpd on 127.0.0.1, in its own thread, keeping every message it
accepted (parsed with the standard library's modern policy). It can be stopped and started again on the same
port (an outage), and told to refuse an address for good (a 550 answer)."""

import threading
from email import message_from_bytes
from email import policy as email_policy

from aiosmtpd.controller import Controller

from tests.server import free_port


class Inbox:
    """The aiosmtpd handler: what arrived, and the addresses to refuse."""

    def __init__(self):
        self.messages = []  # (envelope recipients, parsed message)
        self.refuse = set()
        self.lock = threading.Lock()
        self.closing_after = None  # after this many messages, answer 421 as a server shutting down does

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.closing_after is not None and self.count() >= self.closing_after:
            return "421 4.3.2 Service shutting down"
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content or envelope.content, policy=email_policy.default)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address):
        with self.lock:
            return [m for rcpt, m in self.messages if address in rcpt]

    def count(self):
        with self.lock:
            return len(self.messages)


class SmtpServer:
    def __init__(self):
        self.inbox = Inbox()
        self.port = free_port()
        self.controller = None

    def start(self):
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def settings(self):
        """The app settings that send through this server (env(): the same as environment variables)."""
        return {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": self.port,
            "SMTP_SECURITY": "none",
            "MAIL_FROM": "Stadt Kaiserslautern <treffpunkt@kaiserslautern.example>",
        }

    def env(self):
        return {key: str(value) for key, value in self.settings().items()}
