"""The CRM's scene: two queues, an organization worked by each (Acme through
Support, Globex through Billing), an agent of each queue, a supervisor, a viewer and
a customer of each organization. The tickets app's fixtures are reused as they are."""

# ruff: noqa: F811 - fixtures imported from the tickets tests are used as arguments

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.models import Interaction, Task
from tickets.tests.conftest import (  # noqa: F401 - fixtures
    acme,
    agent,
    alice,
    bob,
    other_agent,
    other_queue,
    queue,
    supervisor,
    ticket,
    viewer,
)
from tickets.tests.factories import OrganizationFactory, TicketFactory, make_customer


@pytest.fixture
def globex(db):
    return OrganizationFactory(name="Globex", slug="globex")


@pytest.fixture
def gina(globex):
    return make_customer(globex, email="gina@globex.example", display_name="Gina")


@pytest.fixture
def globex_ticket(gina, other_queue, globex):
    return TicketFactory(requester=gina, queue=other_queue, organization=globex)


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def make_task(supervisor, now):
    def _make(**fields):
        fields.setdefault("title", "Call back")
        fields.setdefault("assignee", supervisor)
        fields.setdefault("created_by", supervisor)
        fields.setdefault("due_at", now + timedelta(days=1))
        return Task.objects.create(**fields)

    return _make


@pytest.fixture
def make_interaction(supervisor, now):
    def _make(**fields):
        fields.setdefault("kind", "call")
        fields.setdefault("subject", "Quarterly call")
        fields.setdefault("author", supervisor)
        fields.setdefault("happened_at", now)
        return Interaction.objects.create(**fields)

    return _make


@pytest.fixture
def scene(ticket, globex_ticket, agent, other_agent):
    """Both organizations have a ticket in their queue (``ticket``: Acme, Support;
    ``globex_ticket``: Globex, Billing)."""
    return ticket, globex_ticket
