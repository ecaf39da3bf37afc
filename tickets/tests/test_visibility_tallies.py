"""The ticket numbers kept by triggers (migration tickets 0026, bench FINDINGS G-8):
exact after every write path, rolled back with their transaction, and the agent's
unnarrowed exact count read from them."""

import pytest
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm, remove_perm

from tickets import permissions, services
from tickets.desk import bulk
from tickets.models import (
    GrantTally,
    QueueTally,
    TalliedUser,
    Ticket,
    TicketUserObjectPermission,
)

from .factories import GroupFactory, QueueFactory, TicketFactory

pytestmark = pytest.mark.django_db


def _kept():
    queues = {
        row["queue_id"]: row["n"]
        for row in QueueTally.objects.values("queue_id").annotate(n=Sum("tickets"))
        if row["n"]
    }
    grants = {
        (row["user_id"], row["queue_id"]): row["n"]
        for row in GrantTally.objects.values("user_id", "queue_id").annotate(
            n=Sum("tickets")
        )
        if row["n"]
    }
    return queues, grants


def _counted():
    queues = dict(
        Ticket.objects.order_by()
        .values("queue_id")
        .annotate(n=Count("*"))
        .values_list("queue_id", "n")
    )
    grants = {
        (row["user_id"], row["content_object__queue_id"]): row["n"]
        for row in TicketUserObjectPermission.objects.filter(
            permission__codename="view_ticket",
            user__in=TalliedUser.objects.values("pk"),  # who work a queue (0028)
        )
        .order_by()
        .values("user_id", "content_object__queue_id")
        .annotate(n=Count("*"))
    }
    return queues, grants


def assert_exact(*agents):
    assert _kept() == _counted()
    for agent in agents:
        assert permissions.count_visible(agent) == (
            permissions.visible_tickets(agent).count()
        )


def test_a_filing_counts_the_ticket_and_its_requesters_grant(ticket, agent, queue):
    TicketFactory(queue=queue)
    assert _kept()[0] == {queue.pk: 2}
    assert_exact(agent)
    assert permissions.count_visible(agent) == 2


def test_a_queue_move_moves_the_ticket_and_its_grants(
    ticket, agent, other_agent, supervisor, other_queue
):
    services.assign(supervisor, ticket, agent)
    services.move_queue(supervisor, ticket, other_queue)
    assert_exact(agent, other_agent)
    # the assignee keeps the ticket by their own rows, outside their queue
    assert permissions.count_visible(agent) == 1
    assert permissions.count_visible(other_agent) == 1


def test_a_ticket_of_another_queue_is_counted_only_when_granted(
    agent, other_queue, queue
):
    TicketFactory(queue=queue)
    elsewhere = TicketFactory(queue=other_queue)
    TicketFactory(queue=other_queue)
    assert permissions.count_visible(agent) == 1  # the denied twin: not counted
    assign_perm("tickets.view_ticket", agent, elsewhere)
    assert_exact(agent)
    assert permissions.count_visible(agent) == 2
    assign_perm("tickets.comment_ticket", agent, TicketFactory(queue=other_queue))
    assert permissions.count_visible(agent) == 2  # not a view row
    remove_perm("tickets.view_ticket", agent, elsewhere)
    assert_exact(agent)
    assert permissions.count_visible(agent) == 1


def test_a_delete_counts_the_ticket_and_its_grants_off(agent, other_queue, queue):
    inside = TicketFactory(queue=queue)
    elsewhere = TicketFactory(queue=other_queue)
    assign_perm("tickets.view_ticket", agent, elsewhere)
    elsewhere.delete()
    inside.delete()
    assert_exact(agent)
    assert _kept() == ({}, {})
    assert permissions.count_visible(agent) == 0


def test_a_merge_and_a_bulk_assignment_keep_the_numbers(
    alice, agent, other_agent, supervisor, queue, other_queue
):
    source = TicketFactory(requester=alice, queue=other_queue)
    target = TicketFactory(requester=alice, queue=queue)
    services.merge(supervisor, source, target)
    assert_exact(agent, other_agent, alice)
    more = [TicketFactory(queue=queue) for _ in range(2)]
    result = bulk.apply(
        supervisor, [ticket.reference for ticket in more], "assign", assignee=agent
    )
    assert len(result.done) == 2
    services.move_queue(supervisor, more[0], other_queue)
    assert_exact(agent, other_agent, alice)
    assert permissions.count_visible(agent) == 3  # target, more[1]; more[0] granted
    assert permissions.count_visible(other_agent) == 2  # source, more[0]


