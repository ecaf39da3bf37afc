"""A new ticket's row is written once: its ``search_terms`` computed before the INSERT,
PostgreSQL only (bench FINDINGS R-4, 2026-12-05).

Since 0012 the statement trigger after an INSERT (``tickets_search_refresh``) writes
the two search tables and then UPDATEs the new rows' ``search_terms``. That column is
GIN-indexed, so the update is never HOT: every filing wrote a second version of its
ticket row and a second entry in each of the table's 17 indexes (three of them GIN),
and left a dead row for VACUUM.

A ``BEFORE INSERT`` row trigger now sets ``NEW.search_terms`` to the staff terms
exactly as the refresh spells them (the requester's configuration, the documents of
``0012._DOCUMENTS`` for this one row, ``strip(pub) || ts_delete(strip(notes),
tsvector_to_array(pub))``); the refresh's update, ``WHERE t.search_terms <>
staff_terms``, then finds nothing to change. The refresh is unchanged and still the
owner of the terms: should the two ever differ (comments written before their ticket
in one transaction, deferred foreign keys), it corrects the row as before. SQLite
(FTS5) is unchanged.
"""

from django.db import migrations

PG_CREATE = r"""
CREATE OR REPLACE FUNCTION tickets_search_ticket_terms() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    cfg regconfig;
    pub tsvector;
    notes tsvector;
BEGIN
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
    NEW.search_terms := strip(pub) || ts_delete(strip(notes), tsvector_to_array(pub));
    RETURN NEW;
END $$;
CREATE TRIGGER tickets_search_ticket_terms BEFORE INSERT ON tickets_ticket
    FOR EACH ROW EXECUTE FUNCTION tickets_search_ticket_terms();
"""

PG_DROP = r"""
DROP TRIGGER IF EXISTS tickets_search_ticket_terms ON tickets_ticket;
DROP FUNCTION IF EXISTS tickets_search_ticket_terms();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DROP)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0014_search_common_words")]

    operations = [migrations.RunPython(create, drop)]
