"""One status-change rule, ``permissions.why_not_move``: the service performs exactly
the moves it allows and refuses the others with its message; the desk's status control
(``why_not(change_status)`` and its choices) and the portal's close / reopen / withdraw
buttons ask it, so no surface refuses a move the service performs (the requester's
close was refused by the policy as "Only the support team can change the status.")
or offers one it refuses."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from tickets import permissions, services
from tickets.exceptions import PermissionDenied, TicketNotFound
from tickets.models import Status, Ticket

from .factories import TicketFactory

pytestmark = pytest.mark.django_db

CALLERS = ["alice", "bob", "agent", "other_agent", "supervisor", "viewer"]


@pytest.fixture
def ticket(alice, queue):
    return TicketFactory(requester=alice, queue=queue)


def _in(ticket, status):
    Ticket.objects.filter(pk=ticket.pk).update(status=status)
    return Ticket.objects.get(pk=ticket.pk)


def _service_outcome(user, ticket, target):
    """None when the service made the move, else (kind, message) of its refusal;
    the move is rolled back either way."""
    with transaction.atomic():
        try:
            services.change_status(user, ticket, target, reason="Duplicate of HD-1.")
        except TicketNotFound as error:
            return permissions.NOT_FOUND, str(error)
        except PermissionDenied as error:
            return permissions.FORBIDDEN, str(error)
        except ValidationError as error:
            return permissions.INVALID, error.message_dict["status"][0]
        assert Ticket.objects.get(pk=ticket.pk).status == target
        transaction.set_rollback(True)
    return None


@pytest.mark.parametrize("caller", CALLERS)
def test_the_service_performs_exactly_the_moves_the_policy_allows(
    request, caller, ticket
):
    user = request.getfixturevalue(caller)
    allowed = {}
    for current in Status.values:
        for target in Status.values:
            policy = permissions.why_not_move(user, _in(ticket, current), target)
            outcome = _service_outcome(user, _in(ticket, current), target)
            assert outcome == policy, (current, target)
            if policy is None:
                allowed.setdefault(current, []).append(target)
        # The desk's status control offers the same moves.
        moves = permissions.allowed_moves(user, _in(ticket, current))
        assert sorted(moves) == sorted(allowed.get(current, [])), current
        assert permissions.can(user, "change_status", _in(ticket, current)) == bool(
            moves
        )
    if caller == "alice":
        assert allowed[Status.OPEN] == [Status.CLOSED, Status.WITHDRAWN]
        assert allowed[Status.RESOLVED] == [Status.OPEN, Status.CLOSED]
    if caller in ("bob", "other_agent", "viewer"):
        assert allowed == {}


@pytest.mark.parametrize(
    ("intent", "target"),
    [("close", "closed"), ("reopen", "open"), ("withdraw", "withdrawn")],
)
@pytest.mark.parametrize("caller", CALLERS)
def test_portal_buttons_only_offer_moves_the_rule_allows(
    request, caller, intent, target, ticket
):
    user = request.getfixturevalue(caller)
    for current in Status.values:
        if permissions.can(user, intent, _in(ticket, current)):
            assert permissions.why_not_move(user, _in(ticket, current), target) is None
            assert current != target


def test_a_requester_may_use_the_status_control_the_service_honours(alice, ticket):
    assert permissions.why_not(alice, "change_status", ticket) is None
    assert permissions.allowed_moves(alice, ticket) == ["closed", "withdrawn"]
    services.change_status(alice, ticket, "closed")
    assert Ticket.objects.get(pk=ticket.pk).status == "closed"
    assert permissions.why_not(alice, "change_status", ticket) == (
        permissions.INVALID,
        "This ticket's status cannot change any more.",
    )
