"""``permissions.notes_searchable`` states the tickets of the searcher's worked queues
by queue (as ``visible_tickets`` does, from the same grants rule) and the other
``view_internal_notes`` grants through guardian rows: on a mixed dataset it names
exactly the visible tickets where ``can(user, "view_internal", ticket)``. And the
desk's ranked page quotes a note only there."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import TicketSharing
from accounts.services import setup_member
from tickets import permissions, services
from tickets.models import Ticket

from .factories import (
    OrganizationFactory,
    QueueFactory,
    TicketFactory,
    make_agent,
    make_customer,
    make_supervisor,
    make_viewer,
)

pytestmark = pytest.mark.django_db


def searchable(user) -> set[int]:
    notes = permissions.notes_searchable(user)
    visible = permissions.visible_tickets(user)
    if notes is False:
        return set()
    if notes is not True:
        visible = visible.filter(notes)
    return set(visible.values_list("pk", flat=True))


def allowed(user) -> set[int]:
    return {
        t.pk
        for t in permissions.visible_tickets(user)
        if permissions.can(user, "view_internal", t)
    }


def test_notes_searchable_names_exactly_the_tickets_whose_notes_may_be_read():
    support, billing, sales = (QueueFactory() for _ in range(3))
    shared = OrganizationFactory(ticket_sharing=TicketSharing.READ_WRITE)
    member = make_customer(shared)
    agent_support = make_agent(support)
    agent_two = make_agent(billing, sales)
    supervisor = make_supervisor()
    for queue in (support, billing, sales):
        for _ in range(2):
            TicketFactory(requester=member, queue=queue, organization=shared)
    # assigned in support, then moved to sales: the assignee keeps their own grant
    assigned = Ticket.objects.filter(queue=support).first()
    services.assign(supervisor, assigned, agent_support)
    services.move_queue(supervisor, assigned, sales)
    # an agent who sees billing's tickets only through the organization's sharing
    insider = make_agent(billing)
    setup_member(shared, insider, "member")
    users = [agent_support, agent_two, insider, member, make_agent(), supervisor]
    sizes = {}
    for user in [*users, make_viewer()]:
        user = get_user_model().objects.get(pk=user.pk)  # no cached roles
        expected = allowed(user)
        assert searchable(user) == expected, user.email
        sizes[user.email] = len(expected)
    assert sizes[agent_support.email] == 2  # support's other ticket + the assigned one
    assert sizes[agent_two.email] == 5  # billing 2 + sales 2 + the moved one
    assert sizes[insider.email] == 2  # billing only: the shared ones show no notes
    assert sizes[member.email] == 0
    assert sizes[supervisor.email] == Ticket.objects.count() == 6


def test_the_ranked_page_quotes_a_note_only_where_it_may_be_read(queue, acme, agent):
    """Page by page (``by_relevance``'s slices): the note's words are matched and
    quoted for the queue's agent, never for an agent who sees the ticket through
    the organization's sharing."""
    acme.ticket_sharing = TicketSharing.READ
    acme.save()
    requester = make_customer(acme)
    tickets = []
    for i in range(30):
        t = TicketFactory(requester=requester, organization=acme, queue=queue)
        services.reply(agent, t, body=f"Reply {i}: the capybara left.")
        services.add_internal_note(agent, t, body="Secret: the capybara wombat plan.")
        tickets.append(t)
    outsider = make_agent(QueueFactory(), email="outsider@example.com")
    setup_member(acme, outsider)
    client = Client()
    for user, quoted in ((agent, True), (outsider, False)):
        client.force_login(user)
        seen = []
        for page in (1, 2):
            response = client.get(
                "/admin/helpdesk/tickets/",
                {"view": "all", "q": "capybara", "page": page},
            )
            rows = response.context["rows"]
            seen += [row.reference for row in rows]
            assert all("<mark>capybara</mark>" in row.snippet for row in rows)
            if not quoted:
                assert not any("wombat" in row.snippet for row in rows)
        assert sorted(seen) == sorted(t.reference for t in tickets)
        wombat = client.get("/admin/helpdesk/tickets/", {"view": "all", "q": "wombat"})
        rows = wombat.context["rows"]
        assert len(rows) == (25 if quoted else 0)
        assert all("<mark>wombat</mark>" in row.snippet for row in rows)
