"""Full-text documents of tickets for ``TicketQuerySet.search``, kept by triggers.

Why triggers rather than the services: a ticket's text is written by the services, but
also by ``generate_load_data`` (COPY), ``loaddata`` (restore), merges and raw SQL; a
trigger follows every one of them in the same transaction, and a bulk load costs one
statement per table (PostgreSQL statement-level triggers with transition tables).

PostgreSQL: table ``tickets_ticket_search`` (not a Django model: nothing reads it
but the search's SQL, and dumps leave it out since the triggers rebuild it), GIN
indexes, the function ``tickets_search_refresh(ids)`` that rebuilds the documents of
some tickets, and triggers on tickets and comments calling it. The backfill runs in
batches of ``BATCH`` tickets. SQLite: the FTS5 table ``tickets_ticket_fts`` and row
triggers. See ``tickets.models.fulltext``. Migration 0011 adds the narrow matching
table ``tickets_ticket_match`` and replaces ``tickets_search_refresh`` (it writes both
tables), ``tickets_search_ids`` (it matches on the narrow one) and the delete and
truncate triggers' functions.
"""

from django.db import migrations

BATCH = 5000

PG_CREATE = r"""
CREATE TABLE tickets_ticket_search (
    ticket_id bigint PRIMARY KEY,
    config regconfig NOT NULL,
    public_doc tsvector NOT NULL,
    staff_doc tsvector NOT NULL
);
-- Meant to keep the documents out of line (TOAST), but PostgreSQL toasts only rows
-- over ~2 kB: these (~1.15 kB) stay inline. Matching reads 0011's narrow table.
ALTER TABLE tickets_ticket_search SET (toast_tuple_target = 128);
CREATE INDEX tickets_ticket_search_public_idx ON tickets_ticket_search
    USING gin (public_doc);
CREATE INDEX tickets_ticket_search_staff_idx ON tickets_ticket_search
    USING gin (staff_doc);

-- The documents of the tickets ``ids``: subject (weight A), description (B), public
-- replies (D); the staff document adds the internal notes. The configuration follows
-- the requester's language: PostgreSQL has no Polish stemmer, hence ``simple``.
CREATE FUNCTION tickets_search_refresh(ids bigint[]) RETURNS void
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

-- The user's text as a query: ``websearch_to_tsquery`` (never a syntax error) in
-- every configuration a document may be in, OR-ed.
CREATE FUNCTION tickets_search_query(q text) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT websearch_to_tsquery('english', q) || websearch_to_tsquery('russian', q)
        || websearch_to_tsquery('simple', q)
$$;

-- The ids of the tickets whose public (or staff) document matches, always through
-- the GIN index: with the documents out of line the planner costs a sequential scan
-- as cheap (a small heap) though it detoasts every document (10x slower). Not
-- inlined (SET), so it is planned on its own.
CREATE FUNCTION tickets_search_ids(q text, notes boolean) RETURNS SETOF bigint
LANGUAGE sql STABLE ROWS 1000 SET enable_seqscan = off AS $$
    SELECT ticket_id FROM tickets_ticket_search
    WHERE NOT notes AND public_doc @@ tickets_search_query(q)
    UNION ALL
    SELECT ticket_id FROM tickets_ticket_search
    WHERE notes AND staff_doc @@ tickets_search_query(q)
$$;

CREATE FUNCTION tickets_search_ticket_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tickets_search_refresh(ARRAY(SELECT id FROM new_rows));
    RETURN NULL;
END $$;
CREATE TRIGGER tickets_search_ticket_insert AFTER INSERT ON tickets_ticket
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tickets_search_ticket_inserted();

-- Only tickets whose text or requester changed (status changes cost a join of the
-- two transition tables, nothing more).
CREATE FUNCTION tickets_search_ticket_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE changed bigint[];
BEGIN
    changed := ARRAY(
        SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE n.subject IS DISTINCT FROM o.subject
           OR n.description IS DISTINCT FROM o.description
           OR n.requester_id IS DISTINCT FROM o.requester_id
    );
    IF cardinality(changed) > 0 THEN
        PERFORM tickets_search_refresh(changed);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER tickets_search_ticket_update AFTER UPDATE ON tickets_ticket
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tickets_search_ticket_updated();

CREATE FUNCTION tickets_search_ticket_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM tickets_ticket_search WHERE ticket_id IN (SELECT id FROM old_rows);
    RETURN NULL;
END $$;
CREATE TRIGGER tickets_search_ticket_delete AFTER DELETE ON tickets_ticket
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tickets_search_ticket_deleted();

-- Django's flush (TransactionTestCase) truncates tickets: empty the documents too.
CREATE FUNCTION tickets_search_ticket_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE tickets_ticket_search;
    RETURN NULL;
END $$;
CREATE TRIGGER tickets_search_ticket_truncate AFTER TRUNCATE ON tickets_ticket
    FOR EACH STATEMENT EXECUTE FUNCTION tickets_search_ticket_truncated();

-- A requester who changes language: their tickets are stemmed in the new one.
CREATE FUNCTION tickets_search_requester_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE changed bigint[];
BEGIN
    changed := ARRAY(
        SELECT t.id FROM tickets_ticket t WHERE t.requester_id IN (
            SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE n.locale IS DISTINCT FROM o.locale
        )
    );
    IF cardinality(changed) > 0 THEN
        PERFORM tickets_search_refresh(changed);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER tickets_search_requester_update AFTER UPDATE ON accounts_user
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tickets_search_requester_updated();

CREATE FUNCTION tickets_search_comment_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tickets_search_refresh(ARRAY(SELECT DISTINCT ticket_id FROM new_rows));
    RETURN NULL;
END $$;
CREATE TRIGGER tickets_search_comment_insert AFTER INSERT ON tickets_comment
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tickets_search_comment_inserted();

CREATE FUNCTION tickets_search_comment_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE changed bigint[];
BEGIN
    changed := ARRAY(
        SELECT x.ticket_id FROM (
            SELECT n.ticket_id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE n.body IS DISTINCT FROM o.body
               OR n.is_internal IS DISTINCT FROM o.is_internal
               OR n.ticket_id IS DISTINCT FROM o.ticket_id
            UNION
            SELECT o.ticket_id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE n.ticket_id IS DISTINCT FROM o.ticket_id
        ) x
    );
    IF cardinality(changed) > 0 THEN
        PERFORM tickets_search_refresh(changed);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER tickets_search_comment_update AFTER UPDATE ON tickets_comment
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tickets_search_comment_updated();

CREATE FUNCTION tickets_search_comment_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tickets_search_refresh(ARRAY(SELECT DISTINCT ticket_id FROM old_rows));
    RETURN NULL;
END $$;
CREATE TRIGGER tickets_search_comment_delete AFTER DELETE ON tickets_comment
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tickets_search_comment_deleted();
"""

