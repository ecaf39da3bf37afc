"""PostgreSQL's narrow matching table ``tickets_ticket_match`` (migration 0011) and the
ticket row's ``search_terms`` (0012): the stripped lexemes of every ticket's documents,
kept by the same triggers as the full documents on every write path, and the search's
matches through them: phrases still need the words side by side, internal notes only
for staff-document searches."""

import pytest
from django.db import connection
from django.db.models import Q

from tickets import services
from tickets.models import Comment, Ticket

from .factories import TicketFactory, make_customer

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the match table is PostgreSQL's"
    ),
]


def terms(ticket) -> tuple[set, set] | None:
    """The ticket's (public, notes-only) lexemes in the match table, None without a row."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tsvector_to_array(public_terms), tsvector_to_array(notes_terms) "
            "FROM tickets_ticket_match WHERE ticket_id = %s",
            [ticket.pk],
        )
        row = cursor.fetchone()
    return None if row is None else (set(row[0]), set(row[1]))


def mismatches() -> int:
    """Tickets whose match row is missing, extra or not the stripped documents, or
    whose row's ``search_terms`` are not the staff document (0025: weights and
    positions, for the staff rank)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM tickets_ticket_search s "
            "FULL JOIN tickets_ticket_match m ON m.ticket_id = s.ticket_id "
            "FULL JOIN tickets_ticket t ON t.id = s.ticket_id "
            "WHERE s.ticket_id IS NULL OR m.ticket_id IS NULL OR t.id IS NULL "
            "OR strip(s.public_doc) <> m.public_terms "
            "OR strip(s.staff_doc) <> (m.public_terms || m.notes_terms) "
            "OR t.search_terms <> s.staff_doc"
        )
        return cursor.fetchone()[0]


def test_the_match_row_follows_every_write(queue, alice, acme, agent):
    t = TicketFactory(
        requester=alice, organization=acme, queue=queue, subject="Gazebo offline"
    )
    assert "gazebo" in terms(t)[0]  # ticket insert
    Ticket.objects.filter(pk=t.pk).update(subject="Pergola offline")  # update
    public, notes = terms(t)
    assert "pergola" in public and "gazebo" not in public and notes == set()
    reply = services.reply(agent, t, body="The marmot chewed the cable.")
    assert "marmot" in terms(t)[0]  # comment insert
    note = services.add_internal_note(agent, t, body="Quokka workaround applied.")
    public, notes = terms(t)
    assert "quokka" in notes and "quokka" not in public
    Comment.objects.filter(pk=reply.pk).update(body="The badger chewed it.")
    public, _ = terms(t)
    assert "badger" in public and "marmot" not in public  # comment update
    Comment.objects.filter(pk=note.pk).update(is_internal=False)
    public, notes = terms(t)
    assert "quokka" in public and notes == set()  # a note made public
    Comment.objects.filter(pk=note.pk).delete()  # comment delete
    assert "quokka" not in terms(t)[0]
    assert mismatches() == 0
    Ticket.objects.filter(pk=t.pk).delete()  # ticket delete
    assert terms(t) is None
    assert mismatches() == 0


def test_the_match_row_follows_the_requesters_language(queue, acme):
    petr = make_customer(acme, email="petr@acme.example", locale="en")
    t = TicketFactory(requester=petr, queue=queue, subject="Принтеры")
    assert "принтеры" in terms(t)[0]  # not stemmed as Russian
    type(petr).objects.filter(pk=petr.pk).update(locale="ru")
    assert "принтер" in terms(t)[0]
    assert mismatches() == 0


def refreshed_terms(ticket) -> str:
    """What ``tickets_search_refresh`` (0012) makes of the ticket: its staff terms."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tickets_search_refresh(ARRAY[%s]::bigint[])", [ticket.pk]
        )
        cursor.execute(
            "SELECT search_terms::text FROM tickets_ticket WHERE id = %s", [ticket.pk]
        )
        return cursor.fetchone()[0]


def ticket_row_writes() -> tuple[int, int]:
    """This transaction's inserted and updated ``tickets_ticket`` rows so far."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_stat_get_xact_tuples_inserted('tickets_ticket'::regclass), "
            "pg_stat_get_xact_tuples_updated('tickets_ticket'::regclass)"
        )
        return cursor.fetchone()


