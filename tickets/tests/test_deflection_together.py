"""The filing's deflection row written by the ticket's own statement (PostgreSQL, a
signed-in user with a session: ``deflection.Filing.part`` through
``services.create_ticket(more=…)``): the same rows as ``record_filed`` after the
service, for each case of the form's token and the session's recent deflection; one
statement fewer; SQLite (and no session) the separate path unchanged."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tickets import deflection, services
from tickets.models import DeflectionEvent, Ticket

pytestmark = pytest.mark.django_db

OWN, RECENT, BOBS, FRESH, NOBODYS, OTHER_SESSION = (
    uuid.UUID(int=n) for n in range(1, 7)
)
KNOWN = {OWN, RECENT, BOBS, FRESH, NOBODYS, OTHER_SESSION}


def _row(token, user, *, session_key="s1", outcome="deflected", ago=1, **fields):
    event = DeflectionEvent.objects.create(
        token=token, user=user, session_key=session_key, outcome=outcome, **fields
    )
    DeflectionEvent.objects.filter(pk=event.pk).update(
        updated_at=timezone.now() - timedelta(minutes=ago)
    )


# the rows before the filing, and what the form sent
CASES = {
    "fresh token": ([], FRESH),
    "missing token": ([], None),
    "bad token": ([], "not-a-uuid"),
    "the token's row": ([("own", OWN, {"shown_count": 3})], OWN),
    "the token's filed row": ([("own", OWN, {"outcome": "filed"})], OWN),
    "the session's recent deflection": ([("own", RECENT, {})], FRESH),
    "recent deflection, no token": ([("own", RECENT, {})], None),
    "the token's row and a recent deflection": (
        [("own", RECENT, {}), ("own", OWN, {"ago": 20, "session_key": "s9"})],
        OWN,
    ),
    "another session's deflection": (
        [("own", OTHER_SESSION, {"session_key": "s2"})],
        FRESH,
    ),
    "a too old deflection": ([("own", RECENT, {"ago": 31})], FRESH),
    "somebody else's token": ([("bob", BOBS, {})], BOBS),
    "somebody else's token, a recent deflection": (
        [("bob", BOBS, {}), ("own", RECENT, {})],
        BOBS,
    ),
    "nobody's token": ([("nobody", NOBODYS, {})], NOBODYS),
}


class _Undo(Exception):
    pass


def _snapshot(ticket, start, event):
    def token(value):
        return str(value) if value in KNOWN else "new"

    def ticket_of(value):
        return {None: None, ticket.pk: "this"}.get(value, "other")

    rows = sorted(
        (
            (
                token(row["token"]),
                row["session_key"],
                row["user_id"],
                row["query"],
                row["shown_count"],
                row["clicked_url"],
                row["outcome"],
                ticket_of(row["ticket_id"]),
                row["created_at"] >= start,
                row["updated_at"] >= start,
            )
            for row in DeflectionEvent.objects.values()
        ),
        key=repr,
    )
    stored = DeflectionEvent.objects.get(pk=event.pk)
    returned = (
        token(event.token),
        event.token == stored.token,
        event.outcome,
        event.ticket == ticket,
        event._state.adding,
    )
    return rows, returned


def _file(users, case, *, together, session_key="s1"):
    """The case's rows, a portal filing, the deflection rows after it (undone)."""
    before, token = CASES[case]
    result = {}
    try:
        with transaction.atomic():
            for owner, row_token, fields in before:
                _row(row_token, users[owner], **fields)
            start = timezone.now()
            data = {
                "token": token,
                "query": "Cannot log in",
                "shown": "2",
                "clicked_url": "/kb/a/b/",
            }
            with CaptureQueriesContext(connection) as captured:
                with services.one_transaction():
                    if together:
                        filing = deflection.Filing(
                            user=users["own"], session_key=session_key, **data
                        )
                        at_once = filing.at_once()
                        ticket = services.create_ticket(
                            users["own"],
                            subject="s",
                            description="d",
                            more=filing.part if at_once else None,
                        )
                        event = filing.record(ticket)
                        result["at_once"] = at_once
                    else:
                        ticket = services.create_ticket(
                            users["own"], subject="s", description="d"
                        )
                        event = deflection.record_filed(
                            user=users["own"],
                            ticket=ticket,
                            session_key=session_key,
                            **data,
                        )
            result["snapshot"] = _snapshot(ticket, start, event)
            result["statements"] = len(captured)
            raise _Undo
    except _Undo:
        pass
    return result