PG_DROP = """
DROP TRIGGER IF EXISTS tickets_search_comment_delete ON tickets_comment;
DROP TRIGGER IF EXISTS tickets_search_comment_update ON tickets_comment;
DROP TRIGGER IF EXISTS tickets_search_comment_insert ON tickets_comment;
DROP TRIGGER IF EXISTS tickets_search_requester_update ON accounts_user;
DROP TRIGGER IF EXISTS tickets_search_ticket_truncate ON tickets_ticket;
DROP TRIGGER IF EXISTS tickets_search_ticket_delete ON tickets_ticket;
DROP TRIGGER IF EXISTS tickets_search_ticket_update ON tickets_ticket;
DROP TRIGGER IF EXISTS tickets_search_ticket_insert ON tickets_ticket;
DROP FUNCTION IF EXISTS tickets_search_comment_deleted();
DROP FUNCTION IF EXISTS tickets_search_comment_updated();
DROP FUNCTION IF EXISTS tickets_search_comment_inserted();
DROP FUNCTION IF EXISTS tickets_search_requester_updated();
DROP FUNCTION IF EXISTS tickets_search_ticket_truncated();
DROP FUNCTION IF EXISTS tickets_search_ticket_deleted();
DROP FUNCTION IF EXISTS tickets_search_ticket_updated();
DROP FUNCTION IF EXISTS tickets_search_ticket_inserted();
DROP FUNCTION IF EXISTS tickets_search_refresh(bigint[]);
DROP FUNCTION IF EXISTS tickets_search_ids(text, boolean);
DROP FUNCTION IF EXISTS tickets_search_query(text);
DROP TABLE IF EXISTS tickets_ticket_search;
"""

