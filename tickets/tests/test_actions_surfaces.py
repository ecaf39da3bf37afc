"""The buttons a surface shows are the ``tickets.actions`` whose POST succeeds: the
portal's status buttons and the desk's status control, for a set of (caller, status)
pairs; the allowed and refused twin of a POST on each surface (portal, desk, GraphQL),
with the refusal the action's own message and nothing changed."""

import re

import pytest
from django.db import transaction
from django.urls import reverse

from accounts.tokens import create_token
from tickets import actions
from tickets.models import EventKind, Status, Ticket, TicketEvent

from .test_actions import REASON, _in

pytestmark = pytest.mark.django_db

# --- the buttons a surface shows are the POSTs that succeed ----------------------------


def _status_events(ticket):
    return list(
        TicketEvent.objects.filter(ticket=ticket, kind=EventKind.STATUS_CHANGED)
    )


def _posted(client, url, data, ticket):
    """The status after posting ``data`` (rolled back)."""
    with transaction.atomic():
        client.post(url, data)
        status = Ticket.objects.get(pk=ticket.pk).status
        transaction.set_rollback(True)
    return status


PORTAL_PAIRS = [
    (caller, status)
    for caller in ("alice", "bob", "agent", "supervisor")
    for status in (
        Status.NEW,
        Status.WAITING_ON_CUSTOMER,
        Status.RESOLVED,
        Status.CLOSED,
        Status.WITHDRAWN,
    )
]


@pytest.mark.parametrize(("caller", "status"), PORTAL_PAIRS)
def test_portal_shows_exactly_the_buttons_whose_post_succeeds(
    request, client, caller, status, ticket
):
    user = request.getfixturevalue(caller)
    client.force_login(user)
    ticket = _in(ticket, status)
    page = client.get(reverse("tickets:portal_ticket", args=[ticket.reference]))
    assert page.status_code == 200
    shown = re.findall(r'name="action" value="(\w+)"', page.content.decode())
    url = reverse("tickets:portal_status", args=[ticket.reference])
    succeeded = [
        name
        for name in actions.PORTAL_ACTIONS
        if _posted(client, url, {"action": name}, ticket)
        == actions.get(name).target
        != status
    ]
    assert shown == succeeded
    assert shown == [
        a.name for a in actions.available_actions(user, ticket, actions.PORTAL_ACTIONS)
    ]
    assert Ticket.objects.get(pk=ticket.pk).status == status
    if caller == "alice" and status == Status.WAITING_ON_CUSTOMER:
        assert shown == ["close", "withdraw"]
    if caller == "alice" and status == Status.RESOLVED:
        assert shown == ["close", "reopen"]
    if caller == "bob":  # a colleague reads and replies, never changes the status
        assert shown == []


