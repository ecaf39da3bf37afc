"""Writing outbox rows: one INSERT, its SQL written once per vendor and row count.

A filing writes eleven rows in the request (the receipt and the queue's agents'
alerts). Django's ``bulk_create`` compiled that INSERT anew each time (about 200
values through the fields' preparation and the compiler, ~1.5-2.4 ms of a ~12 ms
filing; bench/FINDINGS.md, R-1). The statement is always the same shape, so it is
written once per (vendor, number of rows) and only the values change. A row whose
idempotency key is already there is left as it is (``ON CONFLICT DO NOTHING``,
SQLite's ``INSERT OR IGNORE``: what ``bulk_create(ignore_conflicts=True)`` says).

The context is written as the JSON text that ``sending`` made (one ``json.dumps``
per row, with Django's JSONField's own defaults, so the stored text is the one
Django would store). Other vendors keep ``bulk_create``.
"""

import functools
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

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
def insert_sql(vendor: str, count: int) -> str:
    """The INSERT of ``count`` rows on ``vendor`` (``postgresql`` or ``sqlite``)."""
    meta, quote = SentNotification._meta, connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in COLUMNS)
    marks = ["%s"] * len(COLUMNS)
    if vendor == "postgresql":
        marks[COLUMNS.index("context")] = "%s::jsonb"
    values = ", ".join([f"({', '.join(marks)})"] * count)
    table = quote(meta.db_table)
    # only the model's own table and column names, quoted; values are parameters
    if vendor == "postgresql":
        return (
            f"INSERT INTO {table} ({columns}) VALUES {values} "  # noqa: S608
            "ON CONFLICT DO NOTHING"
        )
    return f"INSERT OR IGNORE INTO {table} ({columns}) VALUES {values}"  # noqa: S608


def insert_rows(rows: list[Row]) -> None:
    """Write ``rows`` (keys written before keep their rows): one statement per
    ``CHUNK`` rows."""
    if not rows:
        return
    now = timezone.now()
    if connection.vendor not in ("postgresql", "sqlite"):
        _bulk_create(rows, now)
        return
    moment = connection.ops.adapt_datetimefield_value(now)
    pending = SentNotification.Status.PENDING.value
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
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
            cursor.execute(insert_sql(connection.vendor, len(chunk)), params)


def _bulk_create(rows: list[Row], now) -> None:  # pragma: no cover - other vendors
    import json

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
