# ruff: noqa: S608 - constant SQL (table names, the permission lookup), no input
"""``GrantTally`` kept for the users who work a queue only (bench FINDINGS P2-G8,
2026-12-07): a customer's filing no longer upserts a row of theirs.

0026 counted every user's ``view_ticket`` rows, though only the support team's count
reads them (``permissions._whole_table_count``): at 250k tickets 215k of the 216k rows
were customers', and each filing upserted one (a row lock until the commit, a new
tuple). Now the grant and ticket triggers count the rows of the users listed in
``tickets_tallieduser`` only. A user is listed, and their rows counted from the
grants as they are, when they join a queue's agent group or their group becomes a
queue's (triggers on the membership and queue tables, whatever writes them), under the
lock that keeps ticket and grant writers out, so nothing is counted twice or missed.
A user is never unlisted (leaving a queue keeps their numbers exact, only kept).

The count reads the tallies only for a listed user; for any other it counts the
grants themselves (V-2's form), so it is exact whoever is listed.
"""

import importlib

from django.conf import settings
from django.db import migrations, models

T0026 = importlib.import_module("tickets.migrations.0026_visibility_tallies")
VIEW, SHARDS = T0026.VIEW, T0026.SHARDS
GRANT_INTO, GRANT_UPSERT = T0026.GRANT_INTO, T0026.GRANT_UPSERT
MEMBERS = "accounts_user_groups"  # ``AUTH_USER_MODEL``'s groups (accounts.User)
LISTED = "EXISTS (SELECT 1 FROM tickets_tallieduser u WHERE u.user_id = {user})"


def _pg_grants(rows, sign, joined):
    """``rows``' view rows of listed users counted on or off: ``joined`` False for
    grant rows (their ticket read), True for ticket rows (their grants read)."""
    source = (
        f"FROM {rows} t JOIN tickets_ticketuserobjectpermission p "
        "ON p.content_object_id = t.id"
        if joined
        else f"FROM {rows} p JOIN tickets_ticket t ON t.id = p.content_object_id"
    )
    return (
        f"{GRANT_INTO} SELECT p.user_id, t.queue_id, t.id % {SHARDS}, {sign}count(*) "
        f"{source} WHERE p.permission_id = {VIEW} AND {LISTED.format(user='p.user_id')} "
        f"GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 {GRANT_UPSERT};"
    )


def _pg_moved():
    one = []
    for row, sign in (("OLD", "-"), ("NEW", "")):
        one.append(
            f"{T0026.QUEUE_INTO} VALUES ({row}.queue_id, {row}.id % {SHARDS}, "
            f"{sign}1) {T0026.QUEUE_UPSERT};"
        )
        one.append(
            f"{GRANT_INTO} SELECT p.user_id, {row}.queue_id, {row}.id % {SHARDS}, "
            f"{sign}1 FROM tickets_ticketuserobjectpermission p "
            f"WHERE p.content_object_id = {row}.id AND p.permission_id = {VIEW} "
            f"AND {LISTED.format(user='p.user_id')} ORDER BY 1 {GRANT_UPSERT};"
        )
    return "\n".join(one)


