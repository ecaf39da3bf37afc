"""A narrow matching table beside the full-text documents, PostgreSQL only.

Why (bench FINDINGS S-1): ``tickets_search_ids`` matched on ``tickets_ticket_search``,
whose rows (~1.15 kB of two positional, weighted ``tsvector``s) stay inline; a word in
13 % of 250k tickets made its GIN bitmap heap scan read ~34k pages of a 449 MB table
through the OS cache (155 of the ids statement's 245 ms). Matching needs only the
lexemes: ``tickets_ticket_match`` holds them ``strip()``ped (no positions, no weights),
~0.35 kB a row (88 MB on 250k tickets), so that a common word reads a third as many
pages (10.7k), and the table alone fits PostgreSQL's default 128 MB shared buffers.

* ``public_terms``: the lexemes of the public document (subject, description,
  replies); ``notes_terms``: those of the internal notes that the public document
  lacks (empty for the ~70 % of tickets without notes). The staff document's lexemes
  are ``public_terms || notes_terms``; a GIN index on that expression, another on
  ``public_terms``.
* Kept by ``tickets_search_refresh`` (replaced here: it writes both tables from one
  build of the documents), so every trigger of 0010 keeps it; the delete and truncate
  triggers' functions empty it too.
* ``tickets_search_ids(q, notes)`` matches on it, except for queries with a phrase
  (``"quoted words"``, also hyphenated words, which ``websearch_to_tsquery`` turns into
  ``<->``): a stripped vector never satisfies ``<->`` (PostgreSQL 15 answers false, not
  "maybe"), so those match on the full documents, as before.
* Ranking and snippets stay on the full documents (``tickets.models.fulltext``).

The backfill derives the terms from the existing documents, ``BATCH`` tickets a
statement. SQLite (FTS5) is unchanged.
"""

from django.db import migrations

BATCH = 20000

# The documents of 0010's refresh, built once, written to both tables.
PG_REFRESH = r"""
CREATE OR REPLACE FUNCTION tickets_search_refresh(ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    WITH d AS (
        SELECT t.id, c.cfg,
            setweight(to_tsvector(c.cfg, t.subject), 'A')
            || setweight(to_tsvector(c.cfg, t.description), 'B')
            || to_tsvector(c.cfg, coalesce(r.replies, '')) AS pub,
            to_tsvector(c.cfg, coalesce(r.notes, '')) AS notes
        FROM tickets_ticket t
        LEFT JOIN accounts_user u ON u.id = t.requester_id
        CROSS JOIN LATERAL (
            SELECT CASE u.locale
                WHEN 'ru' THEN 'russian'::regconfig
                WHEN 'pl' THEN 'simple'::regconfig
                ELSE 'english'::regconfig
            END AS cfg
        ) c
        LEFT JOIN LATERAL (
            SELECT string_agg(body, ' ') FILTER (WHERE NOT is_internal) AS replies,
                   string_agg(body, ' ') FILTER (WHERE is_internal) AS notes
            FROM tickets_comment WHERE ticket_id = t.id
        ) r ON true
        WHERE t.id = ANY(ids)
    ),
    documents AS (
        INSERT INTO tickets_ticket_search AS s (ticket_id, config, public_doc, staff_doc)
        SELECT d.id, d.cfg, d.pub, d.pub || d.notes FROM d
        ON CONFLICT (ticket_id) DO UPDATE SET config = EXCLUDED.config,
            public_doc = EXCLUDED.public_doc, staff_doc = EXCLUDED.staff_doc
    )
    INSERT INTO tickets_ticket_match AS m (ticket_id, public_terms, notes_terms)
    SELECT d.id, strip(d.pub), ts_delete(strip(d.notes), tsvector_to_array(d.pub))
    FROM d
    ON CONFLICT (ticket_id) DO UPDATE SET public_terms = EXCLUDED.public_terms,
        notes_terms = EXCLUDED.notes_terms;
$$;
"""

PG_CREATE = (
    r"""
CREATE TABLE tickets_ticket_match (
    ticket_id bigint PRIMARY KEY,
    public_terms tsvector NOT NULL,
    notes_terms tsvector NOT NULL
);
"""
    + PG_REFRESH
    + r"""
-- Whether the query has a phrase (``<->``, ``<N>``): a lexeme never holds ``<`` (the
-- parsers split there); a false "yes" would only cost the slower, exact path.
CREATE FUNCTION tickets_search_has_phrase(q text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT strpos(tickets_search_query(q)::text, '<') > 0
$$;

-- The ids of the tickets whose public (or staff) document matches, always through a
-- GIN index: the narrow terms, or for a phrase the full documents (positions).
CREATE OR REPLACE FUNCTION tickets_search_ids(q text, notes boolean) RETURNS SETOF bigint
LANGUAGE sql STABLE ROWS 1000 SET enable_seqscan = off AS $$
    SELECT ticket_id FROM tickets_ticket_match
    WHERE NOT notes AND NOT tickets_search_has_phrase(q)
      AND public_terms @@ tickets_search_query(q)
    UNION ALL
    SELECT ticket_id FROM tickets_ticket_match
    WHERE notes AND NOT tickets_search_has_phrase(q)
      AND (public_terms || notes_terms) @@ tickets_search_query(q)
    UNION ALL
    SELECT ticket_id FROM tickets_ticket_search
    WHERE NOT notes AND tickets_search_has_phrase(q)
      AND public_doc @@ tickets_search_query(q)
    UNION ALL
    SELECT ticket_id FROM tickets_ticket_search
    WHERE notes AND tickets_search_has_phrase(q)
      AND staff_doc @@ tickets_search_query(q)
$$;

CREATE OR REPLACE FUNCTION tickets_search_ticket_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM tickets_ticket_search WHERE ticket_id IN (SELECT id FROM old_rows);
    DELETE FROM tickets_ticket_match WHERE ticket_id IN (SELECT id FROM old_rows);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION tickets_search_ticket_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE tickets_ticket_search, tickets_ticket_match;
    RETURN NULL;
END $$;
"""
)

