"""Ticket search has one owner, ``Ticket.objects.search(text)``: the desk inbox,
the portal list and GraphQL's ``tickets(filters: {search})`` return the same tickets
for the same text (reference in part or whole, subject, requester's email or name,
organization's name, any case), each within what the caller may see."""

import pytest
from django.test import Client

from accounts.tokens import create_token
from graphql_api.tests.conftest import Gql
from tickets.models import Ticket

from .factories import OrganizationFactory, TicketFactory, make_customer

pytestmark = pytest.mark.django_db

QUERY = """query($f: TicketFilter) {
  tickets(filters: $f, first: 100) { edges { node { reference } } } }"""


@pytest.fixture
def world(queue, acme, alice, bob):
    globex = OrganizationFactory(name="Globex", slug="globex")
    carol = make_customer(globex, email="carol@globex.example", display_name="Carol")
    return {
        "printer": TicketFactory(
            requester=alice, organization=acme, queue=queue, subject="Printer jam"
        ),
        "bob": TicketFactory(
            requester=bob, organization=acme, queue=queue, subject="VPN drops"
        ),
        "carol": TicketFactory(
            requester=carol, organization=globex, queue=queue, subject="Printer ink"
        ),
    }


def desk(client, user, text):
    client.force_login(user)
    response = client.get("/admin/helpdesk/tickets/", {"view": "all", "q": text})
    assert response.status_code == 200
    return {t.reference for t, _ in response.context["rows"]}


def portal(client, user, text):
    client.force_login(user)
    response = client.get("/portal/tickets/", {"q": text, "status": "all"})
    assert response.status_code == 200
    return {t.reference for t in response.context["tickets"]}


def graphql(user, text):
    gql = Gql(Client(), create_token(user, name="t", scopes="read").secret)
    edges = gql(QUERY, {"f": {"search": text}})["tickets"]["edges"]
    return {edge["node"]["reference"] for edge in edges}


# text → the tickets it finds among all (the support team's view)
CASES = [
    ("PRINTER", {"printer", "carol"}),  # subject, any case
    ("bob@acme", {"bob"}),  # requester's email
    ("carol", {"carol"}),  # requester's name and email
    ("globex", {"carol"}),  # organization's name
    ("acme", {"printer", "bob"}),  # organization's name and requester emails
    ("nothing like this", set()),
]


@pytest.mark.parametrize(("text", "found"), CASES)
def test_desk_and_graphql_find_the_same_tickets(client, agent, world, text, found):
    expected = {world[name].reference for name in found}
    assert set(Ticket.objects.search(text).values_list("reference", flat=True)) == (
        expected
    )
    assert desk(client, agent, text) == expected
    assert graphql(agent, text) == expected


@pytest.mark.parametrize(("text", "found"), CASES)
def test_portal_and_graphql_find_the_same_tickets(client, alice, world, text, found):
    """The customer's search is the same search within the tickets alice may see
    (her organization's: never Globex's)."""
    expected = {world[name].reference for name in found if name != "carol"}
    assert portal(client, alice, text) == expected
    assert graphql(alice, text) == expected


def test_a_reference_is_found_whole_or_in_part_on_every_surface(
    client, agent, alice, world
):
    reference = world["bob"].reference
    for text in (reference.lower(), reference[-4:]):
        assert desk(client, agent, text) == {reference}
        assert graphql(agent, text) == {reference}
        assert portal(client, alice, text) == {reference}
        assert graphql(alice, text) == {reference}
