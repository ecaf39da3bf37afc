"""One middleware for what operators see of each request: its request id (from a
trusted proxy's ``X-Request-ID`` or made here, returned in the response), one log line
(method, path, route, status, duration, user id, SQL statements) and its metrics.

It sits first in ``MIDDLEWARE`` so that it times and counts everything else, including
responses other middleware produce (a 503 during a database outage, a redirect).
"""

import logging
import os
import re
import time

from django.conf import settings
from django.db import connection
from django.utils.functional import empty

from . import logs, metrics

logger = logging.getLogger("portal.request")

HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
UNMATCHED = "<unmatched>"


def request_id_for(request) -> str:
    """The proxy's ``X-Request-ID`` when proxies are trusted (``LOG_TRUST_REQUEST_ID``,
    on when ``ACCOUNTS_TRUSTED_PROXY_COUNT`` > 0) and it looks like an id; otherwise a
    new one. A client alone cannot choose the id that lands in the logs."""
    if getattr(settings, "LOG_TRUST_REQUEST_ID", False):
        given = request.headers.get(HEADER, "")
        if _VALID_ID.match(given):
            return given
    return os.urandom(16).hex()


def _route(request) -> str:
    """The URL pattern, not the path: a bounded set of metric labels."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED
    return match.route or match.view_name or UNMATCHED


def _user_id(request):
    """The signed-in user's id, if something already looked the user up: reading
    ``request.user`` here would cost a session read on pages that never needed it."""
    user = getattr(request, "user", None)
    wrapped = getattr(user, "_wrapped", user)
    if wrapped is None or wrapped is empty:
        return None
    return wrapped.pk if getattr(wrapped, "is_authenticated", False) else None


class RequestObservabilityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_for(request)
        request.request_id = request_id
        token = logs.context.set({"request_id": request_id})
        queries = 0

        def count(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        # connection.execute_wrapper() without its context manager's overhead
        wrappers = connection.execute_wrappers
        wrappers.append(count)
        try:
            try:
                response = self.get_response(request)
            finally:
                wrappers.remove(count)
            seconds = time.perf_counter() - started
            response[HEADER] = request_id
            route = _route(request)
            user_id = _user_id(request)
            metrics.observe_request(
                route, request.method, response.status_code, seconds, queries
            )
            self._log(request, response, route, user_id, seconds, queries)
            return response
        finally:
            logs.context.reset(token)

    def _log(self, request, response, route, user_id, seconds, queries):
        status = response.status_code
        level = logging.ERROR if status >= 500 else logging.INFO
        if not logger.isEnabledFor(level):  # REQUEST_LOG=off, LOG_LEVEL=WARNING
            return
        fields = {
            "request_id": request.request_id,
            "method": request.method,
            "path": request.path,
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
            "user_id": user_id,
            "db_queries": queries,
        }
        reason = getattr(request, "log_reason", None)  # e.g. "database_unavailable"
        if reason:
            fields["reason"] = reason
        logs.log_fields(
            logger,
            level,
            "%s %s %s",
            (request.method, request.path, status),
            fields,
            __file__,
            "_log",
        )
