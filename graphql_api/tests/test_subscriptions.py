"""``ticketEvents`` over ``graphql-transport-ws``, end to end: a real uvicorn serving the
site (``live``'s fixture), the real Redis bus, a real WebSocket client (``websockets``)
and changes made through the ticket services."""

import json
import time
import uuid

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from accounts.models import TicketSharing
from accounts.tokens import create_token, revoke_token
from live.tests.conftest import _empty_cache, asgi_server  # noqa: F401 - fixtures
from tickets import services
from tickets.models import EventKind, TicketEvent
from tickets.tests.conftest import acme, agent, alice, queue, ticket  # noqa: F401
from tickets.tests.factories import OrganizationFactory, TicketFactory, make_customer

from .ws_client import PROTOCOL, Subscriber, secret_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def redis_bus(settings):
    """The live bus on the real Redis (DB 5), on a channel of its own."""
    settings.LIVE_BUS_URL = "redis://127.0.0.1:6379/5"
    settings.LIVE_BUS_CHANNEL = f"gql-test:{uuid.uuid4().hex}"
    return settings.LIVE_BUS_URL


@pytest.fixture
def carol(db):
    globex = OrganizationFactory(
        name="Globex", slug="globex", ticket_sharing=TicketSharing.NONE
    )
    return make_customer(globex, email="carol@globex.example", display_name="Carol")


@pytest.fixture
def globex_ticket(carol, queue):  # noqa: F811
    return TicketFactory(
        requester=carol, queue=queue, organization=carol.memberships.get().organization
    )


@pytest.fixture
def subscriber(asgi_server):  # noqa: F811
    opened = []

    def _open(secret=None, **kwargs):
        client = Subscriber(asgi_server, **kwargs)
        opened.append(client)
        if secret is not None:
            assert client.init(secret) == {"type": "connection_ack"}
        return client

    yield _open
    for client in opened:
        client.close()


def high_water():
    return max(TicketEvent.objects.values_list("pk", flat=True), default=0)


def test_an_agents_public_reply_reaches_the_customers_subscription(
    subscriber,
    ticket,  # noqa: F811
    alice,  # noqa: F811
    agent,  # noqa: F811
):
    client = subscriber(secret_for(alice))
    client.subscribe({"ticket": ticket.reference})
    assert client.nothing_within(0.5)  # subscribed, nothing yet

    services.reply(agent, ticket, body="Try signing out and in again.")

    # The first staff reply also opens the ticket: two events, in one commit.
    received = sorted(client.events(2), key=lambda e: int(e["id"]))
    reply = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.COMMENTED).get()
    opened = TicketEvent.objects.filter(
        ticket=ticket, kind=EventKind.STATUS_CHANGED
    ).get()
    assert [(int(e["id"]), e["kind"]) for e in received] == sorted(
        [(reply.pk, "commented"), (opened.pk, "status_changed")]
    )
    commented = next(e for e in received if e["kind"] == "commented")
    assert commented["reference"] == ticket.reference
    assert commented["event"]["actor"] == {"displayName": "Alex Agent"}
    assert commented["ticket"]["reference"] == ticket.reference
    assert commented["ticket"]["status"] == "OPEN"
    assert commented["ticket"]["comments"] == [
        {"body": "Try signing out and in again.", "isInternal": False}
    ]
    assert commented["occurredAt"].startswith(str(reply.created_at.date()))


