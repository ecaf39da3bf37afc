# ruff: noqa: S608 - SQL built from constants here; user text goes only in params
"""Full-text documents of tickets, and the SQL that matches, ranks and quotes them.

Over 400 lines on purpose: the one module of full-text SQL, for both databases
(PostgreSQL's documents and SQLite's FTS5 table), so that each rule's two dialects
stay side by side.

Used only by ``TicketQuerySet.search`` (the one ticket search). Each ticket has two
documents: the *public* one (subject, description, public replies) and the *staff* one
(the same plus internal notes). Which of them a row is matched and quoted from is the
caller's input, decided by the visibility policy (``tickets.permissions.
notes_searchable``): this module never decides who may read notes.

Storage, kept in step by database triggers created in migration 0010 (so every write
path follows: services, email intake, GraphQL, merges, ``generate_load_data``'s COPY,
``loaddata``/restore, raw SQL):

* PostgreSQL: table ``tickets_ticket_search`` (``ticket_id``, ``config``,
  ``public_doc``, ``staff_doc``), ``tsvector`` columns with GIN indexes, the text
  search configuration chosen from the requester's language (``english``, ``russian``;
  ``simple`` for Polish, which PostgreSQL ships no stemmer for). Queries are parsed
  with ``websearch_to_tsquery`` (never a syntax error) in the three configurations,
  OR-ed, so that a word finds its stem in a document of any of them. Beside it the
  narrow ``tickets_ticket_match`` (migration 0011: ``public_terms``, ``notes_terms``,
  the same lexemes ``strip()``ped, a third of the size) that ``tickets_search_ids``
  matches on; queries with a phrase (``<->``: quoted or hyphenated words) match on
  the full documents, which keep the positions. Rank and snippet read the full
  documents, for the rows shown only; the staff rank the copy of the staff document
  on the ticket row (``tickets_ticket.search_terms``, migration 0025; it matches too).
* SQLite: FTS5 table ``tickets_ticket_fts`` (``rowid`` = ticket id; columns
  ``subject``, ``body`` = description + replies, ``notes``). User text never reaches
  FTS5's query syntax: it is cut into words, each quoted.

Snippets come back with the matches between ``MARK_START`` and ``MARK_END`` (control
characters) so that ``as_html`` can escape the whole text and only then add ``<mark>``.
"""

import re
import weakref

