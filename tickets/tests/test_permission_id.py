"""The permission id inside the visibility and notes conditions
(``permissions._permission_id``: constant SQL, two lookups by unique keys, bench
FINDINGS S-4) is the ticket model's permission, never a namesake of another model's,
and the conditions built on it still decide who finds a note's word."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from guardian.shortcuts import assign_perm

from tickets import permissions, services
from tickets.models import Queue, Ticket

from .factories import QueueFactory, TicketFactory, make_agent, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def namesakes():
    """Permissions of another model with the ticket permissions' codenames: the
    subquery must not pick them (nor find two rows)."""
    queue_type = ContentType.objects.get_for_model(Queue)
    for codename in ("view_ticket", "view_internal_notes"):
        Permission.objects.get_or_create(
            codename=codename, content_type=queue_type, defaults={"name": codename}
        )


@pytest.mark.parametrize("codename", ["view_ticket", "view_internal_notes"])
def test_the_subquery_is_the_ticket_permissions_id(namesakes, codename):
    expected = Permission.objects.get(
        codename=codename, content_type=ContentType.objects.get_for_model(Ticket)
    )
    found = Permission.objects.filter(pk=permissions._permission_id(codename))
    assert list(found) == [expected]


def search(user, text):
    notes = permissions.notes_searchable(user)
    return set(
        permissions.visible_tickets(user)
        .search(text, notes=notes)
        .values_list("pk", flat=True)
    )


def test_a_direct_notes_grant_finds_the_note_and_a_view_grant_alone_does_not(
    namesakes, queue, agent
):
    ticket = TicketFactory(requester=make_customer(), queue=queue)
    services.reply(agent, ticket, body="Reply: the capybara left.")
    services.add_internal_note(agent, ticket, body="Secret: the wombat plan.")
    granted = make_agent(QueueFactory(), email="granted@example.com")
    viewer = make_agent(QueueFactory(), email="viewer-only@example.com")
    for user in (granted, viewer):
        assign_perm("tickets.view_ticket", user, ticket)
    assign_perm("tickets.view_internal_notes", granted, ticket)
    # the namesake on another model grants nothing on the ticket
    queue_type = ContentType.objects.get_for_model(Queue)
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_internal_notes", content_type=queue_type)
    )
    assert search(granted, "wombat") == {ticket.pk}
    assert search(viewer, "wombat") == set()
    assert search(viewer, "capybara") == {ticket.pk}
    outsider = make_agent(QueueFactory(), email="outsider@example.com")
    assert search(outsider, "capybara") == set()
    assert search(agent, "wombat") == {ticket.pk}
