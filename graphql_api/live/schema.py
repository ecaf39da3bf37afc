"""``ticketEvents``: the live stream of ticket events (``live.stream``) as a GraphQL
subscription, served over WebSocket by ``graphql_api.live.transport``.

Every item has passed the ticket policy for the subscriber (``live.stream`` filters
by ``tickets.permissions``); the event row and the ticket are read back through the
same policy, and the ``TicketEvent`` and ``Ticket`` types keep their own visibility
rules for what hangs off them. Whether the token still authenticates is checked by
the transport at every heartbeat, for the whole connection."""

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
from asgiref.sync import sync_to_async
from django.utils.translation import gettext as _
from strawberry.types import Info

from live.stream import TicketStream
from tickets import permissions
from tickets.models import EventKind, TicketEvent

from ..context import get_user, require_scope
from ..tickets.schema import clean_reference
from ..tickets.types import TicketEventType, TicketType
from ..validation import InvalidInput

MAX_ID = 2**63 - 1


@strawberry.input(
    name="TicketEventFilter",
    description="Which events to receive; every field is optional.",
)
class TicketEventFilter:
    ticket: str | None = strawberry.field(
        default=None,
        description="Only this ticket's events (its reference, e.g. HD-000123).",
    )
    kinds: list[str] | None = strawberry.field(
        default=None,
        description="Only these kinds (the values of TicketEvent.kind, e.g. "
        "'commented', 'status_changed').",
    )
    after: strawberry.ID | None = strawberry.field(
        default=None,
        description="Resume after this event id (the last `id` received): visible "
        "events since then are sent first, in order, then live ones.",
    )


@strawberry.type(
    name="LiveTicketEvent",
    description="A ticket event the subscriber may see, as it happens.",
)
class LiveTicketEvent:
    id: strawberry.ID = strawberry.field(
        description="The event's id; pass the last one received as `after` to resume."
    )
    reference: str = strawberry.field(description="The ticket's reference.")
    kind: str
    occurred_at: datetime
    event: TicketEventType = strawberry.field(
        description="The event itself (who, old and new values)."
    )
    ticket_id: strawberry.Private[int]
    user: strawberry.Private[object]

    @strawberry.field(
        description="The ticket as it is now; null when the subscriber may no longer "
        "see it."
    )
    async def ticket(self) -> TicketType | None:
        return await sync_to_async(_visible_ticket)(self.user, self.ticket_id)


def _visible_ticket(user, ticket_id: int):
    return permissions.visible_tickets(user).filter(pk=ticket_id).first()


def _visible_ticket_id(user, reference: str) -> int | None:
    tickets = permissions.visible_tickets(user).filter(reference=reference)
    return tickets.values_list("pk", flat=True).first()


def _event_row(user, event_id: int):
    return (
        TicketEvent.objects.filter(pk=event_id)
        .filter(permissions.events_visible_to(user))
        .select_related("actor")
        .first()
    )


def _after(value) -> int | None:
    if value is None:
        return None
    text = str(value).strip()
    if not text.isdigit() or int(text) > MAX_ID:
        raise InvalidInput(_("'after' must be an event id (a whole number)."), "after")
    return int(text)


def _kinds(values) -> frozenset[str] | None:
    if not values:
        return None
    unknown = sorted(set(values) - set(EventKind.values))
    if unknown:
        raise InvalidInput(
            _("Unknown event kinds: %(kinds)s.") % {"kinds": ", ".join(unknown[:5])},
            "kinds",
        )
    return frozenset(values)


async def _stream_for(user, filters: TicketEventFilter | None) -> TicketStream:
    filters = filters or TicketEventFilter()
    ticket_id = None
    if filters.ticket is not None:
        reference = clean_reference(filters.ticket)
        ticket_id = await sync_to_async(_visible_ticket_id)(user, reference)
        if ticket_id is None:
            # A ticket the caller may not see does not exist for them.
            raise InvalidInput(_("No such ticket."), "ticket")
    return TicketStream(
        user,
        ticket_id=ticket_id,
        after_id=_after(filters.after),
        kinds=_kinds(filters.kinds),
    )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Ticket events the caller may see, as they happen (internal "
        "notes only for those who may read them). Served over WebSocket "
        "(graphql-transport-ws) with a bearer token having the 'read' scope; see "
        "docs/graphql.md, 'Subscriptions'."
    )
    async def ticket_events(
        self, info: Info, filters: TicketEventFilter | None = None
    ) -> AsyncGenerator[LiveTicketEvent, None]:
        user = get_user(info, required=True)
        require_scope(info, "read")
        stream = await _stream_for(user, filters)
        await stream.open()
        try:
            async for item in stream:
                row = await sync_to_async(_event_row)(user, item.id)
                if row is None:  # deleted since (retention), or no longer visible
                    continue
                yield LiveTicketEvent(
                    id=strawberry.ID(str(item.id)),
                    reference=item.reference,
                    kind=item.kind,
                    occurred_at=row.created_at,
                    event=row,
                    ticket_id=item.ticket_id,
                    user=user,
                )
        finally:
            await stream.close()
