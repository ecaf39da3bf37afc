"""The staff search terms on the ticket row, and trigram indexes, PostgreSQL only.

Why (bench FINDINGS S-1): the desk inbox's search ORs the document match with
``subject ILIKE``, the requester and the organization; with the match on another table
PostgreSQL read every in-view ticket (11.4k of 15.5k heap pages for agent0's open
queue) to test that OR, ~100 ms of the ~190 ms ids statement. With every arm
answerable from an index of ``tickets_ticket`` itself, it BitmapAnds the
``(status, queue_id)`` index with a BitmapOr of the arms and reads only the matching
in-view rows (~2k pages).

* ``tickets_ticket.search_terms``: the staff document's lexemes, ``strip()``ped
  (``tickets_ticket_match``'s ``public_terms || notes_terms``), GIN-indexed. A raw
  column, not a Django field: Django never writes it (``save()`` would write a stale
  copy), ``tickets_search_refresh`` (replaced here) does, in the same statement that
  writes the two search tables, so every trigger of 0010 keeps it. A new ticket's row
  is written twice (insert, then the refresh's update).
* GIN trigram indexes (``pg_trgm``, created by ``kb`` 0004 too) on ``upper(subject)``
  and ``upper(reference)``: what Django's ``icontains`` compiles to.
* ``tickets_search_terms_query(q)``: the query for the stripped terms; for a phrase
  (``<->`` never holds on stripped terms) its words AND-ed, a pre-filter that the
  search re-checks on the staff document by key; none (matches nothing) for a query
  with a negation, where a pre-filter on the staff terms is unsound:
  ``tickets_search_negation_ids(q, notes)`` gives those ids (``tickets_search_ids``),
  no rows for any other query. ``tickets_search_public(id, q)``: whether a ticket's
  public document matches (a probe by key, for the rows whose staff terms matched).

The backfill copies the terms from ``tickets_ticket_match``, ``BATCH`` tickets a
transaction (the migration is not atomic: each batch commits, and ``VACUUM`` between
batches lets the next batch's new row versions reuse the space of the old ones), then
builds the indexes; every statement may run again after a failure midway. SQLite
(FTS5) is unchanged.
"""

from django.db import migrations

BATCH = 25000

_DOCUMENTS = r"""
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
"""

_WRITE_TABLES = r"""
    documents AS (
        INSERT INTO tickets_ticket_search AS s (ticket_id, config, public_doc, staff_doc)
        SELECT d.id, d.cfg, d.pub, d.pub || d.notes FROM d
        ON CONFLICT (ticket_id) DO UPDATE SET config = EXCLUDED.config,
            public_doc = EXCLUDED.public_doc, staff_doc = EXCLUDED.staff_doc
    )"""

_WRITE_MATCH = r"""
    INSERT INTO tickets_ticket_match AS m (ticket_id, public_terms, notes_terms)
    SELECT d.id, strip(d.pub), ts_delete(strip(d.notes), tsvector_to_array(d.pub))
    FROM d
    ON CONFLICT (ticket_id) DO UPDATE SET public_terms = EXCLUDED.public_terms,
        notes_terms = EXCLUDED.notes_terms"""

# 0011's refresh, plus the ticket row's terms (written only where they change: a
# ticket update whose text is unchanged rewrites no row).
PG_REFRESH = (
    r"""
CREATE OR REPLACE FUNCTION tickets_search_refresh(ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    WITH d AS ("""
    + _DOCUMENTS
    + "    ),"
    + _WRITE_TABLES
    + ",\n    terms AS ("
    + _WRITE_MATCH
    + r"""
        RETURNING m.ticket_id, m.public_terms || m.notes_terms AS staff_terms
    )
    UPDATE tickets_ticket t SET search_terms = terms.staff_terms
    FROM terms
    WHERE t.id = terms.ticket_id AND t.search_terms <> terms.staff_terms;
$$;
"""
)

