"""The plan of an agent's exact count of every ticket they may see (migration tickets
0020, bench FINDINGS V-2)."""

import pytest

from tickets import permissions
from tickets.models import Ticket

from .factories import TicketFactory, make_agent


@pytest.mark.django_db
def test_on_postgresql_an_agents_whole_count_reads_the_queue_ids_not_each_grant(
    ticket, queue
):
    """Migration tickets 0020 (bench FINDINGS V-2): an agent's exact count of every
    ticket they may see reads the worked queue's ticket ids from ``ticket_queue_id_idx``
    alone, against the grant ids hashed once, instead of probing the ticket table for
    each granted ticket's queue; and it counts what ``visible_tickets`` lists."""
    from django.db import connection
    from guardian.shortcuts import assign_perm

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (the plan)")
    agent = make_agent(queue)
    elsewhere = TicketFactory()
    assign_perm("tickets.view_ticket", agent, ticket)  # inside the worked queue
    assign_perm("tickets.view_ticket", agent, elsewhere)
    queue_ids = (queue.pk,)
    sql, params = permissions._whole_table_count(connection.alias, agent.pk, queue_ids)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using ticket_queue_id_idx" in plan
    assert "ticket_visibility_covering_idx" not in plan
    expected = permissions.visible_tickets(agent).count()
    assert expected == Ticket.objects.filter(queue=queue).count() + 1
    assert permissions.count_visible(agent) == expected
