"""The shared cache, failing open: a Redis outage slows nothing down and breaks no page.

Django's ``RedisCache`` raises on a refused or timed-out connection, and redis-py waits
for the operating system's timeouts by default, so a wrong or unreachable ``REDIS_URL``
turned every page that touches the cache (sessions, the KB page cache, rate limits)
into a 500, or a six-second wait against a host that accepts and never answers.

``FailOpenRedisCache`` is Django's backend with three changes:

* short socket timeouts by default (``CACHE_TIMEOUT_SECONDS``, 0.5 s for connecting
  and for each answer);
* a Redis error is swallowed: reads answer a miss (``default``), writes report that
  nothing was stored, so every caller takes its "not in the cache" path. Sessions
  (``cached_db``) then read and write the database, page caches render the page, rate
  limits allow the attempt (they fail open: see ``portal.counters``);
* after an error the cache is skipped for ``retry_seconds()`` (a breaker shared by the
  process's threads), so an outage costs one timeout per process per few seconds, not
  one per cache call; it is logged once when it starts and once when it ends.

Over 400 lines until split: besides the backend, this module owns the cache's
generations (``generation``, ``new_generation``, their renewal on commit and
``Generation``, the one owner of a value kept per process for a generation), which
could move to a module of their own; every kept-value owner imports them from here.
"""

import logging
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver

from .redis_clients import SharedClients, once_more_on_a_dropped_connection

logger = logging.getLogger(__name__)

DEFAULT_SOCKET_TIMEOUT = 0.5
DEFAULT_RETRY_SECONDS = 5.0


def retry_seconds() -> float:
    """How long a process leaves the cache alone after an error
    (``CACHE_RETRY_SECONDS``)."""
    return float(getattr(settings, "CACHE_RETRY_SECONDS", DEFAULT_RETRY_SECONDS))


class _Breaker:
    """Whether a cache location is believed down, for every thread of the process
    (Django makes one backend instance per thread)."""

    def __init__(self, location: str):
        self.location = location
        self.lock = threading.Lock()
        self.down_until = 0.0
        self.down_since = None

    def is_open(self) -> bool:
        return self.down_until > time.monotonic()

    def trip(self, error: Exception) -> None:
        with self.lock:
            first = self.down_since is None
            if first:
                self.down_since = time.time()
            self.down_until = time.monotonic() + retry_seconds()
        if first:
            logger.warning(
                "Cache %s unreachable (%s: %s); serving without it",
                self.location,
                error.__class__.__name__,
                error,
                extra={"event": "cache_down", "dependency": "cache"},
            )

    def reset(self) -> None:
        if self.down_since is None:
            return
        with self.lock:
            since, self.down_since, self.down_until = self.down_since, None, 0.0
        if since is not None:
            logger.warning(
                "Cache %s reachable again after %.1f s",
                self.location,
                time.time() - since,
                extra={"event": "cache_up", "dependency": "cache"},
            )
            if getattr(cache, "breaker", None) is self:
                _renew_after_outage()


def cache_is_shared() -> bool:
    """Whether the default cache is one store for every process (Redis, Memcached),
    rather than the per-process local-memory or dummy cache: only a shared cache can
    carry a change made in one process (a publish, the statistics job) to the others."""
    backend = settings.CACHES["default"]["BACKEND"]
    return not backend.endswith(("LocMemCache", "DummyCache"))


def shared_or(setting: str) -> bool:
    """Whether a value kept per process (or counted in the cache) may be: the setting
    named ``setting`` (bool) overrides; by default only when the cache is shared by
    every process (``cache_is_shared``: only then does a change made in one process
    reach the others' copies). Answered once per setting and process (asked ~11 times
    a filing, ~10 Python calls each: the settings' lazy object, ``CACHES``); forgotten
    whenever a setting changes (``setting_changed``: tests)."""
    answer = _shared_or_answers.get(setting)
    if answer is None:
        answer = _shared_or_answers[setting] = _shared_or(setting)
    return answer


