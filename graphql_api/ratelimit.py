"""The GraphQL request limit per token, user or IP address (``GRAPHQL_RATE_LIMIT``,
e.g. ``"120/m"``; empty disables), counted by the site's one fixed-window counter
(``portal.ratelimits.hit``). With several app servers the cache must be shared (Redis,
via REDIS_URL) for the limit to be global rather than per process.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig

from portal import ratelimits


def hit(identity: str) -> int | None:
    """Count one request for ``identity``. Returns the seconds to wait when the limit
    is exceeded, else None."""
    rate = getattr(settings, "GRAPHQL_RATE_LIMIT", "120/m")
    if not rate:
        return None
    return ratelimits.hit(f"graphql:{identity}", rate)


# the filing's scope in ``PORTAL_RATE_LIMITS``, shared with the portal's form
FILING_SCOPE = "ticket_create"


def filing_read() -> list:
    """The cache keys a filing reads (its generations), read with its count; the
    resolver takes them from what was counted ahead when there is one."""
    from tickets import hooks
    from tickets.models import EventKind

    return hooks.generations_read(EventKind.CREATED)


def likely_filing(request) -> bool:
    """A request that will probably reach ``createTicket``'s count: a JSON POST naming
    the field, by a signed-in caller whose token (if any) may write. A guess only: the
    resolver counts for itself when nothing was counted ahead, and what was counted
    ahead and not used is taken back (``release``)."""
    user = request.user
    token = request.api_token
    if not (
        request.method == "POST"
        and user.is_authenticated
        and (token is None or token.has_scope("write"))
        and request.content_type == "application/json"
    ):
        return False
    try:
        return b"createTicket" in request.body
    except RequestDataTooBig:  # refused later, as before, once the request counted
        return False


def hit_ahead(request, identity: str) -> int | None:
    """``hit(identity)``; for a likely filing, with the filing's own count (and its
    generations' read) in the same round trip, kept on the request as
    ``filing_counted`` for the resolver's ``consume``."""
    rate = getattr(settings, "GRAPHQL_RATE_LIMIT", "120/m")
    if not rate or not likely_filing(request):
        return hit(identity)
    wait, request.filing_counted = ratelimits.hit_then_count(
        f"graphql:{identity}",
        rate,
        FILING_SCOPE,
        f"user:{request.user.pk}",
        read=filing_read(),
    )
    return wait


def release(request) -> None:
    """Take back the filing counted ahead when no resolver decided on it."""
    ratelimits.uncount(getattr(request, "filing_counted", None))
