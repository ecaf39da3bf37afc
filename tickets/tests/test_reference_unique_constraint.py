"""The ticket's reference is unique by a constraint (migration 0020, bench FINDINGS
R-8): the same guard on both databases, the same validation message, and on
PostgreSQL the unique index kept without its ``varchar_pattern_ops`` twin."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def copy(ticket, reference):
    return Ticket(
        reference=reference,
        subject="Another",
        description="Another one.",
        requester_id=ticket.requester_id,
        organization_id=ticket.organization_id,
        queue_id=ticket.queue_id,
    )


def test_a_taken_reference_is_refused_by_the_database(ticket):
    with pytest.raises(IntegrityError), transaction.atomic():
        copy(ticket, ticket.reference).save()


def test_a_taken_reference_fails_validation_with_the_fields_message(ticket):
    with pytest.raises(ValidationError) as raised:
        copy(ticket, ticket.reference).validate_constraints()
    assert raised.value.messages == ["Ticket with this Reference already exists."]
    copy(ticket, "HD-990009").validate_constraints()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's catalogue")
def test_the_unique_index_is_kept_and_its_like_twin_dropped():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE tablename = 'tickets_ticket' AND indexdef LIKE '%%btree (reference%%'"
        )
        found = dict(cursor.fetchall())
    assert list(found) == ["tickets_ticket_reference_key"]
    assert found["tickets_ticket_reference_key"].startswith("CREATE UNIQUE INDEX")
