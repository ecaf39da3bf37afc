"""A new ticket's search documents computed once, PostgreSQL only (bench FINDINGS
R-8, 2026-12-05).

Since 0015 a filing computed its documents twice: the ``BEFORE INSERT`` row trigger
(``tickets_search_ticket_terms``) for the row's ``search_terms``, then the ``AFTER
INSERT`` statement trigger's ``tickets_search_refresh`` again (the requester's
language, the ticket's comments, ``to_tsvector`` of subject, description, replies and
notes) for the rows of ``tickets_ticket_search`` and ``tickets_ticket_match``.

The ``BEFORE`` trigger now also writes those two rows from what it computed, with the
refresh's values and ``ON CONFLICT`` (the same statements, for one row). A ``BEFORE``
trigger also fires for a row that is then not inserted: ``ON CONFLICT (reference) DO
NOTHING`` on a taken reference (``references.insert_numbered``), or an id already in
use (``bulk_create(ignore_conflicts=…, update_conflicts=…)``). So it counts the rows
it wrote and their lowest and highest id in a transaction-local setting
(``tickets.search_written``: ``count,low,high``), and the ``AFTER INSERT`` statement
trigger, which sees only the rows inserted (its transition table), compares: the same
count, nothing to do (every filing); fewer, the documents of ids in ``low..high``
without a ticket are deleted (no orphans) and those of the existing tickets in that
range that this statement did not insert are rebuilt by the refresh (a row written
over an existing ticket's). Then it clears the setting. A statement rolled back (also
to a savepoint) takes its rows and its setting with it.

The refresh stays the owner of the documents for every other write (updates,
comments, requesters' languages) and is unchanged; the documents a new ticket gets
are what it computes (tests: ``tickets/tests/test_fulltext_match.py``). SQLite (FTS5)
is unchanged.
"""

from django.db import migrations

_TERMS_BODY = r"""
    SELECT CASE u.locale
        WHEN 'ru' THEN 'russian'::regconfig
        WHEN 'pl' THEN 'simple'::regconfig
        ELSE 'english'::regconfig
    END INTO cfg
    FROM (SELECT NEW.requester_id AS id) t
    LEFT JOIN accounts_user u ON u.id = t.id;
    SELECT setweight(to_tsvector(cfg, NEW.subject), 'A')
        || setweight(to_tsvector(cfg, NEW.description), 'B')
        || to_tsvector(cfg, coalesce(r.replies, '')),
        to_tsvector(cfg, coalesce(r.notes, ''))
    INTO pub, notes
    FROM (
        SELECT string_agg(body, ' ') FILTER (WHERE NOT is_internal) AS replies,
               string_agg(body, ' ') FILTER (WHERE is_internal) AS notes
        FROM tickets_comment WHERE ticket_id = NEW.id
    ) r;
"""

PG_CREATE = (
    r"""
CREATE OR REPLACE FUNCTION tickets_search_ticket_terms() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    cfg regconfig;
    pub tsvector;
    notes tsvector;
    public_terms tsvector;
    notes_terms tsvector;
    written text;
BEGIN"""
    + _TERMS_BODY
    + r"""
    public_terms := strip(pub);
    notes_terms := ts_delete(strip(notes), tsvector_to_array(pub));
    NEW.search_terms := public_terms || notes_terms;
    -- 0012's refresh for this row (``_WRITE_TABLES``, ``_WRITE_MATCH``)
    INSERT INTO tickets_ticket_search AS s (ticket_id, config, public_doc, staff_doc)
    VALUES (NEW.id, cfg, pub, pub || notes)
    ON CONFLICT (ticket_id) DO UPDATE SET config = EXCLUDED.config,
        public_doc = EXCLUDED.public_doc, staff_doc = EXCLUDED.staff_doc;
    INSERT INTO tickets_ticket_match AS m (ticket_id, public_terms, notes_terms)
    VALUES (NEW.id, public_terms, notes_terms)
    ON CONFLICT (ticket_id) DO UPDATE SET public_terms = EXCLUDED.public_terms,
        notes_terms = EXCLUDED.notes_terms;
    -- ``count,low,high`` of the rows written by this statement so far
    written := current_setting('tickets.search_written', true);
    IF written IS NULL OR written = '' THEN
        written := '1,' || NEW.id || ',' || NEW.id;
    ELSE
        written := (split_part(written, ',', 1)::bigint + 1)
            || ',' || least(split_part(written, ',', 2)::bigint, NEW.id)
            || ',' || greatest(split_part(written, ',', 3)::bigint, NEW.id);
    END IF;
    PERFORM set_config('tickets.search_written', written, true);
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION tickets_search_ticket_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    written text := current_setting('tickets.search_written', true);
    low bigint;
    high bigint;
BEGIN
    IF written IS NULL OR written = '' THEN
        -- rows the ``BEFORE`` trigger did not write (it was disabled)
        PERFORM tickets_search_refresh(ARRAY(SELECT id FROM new_rows));
        RETURN NULL;
    END IF;
    PERFORM set_config('tickets.search_written', '', true);
    IF split_part(written, ',', 1)::bigint = (SELECT count(*) FROM new_rows) THEN
        RETURN NULL;
    END IF;
    low := split_part(written, ',', 2)::bigint;
    high := split_part(written, ',', 3)::bigint;
    DELETE FROM tickets_ticket_search s WHERE s.ticket_id BETWEEN low AND high
        AND NOT EXISTS (SELECT 1 FROM tickets_ticket t WHERE t.id = s.ticket_id);
    DELETE FROM tickets_ticket_match m WHERE m.ticket_id BETWEEN low AND high
        AND NOT EXISTS (SELECT 1 FROM tickets_ticket t WHERE t.id = m.ticket_id);
    PERFORM tickets_search_refresh(ARRAY(
        SELECT t.id FROM tickets_ticket t WHERE t.id BETWEEN low AND high
        AND t.id NOT IN (SELECT id FROM new_rows)));
    RETURN NULL;
END $$;
"""
)

# 0015's and 0010's functions, for the reverse.
PG_DROP = (
    r"""
CREATE OR REPLACE FUNCTION tickets_search_ticket_terms() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    cfg regconfig;
    pub tsvector;
    notes tsvector;
BEGIN"""
    + _TERMS_BODY
    + r"""
    NEW.search_terms := strip(pub) || ts_delete(strip(notes), tsvector_to_array(pub));
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION tickets_search_ticket_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tickets_search_refresh(ARRAY(SELECT id FROM new_rows));
    RETURN NULL;
END $$;
"""
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DROP)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0018_grants_permission_unchecked")]

    operations = [migrations.RunPython(create, drop)]
