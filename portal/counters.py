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
    """``SET key 0 EX timeout NX`` then ``INCRBY key delta``, sent together on one
    pooled connection and both replies read, as a redis-py pipeline does
    (``_execute_pipeline``: same commands, same retry of the connection's ``Retry``
    after a disconnect, an error reply raised once every reply is read), without
    its per-call machinery: ~400 Python calls a count in redis-py 8, ~130 here."""
    full_key = backend.make_and_validate_key(key)
    client = backend._cache.get_client(full_key, write=True)
    pool = client.connection_pool
    connection = pool.get_connection()
    encoded = connection.encoder.encode(full_key)
    packed = _packed(
        (b"SET", encoded, b"0", b"EX", b"%d" % timeout, b"NX"),
        (b"INCRBY", encoded, b"%d" % delta),
    )
    try:
        value = connection.retry.call_with_retry(
            lambda: _both_replies(connection, packed),
            lambda _error: connection.disconnect(),
        )
    except BaseException:
        connection.disconnect()  # never back to the pool with a reply unread
        raise
    finally:
        pool.release(connection)
    return int(value)


def _packed(*commands) -> bytes:
    """The commands in Redis's protocol (RESP arrays of bulk strings), as
    ``Connection.pack_commands`` writes them."""
    return b"".join(
        b"*%d\r\n%b"
        % (len(args), b"".join(b"$%d\r\n%b\r\n" % (len(a), a) for a in args))
        for args in commands
    )


def _both_replies(connection, packed: bytes) -> int:
    from redis import ResponseError

    connection.send_packed_command([packed])
    replies = []
    for _command in range(2):
        try:
            replies.append(connection.read_response())
        except ResponseError as error:
            replies.append(error)
    for reply in replies:
        if isinstance(reply, ResponseError):
            raise reply
    return replies[-1]


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
