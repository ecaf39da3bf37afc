"""Once through a real SMTP server (aiosmtpd): what a mail client receives threads."""

import email
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from portal.notifications import threads
from tickets import services
from tickets.models import Ticket

from ..intake import ingest
from .conftest import make_email

pytestmark = pytest.mark.django_db


class Collect(Message):
    def __init__(self):
        super().__init__(email.message.EmailMessage)
        self.received = []

    def handle_message(self, message):
        self.received.append(message)


@pytest.fixture
def smtp(settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield handler
    controller.stop()


def test_notifications_sent_over_smtp_form_one_thread(alice, agent, queue, act, smtp):
    result = act(ingest, make_email(subject="Scanner jammed"))
    ticket = Ticket.objects.get(reference=result.reference)
    act(services.reply, agent, ticket, body="Open the lid.")
    to_alice = [
        email.message_from_bytes(m.as_bytes(), policy=policy.default)
        for m in smtp.received
        if m["X-RcptTo"] == "alice@acme.example"
    ]
    assert [m["Subject"] for m in to_alice] == [
        f"[{ticket.reference}] We received your request: Scanner jammed",
        f"[{ticket.reference}] New reply: Scanner jammed",
    ]
    root = threads.thread_root(ticket.reference)
    for message in to_alice:
        assert message["In-Reply-To"] == root
        assert message["References"] == root
        assert message["Reply-To"] == "support@helpdesk.example"
        assert threads.reference_of(message["Message-ID"]) == ticket.reference
    assert len({m["Message-ID"] for m in to_alice}) == 2
