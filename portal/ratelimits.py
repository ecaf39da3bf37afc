"""Rate limits for actions a script could repeat cheaply, such as filing tickets.

allauth limits sign-in, sign-up and password reset itself (``ACCOUNT_RATE_LIMITS``);
GraphQL limits requests per client (``GRAPHQL_RATE_LIMIT``). This module limits named
actions per user (or per address when signed out), for every surface that offers them:
views use the ``limit`` decorator, API resolvers call ``consume``. Rates are read at call
time from ``PORTAL_RATE_LIMITS`` (``{"ticket_create": "20/h"}``); a scope without a
rate is not limited. Counters are fixed windows in the default cache, so they hold
across app servers when the cache is shared (Redis).
"""

import functools
import time

from django.conf import settings
from django.template.response import TemplateResponse
from django.utils.translation import ngettext

from .counters import add_to, add_to_and_read, add_to_both_and_read

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class RateLimited(Exception):
    """Too many attempts; ``retry_after`` is the number of seconds to wait."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        minutes = max(1, -(-retry_after // 60))
        super().__init__(
            ngettext(
                "You have done this too often in a short time. "
                "Please try again in %(minutes)d minute.",
                "You have done this too often in a short time. "
                "Please try again in %(minutes)d minutes.",
                minutes,
            )
            % {"minutes": minutes}
        )


def parse_rate(rate: str) -> tuple[int, int]:
    """``"20/h"`` → (20, 3600); ``"5/10m"`` → (5, 600); ``"10/30"`` → (10, 30 s)."""
    count, _slash, period = str(rate).partition("/")
    period = period or "m"
    if period.isdigit():
        seconds = int(period)
    else:
        seconds = int(period[:-1] or 1) * PERIODS[period[-1]]
    allowed = int(count)
    if allowed <= 0 or seconds <= 0:
        raise ValueError(f"Invalid rate {rate!r}")
    return allowed, seconds


def hit(key: str, rate: str) -> int | None:
    """Count one attempt in a fixed window of the shared cache; the seconds to wait
    when ``rate`` is exceeded, else None (the attempt still counts, so hammering does
    not reopen the door). The one counter behind every rate limit of the site."""
    return hit_and_read(key, rate)[0]


def hit_and_read(key: str, rate: str, read=()) -> tuple[int | None, dict | None]:
    """``hit``, and the shared cache's values of the keys in ``read``, read in the same
    round trip (``portal.counters.add_to_and_read``: None when they could not be)."""
    allowed, period = parse_rate(rate)
    now = time.time()
    used, found = add_to_and_read(
        f"ratelimit:{key}:{int(now // period)}", timeout=period + 1, read=read
    )
    if used > allowed:
        return int(period - now % period) + 1, found
    return None, found


class Counted:
    """One attempt at ``scope`` by ``identity`` counted ahead (``hit_then_count``),
    for ``consume`` to decide on once instead of counting; ``uncount`` takes it back
    when nothing consumed it."""

    __slots__ = ("scope", "identity", "read", "wait", "found", "key", "timeout", "used")

    def __init__(self, scope, identity, read, wait, found, key, timeout):
        self.scope, self.identity, self.read = scope, identity, tuple(read)
        self.wait, self.found, self.key, self.timeout = wait, found, key, timeout
        self.used = False


def hit_then_count(
    key: str, rate: str, scope: str, identity: str, *, read=()
) -> tuple[int | None, Counted | None]:
    """``hit(key, rate)`` and, when that attempt is allowed, one attempt at ``scope`` by
    ``identity`` counted in the same round trip (``read`` read with it), for a
    ``consume(scope, identity, read=read, counted=...)`` that follows. ``(wait, None)``
    when refused (the scope not counted) or when the scope has no rate (then as
    ``hit``). For a caller that knows early an attempt at ``scope`` is coming."""
    scope_rate = (getattr(settings, "PORTAL_RATE_LIMITS", None) or {}).get(scope)
    if not scope_rate:
        return hit(key, rate), None
    allowed, period = parse_rate(rate)
    scope_allowed, scope_period = parse_rate(scope_rate)
    now = time.time()
    scope_key = f"ratelimit:{scope}:{identity}:{int(now // scope_period)}"
    used, scope_used, found = add_to_both_and_read(
        f"ratelimit:{key}:{int(now // period)}",
        allowed,
        period + 1,
        scope_key,
        scope_period + 1,
        read,
    )
    if used > allowed:
        return int(period - now % period) + 1, None
    wait = (
        int(scope_period - now % scope_period) + 1
        if scope_used > scope_allowed
        else None
    )
    counted = Counted(scope, identity, read, wait, found, scope_key, scope_period + 1)
    return None, counted


def uncount(counted: Counted | None) -> None:
    """Take back an attempt counted ahead that no ``consume`` decided on."""
    if counted is not None and not counted.used:
        counted.used = True
        add_to(counted.key, -1, timeout=counted.timeout)


def consume(
    scope: str, identity: str, *, read=(), counted: Counted | None = None
) -> dict | None:
    """Count one attempt at ``scope`` by ``identity``; raise ``RateLimited`` past the
    limit for that scope in ``PORTAL_RATE_LIMITS`` (read at call time). With ``read``
    (cache keys the caller is about to read), their values read in the same round
    trip, as ``get_many`` answers them; None when not read (no limit for the scope,
    or the cache is down): the caller reads them itself. With ``counted`` (from
    ``hit_then_count``, for this scope, identity and ``read``, not yet used) the
    attempt was counted already: decided on as counted, once."""
    if (
        counted is not None
        and not counted.used
        and (counted.scope, counted.identity, counted.read)
        == (scope, identity, tuple(read))
    ):
        counted.used = True
        if counted.wait:
            raise RateLimited(retry_after=counted.wait)
        return counted.found if read else None
    rate = (getattr(settings, "PORTAL_RATE_LIMITS", None) or {}).get(scope)
    if not rate:
        return None
    wait, found = hit_and_read(f"{scope}:{identity}", rate, read)
    if wait:
        raise RateLimited(retry_after=wait)
    return found if read else None


def identity_of(request) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{request.META.get('REMOTE_ADDR', '')}"


def too_many_requests(request, error: RateLimited):
    response = TemplateResponse(
        request, "429.html", {"message": str(error)}, status=429
    )
    response["Retry-After"] = str(error.retry_after)
    return response


def limit(scope: str, *, methods=("POST",)):
    """View decorator: past the rate for ``scope``, answer 429 with the site's page and
    ``Retry-After`` instead of running the view. Only ``methods`` count."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method in methods:
                try:
                    consume(scope, identity_of(request))
                except RateLimited as error:
                    return too_many_requests(request, error)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
