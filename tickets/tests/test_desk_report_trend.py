"""The reports page's 12-month trend: created, resolved and SLA met % per month, the
figures of the tickets each user may see, drawn as accessible SVG charts."""

from datetime import UTC, date, datetime, timedelta

import pytest
from bs4 import BeautifulSoup

from tickets.desk import trend
from tickets.statistics import store

from .factories import make_customer
from .test_desk_reports import make

pytestmark = pytest.mark.django_db
TODAY = date(2025, 3, 10)


def at(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def history(alice, queue, other_queue):
    loner = make_customer()
    # January: one missed (resolved 18 days later, on 2 February), one met
    make(
        alice,
        queue,
        created=at(2025, 1, 15, 10),
        hours_to_reply=1,
        hours_to_resolve=18 * 24,
    )
    make(
        alice, queue, created=at(2025, 1, 20, 9), hours_to_reply=1, hours_to_resolve=10
    )
    # February, Billing: resolved on 5 March, missed
    make(
        loner,
        other_queue,
        created=at(2025, 2, 10, 8),
        hours_to_reply=1,
        hours_to_resolve=23 * 24,
    )
    # the first day of the window, still open (no SLA outcome yet)
    make(loner, queue, created=at(2024, 4, 1, 0, 30))
    # created before the window, resolved inside it (2 April 2024)
    make(loner, queue, created=at(2024, 3, 31, 23), hours_to_resolve=49)
    # the last minute of today, and a ticket after today (outside)
    make(loner, queue, created=at(2025, 3, 10, 23, 59))
    make(loner, other_queue, created=at(2025, 3, 11, 0, 1))
    # the statistics job, as production runs it, the day after TODAY: whole past
    # months are read from its roll-ups (March 2024 onwards: the windows tested)
    store.backfill((TODAY - date(2024, 3, 1)).days + 2, now=at(2025, 3, 11, 12))


# Figures count each ticket in the month its event happened (tickets.statistics):
# - April 2024: created the open one; resolved (and SLA missed: 49 h, no reply) the
#   one created on 31 March;
# - January 2025: created both of Alice's; resolved (SLA met) the 10-hour one; the
#   other is resolved (SLA missed, 18 days) on 2 February;
# - February 2025: created Billing's; resolved (missed) Alice's first;
# - March 2025 up to TODAY: created the 23:59 one; resolved (missed) Billing's.


def test_month_ranges_end_with_today():
    ranges = trend.month_ranges(TODAY)
    assert len(ranges) == 12
    assert ranges[0] == (date(2024, 4, 1), date(2024, 4, 30))
    assert ranges[1] == (date(2024, 5, 1), date(2024, 5, 31))
    assert ranges[10] == (date(2025, 2, 1), date(2025, 2, 28))
    assert ranges[-1] == (date(2025, 3, 1), TODAY)
    assert trend.month_ranges(date(2024, 3, 31), 2) == [
        (date(2024, 2, 1), date(2024, 2, 29)),
        (date(2024, 3, 1), date(2024, 3, 31)),
    ]


def figures(user):
    return {
        f.month: (f.created, f.resolved, f.sla_met_percent)
        for f in trend.monthly_trend(user, today=TODAY)
    }


def test_supervisor_trend_counts_every_ticket(supervisor, history):
    by_month = figures(supervisor)
    assert list(by_month) == [date(2024, 4 + i, 1) for i in range(9)] + [
        date(2025, 1, 1),
        date(2025, 2, 1),
        date(2025, 3, 1),
    ]
    assert by_month[date(2024, 4, 1)] == (1, 1, 0.0)
    assert by_month[date(2025, 1, 1)] == (2, 1, 100.0)
    assert by_month[date(2025, 2, 1)] == (1, 1, 0.0)
    assert by_month[date(2025, 3, 1)] == (1, 1, 0.0)
    quiet = [v for m, v in by_month.items() if date(2024, 5, 1) <= m < date(2025, 1, 1)]
    assert quiet == [(0, 0, None)] * 8


def test_agent_trend_counts_only_their_queue(agent, history):
    by_month = figures(agent)
    assert by_month[date(2024, 4, 1)] == (1, 1, 0.0)
    assert by_month[date(2025, 1, 1)] == (2, 1, 100.0)
    # Billing's February ticket, and its resolution in March, are not theirs
    assert by_month[date(2025, 2, 1)] == (0, 1, 0.0)
    assert by_month[date(2025, 3, 1)] == (1, 0, None)


def test_a_customer_trend_holds_only_their_own_tickets(alice, history):
    """The desk never shows it to customers; the function still answers by the
    policy: Alice's two January tickets, one resolved in January (SLA met), one in
    February (missed)."""
    by_month = figures(alice)
    assert by_month[date(2025, 1, 1)] == (2, 1, 100.0)
    assert by_month[date(2025, 2, 1)] == (0, 1, 0.0)
    assert sum(v[0] for v in by_month.values()) == 2
    assert sum(v[1] for v in by_month.values()) == 2


def test_the_reports_page_draws_the_trend_with_a_table(client, supervisor, history):
    client.force_login(supervisor)
    response = client.get(
        "/admin/helpdesk/reports/", {"start": "2025-03-01", "end": "2025-03-10"}
    )
    assert response.status_code == 200
    soup = BeautifulSoup(response.content.decode(), "html.parser")
    section = soup.select_one("section.desk-report-trend")
    assert "The last 12 months up to" in section.h2.get_text()
    volume, sla = section.select("figure.chart")
    assert volume.svg["role"] == "img"
    assert volume.svg["aria-label"] == (
        "Created vs resolved, last 12 months: Created 5 in total; Resolved 4 in total"
    )
    rows = [
        [cell.get_text() for cell in tr.find_all(["th", "td"])]
        for tr in volume.select("table tbody tr")
    ]
    assert len(rows) == 12
    assert rows[0] == ["April 2024", "1", "1"]
    assert rows[9:] == [
        ["January 2025", "2", "1"],
        ["February 2025", "1", "1"],
        ["March 2025", "1", "1"],
    ]
    sla_rows = [
        [cell.get_text() for cell in tr.find_all(["th", "td"])]
        for tr in sla.select("table tbody tr")
    ]
    assert sla_rows[9:] == [["Jan", "100"], ["Feb", "0"], ["Mar", "0"]]
    assert "Jan 100.0%" in sla.svg["aria-label"]


def test_the_trend_follows_the_report_end_date(client, agent, history):
    client.force_login(agent)
    response = client.get(
        "/admin/helpdesk/reports/", {"start": "2024-03-01", "end": "2024-04-30"}
    )
    soup = BeautifulSoup(response.content.decode(), "html.parser")
    volume = soup.select("section.desk-report-trend figure.chart")[0]
    rows = [
        [c.get_text() for c in tr.find_all(["th", "td"])]
        for tr in volume.select("tbody tr")
    ]
    assert rows[0][0] == "May 2023"
    assert rows[-2:] == [["March 2024", "1", "0"], ["April 2024", "1", "1"]]


def test_the_page_costs_the_same_queries_with_more_tickets(
    client, supervisor, queue, other_queue, alice, django_assert_num_queries
):
    """The report, the trend (one query per month: a whole past month reads its
    roll-up, the current one its tickets), each non-empty table's labels, the
    weekly-email choice and Wagtail's own; more tickets, the same queries."""
    client.force_login(supervisor)
    params = {"start": "2025-03-01", "end": "2025-03-10"}

    def tickets_every_month(queue):
        for months_back in range(12):
            start = at(2025, 3, 5) - timedelta(days=30 * months_back)
            make(alice, queue, created=start, hours_to_reply=1, hours_to_resolve=30)
            make(alice, queue, created=start + timedelta(days=1))
        store.backfill(400, now=at(2025, 3, 11, 12))  # the statistics job

    tickets_every_month(queue)
    client.get("/admin/helpdesk/reports/", params)  # warm caches (site, session)
    with django_assert_num_queries(BUDGET) as few:
        client.get("/admin/helpdesk/reports/", params)
    tickets_every_month(other_queue)
    with django_assert_num_queries(BUDGET) as many:
        response = client.get("/admin/helpdesk/reports/", params)
    assert len(many.captured_queries) == len(few.captured_queries)
    assert response.context["rows"][-1].volume == 2 * 2  # 5 and 6 March, twice


BUDGET = 21  # the user, roles and model permissions one statement: session_user
