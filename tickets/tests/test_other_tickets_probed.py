"""The workspace's other-ticket lists probe a staff member's grants row by row
(``KeptVisible(…, probed=True)``, ``permissions._probed_grants_q``) instead of hashing
all of them: an agent holds a ``view_ticket`` row on every ticket ever assigned to
them, so the hashed form read a number of rows that grows with the table for ten
tickets shown (bench FINDINGS W-11). The rows are the rule's either way,
denied twins included; on PostgreSQL the statement reads one index entry per ticket
row, not every grant (its twin, the hashed form, reads them all: what the plan test
would catch)."""

import json

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from guardian.shortcuts import assign_perm, remove_perm

from tickets import permissions
from tickets.desk import workspace

from .factories import TicketFactory, make_agent

pytestmark = pytest.mark.django_db

LISTS = {
    "requester": workspace._REQUESTER_TICKETS,
    "organization": workspace._ORGANIZATION_TICKETS,
}


def _hashed(kept):
    """``kept`` as it was before W-11: the staff's grants hashed whole."""
    return permissions.KeptVisible(kept.build, kept.variables)


def _listed(kept, user, field, ticket):
    value = getattr(ticket, f"{field}_id")
    return [
        t.reference for t in kept.instances(user, **{field: value, "ticket": ticket.pk})
    ]


def _orm(user, field, ticket):
    return list(
        permissions.visible_tickets(user)
        .filter(**{field: getattr(ticket, f"{field}_id")})
        .exclude(pk=ticket.pk)
        .order_by("-created_at")
        .values_list("reference", flat=True)[:10]
    )


def test_each_grant_of_a_staff_member_lists_the_ticket_and_none_other(
    alice, acme, agent, queue, other_queue
):
    """A ticket of another queue is listed for the agent through their own row and
    through a row of a (non-agent) group of theirs, and not without one (the denied
    twin); the probed lists are the hashed lists and the ORM rule each time."""
    here = TicketFactory(requester=alice, queue=queue, organization=acme)
    ours = TicketFactory(requester=alice, queue=queue, organization=acme)
    own = TicketFactory(requester=alice, queue=other_queue, organization=acme)
    grouped = TicketFactory(requester=alice, queue=other_queue, organization=acme)
    hidden = TicketFactory(requester=alice, queue=other_queue, organization=acme)
    team = Group.objects.create(name="Escalations")
    agent.groups.add(team)
    assign_perm("tickets.view_ticket", agent, own)
    assign_perm("tickets.view_ticket", team, grouped)

    def check(expected):
        for field, kept in LISTS.items():
            assert kept.probed
            got = _listed(kept, agent, field, here)
            assert sorted(got) == sorted(expected), field
            assert (
                got
                == _listed(_hashed(kept), agent, field, here)
                == _orm(agent, field, here)
            ), field

    check([ours.reference, own.reference, grouped.reference])
    assert hidden.reference not in _orm(agent, "requester", here)
    remove_perm("tickets.view_ticket", agent, own)
    remove_perm("tickets.view_ticket", team, grouped)
    check([ours.reference])
    assign_perm("tickets.view_ticket", team, hidden)
    check([ours.reference, hidden.reference])
    agent.groups.remove(team)
    check([ours.reference])


def _grant_rows_read(kept, user, ticket):
    """Rows the requester list's statement read from the user grants' table (each
    node's rows × loops), by ``EXPLAIN (ANALYZE, FORMAT JSON)``."""
    sql, params = kept._statement("staff").statement(
        user=user.pk, requester=ticket.requester_id, ticket=ticket.pk
    )
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        (plan,) = cursor.fetchone()
    if isinstance(plan, str):
        plan = json.loads(plan)

    def walk(node):
        read = 0
        if node.get("Relation Name") == "tickets_ticketuserobjectpermission":
            read += node["Actual Rows"] * node["Actual Loops"]
        return read + sum(walk(child) for child in node.get("Plans", ()))

    return walk(plan[0]["Plan"])


def test_on_postgresql_the_list_reads_no_grant_of_other_tickets(alice, queue):
    """The agent holds 30 grants on other customers' tickets: the requester list of
    a ticket (two other tickets of the requester, one granted) reads at most one grant
    row per ticket row it reads, none of the 30; the hashed twin reads all 31."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (the plan)")
    agent = make_agent(queue)
    elsewhere = [TicketFactory() for _ in range(30)]  # default queue: not agent's
    for ticket in elsewhere:
        assign_perm("tickets.view_ticket", agent, ticket)
    here = TicketFactory(requester=alice, queue=queue)
    granted = TicketFactory(requester=alice)
    TicketFactory(requester=alice)  # not granted
    assign_perm("tickets.view_ticket", agent, granted)
    kept = workspace._REQUESTER_TICKETS
    assert _listed(kept, agent, "requester", here) == [granted.reference]
    assert _grant_rows_read(kept, agent, here) <= 1
    assert _grant_rows_read(_hashed(kept), agent, here) >= 30
