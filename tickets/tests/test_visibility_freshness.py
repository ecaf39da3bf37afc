"""``visible_tickets`` keeps the shape of each user's condition for the process
(``permissions._grants_condition``): what the user holds is read by each query, so
every change of grants or queue membership shows in the next one."""

import pytest
from guardian.shortcuts import assign_perm, remove_perm

from tickets import permissions
from tickets.exceptions import TicketNotFound

from .factories import TicketFactory, make_customer


def refs(user):
    return sorted(permissions.visible_tickets(user).values_list("reference", flat=True))


def test_visibility_reads_grants_and_memberships_when_the_query_runs(
    ticket, agent, alice, other_queue
):
    billing = TicketFactory(queue=other_queue, requester=alice)
    assert refs(agent) == [ticket.reference]
    agent.groups.remove(ticket.queue.agent_group)
    assert refs(agent) == []
    assign_perm("tickets.view_ticket", agent, billing)
    assert refs(agent) == [billing.reference]
    agent.groups.add(other_queue.agent_group)
    assert refs(agent) == [billing.reference]
    assert permissions.get_ticket_for(agent, billing.reference) == billing
    other_queue.agent_group.user_set.remove(agent)
    remove_perm("tickets.view_ticket", agent, billing)
    assert refs(agent) == []
    with pytest.raises(TicketNotFound):
        permissions.get_ticket_for(agent, billing.reference)
    # a customer's grants likewise
    carol = make_customer()
    assert refs(carol) == []
    assign_perm("tickets.view_ticket", carol, billing)
    assert refs(carol) == [billing.reference]
    remove_perm("tickets.view_ticket", carol, billing)
    assert refs(carol) == []


def test_the_kept_condition_is_not_changed_by_the_queries_using_it(ticket, agent):
    plain = str(permissions.visible_tickets(agent).query)
    permissions.visible_tickets(agent).filter(status="new").exclude(pk=0).count()
    list(permissions.visible_tickets(agent).only("reference")[:3])
    assert str(permissions.visible_tickets(agent).query) == plain
