"""A webhook acts for its owner: it receives what its owner may see, decided by the
tickets and KB policies when the event is recorded, and nothing once its owner is gone."""

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from accounts.services import create_organization
from tickets import services
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
STORY = [
    "ticket.created",
    "ticket.assigned",
    "ticket.status_changed",  # the first staff reply moves the new ticket to open
    "comment.created",  # reply
    "comment.created",  # internal note
    "ticket.updated",  # priority
    "ticket.status_changed",
]


def _may_manage_webhooks(user):
    user.user_permissions.add(Permission.objects.get(codename="add_webhook"))
    return user


@pytest.fixture
def world(db):
    queue_a = QueueFactory(slug="queue-a", name="A", is_default=True)
    queue_b = QueueFactory(slug="queue-b", name="B")
    acme = create_organization(name="Acme", slug="acme", ticket_sharing="read")
    alice = make_customer(acme, email="alice@acme.example")
    bob = make_customer(acme, email="bob@acme.example")
    carol = make_customer(email="carol@globex.example")
    return {
        "queue_a": queue_a,
        "queue_b": queue_b,
        "acme": acme,
        "alice": alice,
        "bob": bob,
        "carol": carol,
        "agent_a": make_agent(queue_a, email="agent.a@example.com"),
        "agent_b": make_agent(queue_b, email="agent.b@example.com"),
        "supervisor": make_supervisor(email="supervisor@example.com"),
    }


def _story(world, *, requester, queue, organization=None):
    """A ticket's life: filed, assigned, answered, noted, reprioritised, resolved."""
    supervisor = world["supervisor"]
    ticket = TicketFactory(
        requester=requester, queue=queue, organization=organization, subject="Sync"
    )
    services.assign(supervisor, ticket, supervisor)
    services.reply(supervisor, ticket, body="On it")
    services.add_internal_note(supervisor, ticket, body="Customer is on the old plan")
    services.change_priority(supervisor, ticket, "high")
    services.change_status(supervisor, ticket, "resolved")
    return ticket


def _received(webhook):
    rows = WebhookDelivery.objects.filter(webhook=webhook).order_by("id")
    return [(row.payload["ticket"]["reference"], row.event) for row in rows]


def _note_bodies(webhook):
    return [
        row.payload["comment"]["body"]
        for row in WebhookDelivery.objects.filter(
            webhook=webhook, event="comment.created"
        )
        if row.payload["comment"]["internal"]
    ]


@pytest.mark.django_db
def test_an_agents_webhook_gets_only_the_tickets_of_the_agents_queues(
    world, make_webhook, receiver
):
    mine = make_webhook(
        name="agent a",
        url=receiver.url,
        events=ALL_EVENTS,
        include_internal_notes=True,
        owner=_may_manage_webhooks(world["agent_a"]),
    )
    in_a = _story(world, requester=world["alice"], queue=world["queue_a"])
    in_b = _story(world, requester=world["carol"], queue=world["queue_b"])

    assert _received(mine) == [(in_a.reference, event) for event in STORY]
    assert _note_bodies(mine) == ["Customer is on the old plan"]
    assert deliver_due() == {"delivered": len(STORY)}
    assert {r.json["data"]["ticket"]["reference"] for r in receiver.requests} == {
        in_a.reference
    }

    # Moving a ticket out of the agent's queues ends the agent's webhook's view of it,
    # from the move itself on.
    services.move_queue(world["supervisor"], in_a, world["queue_b"])
    services.reply(world["supervisor"], in_a, body="Moved to B")
    assert len(_received(mine)) == len(STORY)
    assert in_b.reference not in {ref for ref, _ in _received(mine)}


