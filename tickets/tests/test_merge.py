"""Merging tickets never changes who reads a conversation (``permissions.
why_not_merge``): through the service and through the desk, the one surface that
offers merging."""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import TicketSharing
from accounts.services import setup_member
from tickets import permissions, services
from tickets.models import (
    Attachment,
    Comment,
    Status,
    Ticket,
    TicketEvent,
    TicketGroupObjectPermission,
    TicketUserObjectPermission,
    TimeEntry,
)

from .factories import (
    OrganizationFactory,
    TicketFactory,
    make_agent,
    make_customer,
    png_bytes,
    upload,
)

pytestmark = pytest.mark.django_db

REFUSED = (
    "These tickets are read by different customers: merging them would show a "
    "conversation to people who cannot see it now. Merge only tickets of the same "
    "requester, or of one organization that shares its tickets."
)


@pytest.fixture
def globex(db):
    return OrganizationFactory(name="Globex", slug="globex")


@pytest.fixture
def carol(globex):
    return make_customer(globex, email="carol@globex.example")


def snapshot(*tickets):
    """Everything a merge touches, for both tickets."""
    state = {}
    for ticket in tickets:
        fresh = Ticket.objects.get(pk=ticket.pk)
        state[ticket.reference] = {
            "status": fresh.status,
            "merged_into": fresh.merged_into_id,
            "closed_at": fresh.closed_at,
            "comments": sorted(
                Comment.objects.filter(ticket=ticket).values_list("pk", flat=True)
            ),
            "attachments": sorted(
                Attachment.objects.filter(ticket=ticket).values_list("pk", flat=True)
            ),
            "time": sorted(
                TimeEntry.objects.filter(ticket=ticket).values_list("pk", flat=True)
            ),
            "watchers": sorted(fresh.watchers.values_list("pk", flat=True)),
            "events": TicketEvent.objects.filter(ticket=ticket).count(),
            "user_grants": sorted(
                TicketUserObjectPermission.objects.filter(
                    content_object=ticket
                ).values_list("user_id", "permission__codename")
            ),
            "group_grants": sorted(
                TicketGroupObjectPermission.objects.filter(
                    content_object=ticket
                ).values_list("group_id", "permission__codename")
            ),
        }
    return state


def with_conversation(ticket, agent):
    """A reply with a file, an internal note and logged time on ``ticket``."""
    services.reply(
        ticket.requester,
        ticket,
        body=f"Details for {ticket.reference}",
        attachments=[upload("screen.png", png_bytes())],
    )
    services.add_internal_note(agent, ticket, body="Between us")
    services.log_time(agent, ticket, minutes=5)
    return ticket


def visible_refs(user):
    return sorted(permissions.visible_tickets(user).values_list("reference", flat=True))


# --- allowed ---------------------------------------------------------------------------


def test_same_requester_merges(ticket, alice, agent, queue):
    duplicate = with_conversation(TicketFactory(requester=alice, queue=queue), agent)
    services.merge(agent, duplicate, ticket)
    duplicate.refresh_from_db()
    assert (duplicate.merged_into, duplicate.status) == (ticket, Status.CLOSED)
    assert list(ticket.comments.order_by("pk").values_list("body", "is_internal")) == [
        (f"Details for {duplicate.reference}", False),
        ("Between us", True),
    ]
    assert list(ticket.attachments.values_list("original_name", flat=True)) == [
        "screen.png"
    ]
    assert ticket.time_entries.count() == 1
    assert list(ticket.watchers.all()) == [alice]


def test_colleagues_of_an_organization_that_shares_tickets_merge(
    ticket, alice, bob, agent, queue
):
    duplicate = with_conversation(TicketFactory(requester=bob, queue=queue), agent)
    services.merge(agent, duplicate, ticket)
    assert Ticket.objects.get(pk=duplicate.pk).merged_into == ticket
    assert visible_refs(bob) == sorted([ticket.reference, duplicate.reference])
    assert list(ticket.watchers.all()) == [bob]
    bodies = list(
        Comment.objects.filter(permissions.comments_visible_to(bob, ticket))
        .filter(ticket=ticket)
        .values_list("body", flat=True)
    )
    assert bodies == [f"Details for {duplicate.reference}"]


def test_staff_watchers_who_cannot_see_the_target_are_not_carried_over(
    ticket, alice, agent, supervisor, other_queue
):
    billing_agent = make_agent(other_queue)
    duplicate = TicketFactory(requester=alice, queue=other_queue)
    services.add_watcher(billing_agent, duplicate)
    services.merge(supervisor, duplicate, ticket)
    assert list(ticket.watchers.all()) == [alice]


# --- refused ---------------------------------------------------------------------------