# ``tickets_tally_users(ids)``: the users of ``ids`` not listed yet are listed and
# their view rows counted, under the lock that keeps every ticket and grant writer
# out until the commit (each statement here sees what those committed first).
PG_TALLY_USERS = f"""
CREATE OR REPLACE FUNCTION tickets_tally_users(ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE listed bigint[];
BEGIN
IF cardinality(ids) = 0 THEN RETURN; END IF;
LOCK TABLE tickets_ticket, tickets_ticketuserobjectpermission
    IN SHARE ROW EXCLUSIVE MODE;
WITH made AS (
    INSERT INTO tickets_tallieduser (user_id) SELECT DISTINCT i FROM unnest(ids) i
    ORDER BY 1 ON CONFLICT DO NOTHING RETURNING user_id
) SELECT array_agg(user_id) INTO listed FROM made;
IF listed IS NULL THEN RETURN; END IF;
DELETE FROM tickets_granttally WHERE user_id = ANY (listed);
{GRANT_INTO} SELECT p.user_id, t.queue_id, t.id % {SHARDS}, count(*)
FROM tickets_ticketuserobjectpermission p
JOIN tickets_ticket t ON t.id = p.content_object_id
WHERE p.user_id = ANY (listed) AND p.permission_id = {VIEW}
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
END $$;
"""
NOT_LISTED = "NOT " + LISTED
PG_CREATE = (
    PG_TALLY_USERS
    + T0026._pg_function(
        "tickets_tally_tickets_deleted",
        T0026._pg_queue("old_rows", "-") + "\n" + _pg_grants("old_rows", "-", True),
    )
    + T0026._pg_function("tickets_tally_ticket_moved", _pg_moved())
    + T0026._pg_function(
        "tickets_tally_grants_inserted", _pg_grants("new_rows", "", False)
    )
    + T0026._pg_function(
        "tickets_tally_grants_deleted", _pg_grants("old_rows", "-", False)
    )
    + T0026._pg_function(
        "tickets_tally_grants_updated",
        _pg_grants("old_rows", "-", False) + "\n" + _pg_grants("new_rows", "", False),
    )
    + T0026._pg_function(
        "tickets_tally_members_added",
        "PERFORM tickets_tally_users(ARRAY(SELECT n.user_id FROM new_rows n "
        "JOIN tickets_queue q ON q.agent_group_id = n.group_id "
        f"WHERE {NOT_LISTED.format(user='n.user_id')}));",
    )
    + T0026._pg_function(
        "tickets_tally_queue_group",
        f"PERFORM tickets_tally_users(ARRAY(SELECT m.user_id FROM {MEMBERS} m "
        f"WHERE m.group_id = NEW.agent_group_id "
        f"AND {NOT_LISTED.format(user='m.user_id')}));",
    )
    + f"""
CREATE TRIGGER tickets_tally_members_added AFTER INSERT ON {MEMBERS}
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tickets_tally_members_added();
CREATE TRIGGER tickets_tally_queue_group AFTER INSERT OR UPDATE OF agent_group_id
    ON tickets_queue FOR EACH ROW EXECUTE FUNCTION tickets_tally_queue_group();
"""
)
PG_DROP = f"""
DROP TRIGGER IF EXISTS tickets_tally_members_added ON {MEMBERS};
DROP TRIGGER IF EXISTS tickets_tally_queue_group ON tickets_queue;
DROP FUNCTION IF EXISTS tickets_tally_members_added();
DROP FUNCTION IF EXISTS tickets_tally_queue_group();
DROP FUNCTION IF EXISTS tickets_tally_users(bigint[]);
"""
# every tally trigger and function (bench/tally_filing.py's variants start from none)
PG_DROP_ALL = PG_DROP + T0026.PG_DROP

# SQLite: row triggers (one writer at a time: no lock needed).
SQ_LISTED = LISTED.replace("{user}", "{row}.user_id")
SQ_GRANTS_OF_TICKET = T0026.SQ_GRANTS_OF_TICKET.replace(
    "ON CONFLICT", "AND " + LISTED.format(user="p.user_id") + " ON CONFLICT"
)
SQ_GRANT = T0026.SQ_GRANT.replace(
    "ON CONFLICT", "AND " + SQ_LISTED + " ON CONFLICT"
)
# the members of ``{members}`` not listed yet: counted, then listed
SQ_COUNT_MEMBERS = [
    "DELETE FROM tickets_granttally WHERE user_id IN ({members});",
    "INSERT INTO tickets_granttally (user_id, queue_id, shard, tickets) "
    f"SELECT p.user_id, t.queue_id, t.id % {SHARDS}, count(*) "
    "FROM tickets_ticketuserobjectpermission p "
    "JOIN tickets_ticket t ON t.id = p.content_object_id "
    f"WHERE p.user_id IN ({{members}}) AND p.permission_id = {VIEW} GROUP BY 1, 2, 3;",
    "INSERT INTO tickets_tallieduser (user_id) {members};",
]
SQ_NEW_MEMBER = (
    "SELECT NEW.user_id WHERE "
    + NOT_LISTED.format(user="NEW.user_id")
    + " AND EXISTS (SELECT 1 FROM tickets_queue q WHERE q.agent_group_id = NEW.group_id)"
)
SQ_GROUP_MEMBERS = (
    f"SELECT m.user_id FROM {MEMBERS} m WHERE m.group_id = NEW.agent_group_id AND "
    + NOT_LISTED.format(user="m.user_id")
)


