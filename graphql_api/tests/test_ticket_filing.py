"""Filing through GraphQL follows the same rules as the portal, because both ask
``services.create_ticket``: viewers file nothing, and a ticket filed without an
organization gets the requester's default one (and so the same sharing) on either
surface."""

import pytest
from django.db import connection
from django.test import Client

from accounts import roles
from accounts.services import create_organization, setup_member
from tickets import permissions
from tickets.models import (
    Attachment,
    Ticket,
    TicketEvent,
    TicketGroupObjectPermission,
    TicketUserObjectPermission,
)
from tickets.tests.factories import QueueFactory

pytestmark = pytest.mark.django_db

CREATE = """mutation($i: CreateTicketInput!) { createTicket(input: $i) {
  __typename
  ... on Ticket { reference organization { slug } }
  ... on OperationInfo { messages { kind field message } }
} }"""
NOT_A_MEMBER = "The requester is not a member of this organization."


@pytest.fixture
def queue(db):
    return QueueFactory(slug="support", name="Support", is_default=True)


def written():
    return (
        Ticket.objects.count(),
        TicketEvent.objects.count(),
        Attachment.objects.count(),
    )


def create(gql, **fields):
    variables = {"i": {"subject": "Printer on fire", "description": "Since today."}}
    variables["i"].update(fields)
    return gql(CREATE, variables)["createTicket"]


def grants(ticket):
    """The ticket's grants, by holder and permission."""
    return (
        sorted(
            TicketUserObjectPermission.objects.filter(
                content_object=ticket
            ).values_list("user_id", "permission__codename")
        ),
        sorted(
            TicketGroupObjectPermission.objects.filter(
                content_object=ticket
            ).values_list("group_id", "permission__codename")
        ),
    )


def file_through_the_portal(user):
    client = Client()
    client.force_login(user)
    response = client.post(
        "/portal/tickets/new/",
        {
            "subject": "Printer on fire",
            "description": "Since today.",
            "category": "technical",
            "priority": "medium",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    return Ticket.objects.get(reference=response["Location"].rstrip("/").split("/")[-1])


# --- viewers -----------------------------------------------------------------------------


def test_a_viewer_cannot_create_a_ticket(make_user, as_user, queue):
    viewer = make_user("viewer@example.com", groups=[roles.VIEWERS], is_staff=True)
    data = create(as_user(viewer))
    assert data == {
        "__typename": "OperationInfo",
        "messages": [
            {
                "kind": "PERMISSION",
                "field": None,
                "message": "Read-only staff accounts cannot file tickets.",
            }
        ],
    }
    assert written() == (0, 0, 0)


def test_an_agent_still_creates_a_ticket(agent, as_user, queue):
    data = create(as_user(agent))
    assert data["__typename"] == "Ticket"
    assert Ticket.objects.get().requester == agent


# --- the default organization --------------------------------------------------------------


def test_the_only_organization_is_the_default_on_both_surfaces(
    alice, acme, as_user, queue
):
    data = create(as_user(alice))
    by_api = Ticket.objects.get(reference=data["reference"])
    by_portal = file_through_the_portal(alice)
    assert data["organization"] == {"slug": "acme"}
    assert (by_api.organization, by_portal.organization) == (acme, acme)
    assert grants(by_api) == grants(by_portal)
    assert (acme.group_id, "view_ticket") in grants(by_api)[1]


def test_the_organization_joined_first_is_the_default_on_both_surfaces(
    make_user, as_user, queue
):
    zeta = create_organization(name="Zeta", slug="zeta", ticket_sharing="read")
    acme = create_organization(name="Acme", slug="acme", ticket_sharing="read_write")
    user = make_user("sam@zeta.example", groups=[roles.CUSTOMERS])
    setup_member(zeta, user)
    setup_member(acme, user)
    data = create(as_user(user))
    by_api = Ticket.objects.get(reference=data["reference"])
    by_portal = file_through_the_portal(user)
    assert (by_api.organization, by_portal.organization) == (zeta, zeta)
    assert grants(by_api) == grants(by_portal)
    # the queue's agent group holds AGENT_PERMS by the rule, with no row (V-3)
    assert grants(by_api)[1] == [(zeta.group_id, "view_ticket")]
    for filed in (by_api, by_portal):
        assert permissions.queue_group_grants(filed) == {
            (queue.agent_group_id, codename) for codename in AGENT_PERMS
        }


AGENT_PERMS = (
    "add_internal_note",
    "assign_ticket",
    "change_ticket",
    "comment_ticket",
    "view_internal_notes",
    "view_ticket",
)


@pytest.mark.parametrize("slug", ["globex", "no-such-organization"])
def test_an_organization_of_someone_else_is_refused(
    alice, globex, as_user, queue, slug
):
    data = create(as_user(alice), organization=slug)
    assert data == {
        "__typename": "OperationInfo",
        "messages": [
            {"kind": "VALIDATION", "field": "organization", "message": NOT_A_MEMBER}
        ],
    }
    assert written() == (0, 0, 0)


# --- cost ----------------------------------------------------------------------------------


def test_filing_costs_a_fixed_number_of_statements(
    alice, make_user, as_user, queue, django_assert_num_queries
):
    """The bench's ``create_ticket`` request: a customer's token, no queue, no
    organization, a queue with two agents (three emails)."""
    for n in range(2):
        make_user(f"agent{n}@example.com", groups=[roles.AGENTS]).groups.add(
            queue.agent_group
        )
    gql = as_user(alice)
    create(gql)  # the token's last use is written at most once a minute
    # the token with its owner's roles; savepoint; the requester's organizations; the
    # default queue with its policy, and the default policy (the queue has none); the
    # reference (PostgreSQL: drawn by the ticket's INSERT; SQLite: the counter row, a
    # free number, its update); the ticket; its grants (SQLite: one per table; PostgreSQL: one
    # statement with the ticket and the event); the event (SQLite); the webhooks; the
    # queue's agents with their roles; the emails' outbox rows; release
    expected = 10 if connection.vendor == "postgresql" else 16
    with django_assert_num_queries(expected):
        data = create(gql)
    assert data["__typename"] == "Ticket"
    assert Ticket.objects.count() == 2
