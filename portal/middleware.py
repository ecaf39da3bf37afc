"""Benchmark-only instrumentation. Nothing here is installed unless the environment
asks for it (see the ``# --- portal ---`` settings section)."""

from contextlib import ExitStack

from django.db import connections

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