PG_CREATE = (
    r"""
CREATE EXTENSION IF NOT EXISTS pg_trgm;
ALTER TABLE tickets_ticket ADD COLUMN IF NOT EXISTS search_terms tsvector NOT NULL DEFAULT '';
"""
    + PG_REFRESH
    + r"""
-- Whether ``q`` has a negation (``-word``): the staff terms cannot pre-filter it (a
-- word only in a note would hide a ticket whose public document matches).
CREATE OR REPLACE FUNCTION tickets_search_has_negation(q text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT strpos(tickets_search_query(q)::text, '!') > 0
$$;

-- The query for the stripped terms: ``q``'s; for a phrase, its words (``<->``,
-- ``<N>`` relaxed to ``&``: every phrase match matches it, the caller re-checks the
-- full document); none (NULL: matches nothing) for a negation.
CREATE OR REPLACE FUNCTION tickets_search_terms_query(q text) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN tickets_search_has_negation(q) THEN NULL
        WHEN tickets_search_has_phrase(q) THEN regexp_replace(
            tickets_search_query(q)::text, '<(-|[0-9]+)>', '&', 'g')::tsquery
        ELSE tickets_search_query(q)
        END
$$;

-- ``tickets_search_ids`` for a query with a negation; no rows for any other.
CREATE OR REPLACE FUNCTION tickets_search_negation_ids(q text, notes boolean)
RETURNS SETOF bigint
LANGUAGE sql STABLE ROWS 100 AS $$
    SELECT tickets_search_ids(q, notes) WHERE tickets_search_has_negation(q)
$$;

-- Whether the ticket ``id``'s public document matches ``q``: a probe by key.
CREATE OR REPLACE FUNCTION tickets_search_public(ticket bigint, q text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN tickets_search_has_phrase(q) THEN EXISTS (
            SELECT 1 FROM tickets_ticket_search s
            WHERE s.ticket_id = ticket AND s.public_doc @@ tickets_search_query(q))
        ELSE EXISTS (
            SELECT 1 FROM tickets_ticket_match m
            WHERE m.ticket_id = ticket AND m.public_terms @@ tickets_search_query(q))
        END
$$;
"""
)

PG_INDEXES = """
CREATE INDEX IF NOT EXISTS tickets_ticket_search_terms_idx ON tickets_ticket
    USING gin (search_terms);
CREATE INDEX IF NOT EXISTS tickets_ticket_subject_trgm_idx ON tickets_ticket
    USING gin (upper(subject) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS tickets_ticket_reference_trgm_idx ON tickets_ticket
    USING gin (upper(reference) gin_trgm_ops);
ANALYZE tickets_ticket;
"""

# 0011's refresh, for the reverse.
PG_DROP = (
    r"""
DROP INDEX IF EXISTS tickets_ticket_reference_trgm_idx;
DROP INDEX IF EXISTS tickets_ticket_subject_trgm_idx;
DROP INDEX IF EXISTS tickets_ticket_search_terms_idx;
DROP FUNCTION IF EXISTS tickets_search_public(bigint, text);
DROP FUNCTION IF EXISTS tickets_search_negation_ids(text, boolean);
DROP FUNCTION IF EXISTS tickets_search_terms_query(text);
DROP FUNCTION IF EXISTS tickets_search_has_negation(text);
CREATE OR REPLACE FUNCTION tickets_search_refresh(ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    WITH d AS ("""
    + _DOCUMENTS
    + "    ),"
    + _WRITE_TABLES
    + _WRITE_MATCH
    + r""";
$$;
ALTER TABLE tickets_ticket DROP COLUMN search_terms;
"""
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute(PG_CREATE)
        _backfill(cursor, vacuum=connection.get_autocommit())
        cursor.execute(PG_INDEXES)


def _backfill(cursor, *, vacuum: bool):
    """The terms of the existing tickets from ``tickets_ticket_match``, ``BATCH``
    tickets a transaction, ``VACUUM`` after each (not atomic: see the docstring)."""
    last = 0
    while True:
        cursor.execute(
            "SELECT max(id) FROM (SELECT id FROM tickets_ticket WHERE id > %s "
            "ORDER BY id LIMIT %s) batch",
            [last, BATCH],
        )
        upto = cursor.fetchone()[0]
        if upto is None:
            return
        cursor.execute(
            "UPDATE tickets_ticket t SET search_terms = m.public_terms || m.notes_terms "
            "FROM tickets_ticket_match m WHERE m.ticket_id = t.id "
            "AND t.id > %s AND t.id <= %s",
            [last, upto],
        )
        if vacuum:  # not inside a transaction (a caller's ``atomic``)
            cursor.execute("VACUUM tickets_ticket")
        last = upto


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DROP)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("tickets", "0011_ticket_match")]

    operations = [migrations.RunPython(create, drop)]
