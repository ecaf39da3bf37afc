"""A user's live stream of ticket events: the one API every live surface reads.

Over 400 lines until split: the resume token (parse_resume, resume_token) is due to move into live/resume.py.

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
* ``after_id``: resume after this ``TicketEvent`` id, or a ``Resume`` (SSE
  ``Last-Event-ID``, ``parse_resume``): visible events with a greater id (not among
  the resume point's delivered ones) are read from the database first, in id order (at
  most ``LIVE_REPLAY_LIMIT``), then live ones follow. None: live ones only.
* ``kinds``: an optional set of ``TicketEvent.Kind`` values to keep.
* ``presence``: also yield ``Presence`` items (who views or types on the ticket);
  honoured only for the support team, never for customers.

``LiveEvent`` carries ids and the kind, not the content: a consumer that needs the
event row loads ``TicketEvent`` by ``id`` (it is visible to the user by construction).

How an event is decided: its bus message carries the ticket's audience (the ids its
grants name, read once by the publisher, ``live.publisher``), and the stream matches it
in memory against its user's facts (``permissions.viewer_facts``: groups and roles,
read when the stream opens and again every ``LIVE_VISIBILITY_TTL_SECONDS``) with
``permissions.audience_allows``. The same match runs first in the bus's fan-out
(``_admits``), once per event per kind of viewer, so that a stream is not even woken
for an event it may not see. A revoked grant stops delivery at the next event (its
message carries the new audience); a changed group membership or role within the TTL.
A message without an audience is decided the old way, through the policy's queries
per ticket (cached for the TTL, decided again after an event that changes grants).

Callers that must end a stream when a session or token ends check that themselves
between ``get`` calls (the SSE view re-checks the session at each heartbeat).

The resume point (``resume_token``, the SSE ``id:``) is not just the greatest id
delivered: ids are taken when an event is written and become visible when its
transaction commits, so an event can commit after one with a greater id. The token
names a low mark, below which every transaction has settled (ids delivered more than
``LIVE_REORDER_SECONDS`` ago), and the ids delivered above it; a reconnect replays
every visible event above the mark except those.

Idle streams hold no database connection: the ORM is only used, through
``live.threads.run_sync`` (a small pool of threads shared by the process's streams),
to read the user's facts, to decide a message without an audience and to replay.
"""

import asyncio
import dataclasses
import time
from collections import OrderedDict, deque
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
# At most this many delivered ids in a resume token: past it the low mark moves up
# early (a stream delivering more than that within LIVE_REORDER_SECONDS).
_TOKEN_IDS = 64


@dataclass(frozen=True)
class Resume:
    """A resume point: every visible event with an id above ``low`` that is not in
    ``delivered`` is still to be sent."""

    low: int
    delivered: frozenset[int] = frozenset()

    @property
    def high(self) -> int:
        return max(self.delivered, default=self.low)


def parse_resume(value) -> Resume | None:
    """``Last-Event-ID`` / ``?after=``: an event id (``"123"``), or a token
    ``"high.low.id.id…"`` as ``resume_token`` writes it. None when malformed."""
    parts = str(value or "").strip().split(".")
    if not 0 < len(parts) <= _TOKEN_IDS + 2 or not all(
        p.isdigit() and len(p) <= 18 for p in parts
    ):
        return None
    ids = [int(p) for p in parts]
    if len(ids) == 1:
        return Resume(low=ids[0])
    high, low, rest = ids[0], ids[1], ids[2:]
    if low > high or any(not low < i <= high for i in rest):
        return None
    return Resume(low=low, delivered=frozenset([high, *rest]))


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


def _replay(user, ticket_id, after_id, kinds, limit, exclude=()) -> list[LiveEvent]:
    events = TicketEvent.objects.filter(
        pk__gt=after_id, ticket__in=permissions.visible_tickets(user)
    ).filter(permissions.events_visible_to(user))
    if exclude:
        events = events.exclude(pk__in=sorted(exclude))
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


def _reorder_seconds() -> float:
    return float(getattr(settings, "LIVE_REORDER_SECONDS", 30))


def _ttl() -> float:
    return float(getattr(settings, "LIVE_VISIBILITY_TTL_SECONDS", 60))


def _audience(message: dict):
    """The message's parsed audience, parsed once for every stream it reaches (the
    fan-out hands the same dict to all of them)."""
    audience = message.get("_audience")
    if audience is None:
        audience = message["_audience"] = permissions.Audience.from_message(
            message["aud"]
        )
    return audience