@pytest.mark.parametrize("locale", ["en", "ru", "pl"])
def test_a_new_ticket_row_is_written_once_with_the_refreshs_terms(queue, acme, locale):
    """0015: the terms are set before the INSERT, so the refresh's UPDATE finds nothing
    to change; they are what the refresh itself computes, in each configuration."""
    requester = make_customer(acme, email="petr@acme.example", locale=locale)
    before = ticket_row_writes()
    t = services.create_ticket(
        requester,
        subject="Принтеры не печатают; drukarki printers",
        description="The printers' queues stopped. Очереди принтеров встали.",
        queue=queue,
    )
    inserted, updated = (
        a - b for a, b in zip(ticket_row_writes(), before, strict=True)
    )
    assert (inserted, updated) == (1, 0)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT search_terms::text FROM tickets_ticket WHERE id = %s", [t.pk]
        )
        (written,) = cursor.fetchone()
    assert written and written == refreshed_terms(t)
    assert mismatches() == 0


@pytest.mark.django_db(transaction=True)
def test_comments_written_before_their_ticket_still_count(queue, alice, acme):
    """Deferred foreign keys let a restore write comments before their ticket: the
    terms set before the ticket's INSERT include them, and the refresh agrees."""
    from django.db import transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('tickets_ticket', 'id'))")
        (ticket_id,) = cursor.fetchone()
        Comment.objects.create(
            ticket_id=ticket_id, author=alice, body="Wombat in the tray."
        )
        Comment.objects.create(
            ticket_id=ticket_id,
            author=alice,
            body="Quokka workaround.",
            is_internal=True,
        )
        Ticket.objects.create(
            id=ticket_id,
            reference="HD-990001",
            subject="Jam",
            description="Tray 2",
            requester=alice,
            organization=acme,
            queue=queue,
        )
    t = Ticket.objects.get(pk=ticket_id)
    public, notes = terms(t)
    assert "wombat" in public and "quokka" in notes
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT search_terms::text FROM tickets_ticket WHERE id = %s", [t.pk]
        )
        (written,) = cursor.fetchone()
    assert "quokka" in written and written == refreshed_terms(t)
    assert mismatches() == 0


