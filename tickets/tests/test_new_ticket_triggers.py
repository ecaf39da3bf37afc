"""A new ticket's triggers (migration tickets 0029) write the rows 0028's wrote.

Each case runs twice in the test's transaction from the same sequence values: once
under 0029's functions (installed), once under 0028's (0029's reverse, inside a
savepoint rolled back after). The search documents, match terms, the rows' staff
documents, the tallies and the grants must be identical, id for id."""

import importlib
import json

import pytest
from django.db import connection, transaction

from accounts.models import TicketSharing
from tickets import services
from tickets.models import Ticket

from .factories import OrganizationFactory, make_agent, make_customer

T0029 = importlib.import_module("tickets.migrations.0029_new_ticket_triggers")

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the triggers are PostgreSQL's"
    ),
]

EN = ("Printer on fire", "The printer in room 3 caught fire after the update.")
RU = ("Принтер не печатает", "Очереди принтеров встали после обновления.")
PL = ("Drukarka nie drukuje", "Kolejki drukarek stoją po aktualizacji.")

ROWS = {
    "documents": "SELECT jsonb_agg(to_jsonb(s) ORDER BY ticket_id) "
    "FROM tickets_ticket_search s",
    "match": "SELECT jsonb_agg(to_jsonb(m) ORDER BY ticket_id) FROM tickets_ticket_match m",
    "terms": "SELECT jsonb_agg(jsonb_build_array(id, reference, search_terms) "
    "ORDER BY id) FROM tickets_ticket",
    "queue_tally": "SELECT jsonb_agg(to_jsonb(q) ORDER BY queue_id, shard) "
    "FROM tickets_queuetally q",
    "grant_tally": "SELECT jsonb_agg(to_jsonb(g) ORDER BY user_id, queue_id, shard) "
    "FROM tickets_granttally g",
    "listed": "SELECT jsonb_agg(user_id ORDER BY user_id) FROM tickets_tallieduser",
    "user_grants": "SELECT jsonb_agg(to_jsonb(p) ORDER BY id) "
    "FROM tickets_ticketuserobjectpermission p",
    "group_grants": "SELECT jsonb_agg(to_jsonb(p) ORDER BY id) "
    "FROM tickets_ticketgroupobjectpermission p",
}


def _rows() -> dict:
    with connection.cursor() as cursor:
        found = {}
        for name, sql in ROWS.items():
            cursor.execute(sql)
            (value,) = cursor.fetchone()
            found[name] = json.loads(value) if isinstance(value, str) else value
    return found


def _sequences(cursor) -> list:
    cursor.execute(
        "SELECT format('%I.%I', schemaname, sequencename), last_value FROM pg_sequences"
    )
    return cursor.fetchall()


def _reset(cursor, sequences) -> None:
    for name, value in sequences:
        if value is None:
            cursor.execute("SELECT setval(%s, 1, false)", [name])
        else:
            cursor.execute("SELECT setval(%s, %s)", [name, value])


def _under_both(scenario) -> tuple[list, list]:
    """The rows after each step of ``scenario`` (a generator yielding after each
    step), under 0029's functions and under 0028's."""
    with connection.cursor() as cursor:
        sequences = _sequences(cursor)
    found = []
    for reverse in (None, T0029.PG_DROP):
        saved = transaction.savepoint()
        if reverse is not None:
            with connection.cursor() as cursor:
                # DDL refuses a table with pending trigger events: the checks first
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(reverse)
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        found.append([_rows() for _ in scenario()])
        transaction.savepoint_rollback(saved)
        with connection.cursor() as cursor:
            _reset(cursor, sequences)
    new, old = found
    return new, old


def _file(actor, text, **kwargs) -> Ticket:
    return services.create_ticket(actor, subject=text[0], description=text[1], **kwargs)


def _assert_same(new, old):
    assert len(new) == len(old) > 0
    for step, (mine, theirs) in enumerate(zip(new, old, strict=True)):
        for name in ROWS:
            assert mine[name] == theirs[name], (step, name)


@pytest.mark.parametrize("locale", ["en", "ru", "pl"])
def test_a_customers_filing_writes_the_same_rows(queue, agent, locale):
    sharing = OrganizationFactory(ticket_sharing=TicketSharing.READ_WRITE)
    customer = make_customer(sharing, locale=locale)
    text = {"en": EN, "ru": RU, "pl": PL}[locale]

    def scenario():
        _file(customer, text)
        yield
        _file(customer, EN)
        yield

    new, old = _under_both(scenario)
    _assert_same(new, old)
    assert new[-1]["group_grants"] and not new[-1]["grant_tally"]


