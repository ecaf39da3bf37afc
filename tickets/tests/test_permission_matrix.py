"""Who may do what on one ticket, through the real services and views.

Every allowed cell performs the action; every denied cell asserts the exact error (an
invisible ticket is "not found", a visible one "permission denied") and that nothing
changed: no comment, no event, same status, no assignee, no rating.
"""

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.models import TicketSharing
from tickets import permissions, services
from tickets.exceptions import PermissionDenied, TicketNotFound
from tickets.models import Attachment, Comment, Ticket, TicketEvent

from .factories import (
    OrganizationFactory,
    QueueFactory,
    TicketFactory,
    make_agent,
    make_customer,
    make_supervisor,
    make_viewer,
    png_bytes,
    upload,
)

CALLERS = [
    "anonymous",
    "requester",
    "colleague_none",
    "colleague_read",
    "colleague_read_write",
    "other_org_customer",
    "queue_agent",
    "other_queue_agent",
    "supervisor",
    "viewer",
]
ACTIONS = [
    "view",
    "reply",
    "add_internal_note",
    "see_internal_notes",
    "change_status",
    "assign",
    "download_attachment",
    "rate",
]
ALL = set(ACTIONS)
STAFF = ALL - {"rate"}
EXPECTED = {
    "anonymous": set(),
    "requester": {"view", "reply", "download_attachment", "rate"},
    "colleague_none": set(),
    "colleague_read": {"view", "download_attachment"},
    "colleague_read_write": {"view", "reply", "download_attachment"},
    "other_org_customer": set(),
    "queue_agent": STAFF,
    "other_queue_agent": set(),
    "supervisor": STAFF,
    "viewer": {"view", "see_internal_notes", "download_attachment"},
}
SEES = {caller for caller, allowed in EXPECTED.items() if "view" in allowed}


@pytest.fixture
def world(db):
    queue = QueueFactory(slug="support")
    other_queue = QueueFactory(slug="billing")
    acme = OrganizationFactory(slug="acme")
    globex = OrganizationFactory(slug="globex")
    requester = make_customer(acme)
    agent = make_agent(queue)
    ticket = TicketFactory(requester=requester, queue=queue, organization=acme)
    services.change_status(agent, ticket, "open")
    services.reply(
        requester, ticket, body="Public", attachments=[upload("a.png", png_bytes())]
    )
    services.add_internal_note(agent, ticket, body="Secret")
    return {
        "ticket": ticket,
        "acme": acme,
        "agent": agent,
        "requester": requester,
        "attachment": Attachment.objects.get(),
        "users": {
            "anonymous": AnonymousUser(),
            "requester": requester,
            "colleague": make_customer(acme),
            "other_org_customer": make_customer(globex),
            "queue_agent": agent,
            "other_queue_agent": make_agent(other_queue),
            "supervisor": make_supervisor(),
            "viewer": make_viewer(),
        },
    }


def _caller(world, name):
    if name.startswith("colleague_"):
        acme = world["acme"]
        acme.ticket_sharing = {
            "colleague_none": TicketSharing.NONE,
            "colleague_read": TicketSharing.READ,
            "colleague_read_write": TicketSharing.READ_WRITE,
        }[name]
        acme.save()
        services.apply_organization_sharing(acme)
        return world["users"]["colleague"]
    return world["users"][name]


def _state(ticket):
    fresh = Ticket.objects.get(pk=ticket.pk)
    return {
        "comments": Comment.objects.filter(ticket=ticket).count(),
        "events": TicketEvent.objects.filter(ticket=ticket).count(),
        "status": fresh.status,
        "assignee": fresh.assignee_id,
        "rating": fresh.satisfaction_rating,
    }


def _attempt(action, user, world, client):
    """Perform the action; True if it succeeded, False if it was refused like missing
    (404 / TicketNotFound), raises PermissionDenied when refused as forbidden."""
    ticket = world["ticket"]
    if action == "view":
        try:
            permissions.get_ticket_for(user, ticket.reference)
        except TicketNotFound:
            return False
        return True
    if action == "see_internal_notes":
        bodies = [c.body for c in permissions.visible_comments(user, ticket)]
        return "Secret" in bodies
    if action == "download_attachment":
        if user.is_authenticated:
            client.force_login(user)
        response = client.get(world["attachment"].get_absolute_url())
        assert response.status_code in (200, 404)
        return response.status_code == 200
    call = {
        "reply": lambda: services.reply(user, ticket, body="Hello"),
        "add_internal_note": lambda: services.add_internal_note(
            user, ticket, body="Note"
        ),
        "change_status": lambda: services.change_status(user, ticket, "in_progress"),
        "assign": lambda: services.assign(user, ticket, world["agent"]),
        "rate": lambda: services.rate(user, ticket, rating=5),
    }[action]
    try:
        call()
    except TicketNotFound:
        return False
    return True


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("caller", CALLERS)
def test_permission_matrix(world, client, caller, action):
    user = _caller(world, caller)
    ticket = world["ticket"]
    if action == "rate":
        services.change_status(world["agent"], ticket, "resolved")
    before = _state(ticket)
    allowed = action in EXPECTED[caller]

    if allowed:
        assert _attempt(action, user, world, client) is True
        return
    if caller in SEES and action not in ("see_internal_notes", "download_attachment"):
        with pytest.raises(PermissionDenied):
            _attempt(action, user, world, client)
    else:
        assert _attempt(action, user, world, client) is False
    assert _state(ticket) == before


@pytest.mark.parametrize("caller", CALLERS)
def test_can_agrees_with_the_matrix(world, caller):
    user = _caller(world, caller)
    ticket = Ticket.objects.get(pk=world["ticket"].pk)
    names = {
        "view": "view",
        "reply": "reply",
        "add_internal_note": "add_note",
        "see_internal_notes": "view_internal",
        "change_status": "change_status",
        "assign": "assign",
        "download_attachment": "download_attachment",
    }
    allowed = {
        mine
        for mine, policy in names.items()
        if mine != "change_status" and permissions.can(user, policy, ticket)
    }
    # The matrix's status change is the move to in progress: the one rule's answer.
    if permissions.why_not_move(user, ticket, "in_progress") is None:
        allowed.add("change_status")
    assert allowed == EXPECTED[caller] - {"rate"}
