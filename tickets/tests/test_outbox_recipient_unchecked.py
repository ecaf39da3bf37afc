"""The outbox's ``recipient_id`` has no foreign-key constraint (notifications
migration 0004, bench FINDINGS R-8): deleting a user still keeps the outbox rows that
named them with no recipient, through the ORM and through SQL, on both databases, and
leaves every other row as it was."""

import pytest
from django.db import connection

from portal.notifications.models import SentNotification
from tickets import services

from .factories import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def filed(alice, agent, queue):
    """A filing's outbox rows (to the queue's agent), and a row to a customer who has
    nothing else in the database."""
    services.create_ticket(alice, subject="Printer", description="On fire.")
    carol = alone(make_customer(None, email="carol@example.com"))
    SentNotification.objects.create(
        idempotency_key="r8:carol", kind="ticket_created", recipient=carol
    )
    return carol


def alone(user):
    """``user`` without their roles' rows: nothing but outbox rows names them (a SQL
    deletion leaves no other row for the test's constraint check to refuse)."""
    user.groups.clear()
    return user


def recipients():
    return sorted(
        SentNotification.objects.values_list("idempotency_key", "recipient_id"),
        key=str,
    )


def with_nobody(found, *user_ids):
    return sorted(
        ((key, None if user in user_ids else user) for key, user in found), key=str
    )


def test_the_filing_wrote_rows_to_the_queues_agent(filed, agent):
    assert SentNotification.objects.filter(recipient=agent).exists()


def test_a_user_deleted_by_the_orm_keeps_their_rows_without_a_recipient(filed, agent):
    before, gone = recipients(), agent.pk
    agent.delete()
    assert recipients() == with_nobody(before, gone)
    assert SentNotification.objects.filter(recipient_id=None).exists()


def test_a_user_deleted_by_sql_keeps_their_rows_without_a_recipient(filed):
    """What the foreign key's ORM deletion did, for SQL too (the trigger of migration
    0004): no row is left naming a user who is gone."""
    carol = filed
    before = recipients()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM accounts_user WHERE id = %s", [carol.pk])
    assert recipients() == with_nobody(before, carol.pk)
    assert not SentNotification.objects.filter(recipient_id=carol.pk).exists()


def test_an_sql_delete_of_several_users_and_of_none(filed):
    carol = filed
    dave = alone(make_customer(None, email="dave@example.com"))
    SentNotification.objects.create(
        idempotency_key="r8:dave", kind="ticket_created", recipient=dave
    )
    before = recipients()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM accounts_user WHERE id = -1")
        assert recipients() == before
        cursor.execute(
            "DELETE FROM accounts_user WHERE id IN (%s, %s)", [carol.pk, dave.pk]
        )
    assert recipients() == with_nobody(before, carol.pk, dave.pk)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's catalogue")
def test_no_constraint_on_the_recipient_column_and_its_index_kept():
    table = SentNotification._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
            "AND conrelid = %s::regclass",
            [table],
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [table])
        assert any(row[0].endswith("(recipient_id)") for row in cursor.fetchall())
