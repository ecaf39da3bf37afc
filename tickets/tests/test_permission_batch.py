"""``permissions.why_not_each`` / ``can_each`` (the desk sidebar's dozen questions at
once) answer exactly what ``why_not`` answers for each action, and ``ticket_perms``
(its SQL kept, ``permissions._HELD``) exactly what guardian answers."""

import pytest
from django.contrib.auth.models import AnonymousUser
from guardian.core import ObjectPermissionChecker
from guardian.shortcuts import assign_perm

from tickets import actions, permissions, services
from tickets.desk.workspace import SIDEBAR_ACTIONS
from tickets.models import Status, Ticket

from .factories import TicketFactory, make_agent, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(alice, bob, agent, other_agent, supervisor, viewer, other_queue, acme):
    # sees the ticket through organization sharing only: no internal notes
    insider = make_agent(other_queue, email="insider@example.com")
    from accounts.services import setup_member

    setup_member(acme, insider)
    return {
        "anonymous": AnonymousUser(),
        "requester": alice,
        "colleague": bob,
        "stranger": make_customer(email="stranger@example.com"),
        "queue_agent": agent,
        "other_queue_agent": other_agent,
        "sharing_agent": insider,
        "supervisor": supervisor,
        "viewer": viewer,
    }


@pytest.fixture
def tickets(ticket, alice, agent, queue):
    resolved = TicketFactory(requester=alice, queue=queue)
    Ticket.objects.filter(pk=resolved.pk).update(status=Status.RESOLVED)
    merged = TicketFactory(requester=alice, queue=queue)
    services.merge(agent, merged, ticket)
    return {"new": ticket, "resolved": resolved, "merged": merged}


def test_each_answer_is_why_not_for_every_action_user_and_ticket(people, tickets):
    for who, user in people.items():
        for name, ticket in tickets.items():
            ticket.refresh_from_db()
            permissions.invalidate(ticket)
            expected = {
                action: permissions.why_not(user, action, ticket)
                for action in permissions.ACTIONS
            }
            permissions.invalidate(ticket)
            answers = permissions.why_not_each(user, permissions.ACTIONS, ticket)
            assert answers == expected, (who, name)
            assert {a: getattr(d, "code", None) for a, d in answers.items()} == {
                a: getattr(d, "code", None) for a, d in expected.items()
            }, (who, name)
            assert permissions.can_each(user, permissions.ACTIONS, ticket) == {
                action: denial is None for action, denial in expected.items()
            }


def test_sidebar_answers(people, tickets):
    ticket = tickets["new"]
    sidebar = {
        who: {
            a
            for a, ok in permissions.can_each(user, SIDEBAR_ACTIONS, ticket).items()
            if ok
        }
        for who, user in people.items()
    }
    assert sidebar["queue_agent"] == set(SIDEBAR_ACTIONS)
    assert sidebar["supervisor"] == set(SIDEBAR_ACTIONS)
    # the viewer reads internal notes and acts on nothing
    assert sidebar["viewer"] == {"view_internal"}
    # the agent who sees the ticket through the organization: no internal notes
    assert "view_internal" not in sidebar["sharing_agent"]
    assert "add_note" not in sidebar["sharing_agent"]
    assert sidebar["requester"] == {"reply", "watch"}
    for nobody in ("anonymous", "stranger", "other_queue_agent"):
        assert sidebar[nobody] == set()


def test_unknown_actions_are_refused(people, tickets):
    with pytest.raises(ValueError):
        permissions.why_not_each(people["queue_agent"], ("view", "fly"), tickets["new"])


def test_ticket_perms_are_guardians(people, tickets, other_agent):
    ticket = tickets["new"]
    assign_perm("tickets.comment_ticket", other_agent, ticket)
    for who, user in people.items():
        if who == "anonymous" or user.is_superuser:
            continue
        for other in tickets.values():
            permissions.invalidate(other)
            assert permissions.ticket_perms(user, other) == frozenset(
                ObjectPermissionChecker(user).get_perms(other)
            ) | by_rule(user, other), (who, other.reference)


def by_rule(user, ticket) -> frozenset:
    """What ``user`` holds on ``ticket`` by the queue group's rule (its rows of old),
    from the rule's owner: ``permissions.queue_group_grants``."""
    if not user.is_active:
        return frozenset()
    groups = set(user.groups.values_list("pk", flat=True))
    return frozenset(
        codename
        for group_id, codename in permissions.queue_group_grants(ticket)
        if group_id in groups
    )


def test_the_status_control_is_why_not_and_allowed_moves(people, tickets):
    for who, user in people.items():
        for name, ticket in tickets.items():
            ticket.refresh_from_db()
            permissions.invalidate(ticket)
            denial = permissions.why_not(user, "change_status", ticket)
            moves = permissions.allowed_moves(user, ticket)
            permissions.invalidate(ticket)
            got = permissions.status_control(user, ticket)
            assert got == (denial, moves), (who, name)
            assert getattr(got[0], "code", None) == getattr(denial, "code", None)
            permissions.invalidate(ticket)
            assert actions.CHANGE_STATUS.control(user, ticket) == (
                actions.CHANGE_STATUS.check(user, ticket),
                actions.CHANGE_STATUS.choices(user, ticket),
            ), (who, name)
    # the matrix has both sides: a queue agent moves the new ticket, a stranger nothing
    assert permissions.status_control(people["queue_agent"], tickets["new"])[1]
    assert permissions.status_control(people["stranger"], tickets["new"]) == (
        permissions._Facts.missing(),
        [],
    )
