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
used is used): every partial index the custom plan reads must be read by the generic
plan. A full index the generic plan leaves for another is a cost choice that follows
the tables' statistics (autovacuum analyses the suite's tables at whatever point of a
run: ``_HELD``'s generic plan was seen reading the ticket's grants rather than
``auth_permission``'s key), not this rule's, and is not asserted.

The triggers' statements (PL/pgSQL plans, which EXPLAIN does not show; the session's
``plan_cache_mode`` applies to them too) are seen through ``auto_explain``'s plans
sent to the client as notices: the paths run under custom plans, then generic ones.

Over 400 lines on purpose: one guard; its recording, its two comparisons (prepared
statements, triggers) and their twins share the paths and the plan readers."""

import itertools
import json
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from psycopg.adapt import Transformer

from accounts import session_user, tokens
from accounts.tokens import create_token
from graphql_api.tests.test_ticket_filing import file_through_the_portal
from portal import prepared
from portal.notifications import sending
from tickets import deflection, permissions
from tickets.models import Ticket
from tickets.tests.test_deflection_recent_index import outcome_as_a_value

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

    def starting(self, head: str) -> list[str]:
        return [sql for sql in self.statements if sql.startswith(head)]


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
def recording(monkeypatch):
    """The prepared cursors' statements recorded."""
    found = Recorded()
    made = prepared._cursor_class
    monkeypatch.setattr(
        prepared,
        "_cursor_class",
        lambda prepares: (
            _recording_class(made(prepares), found) if prepares else made(prepares)
        ),
    )
    return found


@pytest.fixture
def recorded(recording, monkeypatch, settings):
    """A connection kept past its request (``web_prepares``), new for the test, the
    job worker's statements prepared too; the prepared cursors' statements recorded.
    Queries are not logged (``DEBUG`` off): the cursors prepare."""
    settings.WEB_PREPARED_STATEMENTS = True
    settings.OUTBOX_PREPARED_STATEMENTS = True
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    connection.close()
    yield recording
    connection.close()


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
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(format_type(t.oid, NULL), 'unknown') "
            "FROM unnest(%s::oid[]) WITH ORDINALITY AS o(oid, n) "
            "LEFT JOIN pg_type t ON t.oid = o.oid ORDER BY o.n",
            [list(oids)],
        )
        return [name for (name,) in cursor.fetchall()]


_NAMES = itertools.count()


def plans(sent: str, types: list[str] | None, params: list) -> dict[str, dict]:
    """The plans of ``sent`` (``$n`` marks) PREPAREd with ``types`` (None: typed by
    the server) and run with ``params``, by ``plan_cache_mode``: the custom plan
    (made for these values) and the generic one (for any), seqscans off. In a
    transaction rolled back: nothing runs (EXPLAIN without ANALYZE). A name of its
    own each time: a PREPARE outlives a rollback (a failed comparison's too)."""
    found, name = {}, f"guard_{next(_NAMES)}"
    typed = f"({', '.join(types)})" if types else ""
    marks = f"({', '.join(['%s'] * len(params))})" if params else ""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"PREPARE {name}{typed} AS {sent}")
        for mode in ("force_custom_plan", "force_generic_plan"):
            cursor.execute(f"SET LOCAL plan_cache_mode = {mode}")
            cursor.execute(f"EXPLAIN (FORMAT JSON) EXECUTE {name}{marks}", params)
            (plan,) = cursor.fetchone()
            plan = plan if isinstance(plan, list) else json.loads(plan)
            found[mode] = plan[0]["Plan"]
        cursor.execute(f"DEALLOCATE {name}")
        transaction.set_rollback(True)
    return found


def _partial(indexes: set[str]) -> set[str]:
    """Those of ``indexes`` that are partial (``CREATE INDEX … WHERE``): the ones a
    generic plan cannot read when their condition depends on a parameter."""
    if not indexes:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indpred IS NOT NULL AND c.relname = ANY(%s)",
            [sorted(indexes)],
        )
        return {name for (name,) in cursor.fetchall()}