class TicketStream:
    def __init__(
        self,
        user,
        *,
        ticket_id: int | None = None,
        after_id=None,
        kinds=None,
        presence: bool = False,
    ):
        self.user = user
        self.ticket_id = ticket_id
        resume = (
            after_id
            if isinstance(after_id, Resume) or after_id is None
            else (Resume(low=int(after_id)))
        )
        self.after_id = None if resume is None else resume.low
        self.kinds = frozenset(kinds) if kinds else None
        self.presence = presence
        self._queue: asyncio.Queue | None = None
        self._pending: deque = deque()
        self._access: OrderedDict[int, _Access] = OrderedDict()
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._viewer: permissions.Viewer | None = None
        self._viewer_class: permissions.Viewer | None = None
        self._viewer_at = 0.0
        self._viewer_refresh: asyncio.Task | None = None
        # Resume point: the low mark and the ids delivered above it, oldest first.
        # Without ``after_id`` the mark is set by the first delivery: the stream is
        # about what happens from its start on.
        self._low: int | None = self.after_id
        self._recent: deque[tuple[int, float]] = deque()
        self._replay_exclude = frozenset()
        self.last_id = self._low or 0
        if resume is not None and resume.delivered:
            now = time.monotonic()
            self._replay_exclude = resume.delivered
            for event_id in sorted(resume.delivered):
                self._seen[event_id] = None
                self._recent.append((event_id, now))
            self.last_id = resume.high

    async def open(self) -> None:
        await self._load_viewer()
        self._queue = await bus.subscribe(self.ticket_id, gate=self._admits)
        if self.presence:
            self.presence = self._viewer.support_team
        if self.ticket_id is not None and self.presence:
            # Presence beats carry no audience: the ticket page's one ticket is
            # decided while the page opens, not on its first beat.
            await self._access_to(self.ticket_id)
        if self.after_id is not None:
            await self._catch_up()

    async def _load_viewer(self) -> None:
        viewer = await run_sync(permissions.viewer_facts)(self.user)
        self._viewer = viewer
        self._viewer_class = dataclasses.replace(viewer, user_id=0)
        self._viewer_at = time.monotonic()

    def _viewer_now(self) -> permissions.Viewer:
        """The user's facts; read again in the background once older than the TTL
        (meanwhile the previous ones decide, as a cached ticket decision did)."""
        if (
            time.monotonic() - self._viewer_at > _ttl()
            and self._viewer_refresh is None
            and self._queue is not None
        ):
            self._viewer_refresh = asyncio.ensure_future(self._refresh_viewer())
        return self._viewer

    async def _refresh_viewer(self) -> None:
        try:
            await self._load_viewer()
        finally:
            self._viewer_refresh = None

    def _decide_in_memory(self, message: dict, viewer, memo=None) -> bool:
        """Whether the event of ``message`` (with an audience) is for ``viewer``."""
        audience = _audience(message)
        key = None
        if memo is not None and not (
            viewer.user_id in audience.users
            or viewer.user_id in audience.internal_users
        ):
            # Not named by a grant: every viewer with the same groups and roles
            # gets the same answer, decided once per event.
            key = self._viewer_class
            if key in memo:
                return memo[key]
        view, view_internal = permissions.audience_allows(viewer, audience)
        allowed = view and permissions.event_visible_with(
            message["kind"],
            bool(message.get("internal")),
            support_team=viewer.support_team,
            view_internal=view_internal,
        )
        if key is not None:
            memo[key] = allowed
        return allowed

    def _admits(self, message: dict, memo: dict) -> bool:
        """The bus's fan-out asks before waking this stream: False only for an event
        this stream would drop anyway (``_filter`` decides everything else)."""
        if message.get("t") != "event" or "aud" not in message or "ref" not in message:
            return True
        if self.kinds and message.get("kind") not in self.kinds:
            return False
        if message.get("id") in self._seen:
            return False
        viewer = self._viewer_now()
        return viewer is None or self._decide_in_memory(message, viewer, memo)

    async def _catch_up(self) -> None:
        limit = getattr(settings, "LIVE_REPLAY_LIMIT", 500)
        exclude = self._replay_exclude | {i for i, _ in self._recent}
        rows = await run_sync(_replay)(
            self.user, self.ticket_id, self._low or 0, self.kinds, limit, exclude
        )
        for event in rows:
            if event.id in self._seen:
                continue
            self._remember(event.id)
            self._pending.append(event)

    async def close(self) -> None:
        if self._queue is not None:
            await bus.unsubscribe(self._queue)
            self._queue = None
        if self._viewer_refresh is not None:
            self._viewer_refresh.cancel()

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
            return self._pending.popleft()
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            try:
                message = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                if deadline is not None and loop.time() >= deadline:
                    return None
                try:
                    # No task per call (asyncio.wait_for made one per wait).
                    async with asyncio.timeout_at(deadline):
                        message = await self._queue.get()
                except TimeoutError:
                    return None
            item = await self._filter(message)
            if item is not None:
                return item
            if self._pending:
                return self._pending.popleft()

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
        grants_changed = event_kind in GRANT_CHANGING_KINDS
        if grants_changed:
            self._access.pop(ticket_id, None)
        if "aud" in message and "ref" in message:
            if not self._decide_in_memory(message, self._viewer_now()):
                return None
            self._remember(event_id)
            return LiveEvent(event_id, ticket_id, message["ref"], event_kind)
        access = await self._access_to(ticket_id, fresh=grants_changed)
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
        if self._low is None:
            self._low = event_id - 1
        if event_id > self._low:
            self._recent.append((event_id, time.monotonic()))

    @property
    def resume_token(self) -> str:
        """The resume point to hand the client (SSE ``id:``): ``"high"`` when every
        id delivered is settled, else ``"high.low.id.id…"`` (``parse_resume``)."""
        settled = time.monotonic() - _reorder_seconds()
        recent = self._recent
        while recent and (recent[0][1] <= settled or len(recent) > _TOKEN_IDS):
            # Every id below one delivered that long ago has committed or never will.
            self._low = max(self._low or 0, recent.popleft()[0])
        low = self._low or 0
        above = sorted({i for i, _ in recent if i > low})
        if not above:
            return str(max(self.last_id, low))
        return ".".join(str(i) for i in (above[-1], low, *above[:-1]))

    async def _access_to(self, ticket_id: int, *, fresh: bool = False) -> _Access:
        access = self._access.get(ticket_id)
        if fresh or access is None or time.monotonic() - access.decided_at > _ttl():
            access = await run_sync(_decide)(self.user, ticket_id)
            self._access[ticket_id] = access
            if len(self._access) > _CACHE_SIZE:
                self._access.popitem(last=False)
        else:
            self._access.move_to_end(ticket_id)
        return access


async def ticket_id_for(reference: str) -> int | None:
    return await run_sync(_ticket_id_for)(reference)
