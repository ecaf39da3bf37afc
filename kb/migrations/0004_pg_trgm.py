"""pg_trgm on PostgreSQL, for the KB search's closest-title suggestions
(``kb.queries.closest_articles``). ``TrigramExtension`` does nothing on SQLite."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("kb", "0003_search_index_title_body_gin")]

    operations = [TrigramExtension()]
