"""A real SMTP server on localhost for the delivery tests (aiosmtpd), and a port nobody serves.

Tests point Django's SMTP backend at it, so a refused connection, a 4xx and a 5xx are what
smtplib really raises, not mocks.
"""

from __future__ import annotations

import email
import socket
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Handler:
    messages: list = field(default_factory=list)
    refuse_rcpt: str = ""  # e.g. "550 5.1.1 No such user" or "451 4.3.0 Try later"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


class Sink:
    """An SMTP server that can be stopped and started again on the same port."""

    def __init__(self, port: int):
        self.port, self.handler, self.controller = port, Handler(), None

    @property
    def messages(self) -> list:
        return self.handler.messages

    def start(self) -> Sink:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def ledger_keys(self) -> list[str]:
        return sorted(m["X-Debrief-Email"] for m in self.messages)


@pytest.fixture
def smtp_sink(settings):
    """A running SMTP server Django sends to (stop() it for an outage, start() it again)."""
    sink = Sink(free_port())
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = False, 5
    sink.start()
    yield sink
    sink.stop()
