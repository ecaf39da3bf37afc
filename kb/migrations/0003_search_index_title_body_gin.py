"""A GIN index on the expression Wagtail's PostgreSQL database search matches on.

``wagtail.search.backends.database.postgres`` filters ``(title || body) @@ query``:
the concatenation cannot use the GIN indexes of the two columns, so every search read
all index entries (bench FINDINGS KB-4: 5.7 ms per search in a 1,500-article KB; 0.07
ms with this index). PostgreSQL only: SQLite searches through FTS5 instead.
"""

from django.db import migrations

INDEX = "kb_search_indexentry_title_body_gin"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON wagtailsearch_indexentry "
        "USING GIN ((title || body))"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("kb", "0002_knowledge_base_and_editors"),
        ("wagtailsearch", "0010_add_text_fields"),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
