"""The ticket grants' ``permission_id`` has no foreign-key constraint nor index
(migration 0018, bench FINDINGS R-7): a deleted permission still takes its grants
along, through the ORM and through SQL, on both databases, and leaves every other
grant in place."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from guardian.shortcuts import assign_perm

from tickets import services
from tickets.models import (
    Ticket,
    TicketGroupObjectPermission,
    TicketUserObjectPermission,
)

pytestmark = pytest.mark.django_db

GRANT_MODELS = (TicketUserObjectPermission, TicketGroupObjectPermission)


@pytest.fixture
def filed(alice, agent, queue, acme):
    """A filed ticket with its grants, and one more permission of tickets granted on
    it to a user and a group (as a permission of a later release would be)."""
    ticket = services.create_ticket(alice, subject="Printer", description="On fire.")
    extra = Permission.objects.create(
        codename="audit_ticket",
        name="Can audit ticket",
        content_type=ContentType.objects.get_for_model(Ticket),
    )
    assign_perm(extra, agent, ticket)
    assign_perm(extra, queue.agent_group, ticket)
    return ticket, extra


def grants(ticket):
    return {
        model.__name__: sorted(
            model.objects.filter(content_object=ticket).values_list(
                "permission__codename", flat=True
            )
        )
        for model in GRANT_MODELS
    }


def without(found, codename):
    return {
        name: [c for c in codenames if c != codename]
        for name, codenames in found.items()
    }


def test_the_filing_wrote_grants_of_the_extra_permission_too(filed):
    ticket, extra = filed
    found = grants(ticket)
    assert all(extra.codename in codenames for codenames in found.values())
    assert found["TicketUserObjectPermission"].count("view_ticket") == 1
    assert "view_ticket" in found["TicketGroupObjectPermission"]


def test_a_permission_deleted_by_the_orm_takes_its_grants_along(filed):
    ticket, extra = filed
    before = grants(ticket)
    extra.delete()
    assert grants(ticket) == without(before, extra.codename)
    for model in GRANT_MODELS:
        assert not model.objects.filter(permission_id=extra.pk).exists()


def test_a_permission_deleted_by_sql_takes_its_grants_along(filed):
    """What the foreign key guarded: no grant is left pointing at a permission that is
    gone (the trigger of migration 0018)."""
    ticket, extra = filed
    before = grants(ticket)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM auth_permission WHERE id = %s", [extra.pk])
    assert grants(ticket) == without(before, extra.codename)
    for model in GRANT_MODELS:
        assert not model.objects.filter(permission_id=extra.pk).exists()
    assert Ticket.objects.filter(pk=ticket.pk).exists()


def test_an_sql_delete_of_several_permissions_and_of_none(filed, bob):
    ticket, extra = filed
    other = Permission.objects.create(
        codename="escalate_ticket",
        name="Can escalate ticket",
        content_type=extra.content_type,
    )
    assign_perm(other, bob, ticket)
    before = grants(ticket)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM auth_permission WHERE id = -1")
        assert grants(ticket) == before
        cursor.execute(
            "DELETE FROM auth_permission WHERE id IN (%s, %s)", [extra.pk, other.pk]
        )
    assert grants(ticket) == without(without(before, extra.codename), other.codename)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's catalogue")
def test_no_constraint_nor_index_on_the_permission_column_and_the_others_kept():
    with connection.cursor() as cursor:
        for model in GRANT_MODELS:
            table = model._meta.db_table
            cursor.execute(
                "SELECT a.attname FROM pg_constraint c JOIN pg_attribute a "
                "ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey) "
                "WHERE c.contype = 'f' AND c.conrelid = %s::regclass",
                [table],
            )
            owner = "user_id" if model is TicketUserObjectPermission else "group_id"
            assert sorted(row[0] for row in cursor.fetchall()) == sorted(
                ["content_object_id", owner]
            )
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE tablename = %s", [table]
            )
            definitions = [row[0] for row in cursor.fetchall()]
            assert not any(d.endswith("(permission_id)") for d in definitions)
            assert any(
                f"({owner}, permission_id, content_object_id)" in d for d in definitions
            )
