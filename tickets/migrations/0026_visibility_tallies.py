# ruff: noqa: S608 - constant SQL (table names, the permission lookup), no input
"""Ticket numbers kept by triggers, for the support team's exact unnarrowed count
(bench FINDINGS G-8, 2026-12-06).

``permissions.count_visible`` of every ticket for an agent is |A ∪ B| (A: the tickets
of the queues they work; B: the tickets they hold ``view_ticket`` on by a row). Since
V-2 it read every index entry of A (a queue of 20 % of all tickets: 200k entries at
1M). Now |A| is the sum of ``tickets_queuetally``'s rows for the worked queues, and
|B \\ A| the sum of the user's ``tickets_granttally`` rows for the other queues: a few
rows each, whatever the number of tickets.

Kept by the database, in the writing statement's transaction (a rollback takes the
change with it), for every write path (the services, bulk updates, merges, deletes,
the load-data generator's COPY, raw SQL), on both databases:

* ``tickets_ticket``: insert (+1 for its queue), delete (-1 for its queue, and -1 for
  each user's ``view_ticket`` row still on it), ``queue_id`` change (-1 / +1 for the
  queue and for each such row). PostgreSQL: insert and delete per statement, from the
  transition tables (the generator's COPY: one call); the move per row, only when
  ``queue_id`` changed (``WHEN``: other updates do not call it); TRUNCATE empties both
  (by DELETE: a TRUNCATE inside the trigger fails when the same statement truncates
  the tallies too, as a test flush does).
* ``tickets_ticketuserobjectpermission`` (``view_ticket`` rows only): insert and delete
  ±1 for the ticket's queue, read from the ticket row: a grant deleted after its ticket
  (in the same transaction, the foreign key being deferred) finds no ticket and was
  counted off with it; an update counts the old row off and the new one on.
  A grant must be written after its ticket (every path does: the foreign key).

Rows are split by ``id % 16`` (``tallies.TALLY_SHARDS``), so concurrent filings into
one queue rarely wait for the same row lock. The backfill counts the tables as they
are, under a lock that keeps writers out until the triggers exist.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The ``view_ticket`` permission's id, read when a trigger runs (tests flush and
# recreate the permissions).
VIEW = (
    "(SELECT p.id FROM auth_permission p JOIN django_content_type c "
    "ON c.id = p.content_type_id WHERE p.codename = 'view_ticket' "
    "AND c.app_label = 'tickets' AND c.model = 'ticket')"
)
SHARDS = 16
QUEUE_UPSERT = (
    "ON CONFLICT (queue_id, shard) DO UPDATE SET tickets = q.tickets + EXCLUDED.tickets"
)
GRANT_UPSERT = (
    "ON CONFLICT (user_id, queue_id, shard) "
    "DO UPDATE SET tickets = g.tickets + EXCLUDED.tickets"
)
QUEUE_INTO = "INSERT INTO tickets_queuetally AS q (queue_id, shard, tickets)"
GRANT_INTO = "INSERT INTO tickets_granttally AS g (user_id, queue_id, shard, tickets)"


def _pg_queue(rows, sign):
    return (
        f"{QUEUE_INTO} SELECT queue_id, id % {SHARDS}, {sign}count(*) FROM {rows} "
        f"GROUP BY 1, 2 ORDER BY 1, 2 {QUEUE_UPSERT};"
    )


def _pg_grants_of_tickets(rows, sign):
    """The view rows on the tickets of ``rows`` (transition table) counted on or off."""
    return (
        f"{GRANT_INTO} SELECT p.user_id, t.queue_id, t.id % {SHARDS}, {sign}count(*) "
        f"FROM {rows} t JOIN tickets_ticketuserobjectpermission p "
        f"ON p.content_object_id = t.id WHERE p.permission_id = {VIEW} "
        f"GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 {GRANT_UPSERT};"
    )


def _pg_grants(rows, sign):
    """The view rows of ``rows`` (transition table) counted on or off their ticket's
    queue."""
    return (
        f"{GRANT_INTO} SELECT p.user_id, t.queue_id, t.id % {SHARDS}, {sign}count(*) "
        f"FROM {rows} p JOIN tickets_ticket t ON t.id = p.content_object_id "
        f"WHERE p.permission_id = {VIEW} "
        f"GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 {GRANT_UPSERT};"
    )


def _pg_function(name, body):
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{body}\nRETURN NULL;\nEND $$;\n"
    )


def _pg_moved():
    one = []
    for row, sign in (("OLD", "-"), ("NEW", "")):
        one.append(
            f"{QUEUE_INTO} VALUES ({row}.queue_id, {row}.id % {SHARDS}, {sign}1) "
            f"{QUEUE_UPSERT};"
        )
        one.append(
            f"{GRANT_INTO} SELECT p.user_id, {row}.queue_id, {row}.id % {SHARDS}, "
            f"{sign}1 FROM tickets_ticketuserobjectpermission p "
            f"WHERE p.content_object_id = {row}.id AND p.permission_id = {VIEW} "
            f"ORDER BY 1 {GRANT_UPSERT};"
        )
    return "\n".join(one)


PG_CREATE = (
    _pg_function("tickets_tally_tickets_inserted", _pg_queue("new_rows", ""))
    + _pg_function(
        "tickets_tally_tickets_deleted",
        _pg_queue("old_rows", "-") + "\n" + _pg_grants_of_tickets("old_rows", "-"),
    )
    + _pg_function("tickets_tally_ticket_moved", _pg_moved())
    + _pg_function(
        "tickets_tally_tickets_truncated",
        "DELETE FROM tickets_queuetally; DELETE FROM tickets_granttally;",
    )
    + _pg_function("tickets_tally_grants_inserted", _pg_grants("new_rows", ""))
    + _pg_function("tickets_tally_grants_deleted", _pg_grants("old_rows", "-"))
    + _pg_function(
        "tickets_tally_grants_updated",
        _pg_grants("old_rows", "-") + "\n" + _pg_grants("new_rows", ""),
    )
    + _pg_function("tickets_tally_grants_truncated", "DELETE FROM tickets_granttally;")
    + """
