"""What every durable outbox shares (webhook deliveries, notification emails).

Over 400 lines on purpose: the claim in its two forms (one statement on PostgreSQL,
SELECT + UPDATE elsewhere) and the recording of outcomes share the lease and token rules.

A side effect that must not be lost is a row written in the transaction of the change
that causes it. A worker claims due rows for a while (a lease), delivers them outside
any transaction, then records the outcome; a failure is retried with exponential
backoff. This module holds the parts that do not depend on what is delivered:

* ``claim``: take due rows in one short transaction. On PostgreSQL the rows are
  selected ``FOR UPDATE SKIP LOCKED``, so concurrent workers take disjoint rows
  without waiting for each other; elsewhere (SQLite) the UPDATE repeats the due
  condition, so a row another worker claimed in between is not taken again (SQLite
  serialises writers, ``transaction_mode=IMMEDIATE`` in our settings).
  ``claim_rows`` is the same claim returning the rows themselves, read by the
  claim's own SELECT (one statement fewer than reading them again). ``KeptClaim``
  is ``claim_rows`` for due rows of one shape (the rows of a list of keys), its
  SELECT and UPDATE written once per database (``portal.sql.KeptStatement``)
  instead of compiled by Django for every claim.
* ``backoff``: the delay before the next attempt.
* ``record``: write one outcome right after its delivery, so that a worker killed
  in the middle of a claim leaves only the undelivered rows to deliver again. The
  commit does not wait for the disk (``synchronous_commit = off`` on PostgreSQL,
  ``synchronous = NORMAL`` with SQLite's WAL): it survives a killed worker, and only
  a crash of the database server itself may forget the last fraction of a second of
  outcomes (those rows are then delivered again: at least once). That is what keeps
  one commit per outcome cheap. Around the outcomes of one claim (``recording``), on
  PostgreSQL outside any transaction, each outcome is its single statement in its own
  autocommit transaction, which says itself that its commit does not wait
  (``NO_WAIT``): one round trip instead of four (BEGIN, SET LOCAL, the write,
  COMMIT), and the session's own setting is never changed. When the connection
  broke (a restarted database, a terminated backend) the write runs again on a new
  connection, so a short outage between delivering and recording does not make a
  second delivery either.

It imports no domain app.
"""

import functools
import inspect
import logging
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import timedelta
from typing import TypeVar

from django.conf import settings
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    InterfaceError,
    OperationalError,
    connection,
    connections,
    transaction,
)
from django.db.models import F, QuerySet
from django.db.models.expressions import RawSQL

from portal import prepared
from portal.sql import KeptStatement, ValueList

logger = logging.getLogger(__name__)

T = TypeVar("T")


def backoff(attempts: int, *, base: float, cap: float) -> timedelta:
    """Delay before the next attempt after ``attempts`` failed ones: ``base``,
    ``2 × base``, ``4 × base``, … at most ``cap`` (seconds)."""
    return timedelta(seconds=min(cap, base * 2 ** max(attempts - 1, 0)))


def _lockable(due: QuerySet) -> QuerySet:
    """``due`` read with its rows locked where the database can skip rows another
    worker holds (PostgreSQL); as it is elsewhere (see the module's docstring)."""
    if connection.features.has_select_for_update_skip_locked:
        return due.select_for_update(skip_locked=True, of=("self",))
    return due


