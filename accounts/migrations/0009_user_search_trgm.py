"""Trigram indexes on the people columns the ticket search reads, PostgreSQL only.

Why (bench FINDINGS S-1): ``TicketQuerySet.search`` matches the requester's email and
display name with ``icontains`` (``UPPER(col) LIKE UPPER('%…%')``); without an index
that is a sequential scan of every user in each search (10k users: 5-11 ms of the
ids statement); a GIN trigram index on each expression answers it in ~0.2 ms
(BitmapOr of the two). SQLite is unchanged.
"""

from django.db import migrations

PG_CREATE = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS accounts_user_email_trgm_idx ON accounts_user
    USING gin (upper(email) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS accounts_user_display_name_trgm_idx ON accounts_user
    USING gin (upper(display_name) gin_trgm_ops);
"""

PG_DROP = """
DROP INDEX IF EXISTS accounts_user_display_name_trgm_idx;
DROP INDEX IF EXISTS accounts_user_email_trgm_idx;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DROP)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_crm_customer_record")]

    operations = [migrations.RunPython(create, drop)]