from django.db import connections
from django.db.models import (
    BooleanField,
    Case,
    Expression,
    F,
    FloatField,
    Q,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.sql.where import WhereNode
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PG_TABLE = "tickets_ticket_search"
FTS_TABLE = "tickets_ticket_fts"
MARK_START, MARK_END = "\x02", "\x03"
# the user's text, at most (longer queries only cost; GraphQL caps it at 200 anyway)
MAX_QUERY_LENGTH = 200
_WORD = re.compile(r"\w+", re.UNICODE)

# ``websearch_to_tsquery`` in every configuration a document may be in, OR-ed.
_PG_QUERY = "tickets_search_query(%s)"  # migration 0010
_PG_HEADLINE_OPTIONS = (
    f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=24, MinWords=10, "
    'MaxFragments=2, FragmentDelimiter=" … "'
)


def clean(text: str) -> str:
    """The user's text as the database may take it: no NUL (PostgreSQL refuses it),
    no lone surrogates (no encoding takes them), bounded length."""
    text = (text or "").replace("\x00", " ")
    text = text.encode("utf-8", "ignore").decode("utf-8")
    return text.strip()[:MAX_QUERY_LENGTH]


def fts5_query(text: str, *, notes: bool) -> str | None:
    """An FTS5 MATCH expression for ``text``: every word quoted (so ``"``, ``NEAR(``,
    ``^``, ``a:b``, ``AND``/``OR`` are plain words), all of them required; limited to
    the public columns unless ``notes``. None when ``text`` has no word."""
    words = _WORD.findall(text)
    if not words:
        return None
    phrase = " ".join(f'"{word}"' for word in words[:32])
    return phrase if notes else f"{{subject body}} : ({phrase})"


def has_word(text: str) -> bool:
    """Whether ``text`` has a word (``fts5_query`` gives a query)."""
    return _WORD.search(text) is not None


class _ByTicket(Expression):
    """A correlated SQL fragment about the outer ticket row: ``%(pk)s`` in
    ``template`` becomes the outer query's ticket id column (relabelled correctly when
    the queryset becomes a subquery)."""

    def __init__(self, template: str, params, output_field):
        super().__init__(output_field=output_field)
        self.template, self.params, self.pk = template, list(params), F("pk")

    def get_source_expressions(self):
        return [self.pk]

    def set_source_expressions(self, exprs):
        (self.pk,) = exprs

    def as_sql(self, compiler, connection):
        pk_sql, pk_params = compiler.compile(self.pk)
        assert not pk_params, "a column has no parameters"
        # ``%(terms)s``: the same row's ``search_terms`` (a raw column, 0012, 0025)
        terms_sql = pk_sql.rsplit(".", 1)[0] + ".search_terms"
        sql = self.template.replace("%(pk)s", pk_sql).replace("%(terms)s", terms_sql)
        return sql, self.params


class _AnyOf(Expression):
    """``column = ANY(ARRAY(subquery))``: unlike ``IN (subquery)`` (a hashed SubPlan,
    a filter), an index condition, so that PostgreSQL can BitmapOr it with the
    search's other arms."""

    output_field = BooleanField()

    def __init__(self, column: str, queryset):
        super().__init__()
        self.column, self.subquery = F(column), Subquery(queryset)

    def get_source_expressions(self):
        return [self.column, self.subquery]

    def set_source_expressions(self, exprs):
        self.column, self.subquery = exprs

    def as_sql(self, compiler, connection):
        column_sql, column_params = compiler.compile(self.column)
        subquery_sql, subquery_params = compiler.compile(self.subquery)
        # ``subquery_sql`` is parenthesised: ARRAY(SELECT …)
        return (
            f"{column_sql} = ANY(ARRAY{subquery_sql})",
            (*column_params, *subquery_params),
        )


class _IdsIn(Expression):
    """``column = ANY(%s::bigint[])``: a list of ids as one parameter (``IN (%s, …)``
    with a thousand of them cost more to bind and send than to run)."""

    output_field = BooleanField()

    def __init__(self, column: str, ids):
        super().__init__()
        self.column, self.ids = F(column), [int(pk) for pk in ids]

    def get_source_expressions(self):
        return [self.column]

    def set_source_expressions(self, exprs):
        (self.column,) = exprs

    def as_sql(self, compiler, connection):
        column_sql, column_params = compiler.compile(self.column)
        return f"{column_sql} = ANY(%s::bigint[])", (*column_params, self.ids)


class _Compilations:
    """What a ``_CompiledOnce`` and its copies compiled, per compiler: shared by the
    copies (``copy``, ``deepcopy``), never pickled (a pickled expression starts
    empty)."""

    def __init__(self):
        self.by_compiler = weakref.WeakKeyDictionary()

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return (_Compilations, ())


class _CompiledOnce(Expression):
    """A condition (a ``Q``) compiled once per statement however often the statement
    holds it: its copies (each place it is used resolves one) share what the first of
    them compiled with that statement's compiler. For the notes policy
    (``permissions.notes_searchable``'s ``Q``, ~5 subqueries), which a search's
    statement holds in its filter and in its rank's ``CASE`` (bench FINDINGS S-1)."""

    output_field = BooleanField()

    def __init__(self, condition: Q):
        super().__init__()
        self.condition = condition
        self.compilations = _Compilations()

    def get_source_expressions(self):
        return [self.condition]

    def set_source_expressions(self, exprs):
        (self.condition,) = exprs

    def as_sql(self, compiler, connection):
        kept = self.compilations.by_compiler.get(compiler)
        if kept is None:
            sql, params = compiler.compile(self.condition)
            kept = (f"({sql})", tuple(params))
            self.compilations.by_compiler[compiler] = kept
        return kept

    def relabeled_clone(self, change_map):
        # other aliases, other SQL: never the statement's first copy's
        clone = super().relabeled_clone(change_map)
        if change_map:
            clone.compilations = _Compilations()
        return clone


class _ByNotes(Expression):
    """``CASE WHEN notes THEN staff ELSE public END`` (``TicketQuerySet.search``'s
    rank and snippet where notes count on some tickets only) whose condition, the notes
    policy's ``Q`` (~5 subqueries), is resolved only when a statement compiles it:
    ``by_relevance(within=…)`` takes ``staff`` and ``public`` apart and tells them by
    the ids statement's ``noted`` column instead, so that the search's two aliases no
    longer resolve the policy (~40 % of building the search) for nothing (bench
    FINDINGS S-1). The condition must not join (the ticket row's own columns and
    correlated subqueries): it is resolved against the statement being compiled,
    whose joins are already written."""

    def __init__(self, notes: Q, staff: Expression, public: Expression):
        super().__init__(output_field=staff.output_field)
        self.notes, self.staff, self.public = notes, staff, public

    def get_source_expressions(self):
        return [self.staff, self.public]

    def set_source_expressions(self, exprs):
        self.staff, self.public = exprs

    def as_sql(self, compiler, connection):
        query = compiler.query
        joined = len(query.alias_map)
        case = Case(When(self.notes, then=self.staff), default=self.public)
        sql, params = compiler.compile(case.resolve_expression(query))
        if len(query.alias_map) != joined:
            raise ValueError("the notes condition of a search may not join")
        return sql, params


def by_notes(notes: bool | Q, public: Expression, staff: Expression) -> Expression:
    """``staff`` where ``notes`` (``TicketQuerySet.search``'s: the policy's verdict)
    lets notes count, else ``public``."""
    if notes is True:
        return staff
    if notes is False:
        return public
    return _ByNotes(notes, staff, public)


def compiled_once(condition: bool | Q) -> bool | Expression:
    """``condition`` (``TicketQuerySet.search``'s ``notes``) as a boolean expression
    that each statement compiles once wherever it holds it; booleans as they are."""
    if isinstance(condition, bool):
        return condition
    return _CompiledOnce(condition)


def ids_in(vendor: str, column: str, ids) -> Q:
    """``column`` is one of ``ids``."""
    if vendor == "postgresql":
        return Q(_IdsIn(column, ids))
    return Q(**{f"{column}__in": ids})


def only_ids(queryset, ids):
    """``queryset`` (``by_relevance(within=…)``'s: its one filter is all the ranked
    ids) narrowed to ``ids`` (a page of them), unordered: the page's ids replace the
    ranked ones (sent as one small array, not also the 1,001)."""
    if not ids:  # no match: no query
        return queryset.none()
    if len(queryset.query.where.children) == 1:
        queryset.query.where = WhereNode()
    vendor = connections[queryset.db].vendor
    return queryset.filter(ids_in(vendor, "pk", ids)).order_by()


def any_of(vendor: str, column: str, queryset) -> Q:
    """``column`` is one of ``queryset``'s values (a one-column queryset)."""
    if vendor == "postgresql":
        return Q(_AnyOf(column, queryset))
    return Q(**{f"{column}__in": queryset})


def match(vendor: str, text: str, *, notes: bool) -> Expression | None:
    """True where the ticket's public (or, with ``notes``, staff) document matches
    ``text``; None when nothing in ``text`` can match."""
    if vendor == "postgresql":
        # the ids through the GIN index (hashed once), not a probe per ticket (which
        # the planner turned into a sequential scan of the documents)
        return _ByTicket(
            "%(pk)s IN (SELECT tickets_search_ids(%s, %s))",
            [text, notes],
            BooleanField(),
        )
    query = fts5_query(text, notes=notes)
    if query is None:
        return None
    return _ByTicket(
        f"%(pk)s IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s)",
        [query],
        BooleanField(),
    )


def document_match(vendor: str, text: str, notes: bool | Q) -> Q | None:
    """Tickets whose public document matches ``text``, or their staff document
    where ``notes`` (``TicketQuerySet.search``'s) lets notes count; None when
    nothing in ``text`` can match."""
    if vendor == "postgresql":
        return _pg_document_match(text, notes)
    staff_ids = matching_ids_sql(vendor, text, notes=notes is not False)
    if staff_ids is None:
        return None
    in_document = Q(pk__in=RawSQL(*staff_ids))  # noqa: S611 - params
    if notes is not True and notes is not False:
        in_document &= notes | Q(match(vendor, text, notes=False))
    return in_document


# A ``-`` that ``websearch_to_tsquery`` may read as a negation: one that does not
# continue a word (``wi-fi`` is a phrase). Stricter than PostgreSQL's parser (``x.-y``
# counts here), never looser: an oracle test compares it with the SQL verdict.
_MAY_NEGATE = re.compile(r"(?<!\w)-")


def may_negate(text: str) -> bool:
    """Whether ``text`` may hold a negation (``-word``) for PostgreSQL."""
    return _MAY_NEGATE.search(text) is not None


def _pg_document_match(text: str, notes: bool | Q) -> Q:
    """Every arm an index condition on ``tickets_ticket`` itself (migration 0012), so
    that PostgreSQL BitmapOrs them with the search's others: the row's staff
    terms (GIN; for a phrase, its words, then the phrase re-checked in the staff
    document by key), checked against the public document by key where notes may not
    count; for a query with a negation (which staff terms cannot pre-filter), the ids
    from the documents' GIN indexes."""
    staff = Q(
        _ByTicket(
            # ``tickets_search_has_phrase`` is folded when the query is planned
            "(%(terms)s @@ tickets_search_terms_query(%s) "
            "AND (NOT tickets_search_has_phrase(%s) OR EXISTS (SELECT 1 FROM "
            f"{PG_TABLE} s WHERE s.ticket_id = %(pk)s "
            f"AND s.staff_doc @@ {_PG_QUERY})))",
            [text, text, text],
            BooleanField(),
        )
    )

    def negation(in_notes: bool) -> Q:
        return Q(
            _ByTicket(
                "%(pk)s = ANY(ARRAY(SELECT tickets_search_negation_ids(%s, %s)))",
                [text, in_notes],
                BooleanField(),
            )
        )

    public = Q(_ByTicket("tickets_search_public(%(pk)s, %s)", [text], BooleanField()))
    if not may_negate(text):  # no negation ids to add (and no notes Q to repeat)
        if notes is True or notes is False:
            return staff & public if notes is False else staff
        return staff & (notes | public)
    if notes is True:
        return staff | negation(True)
    if notes is False:
        return (staff & public) | negation(False)
    # the staff document where notes count, else the public one (a negation: both)
    return (
        (staff & (notes | public))
        | (negation(True) & notes)
        | (negation(False) & ~notes)
    )


def matching_ids_sql(vendor: str, text: str, *, notes: bool):
    """``(sql, params)`` of the ids of the tickets whose document matches: the
    index-driven form (a GIN / FTS5 lookup, then ``id IN``), or None."""
    if vendor == "postgresql":
        return "SELECT tickets_search_ids(%s, %s)", [text, notes]
    query = fts5_query(text, notes=notes)
    if query is None:
        return None
    return f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [query]


def ranked_ids(newest, rank) -> tuple[list[int], list[int] | None]:
    """The ids of ``newest`` (a sliced ``values_list("pk", "updated_at")`` queryset,
    optionally with a third boolean column ``noted``), most relevant by ``rank``
    (``TicketQuerySet.search``'s ``search_rank``), then newest: ranked around that
    subquery, so that the rank is computed after its LIMIT, for its rows only, and no
    row is read twice. Where notes count on some tickets only (a ``CASE`` on the
    policy's condition), the rank takes the staff or the public document by the
    ``noted`` column instead, so that the statement holds (and PostgreSQL plans) the
    policy once fewer (bench FINDINGS S-1). Second: the ids whose ``noted`` is true
    (None without that column)."""
    sql, params, noted = ranked_ids_sql(newest, rank)
    return run_ranked_ids(newest.db, sql, params, noted)


def ranked_ids_sql(newest, rank) -> tuple[str, tuple, bool]:
    """``ranked_ids``' statement, not run: ``(sql, params, noted)``, ``noted`` whether
    it selects the ``noted`` column (for ``run_ranked_ids``; a caller may keep it)."""
    sql, params = newest.query.sql_with_params()
    connection = connections[newest.db]
    noted = "noted" in newest.query.annotation_select
    pk, updated_at, flag = (
        f"newest.{connection.ops.quote_name(name)}"  # the columns' aliases
        for name in ("pk", "updated_at", "noted")
    )
    rank_sql, rank_params = _outer_rank(rank, pk, flag if noted else None)
    # A constant rank (no term can match) orders nothing, and as ``ORDER BY 0`` it
    # would name a column position that does not exist.
    by_rank = f"{rank_sql} DESC, " if rank_sql != "0" else ""
    # only the ids come back (loading 1,001 timestamps and ranks cost ~2 ms)
    return (
        f"SELECT {pk}{f', {flag}' if noted else ''} FROM ({sql}) newest "
        f"ORDER BY {by_rank}{updated_at} DESC, {pk} DESC",
        (*params, *rank_params),
        noted,
    )


def ranked_union_sql(newests, rank, within: int) -> tuple[str, tuple, bool]:
    """``ranked_ids_sql``'s statement over disjoint parts (``newests``: each one's
    newest ``within`` rows, ``pk``, ``updated_at`` and ``noted``, as ``ranked_ids_sql``
    takes one): their newest ``within`` together, ranked by ``rank`` (``search``'s
    ``CASE`` of the staff and public ranks, told by ``noted``)."""
    connection = connections[newests[0].db]
    quote = connection.ops.quote_name
    parts, params = [], []
    for number, newest in enumerate(newests):
        sql, part_params = newest.query.sql_with_params()
        parts.append(f"SELECT * FROM ({sql}) part{number}")
        params.extend(part_params)
    pk, updated_at, flag = (
        f"newest.{quote(name)}" for name in ("pk", "updated_at", "noted")
    )
    rank_sql, rank_params = _outer_rank(rank, pk, flag)
    by_rank = f"{rank_sql} DESC, " if rank_sql != "0" else ""
    union = (
        f"SELECT * FROM ({' UNION ALL '.join(parts)}) parts "
        f"ORDER BY {quote('updated_at')} DESC, {quote('pk')} DESC LIMIT {int(within)}"
    )
    return (
        f"SELECT {pk}, {flag} FROM ({union}) newest "
        f"ORDER BY {by_rank}{updated_at} DESC, {pk} DESC",
        (*params, *rank_params),
        True,
    )


def run_ranked_ids(
    using: str, sql: str, params, noted: bool
) -> tuple[list[int], list[int] | None]:
    """Run ``ranked_ids_sql``'s statement on ``using``: ``ranked_ids``' answer."""
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    ids = [row[0] for row in rows]
    return ids, ([row[0] for row in rows if row[1]] if noted else None)


def rank_terms(rank) -> Expression | None:
    """The ticket row's ``search_terms`` as a column to select beside the ids that
    ``rank`` (``search``'s ``search_rank``) is then computed about (``_outer_rank``),
    where it reads them (the staff rank on PostgreSQL); else None."""
    parts = (rank.staff, rank.public) if isinstance(rank, _ByNotes) else (rank,)
    if any(isinstance(p, _ByTicket) and "%(terms)s" in p.template for p in parts):
        return _ByTicket("%(terms)s", [], TextField())
    return None


def _outer_rank(rank, pk: str, flag: str | None) -> tuple[str, list]:
    """``rank`` (``rank``'s expression, or ``search``'s ``CASE`` of the staff and
    public ones) as SQL about the ticket ``pk`` (and its ``terms`` beside it,
    ``rank_terms``); the ``CASE`` on ``flag`` (the policy's verdict, a column)
    instead of on the policy's condition."""
    terms = pk.rsplit(".", 1)[0] + ".terms"

    def about(expression) -> tuple[str, list]:
        if isinstance(expression, _ByTicket):
            sql = expression.template.replace("%(pk)s", pk)
            return sql.replace("%(terms)s", terms), list(expression.params)
        return "0", []  # ``rank``'s ``Value(0.0)``: nothing in the text can match

    if isinstance(rank, _ByNotes):
        assert flag is not None, "a rank by notes needs the ids' verdict"
        (staff_sql, staff_params), (public_sql, public_params) = (
            about(rank.staff),
            about(rank.public),
        )
        return (
            f"CASE WHEN {flag} THEN {staff_sql} ELSE {public_sql} END",
            [*staff_params, *public_params],
        )
    return about(rank)


def rank(vendor: str, text: str, *, notes: bool) -> Expression:
    """Relevance of the outer ticket, higher is better (``ts_rank`` with subject A,
    description B, conversation D; FTS5's bm25 with the subject weighted ×10). On
    PostgreSQL the staff rank reads the ticket row's own staff document (``%(terms)s``,
    migration 0025: no second read of the ticket's documents, bench FINDINGS S-18),
    the public one the public document by key."""
    if vendor == "postgresql":
        if notes:
            return _ByTicket(f"ts_rank(%(terms)s, {_PG_QUERY})", [text], FloatField())
        return _ByTicket(
            f"COALESCE((SELECT ts_rank(s.public_doc, {_PG_QUERY}) FROM {PG_TABLE} s "
            "WHERE s.ticket_id = %(pk)s), 0)",
            [text],
            FloatField(),
        )
    query = fts5_query(text, notes=notes)
    if query is None:
        return Value(0.0, output_field=FloatField())
    # bm25() is lower for better matches: negate it.
    return _ByTicket(
        f"COALESCE((SELECT -bm25({FTS_TABLE}, 10.0, 1.0, 1.0) FROM {FTS_TABLE} "
        f"WHERE {FTS_TABLE} MATCH %s AND rowid = %(pk)s), 0.0)",
        [query],
        FloatField(),
    )


def snippet(vendor: str, text: str, *, notes: bool) -> Expression:
    """A short extract of the outer ticket's document around the matches, marked with
    ``MARK_START``/``MARK_END`` (raw text: pass it through ``as_html``). Only the
    public document unless ``notes``."""
    if vendor == "postgresql":
        comments = "" if notes else " AND NOT c.is_internal"
        return _ByTicket(
            f"(SELECT ts_headline(s.config, concat_ws(' ', t2.description, "
            f"(SELECT string_agg(c.body, ' ' ORDER BY c.created_at, c.id) "
            f"FROM tickets_comment c WHERE c.ticket_id = t2.id{comments})), "
            f"{_PG_QUERY}, %s) FROM tickets_ticket t2 "
            f"JOIN {PG_TABLE} s ON s.ticket_id = t2.id WHERE t2.id = %(pk)s)",
            [text, _PG_HEADLINE_OPTIONS],
            TextField(),
        )
    query = fts5_query(text, notes=notes)
    if query is None:
        return Value(None, output_field=TextField())
    column = -1 if notes else 1  # -1: the best column; 1: body (public)
    return _ByTicket(
        f"(SELECT snippet({FTS_TABLE}, {column}, %s, %s, '…', 16) FROM {FTS_TABLE} "
        f"WHERE {FTS_TABLE} MATCH %s AND rowid = %(pk)s)",
        [MARK_START, MARK_END, query],
        TextField(),
    )


def as_html(raw: str | None) -> SafeString:
    """A snippet from the database as HTML: the text escaped, the matches in
    ``<mark>``. Empty when there is none or it marks nothing."""
    if not raw or MARK_START not in raw:
        return mark_safe("")
    html = escape(raw.replace(MARK_END, MARK_START)).split(MARK_START)
    # alternate: text, match, text, match, …
    parts = [
        f"<mark>{piece}</mark>" if i % 2 else piece for i, piece in enumerate(html)
    ]
    return mark_safe("".join(parts))  # noqa: S308 - every piece escaped above
