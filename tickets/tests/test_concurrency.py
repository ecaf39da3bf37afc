import threading

import pytest
from django.db import connection

from tickets import grants, permissions, services
from tickets.models import (
    Ticket,
    TicketEvent,
    TicketGroupObjectPermission,
    TicketUserObjectPermission,
)

from .factories import QueueFactory, make_customer

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def assert_written_once(ticket):
    """A filing whose reference was taken at first (its one statement ran again) wrote
    its ticket, grants and first event once: nothing from the skipped try."""
    assert list(
        TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True)
    ) == ["created"]
    assert sorted(
        TicketUserObjectPermission.objects.filter(content_object=ticket).values_list(
            "permission__codename", flat=True
        )
    ) == sorted(grants.REQUESTER_PERMS)
    # the queue's agent group: the rule, no row (V-3)
    assert not TicketGroupObjectPermission.objects.filter(
        content_object=ticket
    ).exists()
    assert permissions.queue_group_grants(ticket) == {
        (ticket.queue.agent_group_id, codename) for codename in grants.AGENT_PERMS
    }
    assert TicketEvent.objects.count() == Ticket.objects.count()


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


def test_an_open_creation_does_not_hold_up_the_next_one():
    """The reference comes from a sequence: a creation whose transaction is still open
    does not make the next one wait (it used to wait on the locked counter row)."""
    from django.db import transaction

    from tickets import references

    taken, release, errors = threading.Event(), threading.Event(), []

    def slow_creation():
        from django.db import connection as thread_connection

        try:
            with transaction.atomic():
                references.next_reference()
                taken.set()
                release.wait(timeout=30)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(repr(error))
        finally:
            thread_connection.close()

    thread = threading.Thread(target=slow_creation)
    thread.start()
    try:
        assert taken.wait(timeout=30)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            assert references.next_reference() == "HD-000002"
    finally:
        release.set()
        thread.join(timeout=30)
    assert errors == []


def test_numbers_in_use_are_skipped_and_a_rollback_leaves_a_gap():
    from django.db import transaction

    QueueFactory(slug="support", is_default=True)
    customer = make_customer()
    restored = services.create_ticket(customer, subject="Restored", description="x")
    Ticket.objects.filter(pk=restored.pk).update(reference="HD-000041")
    assert services.create_ticket(customer, subject="N", description="x").reference == (
        "HD-000002"
    )
    with connection.cursor() as cursor:  # as after a restore: counter behind the data
        cursor.execute("SELECT setval('tickets_reference_seq', 40)")
    skipped = services.create_ticket(customer, subject="N", description="x")
    assert skipped.reference == "HD-000042"
    assert_written_once(skipped)
    try:
        with transaction.atomic():
            services.create_ticket(customer, subject="Lost", description="x")
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    assert services.create_ticket(customer, subject="N", description="x").reference == (
        "HD-000044"
    )


def test_a_reference_written_by_an_open_transaction_is_skipped_when_it_commits():
    """An import writes ``HD-000002`` in a transaction still open when a filing draws
    2: the filing's INSERT waits for it, finds the reference taken once it commits,
    and files under the next free number (no error, no savepoint, one ticket)."""
    from django.db import transaction

    QueueFactory(slug="support", is_default=True)
    customer = make_customer()
    assert services.create_ticket(customer, subject="1", description="x").reference == (
        "HD-000001"
    )
    written, release, errors = threading.Event(), threading.Event(), []
    columns = ", ".join(
        f'"{field.column}"'
        for field in Ticket._meta.concrete_fields
        if not field.primary_key and field.name != "reference" and not field.generated
    )

    def importing():
        from django.db import connection as thread_connection

        try:
            with transaction.atomic():
                with thread_connection.cursor() as cursor:
                    cursor.execute(  # a copy of the first ticket, as a restore
                        f"INSERT INTO tickets_ticket (reference, {columns}) "  # noqa: S608
                        f"SELECT 'HD-000002', {columns} FROM tickets_ticket "
                        "WHERE reference = 'HD-000001'"
                    )
                written.set()
                release.wait(timeout=30)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(repr(error))
        finally:
            thread_connection.close()

    thread = threading.Thread(target=importing)
    thread.start()
    try:
        assert written.wait(timeout=30)
        threading.Timer(1.0, release.set).start()  # commits while the filing waits
        ticket = services.create_ticket(customer, subject="N", description="x")
    finally:
        release.set()
        thread.join(timeout=30)
    assert errors == []
    assert ticket.reference == "HD-000003"
    assert list(
        TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True)
    ) == ["created"]
    assert Ticket.objects.get(pk=ticket.pk).reference == "HD-000003"
    assert sorted(Ticket.objects.values_list("reference", flat=True)) == [
        "HD-000001",
        "HD-000002",
        "HD-000003",
    ]