def test_a_customers_subscription_carries_no_internal_note_nor_another_organizations_events(  # noqa: E501
    subscriber,
    ticket,  # noqa: F811
    globex_ticket,
    alice,  # noqa: F811
    agent,  # noqa: F811
):
    customer = subscriber(secret_for(alice))
    customer.subscribe()  # every ticket alice may see
    staff = subscriber(secret_for(agent))
    staff.subscribe({"kinds": ["note_added"]})
    assert customer.nothing_within(0.5) and staff.nothing_within(0.1)

    services.add_internal_note(agent, ticket, body="Customer is on the old plan.")
    services.reply(agent, globex_ticket, body="For Globex only.")
    note = TicketEvent.objects.get(ticket=ticket, kind=EventKind.NOTE_ADDED)

    # The denied twin: the agent does receive the note on the same bus.
    (seen_by_staff,) = staff.events(1)
    assert (int(seen_by_staff["id"]), seen_by_staff["reference"]) == (
        note.pk,
        ticket.reference,
    )
    assert seen_by_staff["ticket"]["comments"] == [
        {"body": "Customer is on the old plan.", "isInternal": True}
    ]

    # A marker after both: the first thing alice receives is the marker.
    services.change_status(agent, ticket, "on_hold")
    (first,) = customer.events(1)
    marker = TicketEvent.objects.filter(ticket=ticket).latest("pk")
    assert (int(first["id"]), first["kind"]) == (marker.pk, "status_changed")
    assert first["ticket"]["comments"] == []  # the note stays hidden here too
    assert customer.nothing_within(0.5)


def test_a_revoked_token_ends_the_subscription_within_a_heartbeat(
    settings,
    subscriber,
    ticket,  # noqa: F811
    alice,  # noqa: F811
    agent,  # noqa: F811
):
    settings.LIVE_HEARTBEAT_SECONDS = 1
    new = create_token(alice, name="live", scopes="read")
    kept = subscriber(secret_for(alice))
    kept.subscribe({"ticket": ticket.reference})
    client = subscriber(new.secret)
    client.subscribe({"ticket": ticket.reference})
    assert client.nothing_within(1.5)  # a heartbeat passed: still open
    assert client.pings >= 1

    revoke_token(alice, new.token.pk)
    revoked_at = time.monotonic()

    error = client.receive(timeout=3)
    assert error == {
        "id": "1",
        "type": "error",
        "payload": [
            {
                "message": "The API token was revoked or has expired.",
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ],
    }
    assert client.close_code() == 4403
    assert time.monotonic() - revoked_at < 2.5

    # The other token's subscription goes on and still receives events.
    services.reply(agent, ticket, body="Still here.")
    assert {e["kind"] for e in kept.events(2)} == {"commented", "status_changed"}


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer hdp_nope.nope", "Basic abc", "write-only", "revoked", "expired"],
)
def test_a_connection_without_a_valid_read_token_is_refused(
    subscriber,
    alice,  # noqa: F811
    authorization,
):
    if authorization == "write-only":
        authorization = f"Bearer {secret_for(alice, 'write')}"
    elif authorization == "revoked":
        new = create_token(alice, name="x", scopes="read")
        revoke_token(alice, new.token.pk)
        authorization = f"Bearer {new.secret}"
    elif authorization == "expired":
        new = create_token(alice, name="x", scopes="read", expires_days=1)
        type(new.token).objects.filter(pk=new.token.pk).update(
            expires_at=new.token.created_at
        )
        authorization = f"Bearer {new.secret}"
    client = subscriber()
    payload = {} if authorization is None else {"Authorization": authorization}
    client.send({"type": "connection_init", "payload": payload})
    assert client.close_code() == 4403


def test_a_valid_read_token_in_the_upgrade_header_is_accepted(asgi_server, alice):  # noqa: F811
    with connect(
        f"ws://{asgi_server}/graphql/",
        subprotocols=[PROTOCOL],
        additional_headers={"Authorization": f"Bearer {secret_for(alice)}"},
    ) as ws:
        ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(ws.recv(5)) == {"type": "connection_ack"}


def test_subscribing_before_connection_init_is_refused(subscriber):
    client = subscriber()
    client.subscribe()
    assert client.close_code() == 4401


