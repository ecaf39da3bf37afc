"""The bus: wakes subscribers with small messages, across processes and machines.

It carries no ticket content, only what a subscriber needs to decide whether to look
(``{"t": "event", "id", "ticket", "kind", "internal"}``) or an ephemeral presence beat
(``{"t": "presence", "ticket", "user", "name", "state"}``). The database's
``TicketEvent`` rows stay the source of truth: a subscriber that missed a message
catches up from them (``live.stream``).

Backends, chosen at call time from ``settings.LIVE_BUS_URL``:

* ``redis://…`` — Redis pub/sub. One subscribing connection per process (per event
  loop), fanned out locally to the streams of that process; publishing is one
  ``PUBLISH`` from the committing thread (``portal.after_commit``: with the change's
  other after-commit commands in one round trip, inside a service's transaction).
* empty — in-process: publishing hands the message to every event loop of this process
  (``runserver``, tests, a single uvicorn process on a laptop). Nothing crosses
  processes, so production with several workers needs Redis.

Local fan-out is by ticket: a message about a ticket wakes only the streams of that
ticket (a ticket page, ``subscribe(ticket_id=…)``) and the streams of every ticket
(an inbox, an integration); a ``gap`` wakes all. Waking every stream of the process
for every message cost one task wake-up per open page per event: at 1,000 open pages
and 100 events/s the event loop fell tens of seconds behind (bench/results/live.md).
A subscriber may also give a ``gate``, ``gate(message, memo) -> bool``, asked before
its queue gets a message (``memo``: a dict shared by the gates of one message, for
answers that many subscribers share): the streams drop there, without waking, the
events their user may not see. A gate that raises lets the message through.

``publish`` never raises: a live update lost to a Redis outage is recovered by the
client's reconnect (``Last-Event-ID``), and must not fail the change that caused it.
"""

import asyncio
import json
import logging
import threading

from django.conf import settings

from portal import after_commit

logger = logging.getLogger(__name__)

_hubs: dict[asyncio.AbstractEventLoop, "Hub"] = {}
_hubs_lock = threading.Lock()
_publishers: dict[str, object] = {}


def _url() -> str:
    return getattr(settings, "LIVE_BUS_URL", "") or ""


def _channel() -> str:
    return getattr(settings, "LIVE_BUS_CHANNEL", "live:events")


def publish(message: dict) -> None:
    """Send ``message`` to every subscriber of every process (sync; any thread)."""
    url = _url()
    raw = json.dumps(message, separators=(",", ":"))
    if url.startswith(("redis://", "rediss://", "unix://")):
        try:
            client = _redis_publisher(url)
        except Exception as error:
            _not_published(error)
            return
        # after a commit, in one round trip with the change's other commands
        after_commit.send(client, ("PUBLISH", _channel(), raw), _not_published)
        return
    with _hubs_lock:
        hubs = list(_hubs.values())
    for hub in hubs:
        hub.deliver_threadsafe(message)


def _not_published(error: Exception) -> None:
    logger.warning("live: publishing to Redis failed", exc_info=error)


def _redis_publisher(url: str):
    client = _publishers.get(url)
    if client is None:
        import redis

        client = redis.Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=2, health_check_interval=30
        )
        _publishers[url] = client
    return client


