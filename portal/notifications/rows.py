"""Writing outbox rows: one INSERT, its SQL written once per vendor (and row count).

A filing writes eleven rows in the request (the receipt and the queue's agents'
alerts). Django's ``bulk_create`` compiled that INSERT anew each time (about 200
values through the fields' preparation and the compiler, ~1.5-2.4 ms of a ~12 ms
filing; bench/FINDINGS.md, R-1). The statement is always the same shape, so it is
written once (SQLite: once per number of rows) and only the values change. A row whose
idempotency key is already there is left as it is (``ON CONFLICT DO NOTHING``,
SQLite's ``INSERT OR IGNORE``: what ``bulk_create(ignore_conflicts=True)`` says).

On PostgreSQL the rows go as one JSON parameter (``json_to_recordset``): the
statement is the same text for any number of rows, with four parameters, so psycopg
keeps its parsing of it (it parses a statement of more than 50 parameters anew on
every execution: eleven rows of fifteen values cost ~2,000 Python calls a filing),
and the values are dumped by one ``json.dumps`` rather than one adapter each (or
psycopg's array dumper, as costly).

The context is written as the JSON text that ``sending`` made (one ``json.dumps``
per row, with Django's JSONField's own defaults, so the stored text is the one
Django would store). Other vendors keep ``bulk_create``.
"""

import functools
import json
from dataclasses import dataclass, fields

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from portal import prepared

from .models import SentNotification

#: The columns written; the others (claimed_at, claimed_until, sent_at) stay NULL.
COLUMNS = (
    "idempotency_key",
    "kind",
    "recipient",
    "to_email",
    "locale",
    "context",
    "actor_id",
    "preference",
    "subject",
    "status",
    "attempts",
    "next_attempt_at",
    "claim_token",
    "last_error",
    "created_at",
)

_PENDING = SentNotification.Status.PENDING.value

#: Rows per statement: 15 parameters each stay far below SQLite's variable limit.
CHUNK = 200


@dataclass(frozen=True)
class Row:
    """One email to write: ``context_json`` is the context as JSON text."""

    idempotency_key: str
    kind: str
    recipient_id: int | None
    to_email: str
    locale: str
    context_json: str
    actor_id: int | None
    preference: str


@functools.cache
def insert_sql(count: int) -> str:
    """SQLite's INSERT of ``count`` rows."""
    meta, quote = SentNotification._meta, connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in COLUMNS)
    values = ", ".join([f"({', '.join(['%s'] * len(COLUMNS))})"] * count)
    table = quote(meta.db_table)
    # only the model's own table and column names, quoted; values are parameters
    return f"INSERT OR IGNORE INTO {table} ({columns}) VALUES {values}"  # noqa: S608


#: The columns that differ per row, in ``Row``'s order; the others are the same for
#: every row of a statement.
VARYING = COLUMNS[: len(fields(Row))]


@functools.cache
def recordset_sql() -> str:
    """PostgreSQL's INSERT of any number of rows: the status and the moment (twice),
    then the rows as one JSON array of ``Row``'s fields, read in their order (each
    column typed as Django types it for ``bulk_create``'s ``UNNEST``, the context as
    its JSON text); the constant columns as the other statement writes them."""
    meta, quote = SentNotification._meta, connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in COLUMNS)
    names = [field.name for field in fields(Row)]
    types = [
        "text"
        if column == "context"
        else meta.get_field(column).db_type(connection).split("(")[0]
        for column in VARYING
    ]
    read = ", ".join(
        f"r.{name}::jsonb" if name == "context_json" else f"r.{name}" for name in names
    )
    defined = ", ".join(
        f"{name} {kind}" for name, kind in zip(names, types, strict=True)
    )
    # subject, status, attempts, next_attempt_at, claim_token, last_error, created_at
    constants = "'', %s, 0, %s, '', '', %s"
    table = quote(meta.db_table)
    # only the model's own table, column names and types; values are parameters
    return (
        f"INSERT INTO {table} ({columns}) SELECT {read}, {constants} "  # noqa: S608
        f"FROM ROWS FROM (json_to_recordset(%s) AS ({defined})) "
        f"WITH ORDINALITY AS r({', '.join(names)}, n) ORDER BY r.n "
        "ON CONFLICT DO NOTHING"
    )


def insert_rows(rows: list[Row]) -> None:
    """Write ``rows`` (keys written before keep their rows): one statement per
    ``CHUNK`` rows."""
    if not rows:
        return
    now = timezone.now()
    # the default connection itself, not ``connection``'s proxy (a thread-local
    # lookup on each of its attributes)
    database = connections[DEFAULT_DB_ALIAS]
    vendor = database.vendor
    if vendor not in ("postgresql", "sqlite"):
        _bulk_create(rows, now)
        return
    moment = database.ops.adapt_datetimefield_value(now)
    pending = _PENDING
    # one INSERT, prepared on the server once per connection where it may be
    with prepared.web_cursor(database) as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            if vendor == "postgresql":
                # the rows' own fields (a frozen dataclass's ``__dict__``), as text
                # psycopg quotes as one value; a lone surrogate fails as before
                data = json.dumps([row.__dict__ for row in chunk], ensure_ascii=False)
                cursor.execute(recordset_sql(), [pending, moment, moment, data])
                continue
            params = []
            for row in chunk:
                params += (
                    row.idempotency_key,
                    row.kind,
                    row.recipient_id,
                    row.to_email,
                    row.locale,
                    row.context_json,
                    row.actor_id,
                    row.preference,
                    "",
                    pending,
                    0,
                    moment,
                    "",
                    "",
                    moment,
                )
            cursor.execute(insert_sql(len(chunk)), params)


def _bulk_create(rows: list[Row], now) -> None:  # pragma: no cover - other vendors
    SentNotification.objects.bulk_create(
        [
            SentNotification(
                idempotency_key=row.idempotency_key,
                kind=row.kind,
                recipient_id=row.recipient_id,
                to_email=row.to_email,
                locale=row.locale,
                context=json.loads(row.context_json),
                actor_id=row.actor_id,
                preference=row.preference,
                next_attempt_at=now,
                created_at=now,
            )
            for row in rows
        ],
        ignore_conflicts=True,
    )
