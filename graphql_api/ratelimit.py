"""A fixed-window request counter in the Django cache, per token, user or IP address.

Good enough to stop a runaway script; with several app servers the cache must be shared
(Redis, via REDIS_URL) for the limit to be global rather than per process.
"""

import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    requests: int
    period: int  # seconds


def parse_rate(value: str | None) -> Rate | None:
    """``"120/m"``, ``"1000/h"`` or ``"10/30"`` (seconds); empty or None disables."""
    if not value:
        return None
    count, _, per = str(value).partition("/")
    period = _UNITS[per] if per in _UNITS else int(per or 60)
    rate = Rate(requests=int(count), period=period)
    if rate.requests <= 0 or rate.period <= 0:
        raise ValueError(f"Invalid GRAPHQL_RATE_LIMIT: {value!r}")
    return rate


def current_rate() -> Rate | None:
    return parse_rate(getattr(settings, "GRAPHQL_RATE_LIMIT", "120/m"))


def hit(identity: str, rate: Rate | None = None) -> int | None:
    """Count one request for ``identity``. Returns the seconds to wait when the limit
    is exceeded, else None."""
    rate = rate or current_rate()
    if rate is None:
        return None
    now = time.time()
    window = int(now // rate.period)
    key = f"graphql:ratelimit:{identity}:{window}"
    cache.add(key, 0, timeout=rate.period + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=rate.period + 1)
        count = 1
    if count > rate.requests:
        return max(1, math.ceil((window + 1) * rate.period - now))
    return None