LOCK TABLE tickets_ticket, tickets_ticketuserobjectpermission IN SHARE ROW EXCLUSIVE MODE;
CREATE TRIGGER tickets_tally_tickets_inserted AFTER INSERT ON tickets_ticket
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tickets_tally_tickets_inserted();
CREATE TRIGGER tickets_tally_tickets_deleted AFTER DELETE ON tickets_ticket
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tickets_tally_tickets_deleted();
CREATE TRIGGER tickets_tally_ticket_moved AFTER UPDATE OF queue_id ON tickets_ticket
    FOR EACH ROW WHEN (OLD.queue_id IS DISTINCT FROM NEW.queue_id)
    EXECUTE FUNCTION tickets_tally_ticket_moved();
CREATE TRIGGER tickets_tally_tickets_truncated AFTER TRUNCATE ON tickets_ticket
    FOR EACH STATEMENT EXECUTE FUNCTION tickets_tally_tickets_truncated();
CREATE TRIGGER tickets_tally_grants_inserted
    AFTER INSERT ON tickets_ticketuserobjectpermission
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tickets_tally_grants_inserted();
CREATE TRIGGER tickets_tally_grants_deleted
    AFTER DELETE ON tickets_ticketuserobjectpermission
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tickets_tally_grants_deleted();
CREATE TRIGGER tickets_tally_grants_updated
    AFTER UPDATE ON tickets_ticketuserobjectpermission
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tickets_tally_grants_updated();
CREATE TRIGGER tickets_tally_grants_truncated
    AFTER TRUNCATE ON tickets_ticketuserobjectpermission
    FOR EACH STATEMENT EXECUTE FUNCTION tickets_tally_grants_truncated();
"""
)

PG_DROP = """
DROP TRIGGER IF EXISTS tickets_tally_tickets_inserted ON tickets_ticket;
DROP TRIGGER IF EXISTS tickets_tally_tickets_deleted ON tickets_ticket;
DROP TRIGGER IF EXISTS tickets_tally_ticket_moved ON tickets_ticket;
DROP TRIGGER IF EXISTS tickets_tally_tickets_truncated ON tickets_ticket;
DROP TRIGGER IF EXISTS tickets_tally_grants_inserted ON tickets_ticketuserobjectpermission;
DROP TRIGGER IF EXISTS tickets_tally_grants_deleted ON tickets_ticketuserobjectpermission;
DROP TRIGGER IF EXISTS tickets_tally_grants_updated ON tickets_ticketuserobjectpermission;
DROP TRIGGER IF EXISTS tickets_tally_grants_truncated
    ON tickets_ticketuserobjectpermission;
