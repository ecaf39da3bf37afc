"""Priority order has one owner, ``tickets.models.Priority``: least to most urgent
is low, medium, high, critical, and every surface that sorts by priority (the desk
inbox, the portal list, the Django admin) and the SLA escalation follow it, never
the stored strings (which sort critical, high, low, medium). GraphQL's ordering and
enums are tested in ``graphql_api/tests/test_priority_order.py``."""

import re

import pytest
from django.db.models import F

from accounts.models import User
from tickets import services
from tickets.models import Priority, Ticket

from .factories import TicketFactory

pytestmark = pytest.mark.django_db

URGENT_FIRST = ["critical", "high", "medium", "low"]
# Created in an order that is neither the urgency order nor the strings' order.
CREATION_ORDER = ["medium", "critical", "low", "high"]


@pytest.fixture
def by_priority(alice, queue):
    """priority → reference of one ticket each, in the same queue."""
    return {
        priority: TicketFactory(
            requester=alice, queue=queue, priority=priority
        ).reference
        for priority in CREATION_ORDER
    }


def in_page_order(response, by_priority) -> list[str]:
    """The priorities of ``by_priority``'s tickets in the order the HTML shows them."""
    assert response.status_code == 200
    html = response.content.decode()
    priority_of = {reference: p for p, reference in by_priority.items()}
    seen = []
    for reference in re.findall(r"HD-\d+", html):
        if reference in priority_of and priority_of[reference] not in seen:
            seen.append(priority_of[reference])
    return seen


def test_the_model_choices_own_order_and_labels():
    assert [p.value for p in Priority.ordered()] == URGENT_FIRST[::-1]
    assert [p.value for p in Priority.ordered(descending=True)] == URGENT_FIRST
    assert [p.rank for p in Priority.ordered()] == [0, 1, 2, 3]
    assert [str(p.label) for p in Priority.ordered()] == [
        "Low",
        "Medium",
        "High",
        "Critical",
    ]
    assert [p.raised() for p in Priority.ordered()] == [
        Priority.MEDIUM,
        Priority.HIGH,
        Priority.CRITICAL,
        None,
    ]


def test_order_expression_sorts_a_queryset_by_urgency(by_priority):
    rows = Ticket.objects.alias(rank=Priority.order_expression()).order_by("-rank")
    assert list(rows.values_list("priority", flat=True)) == URGENT_FIRST
    ranked = Ticket.objects.with_priority_rank().order_by(F("priority_rank").asc())
    assert list(ranked.values_list("priority", flat=True)) == URGENT_FIRST[::-1]


@pytest.mark.parametrize(
    ("order", "expected"),
    [("-priority", URGENT_FIRST), ("priority", URGENT_FIRST[::-1])],
)
def test_desk_inbox_sorts_priority_by_urgency(
    client, agent, by_priority, order, expected
):
    client.force_login(agent)
    response = client.get("/admin/helpdesk/tickets/", {"view": "all", "order": order})
    assert in_page_order(response, by_priority) == expected
    # the column header offers the other direction next
    html = response.content.decode()
    other = order[1:] if order.startswith("-") else f"-{order}"
    assert f"order={other}" in html.replace("%2D", "-")


def test_portal_list_sorts_priority_most_urgent_first(client, alice, by_priority):
    client.force_login(alice)
    response = client.get("/portal/tickets/", {"order": "priority"})
    assert in_page_order(response, by_priority) == URGENT_FIRST


@pytest.mark.parametrize(
    ("sort", "expected"),
    [("3", URGENT_FIRST[::-1]), ("-3", URGENT_FIRST)],  # column 3: priority,
)
def test_django_admin_sorts_the_priority_column_by_urgency(
    client, by_priority, sort, expected
):
    admin = User.objects.create_superuser(email="root@example.com", password="x" * 16)
    client.force_login(admin)
    response = client.get("/django-admin/tickets/ticket/", {"o": sort})
    assert in_page_order(response, by_priority) == expected
    assert '<td class="field-priority_column">Critical</td>' in (
        response.content.decode()
    )


@pytest.mark.parametrize(
    ("before", "after"),
    [("low", "medium"), ("medium", "high"), ("high", "critical")],
)
def test_escalation_raises_one_step_in_the_owner_order(alice, queue, before, after):
    ticket = TicketFactory(requester=alice, queue=queue, priority=before)
    assert services.escalate_priority(ticket) is True
    ticket.refresh_from_db()
    assert ticket.priority == after


def test_escalation_stops_at_critical(alice, queue):
    ticket = TicketFactory(requester=alice, queue=queue, priority="critical")
    assert services.escalate_priority(ticket) is False
    ticket.refresh_from_db()
    assert ticket.priority == "critical"