def lost_in_generic_plan(sent: str, types, params) -> set[str]:
    """The partial indexes the custom plan of the statement reads and its generic
    plan does not (a partial index whose condition is a parameter): empty when it
    keeps them."""
    found = plans(sent, types, params)
    lost = _indexes(found["force_custom_plan"]) - _indexes(found["force_generic_plan"])
    return _partial(lost)


def _lost(recorded: Recorded) -> dict[str, set[str]]:
    """``lost_in_generic_plan`` of each statement recorded, where it is not empty."""
    lost = {
        sent: lost_in_generic_plan(sent, _type_names(oids), params)
        for sent, oids, params in recorded.statements.values()
    }
    return {sent: missing for sent, missing in lost.items() if missing}


def _file_through_the_portal(user):
    """A filing through the portal's form (``file_through_the_portal``), then the
    filer's client and the new ticket's page."""
    ticket = file_through_the_portal(user)
    client = Client()
    client.force_login(user)
    return client, f"/portal/tickets/{ticket.reference}/"


_CREATE = """mutation($i: CreateTicketInput!) { createTicket(input: $i) {
  __typename ... on Ticket { reference } } }"""


def _file_through_graphql(user, name="guard"):
    secret = create_token(user, name=name, scopes="read,write").secret
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


def _run_the_paths(alice, agent, name="guard"):
    """Each path once. The job worker's statements run inline with each filing: the
    wake-up job's claim by key and its outcomes, each alone (the portal's filing)
    and together (GraphQL's); the reconciliation's claim is Django's own (bound on
    the client, nothing prepared)."""
    with mock.patch.object(sending, "RECORD_WITHIN", 0):
        client, ticket_page = _file_through_the_portal(alice)
    # the session's user, the ticket's grants (its page asks ``can``)
    assert client.get("/portal/tickets/").status_code == 200
    assert client.get(ticket_page).status_code == 200
    with mock.patch.object(sending, "RECORD_WITHIN", 60):
        _file_through_graphql(alice, name)
    # an admin page: the admin's user read, the profile (language, time zone)
    agent.user_permissions.add(Permission.objects.get(codename="access_admin"))
    desk = Client()
    desk.force_login(agent)
    assert desk.get("/admin/").status_code == 200
    # the ticket's grants as a view asks them
    ticket = Ticket.objects.order_by("pk").first()
    assert permissions.held_codenames(agent, ticket) is not None


def _assert_every_path_seen(recorded: Recorded, agent) -> None:
    """The guard cannot pass by recording nothing: the statements named in F-16 and
    F-20 are among those recorded."""
    texts = list(recorded.statements)
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
        assert recorded.starting(part), part
    # the portal's filing (with the session's recent-deflection look, F-19) and
    # GraphQL's: two shapes of the filing's statement
    filings = recorded.starting(_FILING)
    assert len(filings) == 2
    assert len([sql for sql in filings if deflection._RECENT in sql]) == 1
    # an outcome alone and several together
    assert len(recorded.starting(_OUTCOME)) == 2


@pytest.mark.django_db(transaction=True)
def test_every_prepared_statement_keeps_its_indexes_in_the_generic_plan(
    recorded, alice, agent, queue
):
    _run_the_paths(alice, agent)
    _assert_every_path_seen(recorded, agent)
    assert _lost(recorded) == {}


# the triggers' statements: seen through auto_explain's notices


def _explained_nested(raw, mode: str, run) -> dict[str, set[str]]:
    """The indexes each statement read while ``run`` ran with the session's
    ``plan_cache_mode`` = ``mode`` (the prepared statements and the PL/pgSQL
    triggers' cached plans alike), by its text, from ``auto_explain``'s plans sent
    to the client as notices (nested ones included: the triggers' statements)."""
    found: dict[str, set[str]] = {}

    def heard(diagnostic):
        text = diagnostic.message_primary or ""
        if " plan:" in text:
            plan = json.loads(text.split(" plan:", 1)[1])
            indexes = found.setdefault(plan["Query Text"].strip(), set())
            indexes.update(_indexes(plan["Plan"]))

    raw.execute(f"SET plan_cache_mode = {mode}")
    raw.add_notice_handler(heard)
    try:
        run()
    finally:
        raw.remove_notice_handler(heard)
    return found


