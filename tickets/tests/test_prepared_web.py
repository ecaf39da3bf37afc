"""The web's hot statements prepared on PostgreSQL once per kept connection
(``portal.prepared.web_cursor``, ``WEB_PREPARED_STATEMENTS``; bench FINDINGS F-16):
a filing's statement and its outbox INSERT, the session's user read; nothing
prepared with the setting off, on a connection closed after each request, or while
queries are logged; a schema change, a rollback and a dropped connection."""

import psycopg
import pytest
from django.db import OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext

from portal import prepared
from tickets import services
from tickets.models import Ticket

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL (prepared statements)",
    ),
]

_FILING = 'WITH new_ticket AS (INSERT INTO "tickets_ticket"'
_STORE = 'INSERT INTO "notifications_sentnotification" '
_USER = 'SELECT "accounts_user"."id"'


@pytest.fixture
def kept(monkeypatch, settings):
    """A connection kept past its request (``DB_CONN_MAX_AGE``), new for the test;
    the job worker's own statements (run inline here) not prepared."""
    settings.OUTBOX_PREPARED_STATEMENTS = False
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    connection.close()
    yield
    connection.close()


def _prepared():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans + custom_plans, generic_plans "
            "FROM pg_prepared_statements"
        )
        return cursor.fetchall()


def _runs(prefix):
    """How many times the statements starting with ``prefix`` ran prepared."""
    return sum(runs for text, runs, _ in _prepared() if text.startswith(prefix))


def _file(user, n):
    return services.create_ticket(user, subject=f"Printer {n}", description="On fire")


@pytest.mark.django_db(transaction=True)
def test_a_filing_s_statements_are_prepared_once_per_connection(kept, alice, queue):
    for n in range(7):
        _file(alice, n)
    filing = [row for row in _prepared() if row[0].startswith(_FILING)]
    # one statement (the same parameter types each time), parsed once, run 7 times,
    # its generic plan kept after PostgreSQL's five custom ones
    assert [(runs, generic) for _, runs, generic in filing] == [(7, 2)]
    assert _runs(_STORE) == 7
    assert Ticket.objects.count() == 7
    assert sorted(Ticket.objects.values_list("reference", flat=True)) == [
        f"HD-00000{n}" for n in range(1, 8)
    ]


@pytest.mark.django_db(transaction=True)
def test_the_session_user_is_read_prepared(kept, client, alice, queue):
    client.force_login(alice)
    for _ in range(3):
        assert client.get("/portal/tickets/").status_code == 200
    assert _runs(_USER) == 3


@pytest.mark.django_db(transaction=True)
def test_nothing_is_prepared_with_the_setting_off(kept, settings, client, alice):
    settings.WEB_PREPARED_STATEMENTS = False
    client.force_login(alice)
    _file(alice, 1)
    assert client.get("/portal/tickets/").status_code == 200
    assert _prepared() == []


@pytest.mark.django_db(transaction=True)
def test_nothing_is_prepared_on_a_connection_closed_after_each_request(
    monkeypatch, settings, alice
):
    settings.OUTBOX_PREPARED_STATEMENTS = False
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)
    _file(alice, 1)
    assert _prepared() == []


@pytest.mark.django_db(transaction=True)
def test_nothing_is_prepared_while_queries_are_logged(kept, alice):
    with CaptureQueriesContext(connection) as captured:
        _file(alice, 1)
    assert _prepared() == []
    # the log shows each statement as Django's own cursors log it: values written in
    (filing,) = [query["sql"] for query in captured if query["sql"].startswith(_FILING)]
    assert "$1" not in filing and "'Printer 1'" in filing


@pytest.mark.django_db(transaction=True)
def test_the_worker_s_cursor_prepares_nothing_while_queries_are_logged(kept):
    with CaptureQueriesContext(connection) as captured:
        with prepared.cursor(connection, prepared=True, generic=True) as cursor:
            cursor.execute("SELECT %s::int + 1", [41])
            assert cursor.fetchone() == (42,)
    assert _prepared() == []
    assert [query["sql"] for query in captured] == ["SELECT $1::int + 1"]


def _scratch_table():
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TABLE IF EXISTS prepared_scratch; "
            "CREATE TABLE prepared_scratch (id int PRIMARY KEY, name varchar(10)); "
            "INSERT INTO prepared_scratch VALUES (1, 'one')"
        )


def _read_scratch():
    with prepared.web_cursor(connection) as cursor:
        cursor.execute("SELECT name FROM prepared_scratch WHERE id = %s", [1])
        return cursor.fetchall()


def _widen_scratch(length):
    # Django's own cursor: psycopg does not see the change
    with connection.cursor() as cursor:
        cursor.execute(
            f"ALTER TABLE prepared_scratch ALTER COLUMN name TYPE varchar({length})"
        )


@pytest.mark.django_db(transaction=True)
def test_a_schema_change_outside_a_transaction_runs_the_statement_again(kept):
    _scratch_table()
    try:
        assert _read_scratch() == [("one",)]
        assert _runs("SELECT name FROM prepared_scratch") == 1
        # the type of a column it returns changed: PostgreSQL refuses the plan
        _widen_scratch(20)
        for _ in range(3):  # prepared anew once, then as before
            assert _read_scratch() == [("one",)]
        assert _runs("SELECT name FROM prepared_scratch") == 1 + 3
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE prepared_scratch")


@pytest.mark.django_db(transaction=True)
def test_a_schema_change_inside_a_transaction_fails_that_transaction_only(kept):
    _scratch_table()
    try:
        assert _read_scratch() == [("one",)]
        _widen_scratch(20)
        with pytest.raises(Exception, match="cached plan must not change"):
            with transaction.atomic():
                _read_scratch()
        with transaction.atomic():  # the next transaction, and the ones after it
            assert _read_scratch() == [("one",)]
        assert _read_scratch() == [("one",)]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE prepared_scratch")


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_leaves_the_statements_usable(kept, alice):
    _file(alice, 1)
    with pytest.raises(RuntimeError), transaction.atomic():
        _file(alice, 2)
        raise RuntimeError("the request failed")
    # psycopg deallocated them with the ROLLBACK: prepared again, run again
    for n in range(3, 6):
        _file(alice, n)
    assert Ticket.objects.count() == 4
    assert _runs(_FILING) == 3


@pytest.mark.django_db(transaction=True)
def test_a_savepoint_rolled_back_keeps_the_statements(kept, alice):
    with transaction.atomic():
        _file(alice, 1)
        with pytest.raises(RuntimeError), transaction.atomic():
            _file(alice, 2)
            raise RuntimeError("the inner block failed")
        _file(alice, 3)
    assert Ticket.objects.count() == 2
    assert _runs(_FILING) == 3  # one statement, prepared once, never deallocated


@pytest.mark.django_db(transaction=True)
def test_a_dropped_connection_is_replaced_and_prepares_again(kept, alice):
    _file(alice, 1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        password=settings["PASSWORD"],
        dbname=settings["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    # the statement on the dead connection fails as Django's own error ...
    with pytest.raises(OperationalError):
        _file(alice, 2)
    # ... and the request's end (``close_old_connections``) replaces it
    connection.close_if_unusable_or_obsolete()
    _file(alice, 3)
    _file(alice, 4)
    assert _runs(_FILING) == 2
    assert Ticket.objects.count() == 3
