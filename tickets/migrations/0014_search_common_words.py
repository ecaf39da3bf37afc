"""A search for a common word reads its newest matches only (bench FINDINGS S-1,
2026-12-05).

The inbox ranks the newest 1,001 visible matches. For a word in most tickets
(``browser`` on ``bench_full``: 13.3k of agent0's 16.3k open queue tickets) PostgreSQL
read every in-view ticket (a bitmap of 13k heap pages) to keep the newest 1,001:
~160 ms. Two changes let it walk the queue's live work newest first and stop:

* ``ticket_open_queue_updated_idx``: ``(queue_id, updated_at DESC, id DESC)`` over the
  open statuses (the default inbox view's shape), small (open tickets only);
* ``tickets_search_terms_query(q)`` ORs the three configurations' queries only where
  they differ: ``'webhook' | 'webhook' | 'webhook'`` (english, russian and simple give
  the same lexeme) matches exactly what ``'webhook'`` matches, but PostgreSQL's
  estimate of an OR adds up its arms (3 x 12.7 % -> 33 % of the tickets), so that it
  walked the new index for a word in 12 % of the tickets too, slower than the bitmap
  of its matches. The query keeps its meaning (OR is idempotent); the full query for
  ranks and snippets (``tickets_search_query``) is unchanged.
"""

from django.db import migrations, models

PG_CREATE = r"""
-- ``e | r | s`` without the arms equal to an earlier one: the same matches.
CREATE OR REPLACE FUNCTION tickets_search_or_distinct(e tsquery, r tsquery, s tsquery)
RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN r = e THEN CASE WHEN s = e THEN e ELSE e || s END
        WHEN s = e OR s = r THEN e || r
        ELSE e || r || s
    END
$$;

-- ``tickets_search_query(q)`` (``websearch_to_tsquery`` in the three configurations,
-- OR-ed), each distinct query once.
CREATE OR REPLACE FUNCTION tickets_search_distinct_query(q text) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT tickets_search_or_distinct(websearch_to_tsquery('english', q),
        websearch_to_tsquery('russian', q), websearch_to_tsquery('simple', q))
$$;

-- 0012's query for the stripped terms, from the distinct query.
CREATE OR REPLACE FUNCTION tickets_search_terms_query(q text) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN tickets_search_has_negation(q) THEN NULL
        WHEN tickets_search_has_phrase(q) THEN regexp_replace(
            tickets_search_distinct_query(q)::text, '<(-|[0-9]+)>', '&', 'g')::tsquery
        ELSE tickets_search_distinct_query(q)
        END
$$;
"""

PG_DROP = r"""
CREATE OR REPLACE FUNCTION tickets_search_terms_query(q text) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN tickets_search_has_negation(q) THEN NULL
        WHEN tickets_search_has_phrase(q) THEN regexp_replace(
            tickets_search_query(q)::text, '<(-|[0-9]+)>', '&', 'g')::tsquery
        ELSE tickets_search_query(q)
        END
$$;
DROP FUNCTION IF EXISTS tickets_search_distinct_query(text);
DROP FUNCTION IF EXISTS tickets_search_or_distinct(tsquery, tsquery, tsquery);
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DROP)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0013_drop_duplicate_fk_indexes")]

    operations = [
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(
                    (
                        "status__in",
                        ("new", "open", "in_progress", "waiting_on_customer", "on_hold"),
                    )
                ),
                fields=["queue", "-updated_at", "-id"],
                name="ticket_open_queue_updated_idx",
            ),
        ),
        migrations.RunPython(create, drop),
    ]
