"""The idempotency key unique by a constraint, without the ``_like`` index (bench
FINDINGS R-4, R-5).

A unique ``CharField`` gets two indexes on PostgreSQL: the unique one and a
``varchar_pattern_ops`` twin for ``LIKE``/``startswith``, which no query asks of the
key; every outbox row (eleven a filing) wrote both. The state becomes a plain field
with a ``UniqueConstraint`` named as PostgreSQL named the field's UNIQUE (so the
database keeps its unique index as it is); in the database only the ``_like`` index
is dropped. SQLite keeps a unique field's and a plain unique constraint's UNIQUE in
the table itself (its schema editor rebuilds the table for either): nothing to do."""

from django.db import migrations, models

LIKE = "notifications_sentnotification_idempotency_key_0e332db2_like"


def drop_like(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{LIKE}"')


def create_like(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{LIKE}" ON "notifications_sentnotification" '
            '("idempotency_key" varchar_pattern_ops)'
        )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0002_outbox"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="sentnotification",
                    name="idempotency_key",
                    field=models.CharField(
                        max_length=255, verbose_name="idempotency key"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="sentnotification",
                    constraint=models.UniqueConstraint(
                        fields=("idempotency_key",),
                        name="notifications_sentnotification_idempotency_key_key",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_like, create_like)],
        ),
    ]
