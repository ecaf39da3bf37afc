"""Who else is on a ticket in the desk: viewing it or typing a reply.

Ephemeral by design: each beat is kept in the cache for ``LIVE_PRESENCE_TTL_SECONDS``
(shared across processes when the cache is Redis) and broadcast on the bus; nothing is
written to the database. Only the support team beats and only the support team receives
presence (``live.stream`` drops it for everyone else).
"""

import time

from django.conf import settings
from django.core.cache import cache

from . import bus

STATES = ("viewing", "typing", "left")


def _ttl() -> int:
    return int(getattr(settings, "LIVE_PRESENCE_TTL_SECONDS", 30))


def _key(ticket_id: int) -> str:
    return f"live:presence:{ticket_id}"


def beat(ticket_id: int, user_id: int, name: str, state: str) -> None:
    """Record ``user``'s state on the ticket and tell the others (sync)."""
    now = time.time()
    entries = {
        uid: entry
        for uid, entry in (cache.get(_key(ticket_id)) or {}).items()
        if entry["until"] > now and uid != user_id
    }
    if state != "left":
        entries[user_id] = {"name": name, "state": state, "until": now + _ttl()}
    cache.set(_key(ticket_id), entries, _ttl())
    bus.publish(
        {
            "t": "presence",
            "ticket": ticket_id,
            "user": user_id,
            "name": name,
            "state": state,
        }
    )


def current(ticket_id: int) -> list[dict]:
    """Who is on the ticket now: ``[{"user", "name", "state"}]``."""
    now = time.time()
    return [
        {"user": uid, "name": entry["name"], "state": entry["state"]}
        for uid, entry in (cache.get(_key(ticket_id)) or {}).items()
        if entry["until"] > now
    ]
