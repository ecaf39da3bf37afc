"""Reports per queue / agent / organization: exact numbers from one function, the same
numbers in the HTML page and the CSV export, scoped by the permission policy. The
reports read the statistics roll-ups, so each data set is followed by the job's
rebuild of its days."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from tickets.desk import reports
from tickets.models import Status, Ticket
from tickets.statistics import store

from .factories import TicketFactory, make_customer

pytestmark = pytest.mark.django_db
DAY = date(2025, 3, 10)
NEXT = DAY + timedelta(days=1)  # the late resolution and the breach happen then
T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


def rebuild_statistics():
    store.rebuild(store.periods_of(DAY - timedelta(days=n) for n in range(-2, 45)))


def make(
    requester,
    queue,
    *,
    org=None,
    hours_to_reply=None,
    hours_to_resolve=None,
    breached=False,
    rating=None,
    assignee=None,
    created=T0,
):
    ticket = TicketFactory(requester=requester, queue=queue, organization=org)
    fields = {
        "created_at": created,
        "first_response_due_at": created + timedelta(hours=4),
        "resolution_due_at": created + timedelta(hours=24),
        "assignee": assignee,
    }
    if hours_to_reply is not None:
        fields["first_responded_at"] = created + timedelta(hours=hours_to_reply)
    if hours_to_resolve is not None:
        fields["resolved_at"] = created + timedelta(hours=hours_to_resolve)
        fields["status"] = Status.RESOLVED
    if breached:
        fields["sla_breached_at"] = created + timedelta(hours=30)
    if rating is not None:
        fields["satisfaction_rating"] = rating
    Ticket.objects.filter(pk=ticket.pk).update(**fields)
    return ticket


@pytest.fixture
def dataset(alice, queue, other_queue, acme, agent):
    make(
        alice,
        queue,
        org=acme,
        hours_to_reply=1,
        hours_to_resolve=10,
        rating=5,
        assignee=agent,
    )
    make(alice, queue, org=acme, hours_to_reply=3, hours_to_resolve=30, rating=2)
    loner = make_customer()  # of no organization
    make(loner, queue, hours_to_reply=2, breached=True)
    make(loner, queue)  # open, outcome unknown
    make(loner, other_queue, hours_to_reply=6, hours_to_resolve=20, rating=4)
    # outside the range, but still open at its end (backlog)
    make(loner, queue, created=T0 - timedelta(days=40), hours_to_reply=1)
    rebuild_statistics()


def test_numbers_per_queue(supervisor, dataset):
    rows = reports.report_rows(supervisor, "queue", DAY, NEXT)
    by_label = {r.label: r.record() for r in rows}
    # Support: 4 created, 2 resolved, 3 open at the end (the breached one, the open
    # one and the 40-day-old one); replies 1, 3, 2 h → median 2; resolutions 10,
    # 30 → 20; outcomes: met (10 h ≤ 24), missed (30 h), breached → 1 of 3 met;
    # ratings 5, 2.
    assert by_label["Support"] == [4, 2, 3, "2.0", "20.0", "33.3", "3.50", 2]
    # Billing: reply 6 h (> 4 h due) → not met even though resolved in time.
    assert by_label["Billing"] == [1, 1, 0, "6.0", "20.0", "0.0", "4.00", 1]
    assert by_label["Total"] == [5, 3, 3, "2.5", "20.0", "25.0", "3.67", 3]
    assert [r.label for r in rows] == ["Billing", "Support", "Total"]


def test_numbers_per_agent_and_organization(supervisor, dataset, agent):
    agents = {
        r.label: r.record()[0]
        for r in reports.report_rows(supervisor, "agent", DAY, NEXT)
    }
    assert agents == {"Alex Agent": 1, "Unassigned": 4, "Total": 5}
    orgs = {
        r.label: r.record()[0]
        for r in reports.report_rows(supervisor, "organization", DAY, NEXT)
    }
    assert orgs == {"Acme": 2, "No organization": 3, "Total": 5}


def test_agent_report_covers_only_their_queues(agent, dataset):
    rows = reports.report_rows(agent, "queue", DAY, NEXT)
    assert [r.label for r in rows] == ["Support", "Total"]
    assert rows[-1].volume == 4


def test_csv_matches_the_report_and_the_page(client, supervisor, dataset):
    client.force_login(supervisor)
    params = {"dimension": "queue", "start": "2025-03-10", "end": "2025-03-11"}
    page = client.get("/admin/helpdesk/reports/", params)
    assert page.status_code == 200
    export = client.get("/admin/helpdesk/reports/", {**params, "format": "csv"})
    assert export["Content-Type"] == "text/csv; charset=utf-8"
    table = list(csv.reader(io.StringIO(export.content.decode())))
    expected = reports.report_rows(supervisor, "queue", DAY, NEXT)
    assert table[0] == reports.headers("queue")
    assert table[1:] == [[r.label, *map(str, r.record())] for r in expected]
    html = page.content.decode()
    for row in expected:
        for value in row.record():
            assert f"<td>{value}</td>" in html


def test_bad_range_is_a_form_error(client, supervisor):
    client.force_login(supervisor)
    response = client.get(
        "/admin/helpdesk/reports/", {"start": "2025-03-10", "end": "2025-03-01"}
    )
    assert response.status_code == 400
    assert "The start date must not be after the end date." in response.content.decode()


def test_csv_neutralises_formula_labels():
    row = reports.ReportRow("=HYPERLINK(1)", 1, None, None, None, None, 0)
    text = reports.to_csv([row], "organization")
    assert text.splitlines()[1] == "'=HYPERLINK(1),1,0,0,,,,,0"