def test_an_agent_filing_for_a_colleague_writes_the_same_rows(queue, agent):
    colleague = make_agent(queue, locale="ru")
    customer = make_customer(None, locale="pl")

    def scenario():
        _file(agent, RU, requester=colleague)
        yield
        ticket = _file(agent, PL, requester=customer)
        yield
        services.assign(agent, ticket, colleague)
        yield

    new, old = _under_both(scenario)
    _assert_same(new, old)
    assert new[-1]["grant_tally"]  # the colleague's rows are counted


def test_later_writes_keep_the_same_rows(queue, agent, alice):
    """Comments added later, the requester's language, another requester."""
    bob = make_customer(None, locale="pl")

    def scenario():
        ticket = _file(alice, EN)
        yield
        services.reply(agent, ticket, body="The marmot chewed the cable.")
        yield
        services.add_internal_note(agent, ticket, body="Quokka workaround applied.")
        yield
        type(alice).objects.filter(pk=alice.pk).update(locale="ru")
        yield
        Ticket.objects.filter(pk=ticket.pk).update(requester=bob)
        yield
        Ticket.objects.filter(pk=ticket.pk).update(subject="Принтеры", queue=queue)
        yield

    new, old = _under_both(scenario)
    _assert_same(new, old)


def _raw_ticket(cursor, like, **columns) -> None:
    """A ticket row by raw SQL, its other columns those of ticket ``like``."""
    names = ", ".join(columns)
    placeholders = ", ".join(["%s"] * len(columns))
    cursor.execute(
        f"INSERT INTO tickets_ticket ({names}, status, priority, category, "  # noqa: S608
        "source, paused_seconds, satisfaction_comment, rejection_reason, created_at, "
        "updated_at, queue_id) "
        f"SELECT {placeholders}, status, priority, category, source, paused_seconds, "
        "satisfaction_comment, rejection_reason, created_at, updated_at, queue_id "
        "FROM tickets_ticket WHERE id = %s ON CONFLICT DO NOTHING",
        [*columns.values(), like.pk],
    )


def test_comments_before_their_ticket_and_skipped_rows_write_the_same(
    queue, agent, alice
):
    """Comments written before their ticket (deferred foreign keys); a row skipped on
    a taken reference; several rows in one statement."""

    def scenario():
        first = _file(alice, EN)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence('tickets_ticket', 'id'))"
            )
            (ticket_id,) = cursor.fetchone()
            cursor.execute(
                "INSERT INTO tickets_comment (ticket_id, author_id, body, is_internal, "
                "created_at) VALUES (%s, %s, 'Wombat replied first', false, now()), "
                "(%s, %s, 'Numbat noted', true, now())",
                [ticket_id, agent.pk, ticket_id, agent.pk],
            )
            _raw_ticket(
                cursor,
                first,
                id=ticket_id,
                reference="RAW-1",
                subject="Kangaroo printer",
                description="Emu",
                requester_id=alice.pk,
            )
        yield
        with connection.cursor() as cursor:
            _raw_ticket(
                cursor,
                first,
                reference="RAW-1",
                subject="Skipped",
                description="Skipped",
                requester_id=alice.pk,
            )
            cursor.execute(
                "INSERT INTO tickets_ticket (reference, subject, description, status, "
                "priority, category, source, paused_seconds, satisfaction_comment, "
                "rejection_reason, created_at, updated_at, queue_id, requester_id) "
                "SELECT 'RAW-' || n, 'Bulk ' || n, 'Bulk printer', status, priority, "
                "category, source, 0, '', '', created_at, updated_at, queue_id, "
                "requester_id FROM tickets_ticket, generate_series(2, 4) n "
                "WHERE id = %s",
                [first.pk],
            )
        yield

    new, old = _under_both(scenario)
    _assert_same(new, old)
    documents = {row["ticket_id"]: row for row in new[0]["documents"]}
    assert "numbat" in str(documents[max(documents)]["staff_doc"])
    assert len(new[1]["documents"]) == 5  # none for the skipped row