def test_a_bulk_update_and_a_bulk_insert_keep_the_numbers(agent, queue, other_queue):
    tickets = [TicketFactory(queue=queue) for _ in range(3)]
    for ticket in tickets:
        assign_perm("tickets.view_ticket", agent, ticket)
    assert Ticket.objects.filter(queue=queue).update(queue=other_queue) == 3
    assert_exact(agent)
    assert permissions.count_visible(agent) == 3  # by the grants now
    Ticket.objects.filter(pk=tickets[0].pk).update(status="closed")  # no move
    Ticket.objects.filter(pk=tickets[1].pk).delete()
    assert_exact(agent)
    assert permissions.count_visible(agent) == 2


def test_a_rolled_back_transaction_takes_its_numbers_with_it(
    ticket, agent, supervisor, other_queue
):
    before = _kept()
    with pytest.raises(RuntimeError), transaction.atomic():
        TicketFactory(queue=ticket.queue)
        services.assign(supervisor, ticket, agent)
        services.move_queue(supervisor, ticket, other_queue)
        ticket.delete()
        assert _kept() == _counted()
        raise RuntimeError
    assert _kept() == before
    assert_exact(agent)


def test_a_group_grant_is_counted_without_counting_twice(agent, queue, other_queue):
    """A group that is no queue's agent group may grant what the agent's own rows
    grant too: the count then takes the exact, unkept form."""
    group = GroupFactory()
    agent.groups.add(group)
    elsewhere = TicketFactory(queue=other_queue)
    inside = TicketFactory(queue=queue)
    assign_perm("tickets.view_ticket", agent, elsewhere)
    assign_perm("tickets.view_ticket", group, elsewhere)
    assign_perm("tickets.view_ticket", group, inside)
    assign_perm("tickets.view_ticket", group, TicketFactory(queue=other_queue))
    assert_exact(agent)
    assert permissions.count_visible(agent) == 3


def test_the_agents_count_is_one_statement_on_the_kept_numbers(agent, queue):
    TicketFactory(queue=queue)
    other = QueueFactory()
    agent.groups.add(other.agent_group)
    permissions.count_visible(agent)  # the worked queues kept
    with CaptureQueriesContext(connection) as queries:
        assert permissions.count_visible(agent) == 1
    counts = [q["sql"] for q in queries.captured_queries if "tally" in q["sql"]]
    assert len(counts) == 1
    assert "tickets_queuetally" in counts[0]
    assert "tickets_granttally" in counts[0]


def test_on_postgresql_the_agents_count_reads_only_the_kept_numbers(agent, queue):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (the plan)")
    TicketFactory(queue=queue)
    queue_ids = (queue.pk,)
    sql, params = permissions._whole_table_count(connection.alias, agent.pk, queue_ids)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    ticket_scans = [line for line in plan.splitlines() if "on tickets_ticket " in line]
    assert ticket_scans
    assert all("never executed" in line for line in ticket_scans), plan


def test_a_supervisors_whole_count_is_the_sum_of_the_queues(
    supervisor, queue, other_queue
):
    TicketFactory(queue=queue)
    TicketFactory(queue=other_queue).delete()
    TicketFactory(queue=other_queue)
    with CaptureQueriesContext(connection) as queries:
        assert permissions.count_visible(supervisor) == Ticket.objects.count() == 2
    sql = [query["sql"] for query in queries.captured_queries]
    assert any("tickets_queuetally" in one for one in sql)
    assert sum("tickets_ticket" in one for one in sql) == 1  # the test's own
    assert (
        permissions.count_visible(supervisor, Ticket.objects.filter(queue=queue)) == 1
    )


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_truncate_empties_the_numbers(ticket, agent):
    """Alone or with the tallies in the same statement (a test database's flush)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (TRUNCATE triggers)")
    assert _kept() != ({}, {})
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE tickets_ticket CASCADE")
    assert _kept() == ({}, {})
    TicketFactory(queue=ticket.queue)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE tickets_ticket, tickets_ticketuserobjectpermission, "
            "tickets_queuetally, tickets_granttally CASCADE"
        )
    assert _kept() == ({}, {})
