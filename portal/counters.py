"""Atomic counters in the default cache: the one mechanism behind rate-limit windows
and the knowledge base's view and search counts; and ``Tally``, counts added up in the
process before they reach the cache.

While the shared cache is down (``portal.cache.FailOpenRedisCache``) a count answers
``delta``: rate limits fail open (the attempt is allowed) and counts made then are
lost, rather than every limited action answering an error."""

import atexit
import collections
import hashlib
import threading
import time

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

# SET NX EX then INCRBY, atomically, and the values of any further keys (MGET; a
# missing one is false, which redis-py answers as None): one command where a pipeline
# of two cost ~380 Python calls in redis-py and a separate MGET ~250 more.
_ADD_TO_SCRIPT = """
redis.call('SET', KEYS[1], 0, 'EX', ARGV[2], 'NX')
local added = redis.call('INCRBY', KEYS[1], ARGV[1])
if #KEYS == 1 then
    return {added}
end
return {added, unpack(redis.call('MGET', unpack(KEYS, 2)))}
"""
# the name Redis knows a script by (EVALSHA), not a security use
_ADD_TO_SHA = hashlib.sha1(_ADD_TO_SCRIPT.encode(), usedforsecurity=False).hexdigest()


def _redis_add_to(backend, key: str, delta: int, timeout: int, read=()) -> tuple:
    from redis.exceptions import NoScriptError

    full_key = backend.make_and_validate_key(key)
    client = backend._cache.get_client(full_key, write=True)
    keys = [full_key, *(backend.make_and_validate_key(name) for name in read)]
    try:
        value, *found = client.evalsha(_ADD_TO_SHA, len(keys), *keys, delta, timeout)
    except NoScriptError:  # a new or flushed server: load it once, as ``Script`` does
        client.script_load(_ADD_TO_SCRIPT)
        value, *found = client.evalsha(_ADD_TO_SHA, len(keys), *keys, delta, timeout)
    loads = backend._cache._serializer.loads
    return int(value), {
        name: loads(raw)
        for name, raw in zip(read, found, strict=True)
        if raw is not None
    }


def add_to(key: str, delta: int = 1, *, timeout: int) -> int:
    """Add ``delta`` to the integer at ``key`` (made with ``timeout`` seconds to live
    when missing) and return the new value.

    On Redis this is one round trip (a script doing ``SET NX EX`` then ``INCRBY``)
    instead of the three that Django's ``add`` and ``incr`` (``EXISTS`` + ``INCRBY``)
    cost; the value stays readable with ``cache.get`` (Django stores integers raw)."""
    return add_to_and_read(key, delta, timeout=timeout)[0]


def add_to_and_read(key: str, delta: int = 1, *, timeout: int, read=()) -> tuple:
    """``add_to``, and the cache's values of the keys in ``read`` as ``get_many``
    answers them (``{key: value}``, missing keys left out), in the same round trip on
    Redis. While Redis is down: ``(delta, None)`` (nothing could be read; the caller
    reads them itself, failing open in turn). Elsewhere ``add_to`` then ``get_many``."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        if fail_open := getattr(backend, "fail_open", None):
            return fail_open(
                (delta, None), _redis_add_to, backend, key, delta, timeout, read
            )
        return _redis_add_to(backend, key, delta, timeout, read)
    cache.add(key, 0, timeout=timeout)
    try:
        value = cache.incr(key, delta)
    except ValueError:  # expired between add and incr
        cache.set(key, delta, timeout=timeout)
        value = delta
    return value, (cache.get_many(read) if read else {})


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
