"""A friendly 503 when the database is unreachable, instead of a stack trace."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.views import defaults

# SQLite primary result codes that mean the database cannot answer now (busy or locked
# past the timeout, out of memory, interrupted, I/O error, disk full, cannot open).
_SQLITE_UNAVAILABLE = frozenset({5, 6, 7, 9, 10, 13, 14, 15})
# PostgreSQL SQLSTATE classes of the same kind: connection exception, insufficient
# resources, operator intervention (admin shutdown, statement timeout), system error.
_POSTGRES_UNAVAILABLE_CLASSES = ("08", "53", "57", "58")
_POSTGRES_LOCK_TIMEOUT = "55P03"


def is_database_unavailable(exception) -> bool:
    """Whether ``exception`` means the database is unreachable or timed out, as opposed
    to a query the database refused. Only the first is an outage (503, retry later); a
    refused query (SQLite FTS5 "syntax error", "no such table") is a bug and must
    surface as one, not be dressed as an outage. Decided from the driver's error that
    Django wraps (``__cause__``): its SQLite result code or PostgreSQL SQLSTATE. A
    client-side psycopg error (no SQLSTATE: connection refused, connection lost) and an
    ``OperationalError`` raised without a driver error count as unavailable."""
    if isinstance(exception, InterfaceError):
        return True
    if not isinstance(exception, OperationalError):
        return False
    cause = exception.__cause__
    if cause is None:
        return True
    sqlite_code = getattr(cause, "sqlite_errorcode", None)
    if sqlite_code is not None:
        return sqlite_code & 0xFF in _SQLITE_UNAVAILABLE
    if hasattr(cause, "sqlstate"):
        state = cause.sqlstate
        return (
            state is None
            or state.startswith(_POSTGRES_UNAVAILABLE_CLASSES)
            or state == _POSTGRES_LOCK_TIMEOUT
        )
    return True


class DatabaseUnavailableMiddleware:
    """Turns a lost database connection into a plain 503 page (no database access while
    rendering it) with Retry-After, for pages and the API alike."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_database_unavailable(exception):
            return None
        return database_unavailable(request, exception)


def server_error(request):
    """``handler500``. A database error raised in a middleware (the session or user
    lookup of a signed-in visitor) never reaches ``process_exception``; Django calls this
    while still handling it, so the outage gets the same friendly 503."""
    exception = sys.exc_info()[1]
    if is_database_unavailable(exception):
        return database_unavailable(request, exception)
    return defaults.server_error(request)


def database_unavailable(request, exception):
    """The 503 answer: JSON for the API and JSON clients, a plain page otherwise.

    An outage is expected, not a bug: it is logged as the request's one line
    (``portal.observability``, with this reason), not with a traceback per request."""
    request.log_reason = f"database_unavailable: {exception.__class__.__name__}"
    if request.path.startswith(
        "/graphql/"
    ) or "application/json" in request.headers.get("Accept", ""):
        response = HttpResponse(
            b'{"errors": [{"message": "The service is temporarily unavailable. Please retry shortly."}]}',
            status=503,
            content_type="application/json",
        )
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = "30"
    response._has_been_logged = True  # Django's request logger would add a traceback
    return response