def _shared_or(setting: str) -> bool:
    configured = getattr(settings, setting, None)
    if configured is not None:
        return bool(configured)
    return cache_is_shared()


_shared_or_answers: dict[str, bool] = {}


@receiver(setting_changed)
def _forget_shared_or(**kwargs) -> None:
    _shared_or_answers.clear()


_breakers: dict[str, _Breaker] = {}
_breakers_lock = threading.Lock()


# The generation keys this process has read or renewed (a handful of constants).
_known_generations: set[str] = set()


def generation(key: str) -> int | None:
    """The current *generation* under ``key`` in the shared cache: a time stamp that
    something computed from changing data is tagged with, and never used once the
    data changes (``new_generation``). Made if missing, so that an evicted key starts
    a new generation, never an old one again; None when the cache cannot say (Redis
    down): nothing may then be kept. Inside ``generations_read_together`` for ``key``:
    the value read at its start."""
    _known_generations.add(key)
    ahead = _read_ahead.get()
    if ahead:
        value = ahead.get(key)
        if value is not None:
            return value
    value = cache.get(key)
    if value is None:
        value = time.time_ns()
        if not cache.add(key, value, None):
            value = cache.get(key)  # another process's, or None (down)
    return value


# key -> the generation read by ``generations_read_together`` for this context
_read_ahead: ContextVar[dict | None] = ContextVar(
    "generations_read_ahead", default=None
)


@contextmanager
def generations_read_together(*keys: str, found: dict | None = None):
    """Within the block, ``generation(key)`` of each of ``keys`` answers the value read
    for all of them when the block starts, in one round trip (``get_many``: ~200
    Python calls and a round trip fewer per key after the first) instead of a GET
    each. For a request that will read these generations anyway (a filing: the
    defaults' and the staff's): each is read before what is kept under it, as its
    owner requires, only a little earlier, as a slower request would have read it.
    A key missing (evicted) or unreadable (Redis down) is left to ``generation``,
    which makes it or answers None; ``new_generation`` of a key inside the block
    forgets its value read ahead. ``found``: the keys' values already read by the
    caller as ``get_many`` answers them, in a round trip it made anyway (the filing's
    rate limit, ``portal.ratelimits.consume``); None: read here."""
    if not keys:
        yield
        return
    if found is None:
        found = cache.get_many(keys)
    values = {key: found[key] for key in keys if found.get(key) is not None}
    token = _read_ahead.set(values)
    try:
        yield
    finally:
        _read_ahead.reset(token)


def new_generation(key: str) -> None:
    """The data behind ``key`` changed: what was computed from it is stale in every
    process (call it once the change commits). A renewal lost to an outage is made up
    for when the cache is reachable again (``_renew_after_outage``)."""
    _known_generations.add(key)
    ahead = _read_ahead.get()
    if ahead:
        ahead.pop(key, None)
    cache.set(key, time.time_ns(), None)


def _renew_after_outage() -> None:
    """The shared cache is reachable again after an outage: renew every generation
    this process knows. A change that committed while Redis was down could not renew
    its generation (``new_generation`` failed open), and the other processes would go
    on using what they kept before it; the process whose renewal was lost tripped its
    breaker, so its first successful call after the outage lands here. Renewing the
    generations that did not change costs one rebuild of what was kept."""
    for key in sorted(_known_generations):
        cache.set(key, time.time_ns(), None)


class KeptPerGeneration:
    """Values built in this process and kept for one generation (``generation``): the
    first value asked for under a new generation empties what the old one kept. At
    most ``limit`` values; a None generation (nothing may be kept) builds every time.
    The owner of the generation decides what the key must hold (language, user, …)."""

    def __init__(self, limit: int):
        self._limit = limit
        self._kept: tuple = (None, {})  # (generation, {key: value})
        self._lock = threading.Lock()

    def get(self, generation, key, build):
        if generation is None:
            return build()
        kept_generation, kept = self._kept
        if kept_generation == generation:
            value = kept.get(key)
            if value is not None:
                return value
        value = build()
        with self._lock:
            kept_generation, kept = self._kept
            if kept_generation != generation:
                kept = {}
                self._kept = (generation, kept)
            if len(kept) < self._limit:
                kept[key] = value
        return value

    def forget(self) -> None:
        with self._lock:
            self._kept = (None, {})


