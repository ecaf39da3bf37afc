"""Desk presence: "Anna is replying" reaches the other agents on the ticket, never a
customer; only the support team may beat, with CSRF."""

import pytest
from django.test import Client

from live import presence
from tickets import services
from tickets.models import EventKind, TicketEvent
from tickets.tests.factories import make_agent

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def anna(queue):
    return make_agent(queue, email="anna@example.com", display_name="Anna")


def beat_url(ticket):
    return f"/live/tickets/{ticket.reference}/presence"


def signed_in(user, **kwargs):
    client = Client(**kwargs)
    client.force_login(user)
    return client


def test_a_second_agent_sees_who_is_replying(open_stream, ticket, anna, agent):
    watching = open_stream(f"/live/tickets/{ticket.reference}/events?presence=1", agent)

    response = signed_in(anna).post(beat_url(ticket), {"state": "typing"})

    assert response.status_code == 200
    assert watching.next() == (
        "presence",
        {"user": anna.pk, "name": "Anna", "state": "typing"},
        None,
    )
    assert presence.current(ticket.pk) == [
        {"user": anna.pk, "name": "Anna", "state": "typing"}
    ]


def test_an_agent_opening_the_ticket_later_gets_who_is_already_there(
    open_stream, ticket, anna, agent
):
    signed_in(anna).post(beat_url(ticket), {"state": "viewing"})

    later = open_stream(f"/live/tickets/{ticket.reference}/events?presence=1", agent)

    assert later.next() == (
        "presence",
        {"user": anna.pk, "name": "Anna", "state": "viewing"},
        None,
    )


def test_a_customer_never_receives_presence(open_stream, ticket, alice, anna, agent):
    customer = open_stream(f"/live/tickets/{ticket.reference}/events?presence=1", alice)
    signed_in(anna).post(beat_url(ticket), {"state": "typing"})
    services.reply(agent, ticket, body="Marker.")

    names = {customer.next()[0], customer.next()[0]}

    # the marker's two events, and no presence before them
    assert names == {"ticket"}
    assert customer.nothing_within(0.5)


@pytest.mark.parametrize("who", ["alice", "other_agent"])
def test_only_the_support_team_on_the_ticket_may_beat(request, ticket, redis_bus, who):
    user = request.getfixturevalue(who)

    response = signed_in(user).post(beat_url(ticket), {"state": "typing"})

    # alice is the requester, the billing agent works another queue: the ticket is
    # missing for presence either way, and nothing is recorded.
    assert response.status_code == 404
    assert presence.current(ticket.pk) == []


def test_a_beat_needs_the_csrf_token(ticket, anna, redis_bus):
    client = signed_in(anna, enforce_csrf_checks=True)

    assert client.post(beat_url(ticket), {"state": "typing"}).status_code == 403
    assert presence.current(ticket.pk) == []


def test_an_unknown_state_is_refused(ticket, anna, redis_bus):
    response = signed_in(anna).post(beat_url(ticket), {"state": "dancing"})

    assert response.status_code == 400
    assert presence.current(ticket.pk) == []


def test_leaving_removes_the_agent(ticket, anna, redis_bus):
    client = signed_in(anna)
    client.post(beat_url(ticket), {"state": "viewing"})
    client.post(beat_url(ticket), {"state": "left"})

    assert presence.current(ticket.pk) == []
    assert not TicketEvent.objects.filter(kind=EventKind.COMMENTED).exists()
