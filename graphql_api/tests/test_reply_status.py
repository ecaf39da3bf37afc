"""GraphQL addComment goes through services.reply: a staff reply moves a new ticket to
open, like the desk; a customer's comment or a staff internal note leaves it new."""

import pytest

from tickets.models import Status, Ticket
from tickets.tests.factories import (
    OrganizationFactory,
    QueueFactory,
    TicketFactory,
    make_agent,
    make_customer,
)

from .conftest import Gql

pytestmark = pytest.mark.django_db

ADD_COMMENT = """mutation($i: AddCommentInput!) { addComment(input: $i) {
  __typename
  ... on Comment { isInternal }
} }"""


@pytest.fixture
def people(db):
    queue = QueueFactory(slug="support", name="Support", is_default=True)
    acme = OrganizationFactory(name="Acme", slug="acme")
    requester = make_customer(acme, email="alice@acme.example")
    agent = make_agent(queue, email="agent@example.com")
    ticket = TicketFactory(requester=requester, queue=queue, organization=acme)
    return {"agent": agent, "requester": requester, "ticket": ticket}


def _client(user, token_for):
    from django.test import Client

    return Gql(Client(), token_for(user, "read,write"))


def test_staff_add_comment_moves_a_new_ticket_to_open(people, token_for):
    ticket = people["ticket"]
    agent = _client(people["agent"], token_for)
    note = agent(
        ADD_COMMENT,
        {"i": {"reference": ticket.reference, "body": "FYI", "isInternal": True}},
    )
    assert note == {"addComment": {"__typename": "Comment", "isInternal": True}}
    assert Ticket.objects.get(pk=ticket.pk).status == Status.NEW
    reply = agent(ADD_COMMENT, {"i": {"reference": ticket.reference, "body": "On it"}})
    assert reply == {"addComment": {"__typename": "Comment", "isInternal": False}}
    assert Ticket.objects.get(pk=ticket.pk).status == Status.OPEN


def test_customer_add_comment_leaves_a_new_ticket_new(people, token_for):
    ticket = people["ticket"]
    customer = _client(people["requester"], token_for)
    customer(ADD_COMMENT, {"i": {"reference": ticket.reference, "body": "Hello?"}})
    assert Ticket.objects.get(pk=ticket.pk).status == Status.NEW
