"""``portal.sql.read_together``: several statements in one round trip on PostgreSQL
(one ``execute``, each statement's rows read in turn), one statement each elsewhere;
each part's ``finish`` given its own statement's rows, in order."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.sql import read_together

pytestmark = pytest.mark.django_db


def test_each_statement_gives_its_rows_in_order():
    parts = [
        ("SELECT %s, 'a%%;b'", [1], list),
        ("SELECT 1 WHERE 1 = %s", [2], list),  # no rows between others
        ("SELECT %s", ["x'; SELECT 'injected"], lambda rows: rows[0][0]),
        ("SELECT %s UNION ALL SELECT %s", [3, 4], len),
    ]
    with CaptureQueriesContext(connection) as queries:
        found = read_together(parts)
    assert found == [[(1, "a%;b")], [], "x'; SELECT 'injected", 2]
    assert len(queries) == (1 if connection.vendor == "postgresql" else 4)


def test_nothing_or_one_statement_is_read_as_it_is():
    with CaptureQueriesContext(connection) as queries:
        assert read_together([]) == []
    assert len(queries) == 0
    with CaptureQueriesContext(connection) as queries:
        assert read_together(iter([("SELECT %s", [5], list)])) == [[(5,)]]
    assert [query["sql"] for query in queries] == ["SELECT 5"]


def test_server_side_binding_sends_one_statement_each():
    options = connection.settings_dict.setdefault("OPTIONS", {})
    options["server_side_binding"] = True
    try:
        parts = [("SELECT %s", [1], list), ("SELECT %s", [2], list)]
        with CaptureQueriesContext(connection) as queries:
            assert read_together(parts) == [[(1,)], [(2,)]]
        assert len(queries) == 2
    finally:
        del options["server_side_binding"]
