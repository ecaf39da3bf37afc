"""A queue's ticket ids in one index, ``(queue_id, id)``, in place of the foreign key's
own ``(queue_id)`` (bench FINDINGS V-2, 2026-12-05).

An agent's exact count of the tickets they may see (``tickets.permissions.
count_visible``: the worked queues' tickets plus the granted ones outside them) had to
learn each granted ticket's queue from the ticket table (a probe per grant: agent0's
4,167 direct grants, ~12.6k buffers at 250k tickets, 4x at 1M). With the queue's ids
in an index, the grants inside the worked queues are found by one index-only pass over
the queue's entries, which the count reads anyway.

The new index leads with ``queue_id``, so it serves every lookup the foreign key's
index served (the queue's tickets, ``PROTECT`` on a queue's deletion); the old one is
dropped, so a filing still writes one entry for the queue. As in 0017: the state change
is ``AlterField(db_index=False)``; in the database only the index is dropped (both
databases name it alike), since Django's AlterField would drop and re-add the foreign
key constraint (SQLite: rebuild the table)."""

import django.db.models.deletion
from django.db import migrations, models

OLD_INDEX = "tickets_ticket_queue_id_0d3cb9ef"


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0020_reference_unique_constraint"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(fields=["queue", "id"], name="ticket_queue_id_idx"),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="ticket",
                    name="queue",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="tickets",
                        to="tickets.queue",
                        verbose_name="queue",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{OLD_INDEX}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{OLD_INDEX}" '
                    'ON "tickets_ticket" ("queue_id")',
                ),
            ],
        ),
    ]
