"""The benchmark's list (``bench/graphql/tickets.graphql``: a page of tickets with the
requester's address and the comments with their authors' addresses) as each kind of
caller receives it: only the tickets they may see, internal notes only where they may
read them, addresses only where they may read them, at a fixed number of statements."""

from pathlib import Path

import pytest
from django.conf import settings

from accounts.models import TicketSharing
from accounts.services import setup_member
from tickets import permissions, services
from tickets.tests.factories import QueueFactory, TicketFactory, make_agent

from .test_tickets import client_for, counted_world, share, world  # noqa: F401

BENCH_LIST = (Path(settings.BASE_DIR) / "bench/graphql/tickets.graphql").read_text()


@pytest.fixture
def page(world):  # noqa: F811
    """The world's ticket (a reply with a file, an internal note) and a Globex
    ticket with a note of its own."""
    globex_customer = world["users"]["other_org_customer"]
    theirs = TicketFactory(
        requester=globex_customer,
        organization=globex_customer.memberships.get().organization,
        queue=world["queue"],
        subject="Globex only",
    )
    services.reply(globex_customer, theirs, body="Globex reply")
    services.add_internal_note(world["agent"], theirs, body="Globex note")
    world["theirs"] = theirs
    return world


def _bench_list(user, token_for, statements, django_assert_num_queries):
    gql = client_for(user, token_for)
    gql("{ ping }")  # the token's first use records last_used_at
    with django_assert_num_queries(statements):
        data = gql(BENCH_LIST, {"first": 100})["tickets"]
    return {edge["node"]["subject"]: edge["node"] for edge in data["edges"]}, data[
        "totalCount"
    ]


def _bodies(node):
    return [comment["body"] for comment in node["comments"]]


def test_a_customer_lists_their_organizations_tickets_without_notes(
    page, token_for, django_assert_num_queries
):
    requester = page["users"]["requester"]
    nodes, total = _bench_list(requester, token_for, 4, django_assert_num_queries)
    assert set(nodes) == {"Sync stopped"} and total == 1
    node = nodes["Sync stopped"]
    assert _bodies(node) == ["Public"]
    assert node["requester"] == {"email": "alice@acme.example"}
    assert [c["author"] for c in node["comments"]] == [{"email": "alice@acme.example"}]


def test_a_customer_of_another_organization_never_lists_it(
    page, token_for, django_assert_num_queries
):
    carol = page["users"]["other_org_customer"]
    nodes, total = _bench_list(carol, token_for, 4, django_assert_num_queries)
    assert set(nodes) == {"Globex only"} and total == 1
    assert _bodies(nodes["Globex only"]) == ["Globex reply"]
    assert "Sync stopped" not in str(nodes) and "alice@acme.example" not in str(nodes)


def test_the_queue_agent_lists_notes_and_every_address(
    page, token_for, django_assert_num_queries
):
    agent = page["agent"]
    nodes, total = _bench_list(agent, token_for, 5, django_assert_num_queries)
    assert set(nodes) == {"Sync stopped", "Globex only"} and total == 2
    assert _bodies(nodes["Sync stopped"]) == ["Public", "Secret"]
    assert _bodies(nodes["Globex only"]) == ["Globex reply", "Globex note"]
    assert [c["author"]["email"] for c in nodes["Sync stopped"]["comments"]] == [
        "alice@acme.example",
        "agent@example.com",
    ]


def test_an_agent_who_sees_a_ticket_only_through_sharing_lists_no_note(
    page, token_for, django_assert_num_queries
):
    """Organization sharing gives an agent of another queue who belongs to the
    organization ``view`` without ``view_internal_notes``."""
    insider = make_agent(
        QueueFactory(slug="other", name="Other"), email="insider@example.com"
    )
    setup_member(page["acme"], insider)
    share(page, TicketSharing.READ)
    nodes, total = _bench_list(insider, token_for, 5, django_assert_num_queries)
    assert set(nodes) == {"Sync stopped"} and total == 1
    assert _bodies(nodes["Sync stopped"]) == ["Public"]
    assert "Secret" not in str(nodes)


def test_the_kept_count_statement_reads_grants_when_it_runs(counted_world):  # noqa: F811
    """``count_visible`` of every ticket keeps its compiled statement per user and
    worked queues: grants made after it was compiled count, as they do in
    ``visible_tickets``."""
    from guardian.shortcuts import assign_perm

    agent = counted_world["agent"]
    colleague = counted_world["users"]["colleague"]
    counts = {user: permissions.count_visible(user) for user in (agent, colleague)}
    assert counts[agent] == 7
    assign_perm("tickets.view_ticket", agent, counted_world["outside"][3])
    assign_perm("tickets.view_ticket", colleague, counted_world["outside"][3])
    for user in (agent, colleague):
        assert permissions.count_visible(user) == counts[user] + 1
        assert permissions.count_visible(user) == (
            permissions.visible_tickets(user).count()
        )
    agent.groups.remove(counted_world["queue"].agent_group)  # works no queue now
    assert permissions.count_visible(agent) == (
        permissions.visible_tickets(agent).count()
    )
