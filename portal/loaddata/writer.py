"""Fast inserts for the load-data generator.

Rows are tuples of column values with ids assigned here, so that later tables can point
at earlier ones without reading them back. PostgreSQL gets ``COPY ... FROM STDIN``
(about ten times faster than ``bulk_create``); other databases (SQLite in tests) get
``bulk_create``. Sequences are moved past the explicit ids at the end.
"""

import json
from collections.abc import Iterable, Sequence

from django.core.management.color import no_style
from django.db import connections, models
from django.db.models import Max
from django.utils import timezone

BATCH = 5000


class BulkWriter:
    def __init__(self, using: str = "default"):
        self.using = using
        self.connection = connections[using]
        self.is_postgres = self.connection.vendor == "postgresql"
        self._next_id: dict[type[models.Model], int] = {}
        self._touched: set[type[models.Model]] = set()
        self.written: set[type[models.Model]] = set()

    def reserve_ids(self, model: type[models.Model], count: int) -> range:
        """``count`` fresh primary keys for ``model`` (above every existing one)."""
        if model not in self._next_id:
            highest = model.objects.using(self.using).aggregate(m=Max("pk"))["m"]
            self._next_id[model] = (highest or 0) + 1
        start = self._next_id[model]
        self._next_id[model] = start + count
        return range(start, start + count)

    def insert(
        self,
        model: type[models.Model],
        fields: Sequence[str],
        rows: Iterable[Sequence],
        progress=None,
    ) -> int:
        """Insert ``rows`` (tuples in the order of ``fields``, attnames such as
        ``user_id``) into ``model``'s table; returns the number of rows."""
        self._touched.add(model)
        self.written.add(model)
        if self.is_postgres:
            return self._copy(model, fields, rows, progress)
        return self._bulk_create(model, fields, rows, progress)

    def _copy(self, model, fields, rows, progress) -> int:
        opts = model._meta
        given = [opts.get_field(_field_name(opts, f)) for f in fields]
        # Columns the caller leaves out get the model's default, as bulk_create would
        # (Django keeps defaults in Python, not in the table, so COPY would write NULL).
        rest = [
            f
            for f in opts.concrete_fields
            if f.attname not in fields and not f.primary_key
        ]
        rest_values = [_default(f) for f in rest]
        all_fields = given + rest
        json_positions = [
            i for i, f in enumerate(all_fields) if isinstance(f, models.JSONField)
        ]
        quote = self.connection.ops.quote_name
        sql = (
            f"COPY {quote(opts.db_table)} "
            f"({', '.join(quote(f.column) for f in all_fields)}) FROM STDIN"
        )
        count = 0
        self.connection.ensure_connection()
        with self.connection.connection.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                row = [*row, *rest_values]
                for i in json_positions:
                    row[i] = json.dumps(row[i])
                copy.write_row(row)
                count += 1
                if progress is not None and count % 1000 == 0:
                    progress.update(1000)
        if progress is not None:
            progress.update(count % 1000)
        return count

    def _bulk_create(self, model, fields, rows, progress) -> int:
        manager = model._base_manager.using(self.using)
        batch, count = [], 0
        for row in rows:
            batch.append(model(**dict(zip(fields, row, strict=True))))
            if len(batch) >= BATCH:
                manager.bulk_create(batch)
                count += len(batch)
                if progress is not None:
                    progress.update(len(batch))
                batch = []
        if batch:
            manager.bulk_create(batch)
            count += len(batch)
            if progress is not None:
                progress.update(len(batch))
        return count

    def finish(self) -> None:
        """Move every touched table's id sequence past the ids given out here."""
        if not self._touched:
            return
        statements = self.connection.ops.sequence_reset_sql(
            no_style(), list(self._touched)
        )
        with self.connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
        self._touched.clear()


def _default(field):
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return timezone.now()
    return field.get_default()


def _field_name(opts, attname: str) -> str:
    for field in opts.concrete_fields:
        if field.attname == attname:
            return field.name
    return attname


def vacuum_analyze(writer: BulkWriter, also: tuple[str, ...] = ()) -> None:
    """Refresh planner statistics and visibility maps of the tables just filled, as
    autovacuum would on a live database; without them PostgreSQL misjudges the
    permission subqueries and cannot use index-only scans. ``also``: tables filled by
    triggers rather than by the writer (those that exist). PostgreSQL only, and outside
    any transaction."""
    if not writer.is_postgres:
        return
    quote = writer.connection.ops.quote_name
    tables = sorted(model._meta.db_table for model in writer.written)
    with writer.connection.cursor() as cursor:
        for table in also:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
            if cursor.fetchone()[0] and table not in tables:
                tables.append(table)
        for table in tables:
            cursor.execute(f"VACUUM (ANALYZE) {quote(table)}")
        cursor.execute("ANALYZE")  # the pages, search entries and small tables too