DROP FUNCTION IF EXISTS tickets_tally_tickets_inserted();
DROP FUNCTION IF EXISTS tickets_tally_tickets_deleted();
DROP FUNCTION IF EXISTS tickets_tally_ticket_moved();
DROP FUNCTION IF EXISTS tickets_tally_tickets_truncated();
DROP FUNCTION IF EXISTS tickets_tally_grants_inserted();
DROP FUNCTION IF EXISTS tickets_tally_grants_deleted();
DROP FUNCTION IF EXISTS tickets_tally_grants_updated();
DROP FUNCTION IF EXISTS tickets_tally_grants_truncated();
"""

# SQLite: row triggers (its upsert names the row ``tickets`` / ``excluded``).
SQ_QUEUE = (
    "INSERT INTO tickets_queuetally (queue_id, shard, tickets) VALUES ({row}.queue_id, "
    "{row}.id % 16, {sign}1) ON CONFLICT (queue_id, shard) "
    "DO UPDATE SET tickets = tickets + excluded.tickets;"
)
SQ_GRANT_UPSERT = (
    "ON CONFLICT (user_id, queue_id, shard) "
    "DO UPDATE SET tickets = tickets + excluded.tickets;"
)
SQ_GRANTS_OF_TICKET = (
    "INSERT INTO tickets_granttally (user_id, queue_id, shard, tickets) "
    "SELECT p.user_id, {row}.queue_id, {row}.id % 16, {sign}1 "
    "FROM tickets_ticketuserobjectpermission p WHERE p.content_object_id = {row}.id "
    f"AND p.permission_id = {VIEW} " + SQ_GRANT_UPSERT
)
SQ_GRANT = (
    "INSERT INTO tickets_granttally (user_id, queue_id, shard, tickets) "
    "SELECT {row}.user_id, t.queue_id, t.id % 16, {sign}1 FROM tickets_ticket t "
    f"WHERE t.id = {{row}}.content_object_id AND {{row}}.permission_id = {VIEW} "
    + SQ_GRANT_UPSERT
)


def _sq(name, event, body):
    return f"CREATE TRIGGER {name} {event} BEGIN {' '.join(body)} END;"


SQ_CREATE = [
    _sq(
        "tickets_tally_ticket_inserted",
        "AFTER INSERT ON tickets_ticket",
        [SQ_QUEUE.format(row="NEW", sign="")],
    ),
    _sq(
        "tickets_tally_ticket_deleted",
        "AFTER DELETE ON tickets_ticket",
        [
            SQ_QUEUE.format(row="OLD", sign="-"),
            SQ_GRANTS_OF_TICKET.format(row="OLD", sign="-"),
        ],
    ),
    _sq(
        "tickets_tally_ticket_moved",
        "AFTER UPDATE OF queue_id ON tickets_ticket "
        "WHEN OLD.queue_id IS NOT NEW.queue_id",
        [
            SQ_QUEUE.format(row="OLD", sign="-"),
            SQ_GRANTS_OF_TICKET.format(row="OLD", sign="-"),
            SQ_QUEUE.format(row="NEW", sign=""),
            SQ_GRANTS_OF_TICKET.format(row="NEW", sign=""),
        ],
    ),
    _sq(
        "tickets_tally_grant_inserted",
        "AFTER INSERT ON tickets_ticketuserobjectpermission",
        [SQ_GRANT.format(row="NEW", sign="")],
    ),
    _sq(
        "tickets_tally_grant_deleted",
        "AFTER DELETE ON tickets_ticketuserobjectpermission",
        [SQ_GRANT.format(row="OLD", sign="-")],
    ),
    _sq(
        "tickets_tally_grant_updated",
        "AFTER UPDATE ON tickets_ticketuserobjectpermission",
        [SQ_GRANT.format(row="OLD", sign="-"), SQ_GRANT.format(row="NEW", sign="")],
    ),
]
SQ_DROP = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "tickets_tally_ticket_inserted",
        "tickets_tally_ticket_deleted",
        "tickets_tally_ticket_moved",
        "tickets_tally_grant_inserted",
        "tickets_tally_grant_deleted",
        "tickets_tally_grant_updated",
    )
]

BACKFILL = [
    f"INSERT INTO tickets_queuetally (queue_id, shard, tickets) "
    f"SELECT queue_id, id % {SHARDS}, count(*) FROM tickets_ticket GROUP BY 1, 2",
    f"INSERT INTO tickets_granttally (user_id, queue_id, shard, tickets) "
    f"SELECT p.user_id, t.queue_id, t.id % {SHARDS}, count(*) "
    f"FROM tickets_ticketuserobjectpermission p "
    f"JOIN tickets_ticket t ON t.id = p.content_object_id "
    f"WHERE p.permission_id = {VIEW} GROUP BY 1, 2, 3",
]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_CREATE, None)
    elif vendor == "sqlite":
        for statement in SQ_CREATE:
            schema_editor.execute(statement, None)
    else:
        return
    for statement in BACKFILL:
        schema_editor.execute(statement, None)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DROP, None)
    elif vendor == "sqlite":
        for statement in SQ_DROP:
            schema_editor.execute(statement, None)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0025_ticket_row_staff_document"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="GrantTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("shard", models.SmallIntegerField()),
                ("tickets", models.BigIntegerField(default=0)),
                (
                    "queue",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="tickets.queue",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("user", "queue", "shard"),
                        name="tickets_grant_tally_unique",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="QueueTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("shard", models.SmallIntegerField()),
                ("tickets", models.BigIntegerField(default=0)),
                (
                    "queue",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="tickets.queue",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("queue", "shard"), name="tickets_queue_tally_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(create, drop),
    ]
