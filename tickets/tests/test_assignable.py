"""Who may be assigned has one owner, ``permissions.assignable_agents`` (and
``may_be_assigned``): active agents of the ticket's queue, supervisors and
administrators. The desk's assignee choices, its single and bulk assign, GraphQL's
``assignTicket`` and ``services.assign`` all follow it; a refused candidate leaves
the ticket unassigned with no event."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.models import User
from accounts.tokens import create_token
from graphql_api.tests.conftest import Gql
from tickets import permissions, services
from tickets.models import EventKind, TicketEvent

from .factories import make_agent, make_supervisor

pytestmark = pytest.mark.django_db

ALLOWED = {"queue agent": True, "supervisor": True, "administrator": True}
REFUSED = {"other queue's agent": False, "inactive agent": False, "customer": False}
CANDIDATES = {**ALLOWED, **REFUSED}
ASSIGN = """mutation($i: AssignTicketInput!) { assignTicket(input: $i) {
  __typename ... on Ticket { assignee { email } }
  ... on OperationInfo { messages { kind field } } } }"""


@pytest.fixture
def people(queue, other_queue, alice):
    return {
        "queue agent": make_agent(queue, email="colleague@example.com"),
        "supervisor": make_supervisor(email="boss@example.com"),
        "administrator": User.objects.create_superuser(
            email="root@example.com", password="x" * 16
        ),
        "other queue's agent": make_agent(other_queue, email="elsewhere@example.com"),
        "inactive agent": make_agent(queue, email="gone@example.com", is_active=False),
        "customer": alice,
    }


def assigned(ticket):
    ticket.refresh_from_db()
    events = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ASSIGNED)
    return ticket.assignee, events.count()


def test_the_owner_lists_exactly_the_assignable(ticket, agent, people):
    expected = {people[name].pk for name in ALLOWED} | {agent.pk}
    assert set(permissions.assignable_agents(ticket).values_list("pk", flat=True)) == (
        expected
    )
    for name, allowed in CANDIDATES.items():
        assert permissions.may_be_assigned(people[name], ticket) is allowed, name


@pytest.mark.parametrize(("name", "allowed"), CANDIDATES.items())
def test_service(ticket, agent, people, name, allowed):
    candidate = people[name]
    if allowed:
        services.assign(agent, ticket, candidate)
        assert assigned(ticket) == (candidate, 1)
    else:
        with pytest.raises(ValidationError) as refused:
            services.assign(agent, ticket, candidate)
        assert list(refused.value.message_dict) == ["assignee"]
        assert assigned(ticket) == (None, 0)


def test_desk_offers_exactly_the_assignable(client, ticket, agent, people):
    client.force_login(agent)
    response = client.get(f"/admin/helpdesk/tickets/{ticket.reference}/")
    offered = response.context["assign_form"].fields["assignee"].queryset
    assert list(offered) == list(permissions.assignable_agents(ticket))
    html = response.content.decode()
    select = re.search(r'<select name="assignee".*?</select>', html, re.S).group()
    for name, allowed in CANDIDATES.items():
        assert (f'value="{people[name].pk}"' in select) is allowed, name


@pytest.mark.parametrize(("name", "allowed"), CANDIDATES.items())
def test_desk_assign(client, ticket, agent, people, name, allowed):
    client.force_login(agent)
    response = client.post(
        f"/admin/helpdesk/tickets/{ticket.reference}/assign/",
        {"assignee": people[name].pk},
    )
    if allowed:
        assert response.status_code == 302
        assert assigned(ticket) == (people[name], 1)
    else:
        assert response.status_code == 400
        assert assigned(ticket) == (None, 0)


@pytest.mark.parametrize(("name", "allowed"), CANDIDATES.items())
def test_desk_bulk_assign(client, ticket, agent, people, name, allowed):
    client.force_login(agent)
    client.post(
        "/admin/helpdesk/tickets/bulk/",
        {
            "references": [ticket.reference],
            "action": "assign",
            "assignee": people[name].email,
        },
    )
    assert assigned(ticket) == ((people[name], 1) if allowed else (None, 0))


@pytest.mark.parametrize(("name", "allowed"), CANDIDATES.items())
def test_graphql_assign(ticket, agent, people, name, allowed):
    gql = Gql(Client(), create_token(agent, name="t", scopes="read,write").secret)
    email = people[name].email
    result = gql(ASSIGN, {"i": {"reference": ticket.reference, "assignee": email}})
    if allowed:
        assert result["assignTicket"] == {
            "__typename": "Ticket",
            "assignee": {"email": email},
        }
        assert assigned(ticket) == (people[name], 1)
    else:
        assert result["assignTicket"] == {
            "__typename": "OperationInfo",
            "messages": [{"kind": "VALIDATION", "field": "assignee"}],
        }
        assert assigned(ticket) == (None, 0)
