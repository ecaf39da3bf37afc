"""Atomic counters in the default cache: the one mechanism behind rate-limit windows
and the knowledge base's view and search counts; and ``Tally``, counts added up in the
process before they reach the cache.

While the shared cache is down (``portal.cache.FailOpenRedisCache``) a count answers
``delta``: rate limits fail open (the attempt is allowed) and counts made then are
lost, rather than every limited action answering an error."""

import atexit
import collections
import threading
import time

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache


def _redis_add_to(backend, key: str, delta: int, timeout: int) -> int:
    full_key = backend.make_and_validate_key(key)
    client = backend._cache.get_client(full_key, write=True)
    with client.pipeline(transaction=False) as pipe:
        pipe.set(full_key, 0, ex=timeout, nx=True)
        pipe.incr(full_key, delta)
        _created, value = pipe.execute()
    return int(value)


def add_to(key: str, delta: int = 1, *, timeout: int) -> int:
    """Add ``delta`` to the integer at ``key`` (made with ``timeout`` seconds to live
    when missing) and return the new value.

    On Redis this is one round trip (``SET NX EX`` then ``INCRBY`` in a pipeline)
    instead of the three that Django's ``add`` and ``incr`` (``EXISTS`` + ``INCRBY``)
    cost; the value stays readable with ``cache.get`` (Django stores integers raw)."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        if fail_open := getattr(backend, "fail_open", None):
            return fail_open(delta, _redis_add_to, backend, key, delta, timeout)
        return _redis_add_to(backend, key, delta, timeout)
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key, delta)
    except ValueError:  # expired between add and incr
        cache.set(key, delta, timeout=timeout)
        return delta


class Tally:
    """Counts added up in this process and handed to ``deliver`` (a function taking a
    ``{key: count}`` dict) in one batch at most every ``seconds``, instead of a cache
    round trip on every hit.

    When it flushes: on the first ``add`` after ``seconds`` have passed, whenever
    ``flush()`` is called (the flush job calls it first), and when the process exits
    normally (registered with ``atexit`` here, the one place that does). A process
    killed outright loses at most ``seconds`` of counts."""

    def __init__(self, deliver, *, seconds: float):
        self.deliver = deliver
        self.seconds = seconds
        self._lock = threading.Lock()
        self._counts: collections.Counter = collections.Counter()
        self._since = time.monotonic()
        atexit.register(self.flush)

    def add(self, key, count: int = 1) -> None:
        with self._lock:
            self._counts[key] += count
            due = time.monotonic() - self._since >= self.seconds
        if due:
            self.flush()

    def flush(self) -> dict:
        """Deliver what was added up; returns it (``{}`` when nothing was)."""
        with self._lock:
            counts = dict(self._counts)
            self._counts.clear()
            self._since = time.monotonic()
        if counts:
            self.deliver(counts)
        return counts
