"""The rank's documents found by a hash index on ``tickets_ticket_search.ticket_id``
(migration tickets 0023, bench FINDINGS S-9): the ranked ids, their order and the
rows' snippets the same with it and without it; the rank reads it."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from tickets import services
from tickets.models import Ticket

from .factories import TicketFactory

pytestmark = pytest.mark.django_db

INDEX = "tickets_ticket_search_ticket_hash"


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (the index)")


@pytest.fixture
def ranked_tickets(queue, alice, agent):
    """Tickets ranked apart by "narwhal": in the subject, in replies (more or
    fewer), in a note only, plus one that never mentions it; updated an hour apart
    (ties by time)."""
    now = timezone.now()
    made = []
    for age, (subject, replies, note) in enumerate(
        [
            ("Narwhal sighting", 1, False),
            ("Printer", 3, False),
            ("Printer", 1, False),
            ("Scanner", 0, True),
            ("Scanner", 2, True),
            ("Nothing here", 0, False),
        ]
    ):
        ticket = TicketFactory(requester=alice, queue=queue, subject=subject)
        for _ in range(replies):
            services.reply(agent, ticket, body="The narwhal is back, narwhal again.")
        if note:
            services.add_internal_note(agent, ticket, body="narwhal workaround")
        made.append(ticket)
        Ticket.objects.filter(pk=ticket.pk).update(
            updated_at=now - timedelta(hours=age)
        )
    return made


def _ranked(notes):
    """The ranked search's ids and the first page's snippets for "narwhal"."""
    ranked = Ticket.objects.search("narwhal", notes=notes).by_relevance(within=1001)
    ids = list(ranked.ranked_ids)
    rows = ranked.with_search_snippets().values_list("pk", "search_snippet")
    return ids, sorted(rows)


def _plan(notes) -> str:
    sql, params, _noted = Ticket.objects.search(
        "narwhal", notes=notes
    ).ranked_statement(1001)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return " ".join(row[0] for row in cursor.fetchall())


def test_the_search_documents_have_a_hash_index_on_the_ticket(postgresql):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'tickets_ticket_search' "
            "AND indexname = %s",
            [INDEX],
        )
        [(definition,)] = cursor.fetchall()
    assert "USING hash (ticket_id)" in definition


@pytest.mark.parametrize("notes", [False])  # the staff rank reads the row (0025)
def test_the_rank_finds_the_documents_by_the_hash_index(
    postgresql, ranked_tickets, notes
):
    with transaction.atomic():
        plan = _plan(notes)
    assert f"Index Scan using {INDEX} on tickets_ticket_search" in plan
    assert "Index Scan using tickets_ticket_search_pkey" not in plan


@pytest.mark.parametrize("notes", [True, False])
def test_the_ranked_ids_and_snippets_are_the_same_without_the_index(
    postgresql, ranked_tickets, notes
):
    """The index changes how a document is found, never which: the same ranked ids,
    in the same order, and the same snippets as by the primary key (the index dropped
    in a transaction rolled back); and the plan without it is the primary key's (the
    comparison compares two access paths)."""
    with_index = _ranked(notes)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX {INDEX}")
        without_index = _ranked(notes)
        plan = _plan(notes)
        transaction.set_rollback(True)
    assert INDEX not in plan
    # the staff rank reads the ticket row's document (0025), not this table
    assert ("tickets_ticket_search_pkey" in plan) is not notes
    assert without_index == with_index
    ids, rows = with_index
    assert len(ids) == (5 if notes else 4)
    assert ranked_tickets[-1].pk not in ids
    assert (ranked_tickets[3].pk in ids) is notes  # a note its only mention
    assert all("\x02" in snippet for _pk, snippet in rows)