@pytest.mark.django_db
@pytest.mark.parametrize("owner_name", ["alice", "bob"])  # requester, org-shared
def test_a_customer_owner_gets_their_tickets_without_internal_notes(
    world, make_webhook, receiver, owner_name
):
    owner = _may_manage_webhooks(world[owner_name])
    theirs = make_webhook(
        name="customer",
        url=receiver.url,
        events=ALL_EVENTS,
        include_internal_notes=True,
        owner=owner,
    )
    staff = make_webhook(
        name="staff",
        url=receiver.url,
        events=ALL_EVENTS,
        include_internal_notes=True,
        owner=_may_manage_webhooks(world["agent_a"]),
    )
    shared = _story(
        world,
        requester=world["alice"],
        queue=world["queue_a"],
        organization=world["acme"],
    )
    foreign = _story(world, requester=world["carol"], queue=world["queue_a"])

    # the customer's: their organization's ticket, every event of the customer's view
    # of it (tickets.permissions: not the assignment, not the internal note)
    public_story = [event for i, event in enumerate(STORY) if i not in (1, 4)]
    assert _received(theirs) == [(shared.reference, e) for e in public_story]
    assert _note_bodies(theirs) == []
    # the allowed twin: the queue's agent gets both tickets, notes included
    assert _received(staff) == [
        *[(shared.reference, e) for e in STORY],
        *[(foreign.reference, e) for e in STORY],
    ]
    assert _note_bodies(staff) == ["Customer is on the old plan"] * 2

    # no staff email address or desk-only field in what the customer receives
    rows = WebhookDelivery.objects.filter(webhook=theirs).order_by("id")
    created, reply = rows[0].payload, rows[2].payload
    supervisor = world["supervisor"]
    assert reply["comment"]["author"] == {
        "id": supervisor.pk,
        "name": supervisor.get_display_name(),
    }
    assert reply["actor"] == reply["comment"]["author"]
    # a colleague's address is not shown either (as in GraphQL); one's own is
    requester = created["ticket"]["requester"]
    if owner_name == "alice":
        assert requester["email"] == "alice@acme.example"
    else:
        assert "email" not in requester
    assert requester["name"] == world["alice"].get_display_name()
    assert "source" not in created["ticket"]
    assert "slaBreachedAt" not in created["ticket"]
    assert "supervisor@example.com" not in str([row.payload for row in rows])
    staff_assigned = WebhookDelivery.objects.filter(
        webhook=staff, event="ticket.assigned"
    ).first()
    assert staff_assigned.payload["newAssignee"]["email"] == "supervisor@example.com"
    assert staff_assigned.payload["ticket"]["source"] == "portal"

    assert deliver_due() == {"delivered": len(public_story) + 2 * len(STORY)}
    internal = [r for r in receiver.requests if r.json["event"] == "comment.created"]
    assert sum(r.json["data"]["comment"]["internal"] for r in internal) == 2


def _deactivate(user):
    user.is_active = False
    user.save(update_fields=["is_active"])


def _lock(user):
    user.locked_at = timezone.now()
    user.save(update_fields=["locked_at"])


def _revoke(user):
    user.user_permissions.clear()


@pytest.mark.django_db
@pytest.mark.parametrize("remove", [_deactivate, _lock, _revoke])
def test_an_owner_who_is_gone_gets_nothing(world, make_webhook, receiver, remove):
    from accounts.models import User

    owner = _may_manage_webhooks(world["agent_a"])
    webhook = make_webhook(url=receiver.url, events=ALL_EVENTS, owner=owner)
    ticket = TicketFactory(requester=world["alice"], queue=world["queue_a"])
    assert _received(webhook) == [(ticket.reference, "ticket.created")]

    remove(User.objects.get(pk=owner.pk))
    services.reply(world["supervisor"], ticket, body="Hello")
    assert _received(webhook) == [(ticket.reference, "ticket.created")]

    # what was recorded before is not sent either: failed at once, with the reason
    assert deliver_due() == {"refused": 1}
    row = WebhookDelivery.objects.get(webhook=webhook)
    assert (row.status, row.last_error) == (
        "failed",
        "The webhook's owner may no longer receive events.",
    )
    assert receiver.requests == []


@pytest.mark.django_db
def test_a_webhook_without_an_owner_gets_nothing(world, make_webhook):
    webhook = make_webhook(events=ALL_EVENTS, owner=None)
    TicketFactory(requester=world["alice"], queue=world["queue_a"])
    assert _received(webhook) == []
