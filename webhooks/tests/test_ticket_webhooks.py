"""Ticket changes reach the outbox in the service's transaction, in order."""

import pytest
from django.core.exceptions import ValidationError

from tickets import services
from tickets.exceptions import PermissionDenied
from tickets.tests.factories import (
    QueueFactory,
    TicketFactory,
    make_agent,
    make_customer,
    make_supervisor,
)
from webhooks.delivery import deliver_due
from webhooks.models import WebhookDelivery

ALL_EVENTS = [
    "ticket.created",
    "ticket.updated",
    "ticket.status_changed",
    "ticket.assigned",
    "comment.created",
]


@pytest.fixture
def people(db):
    queue = QueueFactory(slug="support", name="Support", is_default=True)
    return {
        "queue": queue,
        "alice": make_customer(email="alice@acme.example"),
        "agent": make_agent(queue, email="agent@example.com"),
        "supervisor": make_supervisor(email="supervisor@example.com"),
    }


@pytest.mark.django_db
def test_a_ticket_story_is_enqueued_in_order(people, make_webhook, receiver):
    public = make_webhook(name="public", url=receiver.url, events=ALL_EVENTS)
    internal = make_webhook(
        name="internal", events=["comment.created"], include_internal_notes=True
    )
    alice, agent = people["alice"], people["agent"]

    ticket = TicketFactory(requester=alice, queue=people["queue"], subject="Broken")
    services.assign(people["supervisor"], ticket, agent)
    services.reply(agent, ticket, body="On it")
    services.add_internal_note(agent, ticket, body="Secret")
    services.change_priority(agent, ticket, "high")
    services.change_status(agent, ticket, "resolved")

    rows = WebhookDelivery.objects.filter(webhook=public).order_by("id")
    assert [row.event for row in rows] == [
        "ticket.created",
        "ticket.assigned",
        "ticket.status_changed",  # the first staff reply moves the new ticket to open
        "comment.created",
        "ticket.updated",
        "ticket.status_changed",
    ]
    assert {row.ordering_key for row in rows} == {f"ticket:{ticket.reference}"}
    created, assigned, opened, comment, updated, status = (row.payload for row in rows)
    assert (opened["oldStatus"], opened["newStatus"]) == ("new", "open")
    assert created["ticket"]["reference"] == ticket.reference
    assert created["ticket"]["description"] == ticket.description
    assert created["ticket"]["requester"]["email"] == "alice@acme.example"
    assert assigned["newAssignee"]["email"] == "agent@example.com"
    assert assigned["oldAssignee"] is None
    assert comment["comment"]["body"] == "On it"
    assert comment["comment"]["internal"] is False
    assert updated["change"] == {"field": "priority", "old": "medium", "new": "high"}
    assert (status["oldStatus"], status["newStatus"]) == ("open", "resolved")

    notes = WebhookDelivery.objects.filter(webhook=internal).order_by("id")
    assert [row.payload["comment"]["body"] for row in notes] == ["On it", "Secret"]

    # the internal webhook's endpoint is down: its first row waits, the second is held
    assert deliver_due() == {"delivered": 6, "retry": 1}
    assert [r.json["event"] for r in receiver.requests] == [row.event for row in rows]


@pytest.mark.django_db
def test_a_refused_change_enqueues_nothing(people, make_webhook):
    make_webhook(events=ALL_EVENTS)
    ticket = TicketFactory(requester=people["alice"], queue=people["queue"])
    before = list(WebhookDelivery.objects.values_list("event", flat=True))
    assert before == ["ticket.created"]
    with pytest.raises(ValidationError):
        services.change_status(people["agent"], ticket, "rejected", reason="")
    with pytest.raises(ValidationError):
        services.reply(people["agent"], ticket, body="   ")
    with pytest.raises(PermissionDenied):
        services.assign(people["alice"], ticket, people["agent"])
    assert list(WebhookDelivery.objects.values_list("event", flat=True)) == before
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee) == ("new", None)
