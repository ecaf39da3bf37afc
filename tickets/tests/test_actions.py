"""Status changes as actions (``tickets.actions``): each action's ``check`` says yes
exactly when its ``execute`` makes the change, for every caller and every status, and
refuses with the policy's own message otherwise; the portal's buttons and the desk's
status control show exactly the actions whose POST then succeeds; GraphQL answers with
the same refusal. (The three rules the [House] issue found, where the policy refused a
requester's status change that the service then performed, cannot come back: there is
one check per action and the surfaces only ask it.)

The surfaces: ``test_actions_surfaces.py``. Allowed and refused twins of every action
on every surface, for every kind of caller, are in the permission matrix
(``tests/reliability/test_permission_matrix.py``)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import transaction

from tickets import actions, permissions
from tickets.exceptions import PermissionDenied, TicketNotFound
from tickets.models import EventKind, Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

CALLERS = ["alice", "bob", "agent", "other_agent", "supervisor", "viewer", "anonymous"]
REASON = "Duplicate of HD-1."


@pytest.fixture
def anonymous():
    return AnonymousUser()


def _in(ticket, status):
    """``ticket`` in ``status`` (set directly: the grants do not depend on it)."""
    Ticket.objects.filter(pk=ticket.pk).update(status=status)
    return Ticket.objects.get(pk=ticket.pk)


def _outcome(action, user, ticket, **kw):
    """None when ``execute`` made the change (checked, then rolled back), else the
    ``(kind, message)`` of its refusal."""
    before = TicketEvent.objects.filter(ticket=ticket).count()
    with transaction.atomic():
        try:
            action.execute(user, ticket, **kw)
        except TicketNotFound as error:
            return permissions.NOT_FOUND, str(error)
        except PermissionDenied as error:
            return permissions.FORBIDDEN, str(error)
        except ValidationError as error:
            [message] = error.messages
            return permissions.INVALID, message
        fresh = Ticket.objects.get(pk=ticket.pk)
        assert fresh.status == (action.target or kw["status"])
        [event] = TicketEvent.objects.filter(ticket=ticket).order_by("pk")[before:]
        assert event.kind == EventKind.STATUS_CHANGED
        assert event.new_value == fresh.status
        transaction.set_rollback(True)
    return None


# --- the registry -------------------------------------------------------------------


def test_the_registry_names_each_status_action_once():
    assert list(actions.REGISTRY) == [
        "close",
        "reopen",
        "withdraw",
        "resolve",
        "reject",
        "change_status",
    ]
    assert {name: a.target for name, a in actions.REGISTRY.items()} == {
        "close": Status.CLOSED,
        "reopen": Status.OPEN,
        "withdraw": Status.WITHDRAWN,
        "resolve": Status.RESOLVED,
        "reject": Status.REJECTED,
        "change_status": None,
    }
    # Every action's policy is an entry of the one policy (tickets.permissions).
    assert {a.policy_action for a in actions.REGISTRY.values()} <= set(
        permissions.ACTIONS
    )
    assert actions.for_status(Status.RESOLVED) is actions.RESOLVE
    assert actions.for_status(Status.REJECTED) is actions.REJECT
    assert actions.for_status(Status.CLOSED) is actions.CHANGE_STATUS
    assert actions.for_status("nonsense") is actions.CHANGE_STATUS
    with pytest.raises(KeyError):
        actions.get("delete")


def test_a_named_move_refuses_another_status(agent, ticket):
    with pytest.raises(ValueError):
        actions.RESOLVE.execute(agent, ticket, status=Status.CLOSED)
    assert Ticket.objects.get(pk=ticket.pk).status == Status.NEW


def test_available_actions_for_the_requester_and_an_agent(alice, agent, ticket):
    ticket = _in(ticket, Status.OPEN)
    assert [a.name for a in actions.available_actions(alice, ticket)] == [
        "close",
        "withdraw",
        "change_status",
    ]
    assert [a.name for a in actions.available_actions(agent, ticket)] == [
        "resolve",
        "reject",
        "change_status",
    ]
    assert actions.available_actions(alice, ticket, ["reopen", "close"]) == [
        actions.CLOSE
    ]


# --- check and execute agree, for every caller and status -----------------------------


@pytest.mark.parametrize("caller", CALLERS)
def test_each_action_does_exactly_what_its_check_allows(request, caller, ticket):
    user = request.getfixturevalue(caller)
    allowed = {}
    for current in Status.values:
        for name, action in actions.REGISTRY.items():
            if action.target is None:
                continue
            policy = action.why_not(user, _in(ticket, current))
            kw = {"reason": REASON} if name == "reject" else {}
            assert _outcome(action, user, _in(ticket, current), **kw) == policy, (
                current,
                name,
            )
            assert action.check(user, _in(ticket, current)) == (policy is None)
            if policy is None:
                allowed.setdefault(current, []).append(name)
        # The staff control (``change_status``) is shown iff it offers a move, and
        # offers exactly the moves it allows; that the service (its ``execute``)
        # performs exactly those is ``test_status_rule``'s, for every target.
        choices = actions.CHANGE_STATUS.choices(user, _in(ticket, current))
        assert choices == [
            target
            for target in choices
            if actions.CHANGE_STATUS.check(user, _in(ticket, current), status=target)
        ]
        assert actions.CHANGE_STATUS.check(user, _in(ticket, current)) == bool(choices)
    if caller == "alice":  # the requester: the customer's buttons
        assert allowed == {
            Status.NEW: ["close", "withdraw"],
            Status.OPEN: ["close", "withdraw"],
            Status.IN_PROGRESS: ["close", "withdraw"],
            Status.WAITING_ON_CUSTOMER: ["close", "withdraw"],
            Status.ON_HOLD: ["close", "withdraw"],
            Status.RESOLVED: ["close", "reopen"],
        }
    elif caller in ("agent", "supervisor"):
        assert allowed[Status.OPEN] == ["resolve", "reject"]
        assert allowed[Status.RESOLVED] == ["close", "reopen"]
        assert ("reopen" in allowed.get(Status.CLOSED, [])) == (caller == "supervisor")
    else:  # a colleague, another queue's agent, a viewer, nobody
        assert allowed == {}


def test_the_requesters_status_change_is_allowed_by_the_policy_it_goes_through(
    alice, ticket
):
    """The issue's mismatch: the policy refused the requester's change the service
    then performed. Now the control's check, the action and the service agree."""
    ticket = _in(ticket, Status.OPEN)
    assert actions.CHANGE_STATUS.check(alice, ticket)
    assert actions.CHANGE_STATUS.choices(alice, ticket) == [
        Status.CLOSED,
        Status.WITHDRAWN,
    ]
    assert actions.CHANGE_STATUS.why_not(alice, ticket, status=Status.RESOLVED) == (
        permissions.FORBIDDEN,
        "You cannot move this ticket from Open to Resolved.",
    )
    actions.CHANGE_STATUS.execute(alice, ticket, status=Status.CLOSED)
    assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED


