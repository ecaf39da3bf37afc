"""The notes policy of a search, built once per user and resolved only where a
statement compiles it (bench FINDINGS S-1, h-5): ``permissions.notes_searchable``'s
``Q`` is kept per process for the user's id, so it must read memberships when the
query runs, never when it was built; the rank's and snippet's ``CASE`` on it
(``fulltext.by_notes``) is resolved against the statement that compiles it (the
ordered, unranked path), with the same verdicts as the ranked inbox."""

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F, Q

from accounts.models import TicketSharing
from accounts.services import setup_member
from tickets import permissions, services
from tickets.models import Ticket, fulltext

from .factories import QueueFactory, TicketFactory, make_agent, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_tickets(queue, acme, agent):
    """A ticket in ``queue`` (``agent``'s) and one in another queue, both of acme
    (whose tickets are shared with its members, ``agent`` among them), each with a
    reply and a note."""
    acme.ticket_sharing = TicketSharing.READ
    acme.save()
    setup_member(acme, agent)  # sees the other queue's acme ticket, not its notes
    requester = make_customer(acme)
    other = QueueFactory()
    found = {}
    for name, where, author in (
        ("ours", queue, agent),
        ("theirs", other, make_agent(other)),
    ):
        ticket = TicketFactory(requester=requester, organization=acme, queue=where)
        services.reply(author, ticket, body="Reply: the capybara left.")
        services.add_internal_note(author, ticket, body="Secret: the wombat plan.")
        found[name] = ticket
    found["other_queue"] = other
    return found


def fresh(user):
    return get_user_model().objects.get(pk=user.pk)  # no cached roles


def ordered_search(user, text):
    """The unranked path: ``order_by("-search_rank")`` and the snippets, as the
    portal list and GraphQL take them (the policy's ``CASE`` compiled)."""
    notes = permissions.notes_searchable(user)
    rows = (
        permissions.visible_tickets(user)
        .search(text, notes=notes)
        .by_relevance()
        .with_search_snippets()
        .annotate(rank=F("search_rank"))
    )
    return {row.pk: (row.rank, fulltext.as_html(row.search_snippet)) for row in rows}


def test_a_note_is_found_and_quoted_in_the_searchers_queue_only(
    shared_tickets, queue, acme, agent
):
    ours, theirs = shared_tickets["ours"], shared_tickets["theirs"]
    outsider = make_agent(QueueFactory(), email="outsider@example.com")
    setup_member(acme, outsider)
    for user, expected in ((agent, {ours.pk}), (outsider, set())):
        user = fresh(user)
        wombat = ordered_search(user, "wombat")
        assert set(wombat) == expected, user.email
        for rank, snippet in wombat.values():
            assert rank > 0
            assert "<mark>wombat</mark>" in snippet
        # the reply's word: both tickets, the note quoted on neither's public side
        capybara = ordered_search(user, "capybara")
        assert set(capybara) == {ours.pk, theirs.pk}, user.email
        assert "wombat" not in capybara[theirs.pk][1]
        if user.pk == outsider.pk:
            assert "wombat" not in capybara[ours.pk][1]


def test_the_kept_policy_reads_the_searchers_queues_when_the_query_runs(
    shared_tickets, agent
):
    """Built once per user id, the condition still follows a change of queues."""
    theirs, other_queue = shared_tickets["theirs"], shared_tickets["other_queue"]
    assert set(ordered_search(fresh(agent), "wombat")) == {shared_tickets["ours"].pk}
    agent.groups.add(other_queue.agent_group)
    assert set(ordered_search(fresh(agent), "wombat")) == {
        shared_tickets["ours"].pk,
        theirs.pk,
    }
    agent.groups.remove(other_queue.agent_group)
    assert set(ordered_search(fresh(agent), "wombat")) == {shared_tickets["ours"].pk}


def test_the_notes_case_refuses_a_condition_that_joins(shared_tickets):
    rank = fulltext.by_notes(
        Q(requester__email="nobody@example.com"),
        fulltext.rank("postgresql", "x", notes=False),
        fulltext.rank("postgresql", "x", notes=True),
    )
    with pytest.raises(ValueError, match="may not join"):
        list(Ticket.objects.annotate(r=rank).values_list("pk", "r"))
