"""The outbox's ``recipient_id`` without a foreign-key constraint (bench FINDINGS R-8,
2026-12-05).

A filing writes eleven outbox rows, one per agent of the queue and the requester; the
constraint checked each at COMMIT (``SELECT 1 FROM accounts_user WHERE id = $1 FOR
KEY SHARE``), a row lock on the same agents' user rows that every concurrent filing of
the queue locks too (MultiXacts under load), the largest lock source of a filing left
after R-7. The writers take the ids from user rows they have read (the queue's agents,
the requester, a comment's participants).

What deleting a user does is kept: the outbox rows that named them keep their row with
``recipient_id`` NULL (the email is skipped as to nobody, as before):

* the ORM's deletion sets NULL as before (``on_delete=SET_NULL`` is the ORM's);
* SQL that deletes users directly: an ``AFTER DELETE`` trigger on ``accounts_user``
  does it in the same statement (PostgreSQL: one statement trigger with the deleted
  rows, which first takes a ``SHARE ROW EXCLUSIVE`` lock on the outbox, so that rows
  written by transactions in flight are committed and seen; SQLite: a row trigger).

An outbox row written after the user's deletion committed, by a transaction that read
the user before (the constraint made that filing fail at COMMIT), keeps the id of a
user who no longer exists; the sender reads it as no recipient (``select_related``
finds no user: ``skip_reason(None)``), the outcome of a NULL recipient. The index on
``recipient_id`` stays (the deletion's UPDATE reads it).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

OUTBOX = "notifications_sentnotification"
USERS = "accounts_user"

PG_CREATE = f"""
CREATE FUNCTION notifications_recipient_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE {OUTBOX} IN SHARE ROW EXCLUSIVE MODE;
    UPDATE {OUTBOX} SET recipient_id = NULL
    WHERE recipient_id IN (SELECT id FROM old_rows);
    RETURN NULL;
END $$;
CREATE TRIGGER notifications_recipient_delete AFTER DELETE ON {USERS}
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION notifications_recipient_deleted();
"""

PG_DROP = f"""
DROP TRIGGER IF EXISTS notifications_recipient_delete ON {USERS};
DROP FUNCTION IF EXISTS notifications_recipient_deleted();
"""

SQLITE_CREATE = (
    f"CREATE TRIGGER notifications_recipient_delete AFTER DELETE ON {USERS} "
    f"BEGIN UPDATE {OUTBOX} SET recipient_id = NULL WHERE recipient_id = OLD.id; END"
)

SQLITE_DROP = "DROP TRIGGER IF EXISTS notifications_recipient_delete"


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
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("notifications", "0003_idempotency_key_constraint"),
    ]

    operations = [
        migrations.AlterField(
            model_name="sentnotification",
            name="recipient",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="recipient",
            ),
        ),
        migrations.RunPython(create, drop),
    ]
