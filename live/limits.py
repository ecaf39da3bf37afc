"""How many live connections a user holds, across processes when the cache is shared.

One owner for the per-user limit (``LIVE_MAX_CONNECTIONS_PER_USER``) and the heartbeat
(``LIVE_HEARTBEAT_SECONDS``): the server-sent events views and the GraphQL
subscriptions over WebSocket both count against the same slots."""

from django.conf import settings
from django.core.cache import cache


def heartbeat_seconds() -> float:
    return float(getattr(settings, "LIVE_HEARTBEAT_SECONDS", 15))


def _slot_key(user_id: int) -> str:
    return f"live:connections:{user_id}"


def _slot_ttl() -> int:
    return int(heartbeat_seconds() * 4) + 5


def take_slot(user_id: int) -> bool:
    """Count this connection against the user's limit; False when it is full. The
    counter expires unless heartbeats refresh it, so that a crashed process does not
    keep slots forever."""
    limit = int(getattr(settings, "LIVE_MAX_CONNECTIONS_PER_USER", 5))
    key, ttl = _slot_key(user_id), _slot_ttl()
    cache.add(key, 0, ttl)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, ttl)
        count = 1
    if count > limit:
        release_slot(user_id)
        return False
    return True


def refresh_slot(user_id: int) -> None:
    cache.touch(_slot_key(user_id), _slot_ttl())


def release_slot(user_id: int) -> None:
    try:
        if cache.decr(_slot_key(user_id)) < 0:
            cache.delete(_slot_key(user_id))
    except ValueError:
        pass
