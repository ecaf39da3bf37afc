"""Human ticket references (``HD-000123``): unique under concurrent creation.

On PostgreSQL the numbers come from the sequence ``tickets_reference_seq`` (migration
0005). ``nextval`` never blocks and never hands out a number twice, so concurrent
creations no longer queue on one locked row for the whole of their transactions (bench
FINDINGS C-1: the locked counter row capped ``createTicket`` at one creation at a time).
The price is that a rolled-back creation leaves a gap; the contract promises unique
references, not gap-free ones.

Elsewhere (SQLite, whose IMMEDIATE transactions serialise writers anyway) the one
``TicketSequence`` row is locked until commit.

Numbers issued outside this module (a restore, an import, the load generator) are
skipped: a reference already in use moves the counter past the highest one in use.

A new ticket's row is written by ``insert_numbered``: on PostgreSQL its INSERT draws
the number itself (``nextval`` in the statement, ``ON CONFLICT (reference) DO
NOTHING``, the reference returned), one round trip instead of a draw and an INSERT;
a reference in use (committed, or written by a transaction still open, which the
INSERT waits for) returns no row, leaves the transaction intact, and the counter is
moved past it before the next try.
"""

import re

from django.conf import settings
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Max

from portal.sql import KeptInsert

from .models import Ticket, TicketSequence

SEQUENCE = "tickets_reference_seq"


def uses_sequence() -> bool:
    return connection.vendor == "postgresql"


def highest_number() -> int:
    """The highest number of a reference in use (0 when there is none)."""
    highest = Ticket.objects.aggregate(m=Max("reference"))["m"]
    found = re.search(r"(\d+)$", highest or "")
    return int(found.group(1)) if found else 0


def sync_counter() -> None:
    """Move the counter past every reference in use (never backwards)."""
    highest = highest_number()
    if uses_sequence():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(%s, GREATEST(%s, "
                "(SELECT last_value FROM tickets_reference_seq)))",
                [SEQUENCE, highest],
            )
        return
    TicketSequence.objects.filter(pk=1, last_value__lt=highest).update(
        last_value=highest
    )


def next_reference() -> str:
    """The next free reference. Call it inside the creating transaction."""
    prefix = settings.TICKETS_REFERENCE_PREFIX
    if uses_sequence():
        while True:
            value, taken = _draw_number(prefix)
            if not taken:
                return _format(prefix, value)
            sync_counter()
    return _next_from_locked_row(prefix)


# The reference as ``_format`` spells it, of the next number, from the prefix given as
# the field's value (at least six digits).
_REFERENCE_SQL = (
    "(SELECT %s || '-' || lpad(n.v::text, greatest(6, length(n.v::text)), '0') "  # noqa: S608
    f"FROM (SELECT nextval('{SEQUENCE}') AS v) AS n)"
)

#: PostgreSQL: a new ticket's INSERT with its reference drawn in it (compiled once).
_NUMBERED_TICKET = KeptInsert(
    Ticket,
    expressions={"reference": _REFERENCE_SQL},
    returning=("reference",),
    skip_conflict_on="reference",
)


def insert_numbered(ticket: Ticket, kept: KeptInsert) -> Ticket:
    """Write the new ``ticket`` (call inside the creating transaction) with the next
    free reference, as ``kept`` (a ``KeptInsert`` of tickets) saves it elsewhere.
    PostgreSQL: the reference is drawn by the INSERT and set on the instance when the
    row is written (the ``pre_save`` receivers see the prefix in its place);
    elsewhere ``next_reference`` is set first, then ``kept`` saves the ticket."""
    if not uses_sequence():
        ticket.reference = next_reference()
        return kept.save(ticket)
    sql, params, finish = numbered_part(ticket)
    with transaction.mark_for_rollback_on_error(using=finish.using):
        with connections[finish.using].cursor() as cursor:
            while True:
                cursor.execute(sql, params)
                row = cursor.fetchone()
                if row is not None:
                    return finish(row)
                sync_counter()  # the number was taken: move past every one in use


def numbered_part(ticket: Ticket):
    """PostgreSQL: ``insert_numbered``'s INSERT of the new ``ticket`` as
    ``KeptInsert.part`` gives it (``pre_save`` sent; ``(sql, params, finish)``), for a
    caller that runs it as a ``WITH`` part of a statement of its own
    (``grants.grant_new_ticket``). It returns ``(id, reference)``, or no row when the
    reference is taken: then ``sync_counter()`` and run the same statement again."""
    ticket.reference = settings.TICKETS_REFERENCE_PREFIX
    return _NUMBERED_TICKET.part(ticket)


def _format(prefix: str, value: int) -> str:
    return f"{prefix}-{value:06d}"


# The next number and whether its reference is already in use, in one round trip: the
# reference is spelled in SQL as ``_format`` spells it (at least six digits).
_DRAW = """
SELECT n.v, EXISTS (
    SELECT 1 FROM tickets_ticket
    WHERE reference = %s || '-' || lpad(n.v::text, greatest(6, length(n.v::text)), '0')
)
FROM (SELECT nextval(%s) AS v) AS n
"""


def _draw_number(prefix: str) -> tuple[int, bool]:
    with connection.cursor() as cursor:
        cursor.execute(_DRAW, [prefix, SEQUENCE])
        value, taken = cursor.fetchone()
    return value, taken


def _next_from_locked_row(prefix: str) -> str:
    """The counter row stays locked until commit, so concurrent creations never share
    a number."""
    sequence = TicketSequence.objects.select_for_update().filter(pk=1).first()
    if sequence is None:
        try:
            with transaction.atomic():
                TicketSequence.objects.create(pk=1, last_value=highest_number())
        except IntegrityError:
            pass  # another transaction made it first; lock it below
        sequence = TicketSequence.objects.select_for_update().get(pk=1)
    value = sequence.last_value
    while True:
        value += 1
        reference = _format(prefix, value)
        if not Ticket.objects.filter(reference=reference).exists():
            break
    TicketSequence.objects.filter(pk=1).update(last_value=value)
    return reference