@pytest.fixture
def users(alice, bob, queue):
    users = {"own": alice, "bob": bob, "nobody": None}
    _file(users, "fresh token", together=False)  # warm: the kept values read once
    return users


@pytest.mark.parametrize("case", list(CASES))
def test_the_same_rows_as_recording_after_the_service(users, case):
    separate = _file(users, case, together=False)
    together = _file(users, case, together=True)
    assert together["snapshot"] == separate["snapshot"]
    postgresql = connection.vendor == "postgresql"
    assert together["at_once"] is postgresql
    # the recent deflection's read and the row's INSERT: in the ticket's statement
    assert together["statements"] == separate["statements"] - postgresql


@pytest.mark.parametrize("case", ["fresh token", "the session's recent deflection"])
def test_without_a_session_the_separate_path(users, case):
    separate = _file(users, case, together=False, session_key="")
    together = _file(users, case, together=True, session_key="")
    assert together["snapshot"] == separate["snapshot"]
    assert together["at_once"] is False
    assert together["statements"] == separate["statements"]


def test_the_cases_are_told_apart(users):
    """The oracle can fail: the cases give different rows."""
    outcomes = {case: _file(users, case, together=True)["snapshot"] for case in CASES}
    assert outcomes["fresh token"] != outcomes["the session's recent deflection"]
    assert outcomes["somebody else's token"] != outcomes["nobody's token"]
    assert outcomes["the token's row"] != outcomes["fresh token"]


def test_a_taken_reference_writes_the_row_once(users):
    """The statement runs again when the ticket's reference was taken: the
    deflection row is written by the try that wrote the ticket, once."""
    if connection.vendor != "postgresql":
        pytest.skip("the ticket's one statement is PostgreSQL's")
    from tickets import references

    first = services.create_ticket(users["own"], subject="s", description="d")
    with connection.cursor() as cursor:  # the next draw repeats the last reference
        cursor.execute(
            "SELECT setval(%s, (SELECT last_value FROM tickets_reference_seq), false)",
            [references.SEQUENCE],
        )
    filing = deflection.Filing(user=users["own"], session_key="s1", token=FRESH)
    with CaptureQueriesContext(connection) as captured:
        ticket = services.create_ticket(
            users["own"], subject="s", description="d", more=filing.part
        )
    assert ticket.reference != first.reference
    assert sum('"tickets_deflectionevent"' in q["sql"] for q in captured) == 2
    event = filing.record(ticket)
    assert list(DeflectionEvent.objects.values_list("token", "ticket_id")) == [
        (FRESH, ticket.pk)
    ]
    assert event.token == FRESH and event.ticket == ticket
    assert Ticket.objects.count() == 2


def test_more_is_refused_without_the_tickets_insert(users):
    from tickets import grants

    ticket = services.create_ticket(users["own"], subject="s", description="d")
    with pytest.raises(ValueError, match="more"):
        grants.grant_new_ticket(ticket, more=lambda: None)
    with pytest.raises(ValueError, match="more"):
        grants.sync_ticket_permissions(ticket, more=lambda: None)


def test_the_filing_statement_stays_within_psycopgs_cached_parse(users):
    """psycopg parses a statement anew at every execution past 50 parameters or
    4,096 bytes (bench FINDINGS R-7, F-5): the filing's statement with every part
    (the organization's group grants: Acme shares its tickets) stays within both."""
    if connection.vendor != "postgresql":
        pytest.skip("the ticket's one statement is PostgreSQL's")
    from psycopg import _queries

    seen = []

    def wrapper(execute, sql, params, many, context):
        seen.append((sql, params))
        return execute(sql, params, many, context)

    filing = deflection.Filing(user=users["own"], session_key="s1", token=FRESH)
    with connection.execute_wrapper(wrapper):
        services.create_ticket(
            users["own"], subject="s", description="d", more=filing.part
        )
    ((sql, params),) = [(s, p) for s, p in seen if s.startswith("WITH new_ticket")]
    assert "groups AS" in sql and "deflection_made AS" in sql
    assert len(params) <= _queries.MAX_CACHED_STATEMENT_PARAMS
    assert len(sql.encode()) <= _queries.MAX_CACHED_STATEMENT_LENGTH
