"""The stream's per-message decision equals the policy's query, and the stream API
itself on the in-process bus (the embedded default)."""

import asyncio
import dataclasses

import pytest
from asgiref.sync import sync_to_async

from live.publisher import message_for
from live.stream import LiveEvent, TicketStream, _decide
from tickets import permissions, services
from tickets.models import Status, TicketEvent
from tickets.tests.factories import TicketFactory

ROLES = ["alice", "bob", "agent", "other_agent", "supervisor", "viewer"]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ROLES)
def test_live_filtering_matches_events_visible_to(request, who, ticket, agent, queue):
    """For every event of every kind on two tickets, the decision the stream makes
    from a bus message is exactly what ``events_visible_to`` shows."""
    user = request.getfixturevalue(who)
    private = TicketFactory(requester=request.getfixturevalue("bob"), queue=queue)
    for target in (ticket, private):
        services.reply(agent, target, body="Reply.")
        services.add_internal_note(agent, target, body="Note.")
        services.log_time(agent, target, minutes=5)
        services.set_tags(agent, target, ["vip"])
        services.change_status(agent, target, Status.ON_HOLD)

    expected = set(
        TicketEvent.objects.filter(ticket__in=permissions.visible_tickets(user))
        .filter(permissions.events_visible_to(user))
        .values_list("pk", flat=True)
    )
    decided = set()
    for event in TicketEvent.objects.all():
        message = message_for(event)
        access = _decide(user, event.ticket_id)
        if access.visible and permissions.event_visible_with(
            message["kind"],
            message["internal"],
            support_team=access.support_team,
            view_internal=access.view_internal,
        ):
            decided.add(event.pk)

    assert decided == expected
    # created, reply (+ opened), note, time, tags, on hold: seven events a ticket
    assert TicketEvent.objects.count() == 2 * 7


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_stream_api_on_the_in_process_bus(settings, ticket, alice, agent):
    settings.LIVE_BUS_URL = ""

    async def main():
        stream = TicketStream(alice, ticket_id=ticket.pk)
        await stream.open()
        try:
            assert await stream.get(timeout=0.2) is None
            await sync_to_async(services.add_internal_note)(agent, ticket, body="N.")
            await sync_to_async(services.reply)(agent, ticket, body="R.")
            first = await asyncio.wait_for(anext(aiter(stream)), 5)
            second = await stream.get(timeout=5)
            rest = await stream.get(timeout=0.3)
        finally:
            await stream.close()
        return first, second, rest

    first, second, rest = asyncio.run(main())

    visible = list(
        TicketEvent.objects.filter(
            ticket=ticket, kind__in=["commented", "status_changed"]
        )
        .order_by("pk")
        .values_list("pk", "kind")
    )
    assert sorted([(first.id, first.kind), (second.id, second.kind)]) == visible
    assert isinstance(first, LiveEvent) and first.reference == ticket.reference
    assert rest is None


# --- the audience carried on the bus, decided in memory ---------------------------------


def _tickets_of_every_kind(request, queue, other_queue, agent, other_agent):
    """Acme's shared ticket, a colleague's, another organization's, one in another
    queue, one assigned across queues."""
    from accounts.models import TicketSharing
    from tickets.tests.factories import OrganizationFactory, make_customer

    globex = OrganizationFactory(
        name="Globex", slug="globex", ticket_sharing=TicketSharing.NONE
    )
    carol = make_customer(globex, email="carol@globex.example")
    bob = request.getfixturevalue("bob")
    ticket = request.getfixturevalue("ticket")
    acme = ticket.organization
    others = [
        TicketFactory(requester=bob, queue=queue, organization=acme),
        TicketFactory(requester=carol, queue=queue, organization=globex),
        TicketFactory(requester=bob, queue=other_queue, organization=acme),
    ]
    services.assign(agent, others[1], agent)
    return carol, [ticket, *others]


@pytest.mark.django_db
@pytest.mark.parametrize("who", [*ROLES, "carol", "inactive"])
def test_the_audience_decides_as_the_policy_does(
    request, who, queue, other_queue, agent, other_agent
):
    """``audience_allows`` over the publisher's ids equals ``visible_tickets`` and
    ``can(.., "view_internal", ..)`` for every kind of user and ticket."""
    carol, tickets = _tickets_of_every_kind(
        request, queue, other_queue, agent, other_agent
    )
    if who == "carol":
        user = carol
    elif who == "inactive":
        user = request.getfixturevalue("bob")
        user.is_active = False
        user.save()
    else:
        user = request.getfixturevalue(who)
    viewer = permissions.viewer_facts(user)
    for ticket in tickets:
        ticket.refresh_from_db()
        expected = (
            permissions.visible_tickets(user).filter(pk=ticket.pk).exists(),
            permissions.can(user, "view_internal", ticket),
        )
        decided = permissions.audience_allows(
            viewer, permissions.ticket_audience(ticket.pk)
        )
        assert decided == expected, (who, ticket.reference)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ROLES)
