"""Hostile query strings on the agent desk: every filter of the inbox and the report's
dates answer with the form's error, never a server error.

``?assignee=99999999999999999999`` overflowed SQLite's driver, ``?assignee=²`` passed
``str.isdigit`` and failed ``int()``; ``?end=9999-12-31`` / ``?end=0001-01-05`` left
the calendar in the report's date arithmetic (HTML and CSV). Run on PostgreSQL too:
its bigint range and NUL handling differ from SQLite's.
"""

import csv
import io

import pytest

from tickets.desk.forms import MAX_ID

from .factories import TicketFactory

pytestmark = pytest.mark.django_db
INBOX = "/admin/helpdesk/tickets/"
REPORTS = "/admin/helpdesk/reports/"
HUGE = "9" * 20

ASSIGNEE_ERROR = "Assignee: Choose “none” or a user id."
BAD_ASSIGNEES = [HUGE, str(MAX_ID + 1), "²", "１", "-1", "0", "1e5", "x'--", "1 2"]


def refs(response):
    return [t.reference for t, _ in response.context["rows"]]


@pytest.fixture
def desk(client, supervisor, ticket):
    client.force_login(supervisor)
    return client


@pytest.mark.parametrize("value", BAD_ASSIGNEES)
def test_a_bad_assignee_filter_is_a_form_error(desk, ticket, value):
    response = desk.get(INBOX, {"assignee": value})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "assignee": ["Choose “none” or a user id."]
    }
    assert ASSIGNEE_ERROR in response.content.decode()
    assert refs(response) == [ticket.reference]  # the bad filter is not applied


def test_the_largest_id_is_a_valid_assignee_that_matches_nobody(desk, ticket):
    response = desk.get(INBOX, {"assignee": str(MAX_ID)})
    assert response.status_code == 200
    assert response.context["form"].errors == {}
    assert refs(response) == []


def test_a_valid_filter_still_applies_beside_a_bad_one(desk, ticket, alice, queue):
    other = TicketFactory(requester=alice, queue=queue)
    other.status = "on_hold"
    other.save(update_fields=["status"])
    response = desk.get(INBOX, {"assignee": "²", "status": "on_hold"})
    assert response.status_code == 200
    assert refs(response) == [other.reference]


HOSTILE_VALUES = [HUGE, "²", "\x00", "a\x00b", "x" * 300, "%", "' OR 1=1 --", "-1"]


@pytest.mark.parametrize(
    ("param", "invalid"),
    [
        ("queue", True),
        ("status", True),
        ("priority", True),
        ("organization", True),
        ("per_page", True),
        ("page", False),  # the paginator falls back to a page that exists
        ("order", False),  # unknown orderings fall back to the default
        ("view", False),  # unknown saved views fall back to the default
        ("q", None),  # free text: only NUL and over-long text are refused
        ("tag", None),
    ],
)
@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_every_inbox_parameter_takes_hostile_values(
    desk, ticket, param, invalid, value
):
    response = desk.get(INBOX, {param: value})
    assert response.status_code == 200
    errors = response.context["form"].errors
    if invalid is None:
        invalid = "\x00" in value or len(value) > 50
    assert (param in errors) is bool(invalid)
    if invalid:
        assert "Some filters were not understood and were ignored." in (
            response.content.decode()
        )
        assert refs(response) == [ticket.reference]


BAD_DATES = [
    (
        {"end": "9999-12-31"},
        "To (inclusive): Choose a date between 1970-01-01 and 2999-12-31.",
    ),
    (
        {"end": "0001-01-05"},
        "To (inclusive): Choose a date between 1970-01-01 and 2999-12-31.",
    ),
    ({"start": "0001-01-01"}, "From: Choose a date between 1970-01-01 and 2999-12-31."),
    ({"start": "9999-12-31"}, "From: Choose a date between 1970-01-01 and 2999-12-31."),
    (
        {"start": "2025-03-10", "end": "2025-03-01"},
        "The start date must not be after the end date.",
    ),
    ({"start": "2999-12-01"}, "The start date must not be after the end date."),
    (
        {"start": "2020-01-01", "end": "2025-01-01"},
        "Choose a range of at most two years.",
    ),
    ({"end": "2025-13-01"}, "To (inclusive): Enter a valid date."),
    ({"end": "99999-01-01"}, "To (inclusive): Enter a valid date."),
    ({"start": "x"}, "From: Enter a valid date."),
    ({"start": "²⁰²⁵-01-01"}, "From: Enter a valid date."),
    ({"start": "\x00"}, "From: Enter a valid date."),
    ({"dimension": "password"}, "Group by: Select a valid choice."),
]


@pytest.mark.parametrize(("params", "message"), BAD_DATES)
def test_a_bad_report_range_is_a_form_error_in_html(desk, params, message):
    response = desk.get(REPORTS, params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert response.context["form"].is_valid() is False


@pytest.mark.parametrize(("params", "message"), BAD_DATES)
def test_a_bad_report_range_refuses_the_csv_with_a_message(desk, params, message):
    response = desk.get(REPORTS, {**params, "format": "csv"})
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert message in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"start": "1970-01-01", "end": "1970-01-01"},
        {"end": "1970-01-05"},  # the default start, 29 days earlier, is before 1970
        {"start": "2999-12-31", "end": "2999-12-31"},
        {"end": "2999-12-31", "start": "2999-01-01"},
    ],
)
def test_the_edges_of_the_allowed_range_answer(desk, params):
    page = desk.get(REPORTS, params)
    assert page.status_code == 200
    export = desk.get(REPORTS, {**params, "format": "csv"})
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows[-1][:2] == ["Total", "0"]