# Built after the backfill (one pass over the table instead of an update per row).
PG_INDEXES = """
CREATE INDEX tickets_ticket_match_public_idx ON tickets_ticket_match
    USING gin (public_terms);
CREATE INDEX tickets_ticket_match_staff_idx ON tickets_ticket_match
    USING gin ((public_terms || notes_terms));
ANALYZE tickets_ticket_match;
"""

# 0010's definitions, for the reverse.
PG_DROP = r"""
CREATE OR REPLACE FUNCTION tickets_search_refresh(ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO tickets_ticket_search AS s (ticket_id, config, public_doc, staff_doc)
    SELECT d.id, d.cfg, d.pub, d.pub || d.notes
    FROM (
        SELECT t.id, c.cfg,
            setweight(to_tsvector(c.cfg, t.subject), 'A')
            || setweight(to_tsvector(c.cfg, t.description), 'B')
            || to_tsvector(c.cfg, coalesce(r.replies, '')) AS pub,
            to_tsvector(c.cfg, coalesce(r.notes, '')) AS notes
        FROM tickets_ticket t
        LEFT JOIN accounts_user u ON u.id = t.requester_id
        CROSS JOIN LATERAL (
            SELECT CASE u.locale
                WHEN 'ru' THEN 'russian'::regconfig
                WHEN 'pl' THEN 'simple'::regconfig
                ELSE 'english'::regconfig
            END AS cfg
        ) c
        LEFT JOIN LATERAL (
            SELECT string_agg(body, ' ') FILTER (WHERE NOT is_internal) AS replies,
                   string_agg(body, ' ') FILTER (WHERE is_internal) AS notes
            FROM tickets_comment WHERE ticket_id = t.id
        ) r ON true
        WHERE t.id = ANY(ids)
    ) d
    ON CONFLICT (ticket_id) DO UPDATE SET config = EXCLUDED.config,
        public_doc = EXCLUDED.public_doc, staff_doc = EXCLUDED.staff_doc;
$$;

CREATE OR REPLACE FUNCTION tickets_search_ids(q text, notes boolean) RETURNS SETOF bigint
LANGUAGE sql STABLE ROWS 1000 SET enable_seqscan = off AS $$
    SELECT ticket_id FROM tickets_ticket_search
    WHERE NOT notes AND public_doc @@ tickets_search_query(q)
    UNION ALL
    SELECT ticket_id FROM tickets_ticket_search
    WHERE notes AND staff_doc @@ tickets_search_query(q)
$$;

CREATE OR REPLACE FUNCTION tickets_search_ticket_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM tickets_ticket_search WHERE ticket_id IN (SELECT id FROM old_rows);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION tickets_search_ticket_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE tickets_ticket_search;
    RETURN NULL;
END $$;

DROP FUNCTION IF EXISTS tickets_search_has_phrase(text);
DROP TABLE IF EXISTS tickets_ticket_match;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(PG_CREATE)
    _backfill(schema_editor)
    schema_editor.execute(PG_INDEXES)


def _backfill(schema_editor):
    """The terms of the existing documents, ``BATCH`` tickets a statement (no
    document is rebuilt from the comments: the stored vectors are stripped)."""
    with schema_editor.connection.cursor() as cursor:
        last = 0
        while True:
            cursor.execute(
                "SELECT max(ticket_id) FROM (SELECT ticket_id FROM "
                "tickets_ticket_search WHERE ticket_id > %s ORDER BY ticket_id "
                "LIMIT %s) batch",
                [last, BATCH],
            )
            upto = cursor.fetchone()[0]
            if upto is None:
                return
            cursor.execute(
                "INSERT INTO tickets_ticket_match (ticket_id, public_terms, notes_terms) "
                "SELECT ticket_id, strip(public_doc), ts_delete(strip(staff_doc), "
                "tsvector_to_array(public_doc)) FROM tickets_ticket_search "
                "WHERE ticket_id > %s AND ticket_id <= %s",
                [last, upto],
            )
            last = upto


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DROP)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0010_ticket_fulltext")]

    operations = [migrations.RunPython(create, drop)]
