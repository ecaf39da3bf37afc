"""Every statement prepared on the server keeps its indexes in its generic plan (bench
FINDINGS F-19, F-20). A statement ``portal.prepared`` prepares is planned generically
after five runs (``auto``) or at once (the job worker's ``force_generic_plan``); a
generic plan cannot use a partial index whose condition depends on a parameter (F-19:
the filing's recent-deflection look read 46k rows per filing). The real paths that
prepare run here (a portal filing, a GraphQL filing, signed-in and bearer-token
requests, an admin page, a ticket's grants, the worker's claims and outcomes) and
every statement the prepared cursor runs is recorded, with its parameter types and
values as psycopg sent them; each is then PREPAREd as it was and EXPLAINed under a
custom plan and under a generic one (``enable_seqscan = off``: an index that can be
used is used): every index the custom plan reads must be read by the generic plan.

Not covered: the statements of PL/pgSQL triggers run by these statements (their
cached plans follow the session's ``plan_cache_mode`` too) are not visible to
EXPLAIN; ``auto_explain`` writes to the server's log, which a test cannot read."""

import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from psycopg.adapt import Transformer

from accounts import session_user, tokens
from accounts.tokens import create_token
from portal import prepared
from tickets import deflection, permissions, services
from tickets.models import Ticket

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL (prepared statements, plans)",
    ),
]

_FILING = 'WITH new_ticket AS (INSERT INTO "tickets_ticket"'
_STORE = 'INSERT INTO "notifications_sentnotification" '
_CLAIM = 'WITH "claim_locked"("locked_id") AS MATERIALIZED'
_OUTCOME = 'UPDATE "notifications_sentnotification" SET '


class Recorded:
    """The statements the prepared cursors ran: by their text as Django gave it, the
    text psycopg sent (``$n``), the parameter types' OIDs and the values."""

    def __init__(self):
        self.statements: dict[str, tuple[str, list[int], list]] = {}

    def texts(self):
        return list(self.statements)

    def having(self, part: str) -> list[str]:
        return [sql for sql in self.statements if part in sql]


def _recording_class(base, recorded: Recorded):
    class Recording(base):
        def execute(self, query, params=None, **kwargs):
            # psycopg's own conversion: the text it sends and the parameters' types
            sent = self._query_cls(Transformer(self))
            sent.convert(query, params)
            recorded.statements.setdefault(
                query, (sent.query.decode(), list(sent.types), list(params or ()))
            )
            return super().execute(query, params, **kwargs)

    return Recording


@pytest.fixture
def recorded(monkeypatch, settings):
    """A connection kept past its request (``web_prepares``), new for the test, the
    job worker's statements prepared too; the prepared cursors' statements recorded.
    Queries are not logged (``DEBUG`` off): the cursors prepare."""
    settings.WEB_PREPARED_STATEMENTS = True
    settings.OUTBOX_PREPARED_STATEMENTS = True
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    connection.close()
    found = Recorded()
    made = prepared._cursor_class
    monkeypatch.setattr(
        prepared,
        "_cursor_class",
        lambda prepares: (
            _recording_class(made(prepares), found) if prepares else made(prepares)
        ),
    )
    yield found
    connection.close()


# the comparison


def _nodes(plan: dict):
    """Every node of a plan: its children, ``WITH`` parts, InitPlans and SubPlans are
    all in ``Plans``."""
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _indexes(plan: dict) -> set[str]:
    return {node["Index Name"] for node in _nodes(plan) if "Index Name" in node}


def _type_names(oids) -> list[str]:
    """PostgreSQL's names of the types psycopg sent (0, text left to the server to
    type: ``unknown``, as PREPARE reads it)."""
    if not oids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(format_type(t.oid, NULL), 'unknown') "
            "FROM unnest(%s::oid[]) WITH ORDINALITY AS o(oid, n) "
            "LEFT JOIN pg_type t ON t.oid = o.oid ORDER BY o.n",
            [list(oids)],
        )
        return [name for (name,) in cursor.fetchall()]


def plans(sent: str, types: list[str] | None, params: list) -> dict[str, dict]:
    """The plans of ``sent`` (``$n`` marks) PREPAREd with ``types`` (None: typed by
    the server) and run with ``params``, by ``plan_cache_mode``: the custom plan
    (made for these values) and the generic one (for any), seqscans off. In a
    transaction rolled back: nothing runs (EXPLAIN without ANALYZE)."""
    found = {}
    typed = f"({', '.join(types)})" if types else ""
    marks = f"({', '.join(['%s'] * len(params))})" if params else ""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"PREPARE guard_generic{typed} AS {sent}")
        for mode in ("force_custom_plan", "force_generic_plan"):
            cursor.execute(f"SET LOCAL plan_cache_mode = {mode}")
            cursor.execute(
                f"EXPLAIN (FORMAT JSON) EXECUTE guard_generic{marks}", params
            )
            (plan,) = cursor.fetchone()
            plan = plan if isinstance(plan, list) else json.loads(plan)
            found[mode] = plan[0]["Plan"]
        cursor.execute("DEALLOCATE guard_generic")
        transaction.set_rollback(True)
    return found


