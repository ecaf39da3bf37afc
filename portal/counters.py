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
from django.core.cache.backends.base import BaseCache, memcache_key_warnings
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


def _full_key(backend, key: str) -> str:
    """``backend.make_and_validate_key(key)`` (the default version), kept per backend
    for a key that raised no warning: its prefix, version and key function are the
    backend's own, fixed when it is made (~11 Python calls a key, five a filing). A key
    with a warning (too long, control characters) is made and warned about each time,
    as before."""
    kind = type(backend)
    if (
        kind.make_and_validate_key is not BaseCache.make_and_validate_key
        or kind.validate_key is not BaseCache.validate_key
    ):  # a backend with its own: asked each time
        return backend.make_and_validate_key(key)
    kept = backend.__dict__.get("_counter_keys")
    if kept is None:
        kept = backend.__dict__["_counter_keys"] = {}
    full = kept.get(key)
    if full is None:
        full = backend.make_key(key)
        if any(True for _warning in memcache_key_warnings(full)):
            return backend.make_and_validate_key(key)
        if len(kept) >= 1024:  # windows' keys change with time: keep a few
            kept.clear()
        kept[key] = full
    return full


def run_script(client, sha: str, script: str, *args):
    """``EVALSHA sha *args`` with the redis-py ``client``; on a new or flushed server
    (``NOSCRIPT``) the ``script`` is loaded once and run again, as redis-py's
    ``Script`` does (without its per-call object)."""
    from redis.exceptions import NoScriptError

    try:
        return client.evalsha(sha, *args)
    except NoScriptError:
        client.script_load(script)
        return client.evalsha(sha, *args)


def _redis_add_to(backend, key: str, delta: int, timeout: int, read=()) -> tuple:
    full_key = _full_key(backend, key)
    client = backend._cache.get_client(full_key, write=True)
    keys = [full_key, *[_full_key(backend, name) for name in read]]
    value, *found = run_script(
        client, _ADD_TO_SHA, _ADD_TO_SCRIPT, len(keys), *keys, delta, timeout
    )
    loads = backend._cache._serializer.loads
    return int(value), {
        name: loads(raw)
        for name, raw in zip(read, found, strict=True)
        if raw is not None
    }


# Two windows' counts in one command: the first's SET NX EX + INCRBY; past its
# ``allowed`` nothing more (the second attempt never happens); else the second's, and
# the values of any further keys, as ``_ADD_TO_SCRIPT`` does for one.
_ADD_TO_BOTH_SCRIPT = """
redis.call('SET', KEYS[1], 0, 'EX', ARGV[1], 'NX')
local first = redis.call('INCRBY', KEYS[1], 1)
if first > tonumber(ARGV[2]) then
    return {first}
end
redis.call('SET', KEYS[2], 0, 'EX', ARGV[3], 'NX')
local second = redis.call('INCRBY', KEYS[2], 1)
if #KEYS == 2 then
    return {first, second}
end
return {first, second, unpack(redis.call('MGET', unpack(KEYS, 3)))}
"""
_ADD_TO_BOTH_SHA = hashlib.sha1(
    _ADD_TO_BOTH_SCRIPT.encode(), usedforsecurity=False
).hexdigest()


def _redis_add_to_both(backend, first, allowed, first_timeout, second, timeout, read):
    keys = [_full_key(backend, name) for name in (first, second, *read)]
    client = backend._cache.get_client(keys[0], write=True)
    args = (len(keys), *keys, first_timeout, allowed, timeout)
    used, *rest = run_script(client, _ADD_TO_BOTH_SHA, _ADD_TO_BOTH_SCRIPT, *args)
    if not rest:  # past the first's limit: the second not counted, nothing read
        return int(used), None, None
    loads = backend._cache._serializer.loads
    second_used, *found = rest
    return (
        int(used),
        int(second_used),
        {
            name: loads(raw)
            for name, raw in zip(read, found, strict=True)
            if raw is not None
        },
    )


def add_to_both_and_read(
    first: str, allowed: int, first_timeout: int, second: str, timeout: int, read=()
) -> tuple:
    """One attempt counted at ``first`` (``add_to`` with ``first_timeout``) and, only
    when that count is within ``allowed``, one at ``second`` (``add_to_and_read`` with
    ``timeout`` and ``read``): ``(first's count, second's count, values)``, the last two
    None when the first was past ``allowed``. One round trip on Redis; while it is down
    ``(1, 1, None)`` (both fail open, nothing read)."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        args = (backend, first, allowed, first_timeout, second, timeout, read)
        if fail_open := getattr(backend, "fail_open", None):
            return fail_open((1, 1, None), _redis_add_to_both, *args)
        return _redis_add_to_both(*args)
    used = add_to(first, timeout=first_timeout)
    if used > allowed:
        return used, None, None
    return (used, *add_to_and_read(second, timeout=timeout, read=read))


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