def _sq_count(members):
    return [statement.format(members=members) for statement in SQ_COUNT_MEMBERS]


SQ_REPLACED = {
    "tickets_tally_ticket_deleted": (
        "AFTER DELETE ON tickets_ticket",
        [
            T0026.SQ_QUEUE.format(row="OLD", sign="-"),
            SQ_GRANTS_OF_TICKET.format(row="OLD", sign="-"),
        ],
    ),
    "tickets_tally_ticket_moved": (
        "AFTER UPDATE OF queue_id ON tickets_ticket "
        "WHEN OLD.queue_id IS NOT NEW.queue_id",
        [
            T0026.SQ_QUEUE.format(row="OLD", sign="-"),
            SQ_GRANTS_OF_TICKET.format(row="OLD", sign="-"),
            T0026.SQ_QUEUE.format(row="NEW", sign=""),
            SQ_GRANTS_OF_TICKET.format(row="NEW", sign=""),
        ],
    ),
    "tickets_tally_grant_inserted": (
        "AFTER INSERT ON tickets_ticketuserobjectpermission",
        [SQ_GRANT.format(row="NEW", sign="")],
    ),
    "tickets_tally_grant_deleted": (
        "AFTER DELETE ON tickets_ticketuserobjectpermission",
        [SQ_GRANT.format(row="OLD", sign="-")],
    ),
    "tickets_tally_grant_updated": (
        "AFTER UPDATE ON tickets_ticketuserobjectpermission",
        [SQ_GRANT.format(row="OLD", sign="-"), SQ_GRANT.format(row="NEW", sign="")],
    ),
}
SQ_NEW = {
    "tickets_tally_member_added": (
        f"AFTER INSERT ON {MEMBERS}",
        _sq_count(SQ_NEW_MEMBER),
    ),
    "tickets_tally_queue_added": (
        "AFTER INSERT ON tickets_queue",
        _sq_count(SQ_GROUP_MEMBERS),
    ),
    "tickets_tally_queue_group": (
        "AFTER UPDATE OF agent_group_id ON tickets_queue "
        "WHEN OLD.agent_group_id IS NOT NEW.agent_group_id",
        _sq_count(SQ_GROUP_MEMBERS),
    ),
}


def _sq_create(triggers):
    return [
        f"DROP TRIGGER IF EXISTS {name}" for name in triggers
    ] + [T0026._sq(name, event, body) for name, (event, body) in triggers.items()]


# the users who work a queue now, listed and their rows alone counted
PG_BACKFILL = [
    "LOCK TABLE tickets_ticket, tickets_ticketuserobjectpermission "
    "IN SHARE ROW EXCLUSIVE MODE",
    "DELETE FROM tickets_granttally",
    "SELECT tickets_tally_users(ARRAY(SELECT m.user_id FROM "
    f"{MEMBERS} m JOIN tickets_queue q ON q.agent_group_id = m.group_id))",
]
SQ_BACKFILL = [
    "DELETE FROM tickets_granttally",
    *_sq_count(
        f"SELECT DISTINCT m.user_id FROM {MEMBERS} m "
        "JOIN tickets_queue q ON q.agent_group_id = m.group_id"
    ),
]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_CREATE, None)
        statements = PG_BACKFILL
    elif vendor == "sqlite":
        statements = _sq_create(SQ_REPLACED) + _sq_create(SQ_NEW) + SQ_BACKFILL
    else:
        return
    for statement in statements:
        schema_editor.execute(statement, None)


def drop(apps, schema_editor):
    """Back to 0026: every user's rows counted again."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DROP_ALL + T0026.PG_CREATE, None)
    elif vendor == "sqlite":
        for name in SQ_NEW:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}", None)
        for statement in T0026.SQ_DROP + T0026.SQ_CREATE:
            schema_editor.execute(statement, None)
    else:
        return
    schema_editor.execute("DELETE FROM tickets_granttally", None)
    schema_editor.execute(T0026.BACKFILL[1], None)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0027_ticket_org_updated_idx"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="TalliedUser",
            fields=[
                (
                    "user",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.RunPython(create, drop),
    ]