def test_portal_status_post_twins(client, alice, bob, ticket):
    """Allowed: the change, its event and message. Refused (a colleague): the policy's
    message, nothing changed."""
    ticket = _in(ticket, Status.OPEN)
    url = reverse("tickets:portal_status", args=[ticket.reference])
    client.force_login(bob)
    response = client.post(url, {"action": "withdraw"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "Only the requester can withdraw a ticket."
    ]
    assert Ticket.objects.get(pk=ticket.pk).status == Status.OPEN
    assert _status_events(ticket) == []
    client.force_login(alice)
    response = client.post(url, {"action": "withdraw"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        f"Ticket {ticket.reference} was withdrawn."
    ]
    assert Ticket.objects.get(pk=ticket.pk).status == Status.WITHDRAWN
    [event] = _status_events(ticket)
    assert (event.kind, event.old_value, event.new_value, event.actor_id) == (
        EventKind.STATUS_CHANGED,
        Status.OPEN,
        Status.WITHDRAWN,
        alice.pk,
    )


DESK_PAIRS = [
    (caller, status)
    for caller in ("agent", "supervisor", "viewer")
    for status in (Status.NEW, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED)
]


@pytest.mark.parametrize(("caller", "status"), DESK_PAIRS)
def test_desk_status_control_offers_exactly_the_moves_whose_post_succeeds(
    request, client, caller, status, ticket
):
    user = request.getfixturevalue(caller)
    client.force_login(user)
    ticket = _in(ticket, status)
    page = client.get(reverse("helpdesk:ticket", args=[ticket.reference]))
    assert page.status_code == 200
    html = page.content.decode()
    control = re.search(r'<select name="status"[^>]*>(.*?)</select>', html, re.S)
    offered = re.findall(r'value="(\w+)"', control.group(1)) if control else []
    # The first option is the current status ("… (current)"), not a move.
    moves = offered[1:]
    if offered:
        assert offered[0] == status
    url = reverse("helpdesk:ticket_action", args=[ticket.reference, "status"])
    succeeded = [
        target
        for target in Status.values
        if _posted(client, url, {"status": target, "reason": REASON}, ticket) == target
        and target != status
    ]
    assert sorted(moves) == sorted(succeeded)
    assert moves == actions.CHANGE_STATUS.choices(user, ticket)
    assert bool(control) == actions.CHANGE_STATUS.check(user, ticket)
    if caller == "viewer":
        assert moves == []
    if status == Status.CLOSED:
        assert moves == ([Status.OPEN] if caller == "supervisor" else [])


def test_desk_status_post_twins(client, agent, viewer, ticket):
    ticket = _in(ticket, Status.OPEN)
    url = reverse("helpdesk:ticket_action", args=[ticket.reference, "status"])
    client.force_login(viewer)
    response = client.post(url, {"status": Status.RESOLVED})
    assert response.status_code == 403
    assert "You cannot change the status of this ticket." in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).status == Status.OPEN
    assert _status_events(ticket) == []
    client.force_login(agent)
    response = client.post(url, {"status": Status.RESOLVED})
    assert response.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).status == Status.RESOLVED
    [event] = _status_events(ticket)
    assert (event.kind, event.new_value, event.actor_id) == (
        EventKind.STATUS_CHANGED,
        Status.RESOLVED,
        agent.pk,
    )


# --- GraphQL answers with the action's refusal -----------------------------------------

MUTATION = (
    "mutation($i: ChangeTicketStatusInput!) { changeTicketStatus(input: $i) {"
    " __typename ... on Ticket { status }"
    " ... on OperationInfo { messages { kind field message } } } }"
)


def _gql(client, user, reference, status, reason=None):
    secret = create_token(user, name="actions", scopes="read,write").secret
    variables = {"i": {"reference": reference, "status": status}}
    if reason:
        variables["i"]["reason"] = reason
    response = client.post(
        "/graphql/",
        {"query": MUTATION, "variables": variables},
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["changeTicketStatus"]


@pytest.mark.parametrize(
    ("caller", "target", "policy_action"),
    [
        ("agent", "RESOLVED", "resolve"),
        ("agent", "REJECTED", "reject"),
        ("alice", "CLOSED", "close"),
        ("alice", "WITHDRAWN", "withdraw"),
        ("agent", "IN_PROGRESS", "change_status"),
    ],
)
def test_graphql_change_status_twins(
    request, client, bob, caller, target, policy_action, ticket
):
    """The allowed caller moves the ticket; a colleague (who sees it) is refused with
    the action's message and nothing changes."""
    ticket = _in(ticket, Status.OPEN)
    status = target.lower()
    refused = _gql(client, bob, ticket.reference, target, REASON)
    denial = actions.for_status(status).why_not(bob, ticket, status=status)
    assert denial is not None
    assert refused["__typename"] == "OperationInfo"
    assert [m["message"] for m in refused["messages"]] == [denial[1]]
    assert Ticket.objects.get(pk=ticket.pk).status == Status.OPEN
    assert _status_events(ticket) == []

    user = request.getfixturevalue(caller)
    assert actions.get(policy_action).check(user, ticket, status=status)
    done = _gql(client, user, ticket.reference, target, REASON)
    assert done == {"__typename": "Ticket", "status": target}
    assert Ticket.objects.get(pk=ticket.pk).status == status
    [event] = _status_events(ticket)
    assert event.new_value == status
