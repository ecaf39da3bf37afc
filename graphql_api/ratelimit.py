"""The GraphQL request limit per token, user or IP address (``GRAPHQL_RATE_LIMIT``,
e.g. ``"120/m"``; empty disables), counted by the site's one fixed-window counter
(``portal.ratelimits.hit``). With several app servers the cache must be shared (Redis,
via REDIS_URL) for the limit to be global rather than per process.
"""

from django.conf import settings

from portal import ratelimits


def hit(identity: str) -> int | None:
    """Count one request for ``identity``. Returns the seconds to wait when the limit
    is exceeded, else None."""
    rate = getattr(settings, "GRAPHQL_RATE_LIMIT", "120/m")
    if not rate:
        return None
    return ratelimits.hit(f"graphql:{identity}", rate)
