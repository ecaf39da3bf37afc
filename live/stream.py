"""A user's live stream of ticket events: the one API every live surface reads.

The server-sent events views (``live.views``) and the GraphQL subscription
``ticketEvents`` are thin layers over it::

    from live.stream import TicketStream

    stream = TicketStream(user, ticket_id=None, after_id=None, kinds=None,
                          presence=False)
    await stream.open()            # subscribe to the bus first, then replay
    try:
        async for item in stream:  # LiveEvent or Presence, forever
            ...
        # or, to interleave heartbeats / session checks:
        item = await stream.get(timeout=15)   # None when nothing came in time
    finally:
        await stream.close()

* ``user``: the subscriber (a ``User``; fixed for the stream's life). Every item has
  passed the ticket policy for that user (``tickets.permissions``): the ticket is
  visible (``visible_tickets``) and the event is one ``events_visible_to`` shows
  (internal notes only with ``view_internal``; customers only the customer kinds).
* ``ticket_id``: only this ticket's events (a ticket page); None: every visible ticket
  (the inbox, an integration).
* ``after_id``: resume after this ``TicketEvent`` id (SSE ``Last-Event-ID``): visible
  events with a greater id are read from the database first, in id order (at most
  ``LIVE_REPLAY_LIMIT``), then live ones follow. None: live ones only.
* ``kinds``: an optional set of ``TicketEvent.Kind`` values to keep.
* ``presence``: also yield ``Presence`` items (who views or types on the ticket);
  honoured only for the support team, never for customers.

``LiveEvent`` carries ids and the kind, not the content: a consumer that needs the
event row loads ``TicketEvent`` by ``id`` (it is visible to the user by construction).
Access is re-decided per ticket at most every ``LIVE_VISIBILITY_TTL_SECONDS`` and at
once after an event that changes grants (created, assigned, queue moved, merged,
sharing applied), so that a revoked grant stops delivery within that time. Callers
that must end a stream when a session or token ends check that themselves between
``get`` calls (the SSE view re-checks the session at each heartbeat).

Idle streams hold no database connection: the ORM is only used, through
``live.threads.run_sync`` (a small pool of threads shared by the process's streams),
to decide on a ticket not yet cached and to replay.
"""

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings

from tickets import permissions
from tickets.models import EventKind, Ticket, TicketEvent

from . import bus
from .threads import run_sync

# Events after which grants on the ticket may differ: decide again.
GRANT_CHANGING_KINDS = frozenset(
    {
        EventKind.CREATED,
        EventKind.ASSIGNED,
        EventKind.QUEUE_CHANGED,
        EventKind.MERGED,
        EventKind.SHARING_CHANGED,
    }
)
_CACHE_SIZE = 2048
_SEEN_SIZE = 4096


@dataclass(frozen=True)
class LiveEvent:
    id: int
    ticket_id: int
    reference: str
    kind: str


@dataclass(frozen=True)
class Presence:
    ticket_id: int
    user_id: int
    name: str
    state: str  # "viewing", "typing" or "left"


@dataclass(frozen=True)
class _Access:
    visible: bool
    reference: str = ""
    support_team: bool = False
    view_internal: bool = False
    decided_at: float = 0.0


def _decide(user, ticket_id: int) -> _Access:
    ticket = (
        permissions.visible_tickets(user)
        .filter(pk=ticket_id)
        .only("pk", "reference", "requester_id", "queue_id", "organization_id")
        .first()
    )
    now = time.monotonic()
    if ticket is None:
        return _Access(visible=False, decided_at=now)
    return _Access(
        visible=True,
        reference=ticket.reference,
        support_team=permissions.is_support_team(user),
        view_internal=permissions.can(user, "view_internal", ticket),
        decided_at=now,
    )


def _replay(user, ticket_id, after_id, kinds, limit) -> list[LiveEvent]:
    events = TicketEvent.objects.filter(
        pk__gt=after_id, ticket__in=permissions.visible_tickets(user)
    ).filter(permissions.events_visible_to(user))
    if ticket_id is not None:
        events = events.filter(ticket_id=ticket_id)
    if kinds:
        events = events.filter(kind__in=kinds)
    rows = events.order_by("pk").values_list(
        "pk", "ticket_id", "ticket__reference", "kind"
    )
    return [LiveEvent(*row) for row in rows[:limit]]