def test_a_stale_button_is_refused_with_its_own_message_and_changes_nothing(
    alice, agent, ticket
):
    page = _in(ticket, Status.RESOLVED)  # the page the requester drew
    assert actions.REOPEN.check(alice, page)
    actions.CHANGE_STATUS.execute(agent, _in(ticket, Status.RESOLVED), status="open")
    events = TicketEvent.objects.filter(ticket=ticket).count()
    with pytest.raises(ValidationError) as refused:
        actions.REOPEN.execute(alice, page)
    assert refused.value.messages == ["This ticket cannot be reopened now."]
    assert Ticket.objects.get(pk=ticket.pk).status == Status.OPEN
    assert TicketEvent.objects.filter(ticket=ticket).count() == events


def test_rejecting_still_needs_a_reason(agent, ticket):
    ticket = _in(ticket, Status.OPEN)
    with pytest.raises(ValidationError) as refused:
        actions.REJECT.execute(agent, ticket)
    assert refused.value.message_dict == {
        "reason": ["Give a reason for rejecting the ticket."]
    }
    assert Ticket.objects.get(pk=ticket.pk).status == Status.OPEN
    actions.REJECT.execute(agent, ticket, reason=REASON)
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert (fresh.status, fresh.rejection_reason) == (Status.REJECTED, REASON)
