import threading

import pytest
from django.db import connection

from tickets import services
from tickets.models import Ticket

from .factories import QueueFactory, make_customer

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (SQLite serialises writers anyway)")


def test_twenty_concurrent_creations_get_distinct_references():
    QueueFactory(slug="support", is_default=True)
    customers = [make_customer() for _ in range(20)]
    barrier = threading.Barrier(20)
    references, errors = [], []

    def create(customer):
        from django.db import connection as thread_connection

        try:
            barrier.wait(timeout=30)
            ticket = services.create_ticket(
                customer, subject="Concurrent", description="at once"
            )
            references.append(ticket.reference)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(repr(error))
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=create, args=(c,)) for c in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(references) == 20
    assert sorted(references) == [f"HD-{n:06d}" for n in range(1, 21)]
    assert Ticket.objects.count() == 20