def test_a_globex_ticket_is_not_merged_into_an_acme_ticket(
    ticket, alice, carol, agent, queue
):
    with_conversation(ticket, agent)
    duplicate = with_conversation(TicketFactory(requester=carol, queue=queue), agent)
    services.add_watcher(agent, duplicate)
    before = snapshot(ticket, duplicate)
    with pytest.raises(ValidationError) as refused:
        services.merge(agent, duplicate, ticket)
    assert refused.value.message_dict == {"target": [REFUSED]}
    assert snapshot(ticket, duplicate) == before
    assert visible_refs(carol) == [duplicate.reference]


def test_requesters_of_an_organization_that_does_not_share_are_not_merged(
    globex, carol, agent, queue
):
    dave = make_customer(globex, email="dave@globex.example")
    target = TicketFactory(requester=carol, queue=queue)
    duplicate = TicketFactory(requester=dave, queue=queue)
    before = snapshot(target, duplicate)
    with pytest.raises(ValidationError) as refused:
        services.merge(agent, duplicate, target)
    assert refused.value.message_dict == {"target": [REFUSED]}
    assert snapshot(target, duplicate) == before


def test_same_requester_in_two_organizations_is_not_merged(alice, bob, agent, queue):
    """Acme shares with Bob; the other organization does not: Bob would lose the
    source's replies (and the other way round, gain what he may not read)."""
    private = OrganizationFactory(name="Initech", slug="initech")
    setup_member(private, alice)
    shared = TicketFactory(requester=alice, queue=queue)  # Acme: joined first
    unshared = TicketFactory(requester=alice, queue=queue, organization=private)
    assert (shared.organization.slug, unshared.organization.slug) == (
        "acme",
        "initech",
    )
    before = snapshot(shared, unshared)
    for source, target in [(shared, unshared), (unshared, shared)]:
        with pytest.raises(ValidationError) as refused:
            services.merge(agent, source, target)
        assert refused.value.message_dict == {"target": [REFUSED]}
    assert snapshot(shared, unshared) == before


def test_a_customer_watching_the_source_counts_as_a_reader(
    ticket, alice, bob, acme, agent, queue
):
    """Bob follows the source and keeps getting its emails after Acme stops sharing;
    merged, he would be emailed the target's replies too."""
    duplicate = TicketFactory(requester=alice, queue=queue)
    services.add_watcher(bob, duplicate)
    acme.ticket_sharing = TicketSharing.NONE
    acme.save()
    services.apply_organization_sharing(acme)
    before = snapshot(ticket, duplicate)
    with pytest.raises(ValidationError) as refused:
        services.merge(agent, duplicate, ticket)
    assert refused.value.message_dict == {"target": [REFUSED]}
    assert snapshot(ticket, duplicate) == before


def test_a_ticket_is_not_merged_into_itself(ticket, agent):
    before = snapshot(ticket)
    with pytest.raises(ValidationError) as refused:
        services.merge(agent, ticket, Ticket.objects.get(pk=ticket.pk))
    assert refused.value.message_dict == {
        "target": ["A ticket cannot be merged into itself."]
    }
    assert snapshot(ticket) == before


def test_policy_answers_the_same_as_the_service(ticket, alice, bob, carol, agent):
    same = TicketFactory(requester=alice, queue=ticket.queue)
    colleague = TicketFactory(requester=bob, queue=ticket.queue)
    stranger = TicketFactory(requester=carol, queue=ticket.queue)
    assert permissions.why_not_merge(agent, same, ticket) is None
    assert permissions.why_not_merge(agent, colleague, ticket) is None
    assert permissions.why_not_merge(agent, stranger, ticket) == (
        permissions.INVALID,
        REFUSED,
    )
    assert permissions.why_not_merge(agent, ticket, stranger) == (
        permissions.INVALID,
        REFUSED,
    )


# --- the desk --------------------------------------------------------------------------


def desk_url(ticket, action="merge"):
    return f"/admin/helpdesk/tickets/{ticket.reference}/{action}/"


def test_desk_merges_tickets_of_one_requester(client, ticket, alice, agent, queue):
    duplicate = with_conversation(TicketFactory(requester=alice, queue=queue), agent)
    client.force_login(agent)
    response = client.post(desk_url(duplicate), {"target": ticket.reference})
    assert response.status_code == 302
    assert response["Location"] == ticket.get_admin_url()
    assert Ticket.objects.get(pk=duplicate.pk).merged_into == ticket


def test_desk_refuses_a_cross_organization_merge_with_the_reason(
    client, ticket, carol, agent, queue
):
    with_conversation(ticket, agent)
    duplicate = with_conversation(TicketFactory(requester=carol, queue=queue), agent)
    client.force_login(agent)
    before = snapshot(ticket, duplicate)
    response = client.post(desk_url(duplicate), {"target": ticket.reference})
    assert response.status_code == 400
    assert response.context["merge_form"].errors == {"target": [REFUSED]}
    assert REFUSED in response.content.decode()
    assert snapshot(ticket, duplicate) == before