def _ticket_id_for(reference: str) -> int | None:
    return (
        Ticket.objects.filter(reference=reference).values_list("pk", flat=True).first()
    )


class TicketStream:
    def __init__(
        self,
        user,
        *,
        ticket_id: int | None = None,
        after_id: int | None = None,
        kinds=None,
        presence: bool = False,
    ):
        self.user = user
        self.ticket_id = ticket_id
        self.after_id = after_id
        self.kinds = frozenset(kinds) if kinds else None
        self.presence = presence
        self._queue: asyncio.Queue | None = None
        self._pending: list = []
        self._access: OrderedDict[int, _Access] = OrderedDict()
        self._seen: OrderedDict[int, None] = OrderedDict()
        self.last_id = after_id or 0

    async def open(self) -> None:
        self._queue = await bus.subscribe(self.ticket_id)
        if self.presence:
            self.presence = await run_sync(permissions.is_support_team)(self.user)
        if self.ticket_id is not None:
            # A ticket page's one ticket is decided while the page opens, not on its
            # first event: a busy second would otherwise make every open page of the
            # process decide at once, one query each (bench/live.py).
            await self._access_to(self.ticket_id)
        if self.after_id is not None:
            await self._catch_up()

    async def _catch_up(self) -> None:
        limit = getattr(settings, "LIVE_REPLAY_LIMIT", 500)
        rows = await run_sync(_replay)(
            self.user, self.ticket_id, self.last_id, self.kinds, limit
        )
        for event in rows:
            self._remember(event.id)
            self._pending.append(event)

    async def close(self) -> None:
        if self._queue is not None:
            await bus.unsubscribe(self._queue)
            self._queue = None

    def __aiter__(self):
        return self

    async def __anext__(self):
        while True:
            item = await self.get(timeout=None)
            if item is not None:
                return item

    async def get(self, timeout: float | None = None):
        """The next item, or None when ``timeout`` seconds pass without one."""
        if self._pending:
            return self._pending.pop(0)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            try:
                message = await asyncio.wait_for(self._queue.get(), remaining)
            except TimeoutError:
                return None
            item = await self._filter(message)
            if item is not None:
                return item
            if self._pending:
                return self._pending.pop(0)

    async def _filter(self, message: dict):
        kind = message.get("t")
        ticket_id = message.get("ticket")
        if kind == "gap":  # the bus lost messages: read them from the database
            await self._catch_up()
            return None
        if self.ticket_id is not None and ticket_id != self.ticket_id:
            return None
        if kind == "presence":
            if not self.presence or message.get("user") == self.user.pk:
                return None
            access = await self._access_to(ticket_id)
            if not (access.visible and access.support_team):
                return None
            return Presence(
                ticket_id, message["user"], message.get("name", ""), message["state"]
            )
        if kind != "event":
            return None
        event_id, event_kind = message["id"], message["kind"]
        if event_id in self._seen or (self.kinds and event_kind not in self.kinds):
            return None
        access = await self._access_to(
            ticket_id, fresh=event_kind in GRANT_CHANGING_KINDS
        )
        if not access.visible or not permissions.event_visible_with(
            event_kind,
            bool(message.get("internal")),
            support_team=access.support_team,
            view_internal=access.view_internal,
        ):
            return None
        self._remember(event_id)
        return LiveEvent(event_id, ticket_id, access.reference, event_kind)

    def _remember(self, event_id: int) -> None:
        self._seen[event_id] = None
        if len(self._seen) > _SEEN_SIZE:
            self._seen.popitem(last=False)
        self.last_id = max(self.last_id, event_id)

    async def _access_to(self, ticket_id: int, *, fresh: bool = False) -> _Access:
        ttl = getattr(settings, "LIVE_VISIBILITY_TTL_SECONDS", 60)
        access = self._access.get(ticket_id)
        if fresh or access is None or time.monotonic() - access.decided_at > ttl:
            access = await run_sync(_decide)(self.user, ticket_id)
            self._access[ticket_id] = access
            if len(self._access) > _CACHE_SIZE:
                self._access.popitem(last=False)
        else:
            self._access.move_to_end(ticket_id)
        return access


async def ticket_id_for(reference: str) -> int | None:
    return await run_sync(_ticket_id_for)(reference)
