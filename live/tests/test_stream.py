"""The live stream over server-sent events, end to end: a real uvicorn serving the
site, the real Redis bus, replies made through the ticket services."""

import time
from importlib import import_module

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session

from accounts.models import TicketSharing
from tickets import services
from tickets.models import EventKind, Status, TicketEvent
from tickets.tests.factories import OrganizationFactory, TicketFactory, make_customer

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def stream_path(ticket):
    return f"/live/tickets/{ticket.reference}/events"


@pytest.fixture
def carol(db):
    globex = OrganizationFactory(
        name="Globex", slug="globex", ticket_sharing=TicketSharing.NONE
    )
    return make_customer(globex, email="carol@globex.example", display_name="Carol")


@pytest.fixture
def globex_ticket(carol, queue):
    return TicketFactory(
        requester=carol, queue=queue, organization=carol.memberships.get().organization
    )


def last_event(ticket, kind):
    return TicketEvent.objects.filter(ticket=ticket, kind=kind).latest("pk")


def customer_events_after(ticket, after_id):
    """What the requester may read of the ticket's history after ``after_id``."""
    return list(
        TicketEvent.objects.filter(ticket=ticket, pk__gt=after_id)
        .exclude(kind__in=[EventKind.NOTE_ADDED, EventKind.TIME_LOGGED])
        .order_by("pk")
        .values_list("pk", "kind")
    )


def received(stream, count):
    return sorted((data["id"], data["kind"]) for _, data, _ in stream.events(count))


def high_water(ticket=None):
    events = TicketEvent.objects.all()
    if ticket is not None:
        events = events.filter(ticket=ticket)
    return max(events.values_list("pk", flat=True), default=0)


def test_a_ticket_stream_carries_a_new_public_reply(open_stream, ticket, alice, agent):
    stream = open_stream(stream_path(ticket), alice)
    assert stream.status == 200
    assert stream.response.getheader("Content-Type") == "text/event-stream"

    before = high_water()

    services.reply(agent, ticket, body="Try signing out and in again.")

    # The first staff reply also opens the ticket: two events, in one commit.
    messages = stream.events(2)
    reply = last_event(ticket, EventKind.COMMENTED)
    opened = last_event(ticket, EventKind.STATUS_CHANGED)
    assert sorted(data["id"] for _, data, _ in messages) == [reply.pk, opened.pk]
    assert opened.pk > before
    name, data, resume = next(m for m in messages if m[1]["kind"] == "commented")
    assert name == "ticket"
    assert data == {
        "id": reply.pk,
        "ticket": ticket.pk,
        "reference": ticket.reference,
        "kind": "commented",
    }
    # The resume point sent to the browser is the greatest id delivered.
    assert messages[-1][2] == max(reply.pk, opened.pk)


def test_a_customer_stream_never_carries_internal_notes_or_other_organizations(
    open_stream, ticket, globex_ticket, alice, agent
):
    customer = open_stream("/live/inbox/events", alice)
    staff = open_stream("/live/inbox/events", agent)
    before = high_water()

    services.add_internal_note(agent, ticket, body="Customer on the old plan.")
    services.reply(agent, globex_ticket, body="Globex only.")
    services.reply(agent, ticket, body="Marker for Acme.")

    everything = list(
        TicketEvent.objects.filter(pk__gt=before)
        .order_by("pk")
        .values_list("pk", "kind")
    )
    assert [kind for _, kind in everything] == [
        "note_added",
        "commented",
        "status_changed",  # Globex's ticket opened by the first reply
        "commented",
        "status_changed",  # Acme's
    ]
    # The customer gets the marker reply and its status change only: the note and
    # Globex's events, sent before them, were never delivered.
    assert received(customer, 2) == customer_events_after(ticket, before)
    assert customer.nothing_within(1.0)
    # The denied twin: the queue's agent receives all five.
    assert received(staff, 5) == everything


def test_events_sent_while_disconnected_arrive_on_reconnect(
    open_stream, ticket, alice, agent
):
    first = open_stream(stream_path(ticket), alice)
    services.reply(agent, ticket, body="First answer.")
    seen = first.events(2)[-1][2]
    assert seen == high_water(ticket)
    first.close()

    services.reply(agent, ticket, body="While you were away.")
    services.add_internal_note(agent, ticket, body="Not for the customer.")
    services.change_status(agent, ticket, Status.WAITING_ON_CUSTOMER)

    again = open_stream(
        stream_path(ticket), alice, headers={"Last-Event-ID": str(seen)}
    )
    missed = again.events(2)
    assert [(data["id"], data["kind"]) for _, data, _ in missed] == [
        (last_event(ticket, EventKind.COMMENTED).pk, "commented"),
        (last_event(ticket, EventKind.STATUS_CHANGED).pk, "status_changed"),
    ]
    # …and then it is live again, without repeating anything.
    services.reply(agent, ticket, body="Live again.")
    _, data, _ = again.next()
    assert data["id"] == last_event(ticket, EventKind.COMMENTED).pk
    assert again.nothing_within(0.5)


