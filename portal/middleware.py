"""Site-wide response rules that belong to no domain.

- ``PrivateCacheMiddleware``: what one visitor sees is never kept by a cache.
- ``QueryCountMiddleware``: benchmark-only instrumentation, installed only when the
  environment asks for it (see the ``# --- portal ---`` settings section).
"""

from contextlib import ExitStack

from django.conf import settings
from django.db import connections
from django.utils.cache import has_vary_header, patch_cache_control


class PrivateCacheMiddleware:
    """Marks every answer that belongs to one visitor ``Cache-Control: private,
    no-store``, so that no browser history, shared proxy or CDN keeps a signed-in page,
    its CSRF-protected forms or an API answer.

    An answer belongs to one visitor when the request is signed in (a session user or
    an ``Authorization`` header, as for API tokens), when the answer sets or deletes
    the session cookie (signing in and out), or when it varies on a session the request
    carries (an allauth sign-in halfway through its second step, a reader's messages).
    Anonymous answers keep their headers: the knowledge base's anonymous page cache
    (``kb.page_cache``) and static files (served by WhiteNoise before the session is
    read) are untouched. Directives a view set itself are kept; ``public`` goes.

    Sits outside ``SessionMiddleware`` so that it sees the session cookie being set,
    and inside ``DatabaseUnavailableMiddleware``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if is_personal(request, response):
            patch_cache_control(response, private=True, no_store=True)
        return response


def is_personal(request, response) -> bool:
    """Whether ``response`` shows or changes what only this visitor may see."""
    if "HTTP_AUTHORIZATION" in request.META:
        return True
    if settings.SESSION_COOKIE_NAME in response.cookies:
        return True
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return True
    return settings.SESSION_COOKIE_NAME in request.COOKIES and has_vary_header(
        response, "Cookie"
    )


QUERY_COUNT_HEADER = "X-SQL-Queries"


class QueryCountMiddleware:
    """Counts the SQL statements a request runs (on every database connection) and
    reports them in the ``X-SQL-Queries`` response header.

    The benchmark harness reads the header from one request per scenario. It sits first
    in ``MIDDLEWARE`` so that the session, authentication and any caching middleware are
    counted too. ``execute_wrapper`` keeps working with DEBUG off, unlike
    ``connection.queries``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with ExitStack() as stack:
            for connection in connections.all():
                stack.enter_context(connection.execute_wrapper(counter))
            response = self.get_response(request)
        response[QUERY_COUNT_HEADER] = str(count)
        return response
