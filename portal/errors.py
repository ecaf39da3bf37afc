"""A friendly 503 when the database is unreachable, instead of a stack trace."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.views import defaults


class DatabaseUnavailableMiddleware:
    """Turns a lost database connection into a plain 503 page (no database access while
    rendering it) with Retry-After, for pages and the API alike."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        return database_unavailable(request, exception)


def server_error(request):
    """``handler500``. A database error raised in a middleware (the session or user
    lookup of a signed-in visitor) never reaches ``process_exception``; Django calls this
    while still handling it, so the outage gets the same friendly 503."""
    exception = sys.exc_info()[1]
    if isinstance(exception, OperationalError | InterfaceError):
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
