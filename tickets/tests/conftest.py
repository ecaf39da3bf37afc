import pytest

from accounts.models import TicketSharing

from .factories import (
    OrganizationFactory,
    QueueFactory,
    TicketFactory,
    make_agent,
    make_customer,
    make_supervisor,
    make_viewer,
)


@pytest.fixture
def queue(db):
    return QueueFactory(slug="support", name="Support", is_default=True)


@pytest.fixture
def other_queue(db):
    return QueueFactory(slug="billing", name="Billing")


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
def other_agent(other_queue):
    return make_agent(other_queue, email="billing.agent@example.com")


@pytest.fixture
def supervisor(db):
    return make_supervisor(email="supervisor@example.com")


@pytest.fixture
def viewer(db):
    return make_viewer(email="viewer@example.com")


@pytest.fixture
def ticket(alice, queue, acme):
    return TicketFactory(requester=alice, queue=queue, organization=acme)
