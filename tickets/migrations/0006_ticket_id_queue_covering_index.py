"""A covering index (id) INCLUDE (queue_id) on tickets, PostgreSQL only.

``tickets.permissions.count_visible`` counts an agent's granted tickets outside the
queues they work by probing each granted id for its queue; with the queue in the index
those probes are index-only (bench FINDINGS G-1: the count of an agent's 56k visible
tickets 19-20 ms → 15-16 ms). SQLite has no INCLUDE; its databases are small.
"""

from django.db import migrations

INDEX = "ticket_id_queue_covering_idx"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON tickets_ticket (id) INCLUDE (queue_id)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0005_reference_sequence")]

    operations = [migrations.RunPython(create_index, drop_index)]
