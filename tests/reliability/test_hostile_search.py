"""Hostile knowledge-base search text: full-text syntax in what a reader types.

SQLite FTS5 and PostgreSQL ``to_tsquery`` each have a query language (quotes, ``NEAR(``,
``*``, ``^``, column ``:``, ``AND``/``OR``/``NOT``, ``-``, parentheses). Reader text is
reduced to plain terms in one place (``kb.text.search_text``) before it reaches
the backend, so every search surface (the search page, ``/kb/suggest/``, the portal's
new-ticket suggestions and GraphQL ``searchArticles``) answers 200 with sensible
results. A query the database refuses is a bug, never dressed as an outage: only
genuine unavailability (connection lost, timeouts) answers 503.
"""

import json

import pytest
from django.db import OperationalError, ProgrammingError, connection

from portal.errors import is_database_unavailable

RESET = "Reset your password"
INVOICES = "Invoices explained"

# (reader text, titles found by the search page and GraphQL, by the suggestions)
FINDS = [
    ('"reset password"', [RESET], [RESET]),
    ('"reset', [RESET], [RESET]),
    ('reset"', [RESET], [RESET]),
    ("reset AND password", [RESET], [RESET]),
    ("reset OR password", [RESET], [RESET]),
    ("reset NOT password", [RESET], [RESET]),
    ("NEAR(reset password)", [RESET], [RESET]),
    ("(reset password)", [RESET], [RESET]),
    ("reset*", [RESET], [RESET]),
    ("^reset", [RESET], [RESET]),
    ("-reset", [RESET], [RESET]),
    ("+reset -password", [RESET], [RESET]),
    ("reset:*", [RESET], [RESET]),
    ("'reset'", [RESET], [RESET]),
    ("!reset & password", [RESET], [RESET]),
    ("reset <-> password", [RESET], [RESET]),
    ("invoices -monthly", [INVOICES], [INVOICES]),
    ("{reset}", [RESET], [RESET]),
]
FINDS_NOTHING = [
    '"',
    '""',
    'a"b',
    'zz"qq',
    "NEAR(",
    "*",
    "^",
    ":",
    "title:zzz",
    "AND",
    "OR",
    "NOT",
    "-",
    "(",
    ")",
    "a'b",
    "\\",
    "&|!",
    ":*",
    "zz'qq\\",
    "é\"'",
]
HOSTILE = [(text, found, suggested) for text, found, suggested in FINDS] + [
    (text, [], []) for text in FINDS_NOTHING
]


@pytest.fixture
def articles(make_article):
    make_article(
        RESET,
        summary="Steps to follow.",
        body=[("paragraph", "<p>How to reset your password.</p>")],
    )
    make_article(
        INVOICES,
        summary="When they come.",
        body=[("paragraph", "<p>Invoices arrive monthly.</p>")],
    )


@pytest.mark.parametrize(("text", "found", "suggested"), HOSTILE)
def test_the_search_page_answers_hostile_text(client, articles, text, found, suggested):
    response = client.get("/kb/search/", {"q": text})
    assert response.status_code == 200
    assert [hit.title for hit in response.context["hits"]] == found


@pytest.mark.parametrize(("text", "found", "suggested"), HOSTILE)
def test_kb_suggest_answers_hostile_text(client, articles, text, found, suggested):
    response = client.get("/kb/suggest/", {"q": text})
    assert response.status_code == 200
    assert [r["title"] for r in response.json()["results"]] == suggested


@pytest.mark.parametrize(("text", "found", "suggested"), HOSTILE)
def test_portal_suggestions_answer_hostile_text(
    client, alice, articles, text, found, suggested
):
    client.force_login(alice)
    response = client.get("/portal/tickets/new/", {"subject": text})
    assert response.status_code == 200
    assert [a.title for a in response.context["suggestions"]] == suggested


@pytest.mark.parametrize(("text", "found", "suggested"), HOSTILE)
def test_graphql_search_articles_answers_hostile_text(
    client, articles, text, found, suggested
):
    response = client.post(
        "/graphql/",
        {
            "query": "query($q: String!) { searchArticles(query: $q, first: 10) "
            "{ edges { node { title } } } }",
            "variables": {"q": text},
        },
        content_type="application/json",
    )
    assert response.status_code == 200
    body = json.loads(response.content)
    assert "errors" not in body
    edges = body["data"]["searchArticles"]["edges"]
    assert [edge["node"]["title"] for edge in edges] == found


def _raised(sql, params=()):
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    except Exception as error:  # noqa: BLE001 - the error is what we inspect
        return error
    raise AssertionError(f"{sql!r} did not fail")


@pytest.mark.django_db
def test_a_query_the_database_refuses_is_not_an_outage():
    # SQLite reports a bad query as OperationalError, PostgreSQL as ProgrammingError.
    error = _raised("SELECT * FROM no_such_table_at_all")
    assert isinstance(error, OperationalError | ProgrammingError)
    assert is_database_unavailable(error) is False


@pytest.mark.django_db
def test_an_fts5_syntax_error_is_not_an_outage():
    if connection.vendor != "sqlite":
        pytest.skip("FTS5 is SQLite's")
    error = _raised(
        "SELECT count(*) FROM wagtailsearch_sqliteftsindexentry "
        "WHERE wagtailsearch_sqliteftsindexentry MATCH %s",
        ['"unterminated'],
    )
    assert isinstance(error, OperationalError)
    assert is_database_unavailable(error) is False


# serialized_rollback: a flush without it re-creates content types under new ids, and
# the next test that restores the serialized database then fails to set up
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="statement_timeout is PostgreSQL's"
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_statement_timeout_is_an_outage():
    from django.db import transaction

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 10")
        error = _raised("SELECT pg_sleep(1)")
    assert isinstance(error, OperationalError)
    assert is_database_unavailable(error) is True


def test_a_locked_sqlite_database_is_an_outage(tmp_path):
    """Wrapped as Django wraps a driver error (``__cause__``), on any test database."""
    import sqlite3

    path = tmp_path / "locked.sqlite3"
    holder = sqlite3.connect(path)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    waiter = sqlite3.connect(path, timeout=0.01)
    try:
        waiter.execute("SELECT * FROM t")
    except sqlite3.OperationalError as locked:
        assert str(locked) == "database is locked"
        error = OperationalError(*locked.args)
        error.__cause__ = locked
    else:
        raise AssertionError("the locked database answered")
    finally:
        waiter.close()
        holder.close()
    assert is_database_unavailable(error) is True


def test_an_outage_raised_without_a_driver_error_is_still_an_outage():
    assert is_database_unavailable(OperationalError("could not connect")) is True
    assert is_database_unavailable(ValueError("not a database error")) is False
