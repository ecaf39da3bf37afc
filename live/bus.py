"""The bus: wakes subscribers with small messages, across processes and machines.

It carries no ticket content, only what a subscriber needs to decide whether to look
(``{"t": "event", "id", "ticket", "kind", "internal"}``) or an ephemeral presence beat
(``{"t": "presence", "ticket", "user", "name", "state"}``). The database's
``TicketEvent`` rows stay the source of truth: a subscriber that missed a message
catches up from them (``live.stream``).

Backends, chosen at call time from ``settings.LIVE_BUS_URL``:

* ``redis://…`` — Redis pub/sub. One subscribing connection per process (per event
  loop), fanned out locally to every stream of that process; publishing is one
  ``PUBLISH`` from the committing thread.
* empty — in-process: publishing hands the message to every event loop of this process
  (``runserver``, tests, a single uvicorn process on a laptop). Nothing crosses
  processes, so production with several workers needs Redis.

``publish`` never raises: a live update lost to a Redis outage is recovered by the
client's reconnect (``Last-Event-ID``), and must not fail the change that caused it.
"""

import asyncio
import json
import logging
import threading

from django.conf import settings

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
            _redis_publisher(url).publish(_channel(), raw)
        except Exception:
            logger.warning("live: publishing to Redis failed", exc_info=True)
        return
    with _hubs_lock:
        hubs = list(_hubs.values())
    for hub in hubs:
        hub.deliver_threadsafe(message)


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
        self.queues: set[asyncio.Queue] = set()
        self.reader: asyncio.Task | None = None
        self.ready = asyncio.Event()

    def deliver_threadsafe(self, message: dict) -> None:
        try:
            self.loop.call_soon_threadsafe(self.deliver, message)
        except RuntimeError:  # the loop is closed
            pass

    def deliver(self, message: dict) -> None:
        for queue in list(self.queues):
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


async def subscribe() -> asyncio.Queue:
    """A queue that receives every bus message from now on; ``unsubscribe`` it."""
    loop = asyncio.get_running_loop()
    url, channel = _url(), _channel()
    with _hubs_lock:
        hub = _hubs.get(loop)
        if hub is None or (hub.url, hub.channel) != (url, channel):
            hub = _hubs[loop] = Hub(loop, url, channel)
    queue: asyncio.Queue = asyncio.Queue()
    hub.queues.add(queue)
    await hub.start()
    return queue


async def unsubscribe(queue: asyncio.Queue) -> None:
    loop = asyncio.get_running_loop()
    with _hubs_lock:
        hub = _hubs.get(loop)
        if hub is None:
            return
        hub.queues.discard(queue)
        idle = not hub.queues
        if idle:
            del _hubs[loop]
    if idle:
        await hub.stop()
