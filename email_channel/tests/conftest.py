from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from accounts.models import TicketSharing
from tickets.tests.factories import (
    OrganizationFactory,
    QueueFactory,
    TicketFactory,
    make_agent,
    make_customer,
)

from ..models import Mailbox


@pytest.fixture
def queue(db):
    return QueueFactory(
        slug="support",
        name="Support",
        is_default=True,
        inbound_address="support@helpdesk.example",
    )


@pytest.fixture
def mailbox(queue):
    return Mailbox.objects.create(queue=queue, host="127.0.0.1", username="support")


@pytest.fixture
def acme(db):
    return OrganizationFactory(
        name="Acme", slug="acme", ticket_sharing=TicketSharing.READ_WRITE
    )


@pytest.fixture
def alice(acme):
    return make_customer(acme, email="alice@acme.example", display_name="Alice")


@pytest.fixture
def bob(acme):
    return make_customer(acme, email="bob@acme.example", display_name="Bob")


@pytest.fixture
def agent(queue):
    return make_agent(queue, email="agent@example.com", display_name="Alex Agent")


@pytest.fixture
def ticket(alice, queue, acme):
    return TicketFactory(requester=alice, queue=queue, organization=acme)


@pytest.fixture
def act(django_capture_on_commit_callbacks):
    def _act(func, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return func(*args, **kwargs)

    return _act


def make_email(
    *,
    sender="alice@acme.example",
    to="support@helpdesk.example",
    subject="Printer on fire",
    body="The printer in room 4 is on fire.\n",
    message_id=None,
    headers=None,
    attachments=(),
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="acme.example")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    for name, content, maintype, subtype in attachments:
        message.add_attachment(
            content, maintype=maintype, subtype=subtype, filename=name
        )
    return message.as_bytes()
