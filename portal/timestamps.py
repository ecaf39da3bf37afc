"""PostgreSQL ``timestamptz`` values read by psycopg's own loader where that gives
exactly what Django's loader gives.

Django's backend reads every ``timestamptz`` through ``BaseTzLoader``: psycopg's
pure-Python loader, then ``replace(tzinfo=connection.timezone)``, about eight Python
calls a value. psycopg's own loader (C, with psycopg's binary package) reads the value
in the session's time zone. The two agree, value and ``tzinfo`` object, when Django's
time zone is ``timezone.utc`` and the session's ``TimeZone`` is ``UTC`` (psycopg maps
that name to ``timezone.utc``), as Django sets it at connect. The loader is chosen per
cursor, when psycopg asks for it: where the session says anything else, Django's
loader reads the values as before.
"""

import functools
from datetime import UTC

from django.db.backends.signals import connection_created


def install() -> None:
    connection_created.connect(_connected, dispatch_uid="portal-timestamps")


def read_in_c(pgconn) -> bool:
    """Whether psycopg's own loader reads ``timestamptz`` on ``pgconn``'s session as
    Django's loader for ``timezone.utc`` does."""
    return pgconn is not None and pgconn.parameter_status(b"TimeZone") == b"UTC"


def _connected(sender, connection, **kwargs) -> None:
    if connection.vendor != "postgresql" or connection.timezone is not UTC:
        return
    oid, _own, loader = _loaders()
    connection.connection.adapters.register_loader(oid, loader)


@functools.cache
def _loaders():
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader
    from psycopg import adapt, adapters, postgres, pq

    oid = postgres.types["timestamptz"].oid
    own = adapters.get_loader(oid, pq.Format.TEXT)

    class DjangosUtcLoader(BaseTzLoader):
        timezone = UTC

    class UtcTimestamptzLoader(adapt.Loader):
        """psycopg's loader on a UTC session, else Django's (the class Django's
        backend compares by ``timezone`` before it registers its own per cursor)."""

        timezone = UTC

        def __new__(cls, oid, context=None):
            connection = context.connection if context is not None else None
            if read_in_c(connection.pgconn if connection is not None else None):
                return own(oid, context)
            return DjangosUtcLoader(oid, context)

    return oid, own, UtcTimestamptzLoader
