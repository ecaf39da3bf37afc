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
"""

import re

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max

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