# --- renewing a generation when a change commits ------------------------------------
# Owners of per-process or shared copies tagged with a generation (``portal.admin_chrome``,
# ``tickets.desk.inbox``'s staff list) renew it from signal receivers: once per
# transaction, when it commits, and they keep nothing while a renewal is pending (the
# transaction sees data the other processes do not yet).

_RENEWALS = "_portal_generation_renewals"


def renewal_pending(renew, connection=None) -> bool:
    """Whether ``renew`` (an owner's function that calls ``renewal_ran`` and
    ``new_generation``) waits for the current transaction's commit."""
    connection = connection or transaction.get_connection()
    marks = connection.__dict__.get(_RENEWALS)
    mark = marks.get(renew) if marks else None
    if mark is None:
        return False
    callbacks, index = mark
    current = connection.run_on_commit
    if callbacks is current:
        return index < len(callbacks) and callbacks[index][1] is renew
    # Django replaces ``run_on_commit`` with a new list on commit and on rollback (of
    # the transaction or of a savepoint): after a commit or a rollback of it all the
    # renewal is no longer in it; after a rollback of a savepoint opened since the
    # renewal was asked for, it still is, at another place.
    for index, (_ids, func, _robust) in enumerate(current):
        if func is renew:
            marks[renew] = (current, index)
            return True
    del marks[renew]
    return False


def renewal_ran(renew) -> None:
    """Called by ``renew`` itself when it runs: no longer pending (also where its
    transaction goes on, as under the tests' captured on-commit callbacks)."""
    transaction.get_connection().__dict__.get(_RENEWALS, {}).pop(renew, None)


def renew_on_commit(renew) -> None:
    """Run ``renew`` when the current transaction commits (at once outside one), once
    per transaction however many changes ask for it."""
    connection = transaction.get_connection()
    if renewal_pending(renew, connection):
        return
    transaction.on_commit(renew)
    if connection.in_atomic_block:
        callbacks = connection.run_on_commit
        connection.__dict__.setdefault(_RENEWALS, {})[renew] = (
            callbacks,
            len(callbacks) - 1,
        )


class Generation:
    """The one owner of a value kept per process for a *generation*: the generation
    key in the shared cache (``key``), the setting that switches the keeping
    (``setting``, ``shared_or``), the renewal when a change commits and what this
    process keeps under it (at most ``limit`` values, ``KeptPerGeneration``).

    ``get(build, key)``: the value kept under the current generation for ``key``, else
    ``build()``, kept; built each time when switched off, while a renewal of the
    current transaction waits for its commit (it sees data the other processes do not
    yet), or when the cache cannot say (down). ``changed()`` (a signal receiver too):
    forget this process's values now and renew the generation, for every process, once
    the change commits (at once outside a transaction; once per transaction).
    ``current()``: the generation, or None when nothing may be kept, for values kept
    elsewhere under it (read before them). A None value is never kept."""

    def __init__(self, key: str, setting: str, limit: int = 1):
        self.key = key
        self.setting = setting
        self._kept = KeptPerGeneration(limit)

        def renew() -> None:
            renewal_ran(renew)
            new_generation(key)

        # one function per owner: ``renewal_pending`` and the marks compare it by identity
        renew.__qualname__ = f"Generation.renew[{key}]"
        self.renew = renew

    def enabled(self) -> bool:
        """Whether values may be kept at all (``setting``, ``shared_or``)."""
        return shared_or(self.setting)

    def current(self) -> int | None:
        """The generation, read before what is kept under it; None when nothing may be
        kept (switched off, a renewal of this transaction pending, the cache down)."""
        if shared_or(self.setting) and not renewal_pending(self.renew):
            return generation(self.key)
        return None

    def get(self, build, key=None):
        """``build()`` kept for the current generation and ``key`` (``current``:
        built each time where it is None)."""
        if shared_or(self.setting) and not renewal_pending(self.renew):
            return self._kept.get(generation(self.key), key, build)
        return build()

    def changed(self, **kwargs) -> None:
        """What the values are built from changed: forget them in this process now and
        in every process once the change commits."""
        self._kept.forget()
        renew_on_commit(self.renew)

    def forget(self) -> None:
        """Forget this process's values (tests; a change ``changed`` reports)."""
        self._kept.forget()


