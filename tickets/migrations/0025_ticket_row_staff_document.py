"""The ticket row's ``search_terms`` become the staff document itself (weights and
positions), PostgreSQL only (bench FINDINGS S-18).

Until now the row held the staff document's lexemes ``strip()``ped (0012), enough to
match, and the rank of a ranked search (``fulltext.rank``) read every ranked ticket's
``tickets_ticket_search.staff_doc`` again by key: the inbox ranks the newest 1,001
matches, so 1,001 lookups (~2,000 buffers, ~3 ms of the ~15 ms statement at 250k)
for rows whose ticket the statement had just read. With the document on the row, the
staff rank is ``ts_rank`` of a column the statement already holds. Matching is
unchanged: a GIN index over a ``tsvector`` holds its lexemes only, the same for the
stripped and the full document (the index is rebuilt, same definition), and
``tickets_search_terms_query`` (phrases as ``&``) asks nothing of positions.

``search_terms`` is now always equal to the ticket's ``tickets_ticket_search.
staff_doc`` (``pub || notes``): the ``BEFORE INSERT`` trigger (0019) writes it, the
refresh (0012) writes it where it changed. The public rank still reads the public
document by key (customers, shared tickets). The backfill copies the documents in one
statement, the index dropped around it. SQLite (FTS5) is unchanged.
"""

import importlib

from django.db import migrations

_0012 = importlib.import_module("tickets.migrations.0012_ticket_search_terms")
_0019 = importlib.import_module("tickets.migrations.0019_ticket_documents_on_insert")

# 0019's ``BEFORE INSERT`` function with the row's terms the staff document
_TERMS = _0019.PG_CREATE.split("CREATE OR REPLACE FUNCTION tickets_search_ticket_inserted")[
    0
]
_OLD_TERMS = "    NEW.search_terms := public_terms || notes_terms;\n"
_NEW_TERMS = "    NEW.search_terms := pub || notes;  -- the staff document (0025)\n"
assert _OLD_TERMS in _TERMS, "0019's function changed: write this one out"

_REFRESH = (
    r"""
CREATE OR REPLACE FUNCTION tickets_search_refresh(ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    WITH d AS ("""
    + _0012._DOCUMENTS
    + r"""    ),
    documents AS (
        INSERT INTO tickets_ticket_search AS s (ticket_id, config, public_doc, staff_doc)
        SELECT d.id, d.cfg, d.pub, d.pub || d.notes FROM d
        ON CONFLICT (ticket_id) DO UPDATE SET config = EXCLUDED.config,
            public_doc = EXCLUDED.public_doc, staff_doc = EXCLUDED.staff_doc
        RETURNING s.ticket_id, s.staff_doc
    ),
    terms AS ("""
    + _0012._WRITE_MATCH
    + r"""
    )
    UPDATE tickets_ticket t SET search_terms = documents.staff_doc
    FROM documents
    WHERE t.id = documents.ticket_id AND t.search_terms <> documents.staff_doc;
$$;
"""
)

_BACKFILL = r"""
DROP INDEX IF EXISTS tickets_ticket_search_terms_idx;
UPDATE tickets_ticket t SET search_terms = s.staff_doc
FROM tickets_ticket_search s
WHERE s.ticket_id = t.id AND t.search_terms <> s.staff_doc;
CREATE INDEX tickets_ticket_search_terms_idx ON tickets_ticket USING gin (search_terms);
"""

_BACKFILL_BACK = r"""
DROP INDEX IF EXISTS tickets_ticket_search_terms_idx;
UPDATE tickets_ticket t SET search_terms = m.public_terms || m.notes_terms
FROM tickets_ticket_match m
WHERE m.ticket_id = t.id AND t.search_terms <> m.public_terms || m.notes_terms;
CREATE INDEX tickets_ticket_search_terms_idx ON tickets_ticket USING gin (search_terms);
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_TERMS.replace(_OLD_TERMS, _NEW_TERMS))
        schema_editor.execute(_REFRESH)
        schema_editor.execute(_BACKFILL)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_TERMS)
        schema_editor.execute(_0012.PG_REFRESH)
        schema_editor.execute(_BACKFILL_BACK)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0024_deflection_recent_idx")]

    operations = [migrations.RunPython(create, drop)]
