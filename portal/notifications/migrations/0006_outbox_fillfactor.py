"""The outbox's pages filled to half by the filings' INSERTs (bench FINDINGS N-13,
2026-12-06), on PostgreSQL.

The worker updates every row twice: its claim (lease, token, attempts) and its outcome.
The claim changes no indexed column, so it can be a HOT update (no new entry in any of
the five indexes) when the row's page has room for the new version; filled to 100 %,
a page never has, and each claim wrote four index entries a row (44 a filing). With
half of each page left free a filing's rows take their claimed versions on their own
pages. The outcome changes ``status`` (both partial indexes' condition): never HOT,
as before; it finds room on the same page once the claim's dead versions are pruned.
Pages written before stay as they are. SQLite has no such setting: nothing to do.
"""

from django.db import migrations

TABLE = "notifications_sentnotification"


def half_filled(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} SET (fillfactor = 50)")


def filled(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0005_narrow_created_index"),
    ]

    operations = [
        migrations.RunPython(half_filled, filled, elidable=False),
    ]
