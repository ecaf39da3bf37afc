"""Statements prepared on the PostgreSQL server, once per connection.

Django's psycopg cursors bind on the client side: each statement's values are
written into its text, and the server parses, analyses and plans every statement
anew. For the few statements run again and again on a kept connection (a filing's
INSERT, the session's user read, the outbox's claim) that is most of their cost on
the server. ``cursor(db, …)`` gives a cursor of ``db`` that sends the values apart
from the statement (server-side binding) and prepares each statement at its first
run on the connection (psycopg keeps them by text and parameter types,
``prepared_max`` of them): later runs skip the parse, and the plan is kept as
PostgreSQL's ``plan_cache_mode`` decides (``auto``: custom plans for the first five
runs, then the generic one where its estimated cost is no worse; ``generic``: the
generic plan at once, for the session). Only these cursors prepare: psycopg's
threshold is set only around their own statements, so the connection's other
cursors (Django's) never prepare or keep counts.

Not prepared (the cursor then binds on the server without preparing, or is
Django's own): with the caller's setting off (behind PgBouncer in transaction mode
without prepared-statement support), while Django logs the queries (``DEBUG``,
tests capturing them: psycopg keeps no text of a prepared statement's run for the
log), and elsewhere than PostgreSQL.

A prepared statement lives as long as its connection: a new connection (a reconnect,
``CONN_MAX_AGE``) prepares again; a ``ROLLBACK`` makes psycopg deallocate them all
(they are prepared again at their next run). A schema change that changes the type
of a column a prepared statement returns (``ALTER COLUMN … TYPE``, a longer
``varchar``) makes PostgreSQL refuse its next run ("cached plan must not change
result type"): psycopg then forgets the connection's statements and, outside a
transaction, the statement runs again, prepared anew; inside one the transaction is
lost (that request fails) and its rollback leaves the connection clean. No storm of
errors after a migration while servers run."""

import functools

from django.conf import settings
from psycopg import errors, pq

#: psycopg's ``prepare_threshold`` while one of these cursors runs a statement: a
#: count never reached, so only ``prepare=True`` prepares (None stops all preparing)
_ASKED_ONLY = 2**31 - 1

#: Where PostgreSQL refuses a prepared plan whose result type changed ("cached plan
#: must not change result type"): the server's function, whatever its language
_REVALIDATED = "RevalidateCachedQuery"


def web_prepares(db) -> bool:
    """Whether the web's hot statements are prepared on ``db``: PostgreSQL,
    ``WEB_PREPARED_STATEMENTS`` on, and a connection kept past its request
    (``CONN_MAX_AGE`` not 0: a connection closed after each request would prepare
    each statement again for one run, a round trip more for nothing)."""
    return (
        db.vendor == "postgresql"
        and settings.WEB_PREPARED_STATEMENTS
        and db.settings_dict.get("CONN_MAX_AGE") != 0
    )


def web_cursor(db):
    """``db.cursor()``, preparing where ``web_prepares(db)``: for a statement whose
    best plan does not depend on its values (a read by primary key, an INSERT).
    While Django logs the queries it is ``db.cursor()`` itself: the log holds the
    statements as they are without preparing (their values written in)."""
    if db.queries_logged or not web_prepares(db):
        return db.cursor()
    return cursor(db, prepared=True)


def cursor(db, *, prepared: bool, generic: bool = False):
    """A cursor of ``db`` (PostgreSQL, psycopg 3) that binds its values on the server
    and, with ``prepared`` (unless Django logs the queries), prepares each statement
    at its first run on the connection. ``generic``: the connection's session plans
    every prepared statement generically (``plan_cache_mode = force_generic_plan``,
    set once per connection; it applies to PL/pgSQL's cached plans too: the
    triggers'). Wrapped as ``db.cursor()`` wraps its cursors (errors, and the
    queries logged when they are), after the health check ``db.cursor()`` makes
    when one is due."""
    db.close_if_health_check_failed()
    db.ensure_connection()
    prepared = prepared and not db.queries_logged
    raw = db.connection
    with db.wrap_database_errors:  # a closed connection: Django's error
        if prepared and generic and getattr(raw, "_portal_generic", False) is False:
            raw.execute("SET plan_cache_mode = force_generic_plan")
            raw._portal_generic = True
        made = _cursor_class(prepared)(raw)
    return db.make_debug_cursor(made) if db.queries_logged else db.make_cursor(made)


@functools.cache
def _cursor_class(prepared: bool):
    """Server-bound cursors that prepare each statement (``prepared``) or never."""
    from django.db.backends.postgresql.base import ServerBindingCursor

    if not prepared:

        class ServerBound(ServerBindingCursor):
            def execute(self, query, params=None, *, prepare=None, binary=None):
                return super().execute(query, params, prepare=False, binary=binary)

        return ServerBound

    class Prepared(ServerBindingCursor):
        def execute(self, query, params=None, *, prepare=None, binary=None):
            manager = self._conn._prepared
            threshold = manager.prepare_threshold
            manager.prepare_threshold = _ASKED_ONLY
            try:
                return super().execute(query, params, prepare=True, binary=binary)
            except errors.FeatureNotSupported as error:
                if error.diag.source_function != _REVALIDATED:
                    raise
                _forget(manager)
                if self._conn.info.transaction_status != pq.TransactionStatus.IDLE:
                    raise  # the transaction is lost; its rollback deallocates
                return super().execute(query, params, prepare=True, binary=binary)
            finally:
                manager.prepare_threshold = threshold

    return Prepared


def _forget(manager) -> None:
    """psycopg forgets every statement it prepared on the connection, so that each is
    prepared anew at its next run (under a new name); the old ones stay on the
    server until the connection's next rollback or its end (no ``DEALLOCATE`` here:
    psycopg would send it after the next statement, dropping that one too)."""
    manager._names.clear()
    manager._counts.clear()