def test_after_resumes_the_events_missed_while_disconnected(
    subscriber,
    ticket,  # noqa: F811
    alice,  # noqa: F811
    agent,  # noqa: F811
):
    client = subscriber(secret_for(alice))
    client.subscribe({"ticket": ticket.reference})
    assert client.nothing_within(0.3)
    services.reply(agent, ticket, body="First.")
    last = max(int(e["id"]) for e in client.events(2))
    client.close()

    services.add_internal_note(agent, ticket, body="Hidden.")
    services.reply(agent, ticket, body="Second, while away.")
    missed = list(
        TicketEvent.objects.filter(ticket=ticket, pk__gt=last)
        .exclude(kind=EventKind.NOTE_ADDED)
        .order_by("pk")
        .values_list("pk", "kind")
    )
    assert [kind for _, kind in missed] == ["commented"]

    again = subscriber(secret_for(alice))
    again.subscribe({"ticket": ticket.reference, "after": str(last)})
    replayed = again.events(1)
    assert [(int(e["id"]), e["kind"]) for e in replayed] == missed
    services.change_status(agent, ticket, "on_hold")
    (live,) = again.events(1)
    assert int(live["id"]) == high_water()


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"after": "x"}, "after"),
        ({"after": ""}, "after"),
        ({"kinds": ["nope"]}, "kinds"),
        ({"ticket": "HD-999999"}, "ticket"),
    ],
)
def test_bad_filters_are_refused_with_invalid_input(
    subscriber,
    alice,  # noqa: F811
    filters,
    field,
):
    client = subscriber(secret_for(alice))
    client.subscribe(filters)
    message = client.receive()
    assert message["type"] == "next"
    (error,) = message["payload"]["errors"]
    assert error["extensions"] == {"code": "INVALID_INPUT"}
    assert client.receive() == {"id": "1", "type": "complete"}


def test_another_organizations_ticket_is_not_found(
    subscriber,
    globex_ticket,
    alice,  # noqa: F811
):
    client = subscriber(secret_for(alice))
    client.subscribe({"ticket": globex_ticket.reference})
    message = client.receive()
    assert message["payload"]["errors"][0]["message"] == "No such ticket."
    assert message["payload"]["data"] is None


def test_queries_are_not_served_over_websocket(subscriber, alice):  # noqa: F811
    client = subscriber(secret_for(alice))
    client.subscribe(query="{ ping }")
    message = client.receive()
    assert message["type"] == "error"
    assert message["payload"][0]["extensions"] == {"code": "BAD_REQUEST"}


def test_connections_are_bounded_per_user(settings, subscriber, alice):  # noqa: F811
    settings.LIVE_MAX_CONNECTIONS_PER_USER = 1
    first = subscriber(secret_for(alice))
    second = subscriber()
    second.send(
        {
            "type": "connection_init",
            "payload": {"Authorization": f"Bearer {secret_for(alice)}"},
        }
    )
    assert second.close_code() == 1013
    first.close()
    time.sleep(0.3)  # the server releases the slot on close
    third = subscriber(secret_for(alice))
    third.subscribe()
    assert third.nothing_within(0.2)


def test_only_the_graphql_transport_ws_protocol_and_path_are_served(
    subscriber,
    asgi_server,  # noqa: F811
):
    other_protocol = subscriber(subprotocols=("graphql-ws",))
    assert other_protocol.close_code() == 4406
    with (
        pytest.raises(InvalidStatus) as refused,
        connect(f"ws://{asgi_server}/live/", subprotocols=[PROTOCOL], open_timeout=5),
    ):
        pass
    assert refused.value.response.status_code == 403


def test_a_subscription_over_http_is_refused(client, alice):  # noqa: F811
    secret = secret_for(alice)
    response = client.post(
        "/graphql/",
        {"query": "subscription { ticketEvents { id } }"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "data": None,
        "errors": [
            {
                "message": "Subscriptions are served over WebSocket on this path, "
                "with the graphql-transport-ws protocol.",
                "extensions": {"code": "BAD_REQUEST"},
            }
        ],
    }
    # The twin: a query with the same token runs.
    response = client.post(
        "/graphql/",
        {"query": "{ ping }"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.json() == {"data": {"ping": "pong"}}