def test_in_memory_event_decisions_match_events_visible_to(
    request, who, ticket, agent, queue
):
    """The message the publisher sends (with the audience) decided by a stream
    without a query: exactly ``events_visible_to``."""
    user = request.getfixturevalue(who)
    private = TicketFactory(requester=request.getfixturevalue("bob"), queue=queue)
    for target in (ticket, private):
        services.reply(agent, target, body="Reply.")
        services.add_internal_note(agent, target, body="Note.")
        services.log_time(agent, target, minutes=5)
        services.change_status(agent, target, Status.ON_HOLD)
    expected = set(
        TicketEvent.objects.filter(ticket__in=permissions.visible_tickets(user))
        .filter(permissions.events_visible_to(user))
        .values_list("pk", flat=True)
    )
    stream = TicketStream(user)
    viewer = permissions.viewer_facts(user)
    stream._viewer, stream._viewer_class = (
        viewer,
        dataclasses.replace(viewer, user_id=0),
    )
    decided = set()
    for event in TicketEvent.objects.all():
        message = message_for(event)
        assert message["ref"] == event.ticket.reference
        # as the fan-out asks (a memo per message), then as the stream does
        by_gate = stream._decide_in_memory(message, viewer, {})
        if stream._decide_in_memory(message, viewer):
            decided.add(event.pk)
        assert by_gate == (event.pk in decided)
    assert decided == expected
    assert expected or who == "other_agent"  # the other queue's agent: nothing


def _publish_and_read(stream_kwargs, events, user):
    """Open a stream on the in-process bus, publish ``events``' messages, return what
    it delivers (and whether its queue ever held a message) and its resume token."""
    from live import bus

    async def main():
        stream = TicketStream(user, **stream_kwargs)
        await stream.open()
        try:
            for event in events:
                await sync_to_async(lambda e=event: bus.publish(message_for(e)))()
            await asyncio.sleep(0.1)
            queued = stream._queue.qsize()
            got = []
            while (item := await stream.get(timeout=0.3)) is not None:
                got.append(item.id)
            return got, queued, stream.resume_token
        finally:
            await stream.close()

    return asyncio.run(main())


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_event_for_someone_else_does_not_even_wake_the_stream(
    settings, ticket, alice, agent, queue
):
    from tickets.tests.factories import OrganizationFactory, make_customer

    settings.LIVE_BUS_URL = ""
    globex = OrganizationFactory(name="Globex", slug="globex")
    carol = make_customer(globex, email="carol@globex.example")
    services.reply(agent, ticket, body="For Acme.")
    note = services.add_internal_note(agent, ticket, body="For the team.")
    events = list(TicketEvent.objects.filter(ticket=ticket).order_by("pk"))
    assert note is not None and len(events) >= 3

    got, queued, _ = _publish_and_read({}, events, carol)
    assert (got, queued) == ([], 0)
    # The twin: the requester's inbox is woken for, and gets, the public ones.
    got, queued, _ = _publish_and_read({}, events, alice)
    public = list(
        TicketEvent.objects.filter(ticket=ticket)
        .filter(permissions.events_visible_to(alice))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    assert len(public) < len(events)  # the note is not among them
    assert got == public and queued == len(public)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_event_committed_out_of_id_order_is_replayed_on_reconnect(
    settings, ticket, alice, agent
):
    """Ids are taken at insert, seen at commit: an event with a smaller id can commit
    after a greater one was delivered and the client went away. The resume token
    names the ids delivered above a settled mark, so the reconnect replays it."""
    from live.stream import parse_resume
    from tickets.models import EventKind

    settings.LIVE_BUS_URL = ""
    rendered = TicketEvent.objects.order_by("-pk").values_list("pk", flat=True)[0]

    def reply_event(pk):
        return TicketEvent.objects.create(
            pk=pk,
            ticket=ticket,
            actor=agent,
            kind=EventKind.COMMENTED,
            data={"by_staff": True},
        )

    late = reply_event(rendered + 10)  # committed first, delivered
    got, _, token = _publish_and_read(
        {"ticket_id": ticket.pk, "after_id": rendered}, [late], alice
    )
    assert got == [late.pk]
    assert token == f"{late.pk}.{rendered}"
    early = reply_event(rendered + 5)  # its id was taken earlier; committed now

    again, _, token = _publish_and_read(
        {"ticket_id": ticket.pk, "after_id": parse_resume(token)}, [], alice
    )
    assert again == [early.pk]  # and not the one delivered before
    assert token == f"{late.pk}.{rendered}.{early.pk}"
    # The greatest id alone (the old resume point) misses it.
    missed, _, _ = _publish_and_read(
        {"ticket_id": ticket.pk, "after_id": parse_resume(str(late.pk))}, [], alice
    )
    assert missed == []


def test_resume_tokens_parse_and_settle(settings):
    from live.stream import Resume, parse_resume

    assert parse_resume("42") == Resume(low=42)
    assert parse_resume("50.40.45") == Resume(low=40, delivered=frozenset({45, 50}))
    for bad in ["", "x", "-1", "50.60", "50.40.39", "50.40.51", "1." * 80 + "1"]:
        assert parse_resume(bad) is None, bad
    stream = TicketStream(None, after_id=parse_resume("50.40.45"))
    assert stream.resume_token == "50.40.45"
    settings.LIVE_REORDER_SECONDS = 0  # everything delivered has settled
    assert stream.resume_token == "50"
