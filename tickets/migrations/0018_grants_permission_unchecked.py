"""The ticket grants' ``permission_id`` without a foreign-key constraint or an index
(bench FINDINGS R-7, 2026-12-05).

Each filing writes nine grants; each one's ``permission_id`` foreign key was checked
at COMMIT (``SELECT 1 FROM auth_permission WHERE id = $1 FOR KEY SHARE``: eighteen
checks a filing, a row lock on each of the seven permission rows that every
concurrent filing locks too) and indexed (nine entries a filing into an index of
seven distinct values that no query reads: every lookup by permission also gives
the user, the group or the ticket, whose indexes lead with them).

The check could not fail for the rows the services write: the filing's ``INSERT …
SELECT`` joins ``auth_permission`` for the ids it writes, and the other writers
(``grants._sync``, ``regrant_organization``, guardian's ``assign_perm``, the load
generator) take them from rows they have just read. What the constraint also guarded,
a permission deleted while grants point at it, is kept:

* the ORM's deletion (``Permission.delete``, content types removed by
  ``remove_stale_contenttypes``) cascades as before (``on_delete=CASCADE`` is the
  ORM's, not the constraint's);
* SQL that deletes permission rows directly: an ``AFTER DELETE`` trigger on
  ``auth_permission`` deletes their grants in the same statement (PostgreSQL: one
  statement trigger with the deleted rows, which first takes a ``SHARE ROW
  EXCLUSIVE`` lock on both grant tables, so that grants written by transactions in
  flight are committed and seen; SQLite: a row trigger).

Only the state and these triggers are Django's to know: the field is
``ForeignKey(Permission, db_constraint=False, db_index=False)`` on both models, and
``AlterField`` drops the constraint and the index on both databases (the reverse
re-creates them).
"""

import django.db.models.deletion
from django.db import migrations, models

GRANT_TABLES = (
    "tickets_ticketuserobjectpermission",
    "tickets_ticketgroupobjectpermission",
)

PG_CREATE = f"""
CREATE FUNCTION tickets_grants_permission_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE {", ".join(GRANT_TABLES)} IN SHARE ROW EXCLUSIVE MODE;
    DELETE FROM {GRANT_TABLES[0]} WHERE permission_id IN (SELECT id FROM old_rows);
    DELETE FROM {GRANT_TABLES[1]} WHERE permission_id IN (SELECT id FROM old_rows);
    RETURN NULL;
END $$;
CREATE TRIGGER tickets_grants_permission_delete AFTER DELETE ON auth_permission
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tickets_grants_permission_deleted();
"""

PG_DROP = """
DROP TRIGGER IF EXISTS tickets_grants_permission_delete ON auth_permission;
DROP FUNCTION IF EXISTS tickets_grants_permission_deleted();
"""

SQLITE_CREATE = (
    "CREATE TRIGGER tickets_grants_permission_delete AFTER DELETE ON auth_permission "
    "BEGIN "
    + " ".join(f"DELETE FROM {table} WHERE permission_id = OLD.id;" for table in GRANT_TABLES)
    + " END"
)

SQLITE_DROP = "DROP TRIGGER IF EXISTS tickets_grants_permission_delete"


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_CREATE)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DROP)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("tickets", "0017_drop_led_fk_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="ticketgroupobjectpermission",
            name="permission",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                to="auth.permission",
            ),
        ),
        migrations.AlterField(
            model_name="ticketuserobjectpermission",
            name="permission",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                to="auth.permission",
            ),
        ),
        migrations.RunPython(create, drop),
    ]