def user_save_counts(update_fields) -> bool:
    """Whether a user's ``post_save`` can change what is derived from users (names,
    flags, roles): not a save of only ``last_login`` (signing in) or the password."""
    return update_fields is None or not set(update_fields) <= {"last_login", "password"}


def links_change_counts(action, pk_set) -> bool:
    """Whether an ``m2m_changed`` signal changed links: ``pre_*`` is followed by its
    ``post_*`` in the same transaction, and Django sends ``post_add`` with an empty
    ``pk_set`` when every link already existed (an LDAP sign-in re-adds the user's
    role groups each time)."""
    return not action.startswith("pre_") and not (action == "post_add" and not pk_set)


def _breaker_for(location: str) -> _Breaker:
    with _breakers_lock:
        return _breakers.setdefault(location, _Breaker(location))


class FailOpenRedisCache(RedisCache):
    """``RedisCache`` that answers a miss instead of raising when Redis is down."""

    def __init__(self, server, params):
        params = dict(params)
        options = dict(params.get("OPTIONS") or {})
        timeout = float(
            getattr(settings, "CACHE_TIMEOUT_SECONDS", DEFAULT_SOCKET_TIMEOUT)
        )
        options.setdefault("socket_connect_timeout", timeout)
        options.setdefault("socket_timeout", timeout)
        options.setdefault("retry", once_more_on_a_dropped_connection())
        params["OPTIONS"] = options
        super().__init__(server, params)
        self._class = SharedClients
        self.breaker = _breaker_for(",".join(self._servers))

    def fail_open(self, default, operation, *args, **kwargs):
        """Run ``operation`` against Redis; ``default`` when Redis is down (or was
        within ``retry_seconds()``). For callers that use the Redis client directly
        (``portal.counters``)."""
        import redis

        if self.breaker.is_open():
            return default
        try:
            result = operation(*args, **kwargs)
        except redis.RedisError as error:
            self.breaker.trip(error)
            return default
        self.breaker.reset()
        return result

    def check(self) -> tuple[bool, str]:
        """One PING with the short timeouts, ignoring the breaker (``/healthz``)."""
        import redis

        try:
            self._cache.get_client(write=True).ping()
        except redis.RedisError as error:
            self.breaker.trip(error)
            return False, error.__class__.__name__
        self.breaker.reset()
        return True, "ok"

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self.fail_open(False, super().add, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self.fail_open(default, super().get, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self.fail_open(None, super().set, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self.fail_open(False, super().touch, key, timeout, version)

    def delete(self, key, version=None):
        return self.fail_open(False, super().delete, key, version)

    def get_many(self, keys, version=None):
        return self.fail_open({}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self.fail_open(False, super().has_key, key, version)

    def incr(self, key, delta=1, version=None):
        # Unknown while Redis is down: the caller's own count is the best guess.
        return self.fail_open(delta, super().incr, key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self.fail_open(list(data), super().set_many, data, timeout, version)

    def delete_many(self, keys, version=None):
        return self.fail_open(None, super().delete_many, keys, version)

    def clear(self):
        return self.fail_open(False, super().clear)