def _auto_explained(raw) -> None:
    """``auto_explain`` on the connection ``raw``: every plan (nested ones too) sent
    to the client as a notice, seqscans off (an index that can be used is used)."""
    try:
        raw.execute("LOAD 'auto_explain'")
    except Exception as error:  # noqa: BLE001 - a server without the module
        pytest.skip(f"auto_explain: {error}")
    for setting in (
        "auto_explain.log_min_duration = 0",
        "auto_explain.log_nested_statements = on",
        "auto_explain.log_format = json",
        "auto_explain.log_level = notice",
        "client_min_messages = notice",
        "enable_seqscan = off",
    ):
        raw.execute(f"SET {setting}")


def _lost_nested(custom: dict, generic: dict) -> dict[str, set[str]]:
    """The statements (by text, seen under both modes) that read under the generic
    plans fewer partial indexes than under the custom ones, with the indexes lost."""
    lost = {
        text: _partial(custom[text] - generic[text])
        for text in custom.keys() & generic.keys()
    }
    return {text: missing for text, missing in lost.items() if missing}


@pytest.mark.django_db(transaction=True)
def test_the_triggers_statements_keep_their_indexes_in_generic_plans(
    recorded, alice, agent, queue
):
    """The paths run twice on one kept connection: every plan custom, then every
    plan generic (the prepared statements and the triggers' PL/pgSQL statements,
    whose parameters are the trigger's variables); each statement, nested ones
    included, reads under the generic plans every index it read under the custom
    ones. Statements bound on the client differ between the runs (their values are
    in their text) and are left out: their plans are custom anyway."""
    connection.ensure_connection()
    raw = connection.connection
    raw._portal_generic = True  # the worker's cursor leaves the mode to the test
    _auto_explained(raw)
    custom = _explained_nested(
        raw, "force_custom_plan", lambda: _run_the_paths(alice, agent, "custom")
    )
    generic = _explained_nested(
        raw, "force_generic_plan", lambda: _run_the_paths(alice, agent, "generic")
    )
    both = custom.keys() & generic.keys()
    # the triggers' statements were seen under both modes: a new ticket's search
    # document and tallies, the foreign keys' checks
    for part in ("tickets_queuetally", "new_rows", "OPERATOR(pg_catalog.=) $1"):
        assert [text for text in both if part in text], part
    assert _lost_nested(custom, generic) == {}


_SCRATCH = """
CREATE TABLE guard_scratch (id int, kind text);
CREATE INDEX guard_scratch_x ON guard_scratch (id) WHERE kind = 'x';
CREATE FUNCTION guard_look(wanted text) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    RETURN (SELECT count(*) FROM guard_scratch WHERE kind = wanted AND id = 1);
END $$;
"""


@pytest.mark.django_db
def test_the_triggers_guard_finds_a_partial_index_lost_in_pl_pgsql():
    """The twin: a PL/pgSQL function whose statement reads a partial index by its
    condition given as the function's variable: its custom plan reads the index,
    its generic plan (the session's ``force_generic_plan``) cannot. Inside the
    test's transaction: the table, the function and the settings rolled back."""
    raw = connection.connection
    with connection.cursor() as cursor:
        cursor.execute(_SCRATCH)
    _auto_explained(raw)
    found = {
        mode: _explained_nested(
            raw, mode, lambda: raw.execute("SELECT guard_look('x')")
        )
        for mode in ("force_custom_plan", "force_generic_plan")
    }
    lost = _lost_nested(found["force_custom_plan"], found["force_generic_plan"])
    assert list(lost.values()) == [{"guard_scratch_x"}]


# the twin: F-19's statement written the old way


def _old_recent_deflection(user) -> tuple[str, list]:
    """The recent-deflection look as before F-19: the outcome a value."""
    sql, params = deflection._RECENT_DEFLECTION.statement(
        user=user.pk, session_key="s1", since=timezone.now()
    )
    return outcome_as_a_value(sql, params)


@pytest.mark.django_db
def test_the_guard_finds_a_partial_index_lost_to_a_parameter(recording, alice):
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
    lost = _lost(recording)
    sent = recording.statements[old][0]
    assert lost == {sent: {"deflection_recent_idx"}}