# The FTS5 row of one ticket, rebuilt: ``{id}`` is NEW.id, OLD.ticket_id …
_SQLITE_REFRESH = """
    DELETE FROM tickets_ticket_fts WHERE rowid = {id};
    INSERT INTO tickets_ticket_fts (rowid, subject, body, notes)
    SELECT t.id, t.subject,
        t.description || coalesce(char(10) || (
            SELECT group_concat(c.body, char(10)) FROM tickets_comment c
            WHERE c.ticket_id = t.id AND NOT c.is_internal), ''),
        coalesce((
            SELECT group_concat(c.body, char(10)) FROM tickets_comment c
            WHERE c.ticket_id = t.id AND c.is_internal), '')
    FROM tickets_ticket t WHERE t.id = {id};
"""

SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE tickets_ticket_fts USING fts5("
    "subject, body, notes, tokenize = 'unicode61 remove_diacritics 2')",
    "CREATE TRIGGER tickets_fts_ticket_insert AFTER INSERT ON tickets_ticket BEGIN"
    + _SQLITE_REFRESH.format(id="NEW.id")
    + "END",
    "CREATE TRIGGER tickets_fts_ticket_update AFTER UPDATE OF subject, description "
    "ON tickets_ticket BEGIN" + _SQLITE_REFRESH.format(id="NEW.id") + "END",
    "CREATE TRIGGER tickets_fts_ticket_delete AFTER DELETE ON tickets_ticket BEGIN "
    "DELETE FROM tickets_ticket_fts WHERE rowid = OLD.id; END",
    "CREATE TRIGGER tickets_fts_comment_insert AFTER INSERT ON tickets_comment BEGIN"
    + _SQLITE_REFRESH.format(id="NEW.ticket_id")
    + "END",
    "CREATE TRIGGER tickets_fts_comment_update AFTER UPDATE OF body, is_internal, "
    "ticket_id ON tickets_comment BEGIN"
    + _SQLITE_REFRESH.format(id="OLD.ticket_id")
    + _SQLITE_REFRESH.format(id="NEW.ticket_id")
    + "END",
    "CREATE TRIGGER tickets_fts_comment_delete AFTER DELETE ON tickets_comment BEGIN"
    + _SQLITE_REFRESH.format(id="OLD.ticket_id")
    + "END",
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS tickets_fts_comment_delete",
    "DROP TRIGGER IF EXISTS tickets_fts_comment_update",
    "DROP TRIGGER IF EXISTS tickets_fts_comment_insert",
    "DROP TRIGGER IF EXISTS tickets_fts_ticket_delete",
    "DROP TRIGGER IF EXISTS tickets_fts_ticket_update",
    "DROP TRIGGER IF EXISTS tickets_fts_ticket_insert",
    "DROP TABLE IF EXISTS tickets_ticket_fts",
]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_CREATE)
        _backfill_postgresql(schema_editor)
    elif vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement)
        schema_editor.execute(
            "INSERT INTO tickets_ticket_fts (rowid, subject, body, notes) "
            "SELECT t.id, t.subject, t.description || coalesce(char(10) || ("
            "SELECT group_concat(c.body, char(10)) FROM tickets_comment c "
            "WHERE c.ticket_id = t.id AND NOT c.is_internal), ''), coalesce(("
            "SELECT group_concat(c.body, char(10)) FROM tickets_comment c "
            "WHERE c.ticket_id = t.id AND c.is_internal), '') FROM tickets_ticket t"
        )


def _backfill_postgresql(schema_editor):
    """The documents of the existing tickets, ``BATCH`` at a time (a statement per
    batch: no single statement holds every document in memory)."""
    with schema_editor.connection.cursor() as cursor:
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
                "SELECT tickets_search_refresh(ARRAY(SELECT id FROM tickets_ticket "
                "WHERE id > %s AND id <= %s))",
                [last, upto],
            )
            last = upto


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DROP)
    elif vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    # 0008 is another change's; the integrator chains them at merge.
    dependencies = [
        ("tickets", "0009_report_subscription"),
        ("accounts", "0001_initial"),
    ]

    operations = [migrations.RunPython(create, drop)]
