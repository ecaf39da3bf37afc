"""A hash index on ``tickets_ticket_search.ticket_id``, PostgreSQL only (bench FINDINGS
S-9, 2026-12-06).

Agent search ranks the 1,001 newest matches (``fulltext.rank``, ``ranked_ids``): for
each, the rank's subquery fetches the ticket's weighted document by ``ticket_id``. By
the primary key that is a descent of its three levels and the heap: ~4 buffers a
document, ~4,000 of the ids statement's ~6,200 (``?q=webhook``, 250k tickets). A hash
index finds the entry in one bucket page (its metapage is kept in the relation cache):
~2.25 buffers a document, and about 40 % less backend CPU for the fetch and rank of the
1,001. The planner chooses it by cost for the equality lookups by ticket (the rank,
the snippet's join, the phrase re-check); the primary key stays (``ON CONFLICT
(ticket_id)`` of ``tickets_search_refresh`` needs a unique index, which a hash index
cannot be). What the statements return does not change: only how a row is found.

Writes: a document's insert or update (never HOT: its GIN-indexed columns change)
adds one entry here, beside the primary key's and the GIN indexes'. SQLite (FTS5)
is unchanged."""

from django.db import migrations

INDEX = "tickets_ticket_search_ticket_hash"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON tickets_ticket_search "
            "USING hash (ticket_id)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0022_queue_group_rights_by_rule"),
    ]

    operations = [migrations.RunPython(create, drop)]
