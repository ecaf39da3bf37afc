# ruff: noqa: S608 - constant SQL (the earlier migrations' parts), no input
"""A new ticket's triggers do only what a new ticket needs, PostgreSQL only (bench
FINDINGS F-18, 2026-12-07).

Each filing ran, in the database, four trigger functions (~0.65 ms at 250k tickets):

* ``tickets_search_ticket_terms`` (``BEFORE INSERT``, row, 0019/0025): the requester's
  configuration, the ticket's comments aggregated, then both search tables upserted
  and the rows it wrote counted in a transaction-local setting;
* ``tickets_search_ticket_inserted`` (``AFTER INSERT``, statement, 0019): that count
  compared with the transition table's, for the rows the ``BEFORE`` trigger wrote
  documents for that were then not inserted (a reference taken, an id in use);
* ``tickets_tally_tickets_inserted`` (0026) and ``tickets_tally_grants_inserted``
  (0028): the latter's statement ran in full for a customer's grants, whose rows it
  never counts (only listed users' are: 0028's ``LISTED``).

Now:

* The ``BEFORE`` trigger computes the row's staff document only (``search_terms``):
  the subject (A) and description (B) in the requester's configuration. It writes
  nothing, so no row can be written for a ticket that is then not inserted.
* A new ``AFTER INSERT`` row trigger, ``tickets_search_ticket_documents``, fires for
  the rows actually inserted and writes their documents from the row: a new ticket
  has no comments, so its public document is its staff document (``pub || notes``
  with ``notes`` empty is ``pub``, byte for byte), its match terms ``strip()`` of it
  and no note terms, and its configuration the requester's, read in the same
  statement. A ticket with comments already (written before it in one transaction,
  the foreign keys being deferred) is rebuilt by ``tickets_search_refresh``, the owner
  of the documents, which also corrects the row's ``search_terms``. The statement
  trigger and the transaction-local count are gone. The two triggers go together:
  the row trigger trusts the ``BEFORE`` trigger's ``search_terms`` (0019 also rebuilt
  rows inserted with the ``BEFORE`` trigger disabled alone; nothing disables it).
* ``tickets_tally_grants_inserted`` returns before any work when none of the new
  rows' users is listed (0028's ``LISTED``: one owner of the rule).

Rows written are the same as 0028's (tests: ``tickets/tests/test_new_ticket_triggers``).
Every other write (updates, comments, languages, deletes) is unchanged. SQLite (FTS5,
row triggers) is unchanged.
"""

import importlib

from django.db import migrations

T0010 = importlib.import_module("tickets.migrations.0010_ticket_fulltext")
T0019 = importlib.import_module("tickets.migrations.0019_ticket_documents_on_insert")
T0025 = importlib.import_module("tickets.migrations.0025_ticket_row_staff_document")
T0026 = importlib.import_module("tickets.migrations.0026_visibility_tallies")
T0028 = importlib.import_module("tickets.migrations.0028_tally_agents_only")

# The requester's configuration, as 0015/0019 read it (``INTO cfg``).
_CONFIG = T0019._TERMS_BODY.split("    SELECT setweight")[0]
assert "INTO cfg" in _CONFIG and "tickets_comment" not in _CONFIG, "0019 changed"
# The same as a column ``cfg`` of a one-row query.
_CONFIG_ROW = _CONFIG.replace(" INTO cfg", " AS cfg")

_TERMS = (
    r"""
CREATE OR REPLACE FUNCTION tickets_search_ticket_terms() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    cfg regconfig;
BEGIN"""
    + _CONFIG
    + r"""
    -- 0019's public document without replies (a new ticket has none; should it have
    -- some, ``tickets_search_ticket_documents`` rebuilds the row): the staff document
    NEW.search_terms := setweight(to_tsvector(cfg, NEW.subject), 'A')
        || setweight(to_tsvector(cfg, NEW.description), 'B');
    RETURN NEW;
END $$;
"""
)

_DOCUMENTS = (
    r"""
CREATE OR REPLACE FUNCTION tickets_search_ticket_documents() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- 0012's refresh for an inserted row without comments: the public document is the
    -- staff one, ``search_terms``; no note terms
    WITH c AS ("""
    + _CONFIG_ROW.rstrip().rstrip(";")
    + r"""
        WHERE NOT EXISTS (SELECT 1 FROM tickets_comment WHERE ticket_id = NEW.id)
    ), documents AS (
        INSERT INTO tickets_ticket_search AS s (ticket_id, config, public_doc, staff_doc)
        SELECT NEW.id, c.cfg, NEW.search_terms, NEW.search_terms FROM c
        ON CONFLICT (ticket_id) DO UPDATE SET config = EXCLUDED.config,
            public_doc = EXCLUDED.public_doc, staff_doc = EXCLUDED.staff_doc
    )
    INSERT INTO tickets_ticket_match AS m (ticket_id, public_terms, notes_terms)
    SELECT NEW.id, strip(NEW.search_terms), ''::tsvector FROM c
    ON CONFLICT (ticket_id) DO UPDATE SET public_terms = EXCLUDED.public_terms,
        notes_terms = EXCLUDED.notes_terms;
    IF NOT FOUND THEN
        -- comments written before their ticket: the owner builds every document
        PERFORM tickets_search_refresh(ARRAY[NEW.id]);
    END IF;
    RETURN NULL;
END $$;
"""
)

_GRANTS_LISTED = T0028._pg_grants("new_rows", "", False)
PG_TALLY_GRANTS = T0026._pg_function(
    "tickets_tally_grants_inserted",
    # no listed user among the new rows (a customer's filing): nothing to count
    "IF NOT EXISTS (SELECT 1 FROM new_rows p WHERE "
    + T0028.LISTED.format(user="p.user_id")
    + ") THEN RETURN NULL; END IF;\n"
    + _GRANTS_LISTED,
)

PG_CREATE = (
    _TERMS
    + _DOCUMENTS
    + PG_TALLY_GRANTS
    + r"""
CREATE TRIGGER tickets_search_ticket_documents AFTER INSERT ON tickets_ticket
    FOR EACH ROW EXECUTE FUNCTION tickets_search_ticket_documents();
DROP TRIGGER IF EXISTS tickets_search_ticket_insert ON tickets_ticket;
DROP FUNCTION IF EXISTS tickets_search_ticket_inserted();
"""
)

# 0025's ``BEFORE`` function, 0019's statement trigger function, 0010's trigger and
# 0028's grants function.
_INSERTED_0019 = (
    "CREATE OR REPLACE FUNCTION tickets_search_ticket_inserted"
    + (
        T0019.PG_CREATE.split(
            "CREATE OR REPLACE FUNCTION tickets_search_ticket_inserted"
        )[1]
    )
)
PG_DROP = (
    T0025._TERMS.replace(T0025._OLD_TERMS, T0025._NEW_TERMS)
    + _INSERTED_0019
    + T0026._pg_function("tickets_tally_grants_inserted", _GRANTS_LISTED)
    + r"""
DROP TRIGGER IF EXISTS tickets_search_ticket_documents ON tickets_ticket;
DROP FUNCTION IF EXISTS tickets_search_ticket_documents();
CREATE TRIGGER tickets_search_ticket_insert AFTER INSERT ON tickets_ticket
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tickets_search_ticket_inserted();
"""
)
assert "CREATE TRIGGER tickets_search_ticket_insert AFTER INSERT" in T0010.PG_CREATE


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_CREATE, None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DROP, None)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0028_tally_agents_only")]

    operations = [migrations.RunPython(create, drop)]
