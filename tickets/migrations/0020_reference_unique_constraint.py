"""The ticket's reference unique by a constraint, without the ``_like`` index (bench
FINDINGS R-8, 2026-12-05; notifications 0003's pattern).

A unique ``CharField`` gets two indexes on PostgreSQL: the unique one and a
``varchar_pattern_ops`` twin for a left-anchored, case-sensitive ``LIKE``
(``reference__startswith``), which no query asks: the searches' ``icontains`` compile
to ``UPPER(reference) LIKE UPPER(…)`` (the trigram index of 0012), the lookups by
reference and ``ON CONFLICT (reference)`` to an equality, which the unique index
serves. Every filing wrote both. The state becomes a plain field with a
``UniqueConstraint`` named as PostgreSQL named the field's UNIQUE (so the database
keeps its unique index as it is); in the database only the ``_like`` index is
dropped. SQLite keeps either form's UNIQUE in the table itself: nothing to do."""

from django.db import migrations, models

LIKE = "tickets_ticket_reference_69015271_like"


def drop_like(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{LIKE}"')


def create_like(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{LIKE}" ON "tickets_ticket" '
            '("reference" varchar_pattern_ops)'
        )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0019_ticket_documents_on_insert")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="ticket",
                    name="reference",
                    field=models.CharField(
                        editable=False, max_length=20, verbose_name="reference"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="ticket",
                    constraint=models.UniqueConstraint(
                        fields=("reference",), name="tickets_ticket_reference_key"
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_like, create_like)],
        ),
    ]
