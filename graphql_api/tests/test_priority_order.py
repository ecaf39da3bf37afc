"""GraphQL follows the model's priority order and choices: ``tickets(ordering:
{field: PRIORITY})`` sorts by urgency in both directions, page by page, and the
ticket enums are the model choices (names and values), not copies."""

import pytest
from django.test import Client

from graphql_api.kb.types import ArticleAudience
from graphql_api.tickets.types import TicketCategory, TicketPriority, TicketStatus
from kb.models import Audience
from tickets.models import Category, Priority, Status
from tickets.tests.factories import (
    OrganizationFactory,
    QueueFactory,
    TicketFactory,
    make_agent,
    make_customer,
)

from .conftest import Gql

URGENT_FIRST = ["CRITICAL", "HIGH", "MEDIUM", "LOW"]
QUERY = """query($o: TicketOrder, $n: Int, $a: String) {
  tickets(ordering: $o, first: $n, after: $a) {
    pageInfo { hasNextPage endCursor } edges { node { priority } } } }"""


@pytest.fixture
def gql(db, token_for):
    queue = QueueFactory(slug="support", is_default=True)
    requester = make_customer(OrganizationFactory(slug="acme"))
    for priority in ["medium", "critical", "low", "high"]:
        TicketFactory(requester=requester, queue=queue, priority=priority)
    return Gql(Client(), token_for(make_agent(queue)))


@pytest.mark.parametrize(
    ("direction", "expected"), [("DESC", URGENT_FIRST), ("ASC", URGENT_FIRST[::-1])]
)
@pytest.mark.parametrize("page_size", [4, 1])
def test_tickets_ordered_by_priority_follow_urgency(
    gql, direction, expected, page_size
):
    ordering = {"field": "PRIORITY", "direction": direction}
    seen, after = [], None
    while True:
        page = gql(QUERY, {"o": ordering, "n": page_size, "a": after})["tickets"]
        seen += [edge["node"]["priority"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected


@pytest.mark.parametrize(
    ("enum", "choices"),
    [
        (TicketPriority, Priority),
        (TicketStatus, Status),
        (TicketCategory, Category),
        (ArticleAudience, Audience),
    ],
)
def test_ticket_enums_are_the_model_choices(enum, choices):
    assert [(m.name, m.value) for m in enum] == [(c.name, c.value) for c in choices]


def test_the_schema_keeps_the_enum_names(gql):
    data = gql(
        """{ p: __type(name: "TicketPriority") { enumValues { name } }
             s: __type(name: "TicketStatus") { enumValues { name } } }"""
    )
    assert [v["name"] for v in data["p"]["enumValues"]] == URGENT_FIRST[::-1]
    assert [v["name"] for v in data["s"]["enumValues"]] == [
        "NEW",
        "OPEN",
        "IN_PROGRESS",
        "WAITING_ON_CUSTOMER",
        "ON_HOLD",
        "RESOLVED",
        "CLOSED",
        "REJECTED",
        "WITHDRAWN",
    ]
