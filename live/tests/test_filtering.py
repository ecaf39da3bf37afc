"""The stream's per-message decision equals the policy's query, and the stream API
itself on the in-process bus (the embedded default)."""

import asyncio

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