def lost_in_generic_plan(sent: str, types, params) -> set[str]:
    """The indexes the custom plan of the statement reads and its generic plan does
    not (a partial index whose condition is a parameter): empty when it keeps them."""
    found = plans(sent, types, params)
    return _indexes(found["force_custom_plan"]) - _indexes(found["force_generic_plan"])


def _lost(recorded: Recorded) -> dict[str, set[str]]:
    lost = {}
    for sent, oids, params in recorded.statements.values():
        missing = lost_in_generic_plan(sent, _type_names(oids), params)
        if missing:
            lost[sent] = missing
    return lost


# the paths that prepare


def _file_through_the_portal(user):
    client = Client()
    client.force_login(user)
    response = client.post(
        "/portal/tickets/new/",
        {
            "subject": "Printer on fire",
            "description": "Since today.",
            "category": "technical",
            "priority": "medium",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    return client, response["Location"]


_CREATE = """mutation($i: CreateTicketInput!) { createTicket(input: $i) {
  __typename ... on Ticket { reference } } }"""


def _file_through_graphql(user):
    secret = create_token(user, name="guard", scopes="read,write").secret
    response = Client().post(
        "/graphql/",
        {
            "query": _CREATE,
            "variables": {"i": {"subject": "Fax", "description": "Jammed."}},
        },
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["data"]["createTicket"]["__typename"] == "Ticket"


def _run_the_paths(alice, agent):
    client, ticket_page = _file_through_the_portal(alice)
    # the session's user, the ticket's grants (its page asks ``can``)
    assert client.get("/portal/tickets/").status_code == 200
    assert client.get(ticket_page).status_code == 200
    _file_through_graphql(alice)
    # an admin page: the admin's user read, the profile (language, time zone)
    desk = Client()
    desk.force_login(agent)
    assert desk.get("/admin/").status_code == 200
    # the ticket's grants as a view asks them
    ticket = Ticket.objects.order_by("pk").first()
    assert permissions.held_codenames(agent, ticket) is not None
    # the job worker's (run inline with each filing here): the wake-up job's claim by
    # key, its outcomes (one, several); the reconciliation's claim is Django's own
    # (bound on the client, nothing prepared)


@pytest.mark.django_db(transaction=True)
def test_every_prepared_statement_keeps_its_indexes_in_the_generic_plan(
    recorded, alice, agent, queue
):
    _run_the_paths(alice, agent)
    assert _lost(recorded) == {}


@pytest.mark.django_db(transaction=True)
def test_the_guard_saw_the_statements_of_every_path(recorded, alice, agent, queue):
    """The guard cannot pass by recording nothing: the statements named in F-16 and
    F-20 are among those recorded."""
    _run_the_paths(alice, agent)
    texts = recorded.texts()
    type_id = ContentType.objects.get_for_model(Ticket).pk
    held, _ = permissions._HELD.statement(user_id=1, ticket_id=1, type_id=type_id)
    user, _ = session_user._BY_PK.statement(pk=1)
    admin, _ = session_user._ADMIN_BY_PK.statement(pk=1)
    bearer, _ = tokens._BY_PREFIX.statement(prefix="x")
    profile = type(agent).__dict__["wagtail_userprofile"].statement
    profile, _ = profile.statement(pk=1)
    for kept in (held, user, admin, bearer, profile):
        assert kept in texts
    for part in (_FILING, _STORE, _CLAIM, _OUTCOME):
        assert recorded.having(part), part
    # the portal's filing (with the session's recent-deflection look, F-19) and
    # GraphQL's: two shapes of the filing's statement
    filings = recorded.having(_FILING)
    assert len(filings) == 2
    assert len([sql for sql in filings if deflection._RECENT in sql]) == 1
    # an outcome alone and several together
    assert len(recorded.having(_OUTCOME)) == 2


# the twin: F-19's statement written the old way


def _old_recent_deflection(user) -> tuple[str, list]:
    """The recent-deflection look as before F-19: the outcome a value."""
    sql, params = deflection._RECENT_DEFLECTION.statement(
        user=user.pk, session_key="s1", since=timezone.now()
    )
    literal = "('deflected')"
    assert sql.count(literal) == 1
    before, after = sql.split(literal)
    at = before.count("%s")
    return before + "%s" + after, [*params[:at], "deflected", *params[at:]]


@pytest.mark.django_db(transaction=True)
def test_the_guard_finds_a_partial_index_lost_to_a_parameter(recorded, alice):
    """The twin: F-19's look with the outcome as a value, run by a prepared cursor
    and recorded as the paths' statements are, loses the partial index; written as
    it is now, it keeps it."""
    old, old_params = _old_recent_deflection(alice)
    now, now_params = deflection._RECENT_DEFLECTION.statement(
        user=alice.pk, session_key="s1", since=timezone.now()
    )
    for sql, params in ((old, old_params), (now, now_params)):
        with prepared.cursor(connection, prepared=True) as cursor:
            cursor.execute(sql, params)
    lost = _lost(recorded)
    sent = recorded.statements[old][0]
    assert lost == {sent: {"deflection_recent_idx"}}
