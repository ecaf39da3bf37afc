"""The staff rank from the ticket row's own staff document (migration tickets 0025,
bench FINDINGS S-18): ``search_terms`` is the staff document on every write path, so
``ts_rank`` of it is the rank of ``tickets_ticket_search.staff_doc``; the ranked ids
and their order are those of the rank by key (the earlier form, written out here),
for notes on every ticket and on some; the public rank (customers, shared tickets)
still reads the public document; the statement reads no document by key for the
staff rank."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from tickets import services
from tickets.models import Comment, Ticket

from .factories import TicketFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the row's document is PostgreSQL's"
    ),
]


@pytest.fixture
def ranked_tickets(queue, alice, agent):
    """Tickets "narwhal" ranks apart: in the subject, the description, replies (more
    or fewer), a note only, plus one that never mentions it; an hour apart."""
    now = timezone.now()
    made = []
    for age, (subject, description, replies, note) in enumerate(
        [
            ("Narwhal sighting", "Seen.", 1, False),
            ("Printer", "A narwhal jammed it", 0, False),
            ("Printer", "Jammed.", 3, False),
            ("Printer", "Stuck.", 1, False),
            ("Scanner", "Off.", 0, True),
            ("Scanner", "Slow.", 2, True),
            ("Nothing here", "Fine.", 0, False),
        ]
    ):
        ticket = TicketFactory(
            requester=alice, queue=queue, subject=subject, description=description
        )
        for _ in range(replies):
            services.reply(agent, ticket, body="The narwhal is back, narwhal again.")
        if note:
            services.add_internal_note(agent, ticket, body="narwhal workaround")
        made.append(ticket)
        Ticket.objects.filter(pk=ticket.pk).update(
            updated_at=now - timedelta(hours=age)
        )
    return made


def _rows_not_the_staff_document() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM tickets_ticket t "
            "FULL JOIN tickets_ticket_search s ON s.ticket_id = t.id "
            "WHERE t.id IS NULL OR s.ticket_id IS NULL "
            "OR t.search_terms <> s.staff_doc"
        )
        return cursor.fetchone()[0]


def _by_key(text: str, noted: set) -> list[int]:
    """The ranked ids as the rank by key ordered them before 0025: the staff
    document's ``ts_rank`` for the ``noted`` tickets, the public one's for the
    others, then newest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.id FROM tickets_ticket t WHERE t.id = ANY(%s) ORDER BY "
            "CASE WHEN t.id = ANY(%s) THEN COALESCE((SELECT ts_rank(s.staff_doc, "
            "tickets_search_query(%s)) FROM tickets_ticket_search s "
            "WHERE s.ticket_id = t.id), 0) ELSE COALESCE((SELECT ts_rank("
            "s.public_doc, tickets_search_query(%s)) FROM tickets_ticket_search s "
            "WHERE s.ticket_id = t.id), 0) END DESC, t.updated_at DESC, t.id DESC",
            [
                list(Ticket.objects.values_list("pk", flat=True)),
                list(noted),
                text,
                text,
            ],
        )
        return [row[0] for row in cursor.fetchall()]


def test_the_row_holds_the_staff_document_after_every_write(queue, alice, agent):
    t = TicketFactory(requester=alice, queue=queue, subject="Gazebo offline")
    Ticket.objects.filter(pk=t.pk).update(subject="Pergola offline")
    reply = services.reply(agent, t, body="The marmot chewed the cable.")
    note = services.add_internal_note(agent, t, body="Quokka workaround applied.")
    Comment.objects.filter(pk=reply.pk).update(body="The badger chewed it.")
    Comment.objects.filter(pk=note.pk).update(is_internal=False)
    Comment.objects.filter(pk=note.pk).delete()
    assert _rows_not_the_staff_document() == 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT search_terms::text FROM tickets_ticket WHERE id = %s", [t.pk]
        )
        (terms,) = cursor.fetchone()
    assert "'pergola':1A" in terms and "'badger'" in terms  # weights, positions


@pytest.mark.parametrize("text", ["narwhal", "narwhal back", '"narwhal again"'])
def test_the_staff_rank_orders_as_the_rank_by_key(ranked_tickets, text):
    ranked = Ticket.objects.search(text, notes=True).by_relevance(within=1001)
    ids = list(ranked.ranked_ids)
    assert ids
    expected = [pk for pk in _by_key(text, set(ids)) if pk in set(ids)]
    assert ids == expected
    if text == "narwhal":
        assert ids[0] == ranked_tickets[0].pk  # the subject first
        assert ranked_tickets[4].pk in ids  # a note its only mention


def test_notes_on_some_tickets_rank_each_by_its_own_document(ranked_tickets):
    """Notes counting on one ticket only (a condition, told per row by ``noted``):
    the staff rank from the row for it (its note one more mention), the public
    document's for the others."""
    noted = {ranked_tickets[5].pk}
    ranked = Ticket.objects.search("narwhal", notes=Q(pk__in=noted)).by_relevance(
        within=1001
    )
    ids = list(ranked.ranked_ids)
    assert ranked_tickets[5].pk in ids
    assert ranked_tickets[4].pk not in ids  # its note does not count: no mention
    assert ids == [pk for pk in _by_key("narwhal", noted) if pk in set(ids)]


def test_the_customers_rank_reads_the_public_document(ranked_tickets):
    ranked = Ticket.objects.search("narwhal", notes=False).by_relevance(within=1001)
    ids = list(ranked.ranked_ids)
    assert ranked_tickets[4].pk not in ids  # a note its only mention
    assert ids == [pk for pk in _by_key("narwhal", set()) if pk in set(ids)]
    sql, _params, _noted = Ticket.objects.search(
        "narwhal", notes=False
    ).ranked_statement(1001)
    assert "s.public_doc" in sql and "search_terms AS" not in sql


def test_the_staff_rank_reads_no_document_by_key(ranked_tickets):
    sql, params, _noted = Ticket.objects.search("narwhal", notes=True).ranked_statement(
        1001
    )
    assert '"tickets_ticket".search_terms AS "terms"' in sql
    assert "ts_rank(newest.terms" in sql
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "tickets_ticket_search" not in plan