def claim(due: QuerySet, *, limit: int, **updates) -> list:
    """Claim up to ``limit`` rows of ``due`` (ordered as the caller wants them
    delivered) by applying ``updates`` to them, e.g. a lease and ``attempts + 1``.
    Returns the primary keys that this call claimed, in order."""
    with transaction.atomic():
        ids = list(_lockable(due).values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        # Conditional: a row that stopped being due since the SELECT stays unclaimed.
        due.order_by().filter(pk__in=ids).update(**updates)
    return ids


def claim_rows(due: QuerySet, *, limit: int, increment=(), **updates) -> list:
    """As ``claim``, but returns the claimed model instances, read (with ``due``'s
    ``select_related``) by the claim's SELECT itself and given the values written:
    ``updates`` as they are (plain values) and each field named in ``increment``
    plus one. Rows the conditional UPDATE left unclaimed (no longer due) are left
    out; only then are the claimed ones looked up again (by the plain values, which
    must include a token only this claim wrote)."""
    writes = {**updates, **{name: F(name) + 1 for name in increment}}
    with transaction.atomic():
        rows = list(_lockable(due)[:limit])
        if not rows:
            return []
        ids = [row.pk for row in rows]
        count = due.order_by().filter(pk__in=ids).update(**writes)
        rows = _taken(rows, count, due.model, ids, updates)
    return _written(rows, updates, increment)


def _taken(rows: list, count: int, model, ids: list, updates: dict) -> list:
    if count == len(rows):
        return rows
    # some stopped being due since the SELECT: the rows with this claim's values
    taken = set(
        model._base_manager.filter(pk__in=ids, **updates).values_list("pk", flat=True)
    )
    return [row for row in rows if row.pk in taken]


def _written(rows: list, updates: dict, increment) -> list:
    if rows and _plain(rows[0].__class__, (*updates, *increment)):
        # plain attributes (no descriptor of their own): their ``__dict__`` entries
        for row in rows:
            values = row.__dict__
            values.update(updates)
            for name in increment:
                if name in values:
                    values[name] += 1
                else:  # deferred: read as ``getattr`` reads it
                    values[name] = getattr(row, name) + 1
        return rows
    for row in rows:
        for name, value in updates.items():
            setattr(row, name, value)
        for name in increment:
            setattr(row, name, getattr(row, name) + 1)
    return rows


@functools.cache
def _plain(model, names: tuple) -> bool:
    """Whether setting each of ``names`` on a ``model`` instance only stores it in the
    instance's ``__dict__``: a field's own non-data descriptor (``DeferredAttribute``)
    or nothing, never a property or a descriptor that keeps more."""
    return all(
        not hasattr(inspect.getattr_static(model, name, None), "__set__")
        for name in names
    )


#: the name of the rows a one-statement claim locked, and of their key (``_single``)
_LOCKED, _LOCKED_ID = '"claim_locked"', '"locked_id"'
_LOCKED_IDS = f"SELECT {_LOCKED_ID} FROM {_LOCKED}"  # noqa: S608


class KeptClaim:
    """``claim_rows`` for the rows ``due(**values)`` selects (a queryset of one
    shape, the rows of a list of keys say, with its ``select_related``), its SELECT
    and its conditional UPDATE written once per database as ``KeptStatement``s.
    ``variables``, ``datetimes`` and ``lists`` are the ``KeptStatement``'s (``due``
    puts a list variable in a ``portal.sql.ValueList``). No limit: the variables
    bound the rows (a job's keys). ``claim(values, **updates)`` writes ``updates``
    (the fields named in ``writes``, those in ``write_datetimes`` aware datetimes)
    and adds one to each field in ``increment``, exactly as ``claim_rows(due, …)``
    does, and returns the same instances."""

    def __init__(
        self,
        due: Callable[..., QuerySet],
        variables: tuple[str, ...],
        *,
        datetimes=(),
        lists=(),
        writes=(),
        write_datetimes=(),
        increment=(),
    ):
        self.variables, self.writes = tuple(variables), tuple(writes)
        self.increment = tuple(increment)
        clash = {*self.variables} & {"ids", *(f"set_{n}" for n in self.writes)}
        if clash:
            raise ValueError(f"KeptClaim: variables {sorted(clash)} are reserved")

        def claimed(ids, **values):
            queryset = due(**{name: values[name] for name in self.variables})
            pk = queryset.model._meta.pk
            return queryset.order_by().filter(pk__in=ValueList(ids, output_field=pk))

        def update(**values):
            return {
                **{name: values[f"set_{name}"] for name in self.writes},
                **{name: F(name) + 1 for name in self.increment},
            }

        self._select = KeptStatement(
            lambda **values: _lockable(due(**values)),
            self.variables,
            datetimes=datetimes,
            lists=lists,
        )
        self._update = KeptStatement(
            claimed,
            (*self.variables, "ids", *(f"set_{n}" for n in self.writes)),
            datetimes=(*datetimes, *(f"set_{n}" for n in write_datetimes)),
            lists=(*lists, "ids"),
            update=update,
        )

        self._model = None  # ``due``'s, known once ``_lock`` is compiled

        def lock(**values):
            queryset = due(**values)
            self._model = queryset.model  # compiled before ``locked`` (``_single``)
            return _lockable(queryset).values_list("pk")

        def locked(**values):
            model = self._model
            # constant names of this module, no value: nothing to inject
            ids = RawSQL(_LOCKED_IDS, (), output_field=model._meta.pk)  # noqa: S611
            # the rows the same statement locked, due when it locked them (a row
            # changed since the statement's snapshot is locked as it is now, and
            # only if still due: PostgreSQL reads the condition again); locked,
            # they stay so until the UPDATE: the condition is not repeated
            return model._base_manager.filter(pk__in=ids)

        # PostgreSQL (``_single``): the due rows locked, the UPDATE of those rows
        self._lock = KeptStatement(
            lock,
            self.variables,
            datetimes=datetimes,
            lists=lists,
        )
        self._locked = KeptStatement(
            locked,
            tuple(f"set_{n}" for n in self.writes),
            datetimes=tuple(f"set_{n}" for n in write_datetimes),
            update=update,
        )
        self._single_sql = {}

    def claim(self, values: dict, **updates) -> list:
        if set(updates) != set(self.writes):
            raise ValueError(f"KeptClaim: writes {sorted(self.writes)}")
        single = self._single(DEFAULT_DB_ALIAS)
        if single is not None:
            lock, params = self._lock.statement(**values)
            update, more = self._locked.statement(
                **{f"set_{n}": v for n, v in updates.items()}
            )
            with transaction.mark_for_rollback_on_error():
                with prepared_cursor(connection) as cursor:
                    cursor.execute(single.format(lock, update), params + more)
                    rows = cursor.fetchall()
            return self._select.instances_of(rows)
        with transaction.atomic():
            rows = self._select.instances(**values)
            if not rows:
                return []
            ids = [row.pk for row in rows]
            count = self._update.updated(
                **values, ids=ids, **{f"set_{n}": v for n, v in updates.items()}
            )
            model = rows[0].__class__
            rows = _taken(rows, count, model, ids, updates)
        return _written(rows, updates, self.increment)

    def _single(self, alias: str) -> str | None:
        """On PostgreSQL, the claim as one statement (its own transaction in
        autocommit: no BEGIN and COMMIT round trips): the UPDATE, by their ids, of
        the due rows that its first part locks (``FOR UPDATE SKIP LOCKED``, so
        concurrent claims take disjoint rows without waiting; the due condition is
        read there only), returning the rows as written,
        read with their ``select_related`` rows in ``due``'s order by the kept
        SELECT's own columns (so ``instances_of`` makes them). The ``WITH`` part
        bears the table's name: the SELECT's column names read the written rows.
        None elsewhere (SQLite: the SELECT then the UPDATE), or if the SELECT's
        columns are not those of the plain read of the same rows."""
        known = self._single_sql.get(alias, ...)
        if known is not ...:
            return known
        known = None
        if connections[alias].vendor == "postgresql":
            unset = {name: None for name in self.variables}
            writes = {f"set_{name}": None for name in self.writes}
            # Django compiles ``select_for_update`` only inside a transaction (no
            # statement runs: no savepoint needed)
            with transaction.atomic(using=alias, savepoint=False):
                select, _ = self._select.statement(alias, **unset)
                lock, _ = self._lock.statement(alias, **unset)
                self._locked.statement(alias, **writes)
            queryset = self._select._compilers[alias][0]
            query = queryset.query.clone()
            query.where = query.where.__class__()
            query.select_for_update = False
            read, params = query.get_compiler(using=alias).as_sql()
            head = read.split(" ORDER BY ")[0]
            if not params and select.startswith(f"{head} WHERE "):
                table = connections[alias].ops.quote_name(queryset.model._meta.db_table)
                read = read.replace("{", "{{").replace("}", "}}")
                # locked once (a materialised part, not a subquery rescanned per row)
                known = (
                    f"WITH {_LOCKED}({_LOCKED_ID}) AS MATERIALIZED ({{}}), "
                    f"{table} AS ({{}} RETURNING *) {read}"
                )
        self._single_sql[alias] = known
        return known

    def forget(self) -> None:
        """Compile again at the next use (tests that change the database vendor)."""
        self._select.forget()
        self._update.forget()
        self._lock.forget()
        self._locked.forget()
        self._single_sql.clear()


_recording = threading.local()

#: A condition for the WHERE of an outcome's write on PostgreSQL (always true) that
#: makes the statement's own transaction commit without waiting for the disk:
#: ``set_config(…, true)`` is ``SET LOCAL``, which lasts until the end of the
#: transaction (in autocommit, the statement's), its commit included; the session
#: keeps its setting. Evaluated only for a row the rest of the condition found: a
#: write that finds none commits nothing. Inside an outer transaction it applies to
#: that transaction's commit, as ``record``'s ``SET LOCAL`` does.
NO_WAIT = "set_config('synchronous_commit', 'off', true) IS NOT NULL"


@contextmanager
def recording():
    """Around the ``record`` calls of one claim. On PostgreSQL in autocommit each
    ``record`` is its one statement, its own transaction, on one cursor kept for the
    run (not a new cursor per outcome); its statement carries ``NO_WAIT`` so that its
    commit does not wait for the disk (without it, it waits: durable, slower). The
    session's settings are left alone. Elsewhere (SQLite, inside an outer
    transaction) ``record`` works as without it. Yields whether each ``record`` is
    its own transaction on that kept cursor (then one ``record`` may write several
    rows' outcomes at once)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield False
        return
    cursor = prepared_cursor(connection)
    _recording.raw, _recording.cursor = connection.connection, cursor
    _recording.db = connections[DEFAULT_DB_ALIAS]  # what ``connection`` stands for
    try:
        yield True
    finally:
        _recording.raw = _recording.cursor = _recording.db = None
        try:
            cursor.close()
        except (OperationalError, InterfaceError):
            pass  # its connection is gone already


def checked_by_use(write: Callable[[], T]) -> T:
    """Run ``write`` (one short statement or transaction, safe to run again: a
    claim) as the connection's health check. Outside a transaction, on a connection
    Django would check first (``CONN_HEALTH_CHECKS``: a ``SELECT 1`` round trip
    before the first statement of every job, the django-q2 worker marking its
    connection unchecked before each), the check is left out: if ``write`` fails on
    a connection that the check would have found unusable, the connection is closed
    and ``write`` runs once more on a new one, as after a failed check. A failure on
    a usable connection is raised. Elsewhere ``write`` runs as it is."""
    db = connections[DEFAULT_DB_ALIAS]
    if (
        db.connection is None
        or db.in_atomic_block
        or not db.health_check_enabled
        or getattr(db, "health_check_done", True)
    ):
        return write()
    db.health_check_done = True
    try:
        return write()
    except (OperationalError, InterfaceError) as error:
        if db.in_atomic_block or (db.connection is not None and db.is_usable()):
            raise
        logger.warning("Database connection lost (%s); reconnecting", error)
        db.close()
    return write()


def prepared_cursor(db):
    """A cursor of ``db`` (PostgreSQL, psycopg 3) for the worker's few statements
    run again and again (a claim, an outcome): bound on the server (the same small
    UPDATE run many times costs no quoting of each value in Python) and, with
    ``OUTBOX_PREPARED_STATEMENTS`` (the default), prepared at its first run on the
    connection and planned once for all (the session's ``plan_cache_mode =
    force_generic_plan``: a claim's generic plan takes 0.04 ms to make, against
    0.3 ms for the plan made for each claim's keys, which PostgreSQL keeps choosing:
    it costs the generic one for ten keys). ``portal.prepared.cursor`` says the
    rest (when nothing is prepared, a schema change). Turn it off behind PgBouncer
    in transaction mode older than 1.21 or without ``max_prepared_statements``."""
    return prepared.cursor(
        db, prepared=settings.OUTBOX_PREPARED_STATEMENTS, generic=True
    )


def record(write: Callable[[object], T]) -> T:
    """Run ``write(cursor)`` (one small UPDATE on the cursor given) in its own
    transaction whose commit does not wait for the disk (within ``recording`` on
    PostgreSQL: the UPDATE's ``NO_WAIT``), again on a new connection if the
    connection failed."""

    def cheap_transaction():
        raw = getattr(_recording, "raw", None)
        if raw is not None:
            # the same connection object for the thread (a reconnect replaces its
            # ``connection``, not the object)
            db = _recording.db
            if db.connection is raw and not db.in_atomic_block:
                # autocommit: its own transaction, already asynchronous
                return write(_recording.cursor)
        if connection.vendor == "sqlite" and not connection.in_atomic_block:
            with connection.cursor() as cursor:  # per connection; WAL stays safe
                cursor.execute("PRAGMA synchronous = NORMAL")
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL synchronous_commit = off")
            return write(cursor)

    return retry_on_disconnect(cheap_transaction)


def retry_on_disconnect(
    write: Callable[[], T], *, attempts: int = 5, delay: float = 0.5
) -> T:
    """Run ``write`` (one short transaction of its own), again on a new connection
    when the database connection failed, waiting ``delay``, ``2 × delay``, … between
    tries. Inside an outer transaction it runs once: reconnecting would lose it."""
    for attempt in range(1, attempts + 1):
        try:
            return write()
        except (OperationalError, InterfaceError) as error:
            if connection.in_atomic_block or attempt == attempts:
                raise
            logger.warning("Database write failed (%s); reconnecting", error)
            connection.close()
            time.sleep(delay * 2 ** (attempt - 1))
    raise DatabaseError("unreachable")  # pragma: no cover