def documents(ticket_id) -> tuple | None:
    """The ticket's search and match rows as text, None without them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.config::text, s.public_doc::text, s.staff_doc::text, "
            "m.public_terms::text, m.notes_terms::text, t.search_terms::text "
            "FROM tickets_ticket_search s "
            "JOIN tickets_ticket_match m USING (ticket_id) "
            "LEFT JOIN tickets_ticket t ON t.id = s.ticket_id WHERE s.ticket_id = %s",
            [ticket_id],
        )
        return cursor.fetchone()


@pytest.mark.parametrize("locale", ["en", "ru", "pl"])
def test_a_new_tickets_documents_are_the_refreshs(queue, acme, alice, locale):
    """0019: the ``BEFORE INSERT`` trigger writes the search and match rows it
    computed; they are what the refresh computes, weights, positions and notes too."""
    requester = make_customer(acme, email="petr@acme.example", locale=locale)
    t = services.create_ticket(
        requester,
        subject="Принтеры не печатают; drukarki printers",
        description="The printers' queues stopped. Очереди принтеров встали.",
        queue=queue,
    )
    written = documents(t.pk)
    assert written is not None
    refreshed_terms(t)
    assert documents(t.pk) == written
    assert mismatches() == 0


def new_ticket(ticket, **fields):
    """An unsaved copy of ``ticket`` (its own id and reference unless given)."""
    values = {
        "reference": "HD-990002",
        "subject": ticket.subject,
        "description": ticket.description,
        "requester_id": ticket.requester_id,
        "organization_id": ticket.organization_id,
        "queue_id": ticket.queue_id,
        **fields,
    }
    return Ticket(**values)


def test_a_row_skipped_on_a_taken_reference_leaves_no_documents(queue, alice):
    """``ON CONFLICT (reference) DO NOTHING`` (the filing's INSERT on a taken
    reference): the ``BEFORE`` trigger ran and wrote rows for an id that no ticket
    has; the statement's ``AFTER`` trigger deletes them."""
    t = TicketFactory(requester=alice, queue=queue, subject="Gazebo")
    kept = documents(t.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT currval(pg_get_serial_sequence('tickets_ticket', 'id'))")
        (last,) = cursor.fetchone()
    Ticket.objects.bulk_create(
        [new_ticket(t, reference=t.reference, subject="Pergola")],
        ignore_conflicts=True,
    )
    assert Ticket.objects.count() == 1
    assert documents(last + 1) is None
    assert documents(t.pk) == kept
    assert mismatches() == 0
    # the next statement is counted from zero: a new ticket, nothing deleted
    other = TicketFactory(requester=alice, queue=queue, subject="Veranda")
    assert "veranda" in terms(other)[0] and mismatches() == 0


def test_rows_written_over_an_existing_tickets_are_rebuilt(queue, alice):
    """An id in use (``bulk_create`` ignoring or updating conflicts on the key): the
    ``BEFORE`` trigger wrote the new row's documents over the existing ticket's; the
    ``AFTER`` trigger rebuilds them from the ticket as it is, and keeps the rows of
    the tickets the same statement inserted."""
    t = TicketFactory(requester=alice, queue=queue, subject="Gazebo")
    kept = documents(t.pk)
    Ticket.objects.bulk_create(
        [
            new_ticket(t, id=t.pk, reference="HD-990002", subject="Pergola"),
            new_ticket(t, reference="HD-990003", subject="Veranda"),
        ],
        ignore_conflicts=True,
    )
    assert documents(t.pk) == kept
    added = Ticket.objects.get(reference="HD-990003")
    assert "veranda" in terms(added)[0]
    assert mismatches() == 0
    Ticket.objects.bulk_create(
        [new_ticket(t, id=t.pk, reference=t.reference, subject="Pergola")],
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["subject"],
    )
    assert "pergola" in terms(t)[0] and "gazebo" not in terms(t)[0]
    assert mismatches() == 0


@pytest.mark.django_db(transaction=True)  # no deferred constraint may be pending
def test_truncating_tickets_empties_the_match_table(queue, alice):
    TicketFactory(requester=alice, queue=queue, subject="Gazebo")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tickets_ticket_match")
        assert cursor.fetchone()[0] == 1
        cursor.execute("TRUNCATE tickets_ticket CASCADE")
        cursor.execute("SELECT count(*) FROM tickets_ticket_match")
        assert cursor.fetchone()[0] == 0


def test_a_phrase_needs_its_words_side_by_side(queue, alice, agent):
    together = TicketFactory(requester=alice, queue=queue, subject="Tray 2")
    services.reply(agent, together, body="Another printer jam this morning.")
    apart = TicketFactory(requester=alice, queue=queue, subject="Tray 3")
    services.reply(agent, apart, body="The printer works; the jam was the scanner's.")
    assert list(Ticket.objects.search('"printer jam"')) == [together]
    assert set(Ticket.objects.search("printer jam")) == {together, apart}
    assert list(Ticket.objects.search('"printer jam"', notes=True)) == [together]
    # a phrase only in a note: staff documents only
    noted = TicketFactory(requester=alice, queue=queue, subject="Tray 4")
    services.add_internal_note(agent, noted, body="Printer jam again, see runbook.")
    assert list(Ticket.objects.search('"printer jam"')) == [together]
    assert set(Ticket.objects.search('"printer jam"', notes=True)) == {together, noted}
    # a negated phrase: the words apart still match; a note counts for staff only
    assert set(Ticket.objects.search('tray -"printer jam"')) == {apart, noted}
    assert set(Ticket.objects.search('tray -"printer jam"', notes=True)) == {apart}
    # hyphenated words are phrases too (``wi <-> fi``)
    wifi = TicketFactory(requester=alice, queue=queue, subject="No Wi-Fi upstairs")
    assert list(Ticket.objects.search("wi-fi")) == [wifi]


def test_a_word_only_in_a_note_matches_staff_documents_only(queue, alice, agent):
    t = TicketFactory(requester=alice, queue=queue, subject="Scanner offline")
    services.reply(agent, t, body="Please restart the flux capacitor.")
    services.add_internal_note(agent, t, body="Customer is on the quokka workaround.")
    assert not Ticket.objects.search("quokka").exists()
    assert not Ticket.objects.search("quokka", notes=False).exists()
    assert list(Ticket.objects.search("quokka", notes=True)) == [t]
    # words from both documents together: the staff document has them all
    assert not Ticket.objects.search("capacitor quokka").exists()
    assert list(Ticket.objects.search("capacitor quokka", notes=True)) == [t]


def test_notes_count_only_on_the_tickets_the_policy_names(queue, alice, agent):
    allowed = TicketFactory(requester=alice, queue=queue, subject="Tray 5")
    denied = TicketFactory(requester=alice, queue=queue, subject="Tray 6")
    for t in (allowed, denied):
        services.add_internal_note(agent, t, body="Quokka jam, see the runbook.")
    on_allowed = Q(pk=allowed.pk)
    assert list(Ticket.objects.search("quokka", notes=on_allowed)) == [allowed]
    assert list(Ticket.objects.search('"quokka jam"', notes=on_allowed)) == [allowed]
    services.reply(agent, denied, body="A quokka jam, fixed.")  # now public there
    found = set(Ticket.objects.search('"quokka jam"', notes=on_allowed))
    assert found == {allowed, denied}
    assert set(Ticket.objects.search("quokka", notes=on_allowed)) == {allowed, denied}
    # a negated word only in a note hides the ticket only where notes count
    assert set(Ticket.objects.search("tray -quokka", notes=False)) == {allowed}
    services.reply(agent, allowed, body="Tray fixed.")
    services.reply(agent, denied, body="Tray fixed.")
    assert set(Ticket.objects.search("tray -jam", notes=on_allowed)) == set()
    assert set(Ticket.objects.search("fixed -runbook", notes=on_allowed)) == {denied}
    assert set(Ticket.objects.search("fixed -runbook", notes=False)) == {
        allowed,
        denied,
    }
    assert mismatches() == 0


@pytest.mark.parametrize(
    "text",
    ["webhook", "wi-fi", "sign-in two-factor", "x.-y", "a--b", "e-mail -spam", "-x",
     "a -b", '"a b"-c', "a!-b", "(-x", "a or -b", "ö-ü", "über -straße", "-", "a - b",
     "\\-x", "1-2", "foo- bar", "a\u00a0-b", '"wi-fi -x"', "--x"],
)  # fmt: skip
def test_only_text_with_a_possible_negation_keeps_the_negation_arms(text):
    """``fulltext.may_negate`` (which drops the negation arms from the SQL) never
    answers "no" where PostgreSQL's ``websearch_to_tsquery`` reads a negation."""
    from tickets.models import fulltext

    with connection.cursor() as cursor:
        cursor.execute("SELECT tickets_search_has_negation(%s)", [text])
        negated = cursor.fetchone()[0]
    assert fulltext.may_negate(text) or not negated


DOCUMENTS = [
    "The webhooks were configured yesterday.",
    "Customer says the printer jam is back; printers in tray 2.",
    "Принтеры не печатают, сломались обе клавиатуры.",
    "No Wi-Fi upstairs, the wifi router is offline.",
    "Sign-in with two-factor fails for the customers.",
]


@pytest.mark.parametrize(
    "text",
    ["webhook", "customers", "printers jam", "принтеры", '"printer jam"', "wi-fi",
     "the", "сломались keyboards", "printer or wifi", "two-factor sign-in", "a b c"],
)  # fmt: skip
def test_the_terms_query_names_each_distinct_query_once_and_matches_the_same(text):
    """``tickets_search_terms_query`` (migration 0014) ORs the configurations'
    queries once each (PostgreSQL's estimate of ``'w' | 'w' | 'w'`` was three
    times ``'w'``'s): the same matches as the full OR on documents of every
    configuration, stripped as the row's terms are (phrases as their words)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tickets_search_terms_query(%s)::text, "
            "regexp_replace(tickets_search_query(%s)::text, '<(-|[0-9]+)>', '&', 'g'),"
            " array_agg(strip(to_tsvector(c::regconfig, t)) @@ "
            "tickets_search_terms_query(%s) ORDER BY c, t), "
            " array_agg(strip(to_tsvector(c::regconfig, t)) @@ regexp_replace("
            "tickets_search_query(%s)::text, '<(-|[0-9]+)>', '&', 'g')::tsquery "
            "ORDER BY c, t) "
            "FROM unnest(ARRAY['english', 'russian', 'simple']) c, unnest(%s::text[]) t",
            [text, text, text, text, DOCUMENTS],
        )
        distinct, full, found, found_by_full = cursor.fetchone()
    assert found == found_by_full
    if text == "webhook":
        assert distinct == "'webhook'" and full.count("'webhook'") == 3