class Hub:
    """This event loop's subscribers, and (with Redis) the one task that reads the
    channel for all of them."""

    def __init__(self, loop: asyncio.AbstractEventLoop, url: str, channel: str):
        self.loop = loop
        self.url = url
        self.channel = channel
        self.queues: set[asyncio.Queue] = set()  # every subscriber
        self.every_ticket: set[asyncio.Queue] = set()
        self.by_ticket: dict[int, set[asyncio.Queue]] = {}
        self.ticket_of: dict[asyncio.Queue, int] = {}
        self.gates: dict[asyncio.Queue, object] = {}
        self.reader: asyncio.Task | None = None
        self.ready = asyncio.Event()

    def deliver_threadsafe(self, message: dict) -> None:
        try:
            self.loop.call_soon_threadsafe(self.deliver, message)
        except RuntimeError:  # the loop is closed
            pass

    def add(self, queue: asyncio.Queue, ticket_id: int | None, gate=None) -> None:
        self.queues.add(queue)
        if gate is not None:
            self.gates[queue] = gate
        if ticket_id is None:
            self.every_ticket.add(queue)
        else:
            self.ticket_of[queue] = ticket_id
            self.by_ticket.setdefault(ticket_id, set()).add(queue)

    def discard(self, queue: asyncio.Queue) -> None:
        self.queues.discard(queue)
        self.every_ticket.discard(queue)
        self.gates.pop(queue, None)
        ticket_id = self.ticket_of.pop(queue, None)
        if ticket_id is not None:
            watchers = self.by_ticket.get(ticket_id)
            if watchers is not None:
                watchers.discard(queue)
                if not watchers:
                    del self.by_ticket[ticket_id]

    def deliver(self, message: dict) -> None:
        ticket_id = message.get("ticket")
        if message.get("t") == "gap" or ticket_id is None:
            targets = list(self.queues)
        else:
            targets = [*self.every_ticket, *self.by_ticket.get(ticket_id, ())]
        memo: dict = {}
        gates = self.gates
        for queue in targets:
            gate = gates.get(queue)
            if gate is not None:
                try:
                    if not gate(message, memo):
                        continue
                except Exception:
                    logger.warning("live: a subscriber's gate failed", exc_info=True)
            queue.put_nowait(message)

    async def start(self) -> None:
        if self.url and self.reader is None:
            self.reader = asyncio.ensure_future(self._read())
        if not self.url:
            self.ready.set()
        # Subscribed before the caller replays from the database: nothing committed
        # in between is lost (a message may come twice; streams drop repeats).
        await self.ready.wait()

    async def _read(self) -> None:
        import redis.asyncio as aioredis

        while True:
            client = aioredis.Redis.from_url(self.url, socket_connect_timeout=2)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    self.ready.set()
                    async for item in pubsub.listen():
                        if item.get("type") != "message":
                            continue
                        try:
                            self.deliver(json.loads(item["data"]))
                        except (ValueError, TypeError):
                            logger.warning("live: dropped a malformed bus message")
            except asyncio.CancelledError:
                await client.aclose()
                raise
            except Exception:
                logger.warning("live: Redis subscription lost; retrying", exc_info=True)
                # Streams waiting on start() go on without it; they catch up from
                # the database when the client reconnects.
                self.ready.set()
                for queue in list(self.queues):
                    queue.put_nowait({"t": "gap"})
                await asyncio.sleep(1)
            finally:
                await client.aclose()

    async def stop(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
            await asyncio.gather(self.reader, return_exceptions=True)
            self.reader = None


async def subscribe(ticket_id: int | None = None, gate=None) -> asyncio.Queue:
    """A queue that receives the bus messages from now on (with ``ticket_id``, only
    that ticket's and the ``gap`` ones; with ``gate``, only those it lets through);
    ``unsubscribe`` it."""
    loop = asyncio.get_running_loop()
    url, channel = _url(), _channel()
    with _hubs_lock:
        hub = _hubs.get(loop)
        if hub is None or (hub.url, hub.channel) != (url, channel):
            hub = _hubs[loop] = Hub(loop, url, channel)
    queue: asyncio.Queue = asyncio.Queue()
    hub.add(queue, ticket_id, gate)
    await hub.start()
    return queue


async def unsubscribe(queue: asyncio.Queue) -> None:
    loop = asyncio.get_running_loop()
    with _hubs_lock:
        hub = _hubs.get(loop)
        if hub is None:
            return
        hub.discard(queue)
        idle = not hub.queues
        if idle:
            del _hubs[loop]
    if idle:
        await hub.stop()