def test_the_page_resume_point_is_the_after_parameter(
    open_stream, ticket, alice, agent
):
    services.reply(agent, ticket, body="Rendered with the page.")
    rendered = high_water(ticket)
    services.reply(agent, ticket, body="Sent between render and connect.")

    stream = open_stream(f"{stream_path(ticket)}?after={rendered}", alice)

    _, data, _ = stream.next()
    assert data["id"] == last_event(ticket, EventKind.COMMENTED).pk
    assert stream.nothing_within(0.5)


@pytest.mark.parametrize("who", ["carol", "anonymous", "missing"])
def test_a_ticket_the_user_may_not_see_is_not_found(open_stream, ticket, carol, who):
    path = "/live/tickets/HD-999999/events" if who == "missing" else stream_path(ticket)
    stream = open_stream(path, None if who == "anonymous" else carol)

    assert stream.status == 404


def test_the_inbox_stream_needs_a_signed_in_user(open_stream):
    assert open_stream("/live/inbox/events").status == 404


def test_connections_are_bounded_per_user(open_stream, settings, ticket, alice, bob):
    settings.LIVE_MAX_CONNECTIONS_PER_USER = 2
    first = open_stream(stream_path(ticket), alice)
    second = open_stream("/live/inbox/events", alice)
    third = open_stream(stream_path(ticket), alice)

    assert (first.status, second.status, third.status) == (200, 200, 429)
    # Another user has slots of their own.
    assert open_stream(stream_path(ticket), bob).status == 200
    # A closed connection gives its slot back.
    first.close()
    deadline = time.monotonic() + 5
    while (status := open_stream(stream_path(ticket), alice).status) == 429:
        assert time.monotonic() < deadline, "the slot was never released"
        time.sleep(0.2)
    assert status == 200


def test_the_stream_ends_when_the_session_ends(open_stream, settings, ticket, alice):
    settings.LIVE_HEARTBEAT_SECONDS = 1
    stream = open_stream(stream_path(ticket), alice)
    assert stream.status == 200
    time.sleep(1.5)  # a heartbeat or two while signed in

    # Signed out (or expired) elsewhere: through the session engine, so that a cached
    # session (``cached_db`` when REDIS_URL is set) goes from the cache as well.
    store = import_module(django_settings.SESSION_ENGINE).SessionStore
    for key in Session.objects.values_list("session_key", flat=True):
        store(session_key=key).delete()
    assert not Session.objects.exists()

    name, data, _ = stream.next(timeout=5)
    assert (name, data) == ("end", {"reason": "session"})
    with pytest.raises(EOFError):
        stream.next(timeout=5)


def test_a_password_change_ends_the_stream(open_stream, settings, ticket, alice):
    settings.LIVE_HEARTBEAT_SECONDS = 1
    stream = open_stream(stream_path(ticket), alice)

    alice.set_password("a-new-password-123")
    alice.save()

    name, _, _ = stream.next(timeout=5)
    assert name == "end"


def test_open_streams_share_one_thread(open_stream, settings, ticket, alice, agent):
    """No thread per connection: Django's ASGI handler would give every open stream
    a thread (and a database connection) of its own until it ends; under
    ``portal.asgi`` the live responses share one (bench/live.py measures 1,000)."""
    import threading

    settings.LIVE_MAX_CONNECTIONS_PER_USER = 30
    warm = open_stream(stream_path(ticket), alice)  # the shared thread exists now
    assert warm.status == 200
    before = threading.active_count()

    streams = [open_stream(stream_path(ticket), alice) for _ in range(20)]

    assert [s.status for s in streams] == [200] * 20
    assert threading.active_count() <= before + 1
    services.reply(agent, ticket, body="One reply, twenty open pages.")
    reply = last_event(ticket, EventKind.COMMENTED)
    for stream in [warm, *streams]:
        assert reply.pk in [data["id"] for _, data, _ in stream.events(2)]


def test_other_requests_keep_a_thread_of_their_own(open_stream, asgi_server):
    """The denied twin: only the live prefix is routed to the shared thread."""
    import asyncio

    from asgiref.sync import SyncToAsync

    from portal.asgi import LONG_LIVED_PREFIX, build_application

    application = build_application()
    seen = {}

    async def call(path):
        scope = {
            "type": "http",
            "method": "GET",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [(b"host", b"127.0.0.1")],
            "server": ("127.0.0.1", 80),
            "client": ("127.0.0.1", 1),
            "scheme": "http",
            "http_version": "1.1",
            "asgi": {"version": "3.0"},
        }
        messages = [{"type": "http.request", "body": b"", "more_body": False}]

        async def receive():
            if messages:
                return messages.pop()
            await asyncio.Event().wait()  # the client never disconnects

        async def send(message):
            if message["type"] == "http.response.start":
                seen[path] = (
                    message["status"],
                    SyncToAsync.thread_sensitive_context.get(None) is not None,
                )

        await application(scope, receive, send)

    asyncio.run(call("/ping"))
    asyncio.run(call(f"{LONG_LIVED_PREFIX}inbox/events"))

    assert seen["/ping"] == (200, True)
    assert seen[f"{LONG_LIVED_PREFIX}inbox/events"] == (404, False)
