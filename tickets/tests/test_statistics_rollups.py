"""The statistics roll-ups give the figures a plain computation over the raw tickets
gives, for every dimension and period, for a supervisor and for an agent of one
queue; the job is incremental and idempotent; the reports page costs the same
number of queries whatever its number of rows.

The oracle below restates the definitions of ``tickets.statistics`` directly on
ticket objects (with ``tickets.sla``'s durations and verdicts), independently of
``figures.accumulate``."""

import random
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tickets import permissions, sla
from tickets.desk import reports
from tickets.grants import sync_ticket_permissions
from tickets.models import (
    DONE_STATUSES,
    Category,
    DailyStats,
    Priority,
    StatsSlice,
    Status,
    Ticket,
)
from tickets.statistics import figures, read, store

from .factories import (
    OrganizationFactory,
    QueueFactory,
    TicketFactory,
    make_agent,
    make_customer,
)

pytestmark = pytest.mark.django_db
BASE = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
NOW = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
FIRST_DAY, LAST_DAY = date(2025, 1, 1), date(2025, 6, 30)
DIMENSIONS = ["queue", "agent", "organization", "category", "priority"]
RANGES = [
    (date(2025, 3, 10), date(2025, 3, 16)),  # a week
    (date(2025, 2, 1), date(2025, 2, 28)),  # a month
    (date(2025, 5, 1), date(2025, 5, 31)),  # a month
    (date(2025, 1, 1), date(2025, 12, 31)),  # a year
    (date(2025, 2, 17), date(2025, 4, 3)),  # day slices merged
    (date(2025, 1, 15), date(2025, 6, 20)),  # day slices merged
    (date(2025, 3, 12), date(2025, 3, 12)),  # short: from the tickets
    (date(2025, 4, 2), date(2025, 4, 20)),  # short: from the tickets
]


def _done_at(t):
    if t.resolved_at or t.closed_at:
        return t.resolved_at or t.closed_at
    return t.created_at if t.status in DONE_STATUSES else None


def oracle(user, dimension, first, last):
    """{label: (created, resolved, backlog, median first response, median
    resolution, SLA met %, CSAT, rated)} from the tickets ``user`` may see."""
    lower = figures.midnight(first)
    upper = figures.midnight(last + timedelta(days=1))

    def within(moment):
        return moment is not None and lower <= moment < upper

    groups = {}
    for t in permissions.visible_tickets(user).select_related(
        "queue", "assignee", "organization"
    ):
        done = _done_at(t)
        counts = {
            "created": within(t.created_at),
            "resolved": within(t.resolved_at),
            "backlog": t.created_at < upper and (done is None or done >= upper),
            "answered": within(t.first_responded_at),
            "settled": within(sla.settled_at(t)) and sla.met(t) is not None,
            "rated": within(done) and t.satisfaction_rating is not None,
        }
        if not any(counts.values()):
            continue
        groups.setdefault(_label(t, dimension), []).append((t, counts))
    everything = [item for items in groups.values() for item in items]
    result = {label: _figures(items) for label, items in groups.items()}
    result["Total"] = _figures(everything)
    return result


def _label(t, dimension):
    if dimension == "queue":
        return t.queue.name
    if dimension == "agent":
        return t.assignee.display_name if t.assignee else "Unassigned"
    if dimension == "organization":
        return t.organization.name if t.organization else "No organization"
    if dimension == "category":
        return str(Category(t.category).label)
    return str(Priority(t.priority).label)


def _figures(items):
    answered = [sla.first_response_seconds(t) for t, c in items if c["answered"]]
    resolved = [sla.resolution_seconds(t) for t, c in items if c["resolved"]]
    verdicts = [sla.met(t) for t, c in items if c["settled"]]
    ratings = [t.satisfaction_rating for t, c in items if c["rated"]]
    return (
        sum(c["created"] for _, c in items),
        len(resolved),
        sum(c["backlog"] for _, c in items),
        sla.median(answered),
        sla.median(resolved),
        100 * sum(verdicts) / len(verdicts) if verdicts else None,
        sum(ratings) / len(ratings) if ratings else None,
        len(ratings),
    )


def as_figures(rows):
    return {
        r.label: (
            r.volume,
            r.resolved,
            r.backlog,
            r.median_first_response_seconds,
            r.median_resolution_seconds,
            r.sla_met_percent,
            r.csat,
            r.rated,
        )
        for r in rows
    }


@pytest.fixture
def history(queue, other_queue, acme):
    """About 240 tickets over six months in three queues, three organizations (and
    none), two agents per queue (and unassigned), every category and priority;
    unanswered, unresolved, breached, rejected, without SLA, rated ones."""
    rng = random.Random(21)
    third = QueueFactory(name="Sales", slug="sales")
    queues = [queue, other_queue, third]
    agents = {
        q.pk: [
            make_agent(q, display_name=f"{q.name} agent {n}", email=f"{q.slug}{n}@x.io")
            for n in range(2)
        ]
        for q in queues
    }
    orgs = [acme, *(OrganizationFactory(name=n, slug=n) for n in ("b", "c"))]
    people = [make_customer() for _ in range(6)]
    tickets = []
    for n in range(240):
        q = queues[n % 3]
        ticket = TicketFactory(requester=people[n % 6], queue=q)
        created = BASE + timedelta(days=rng.uniform(0, 170))
        t = Ticket.objects.get(pk=ticket.pk)
        t.created_at = created
        t.organization = rng.choice([*orgs, None])
        t.assignee = rng.choice([*agents[q.pk], None])
        t.category = rng.choice(Category.values)
        t.priority = rng.choice(Priority.values)
        has_sla = rng.random() > 0.1
        t.first_response_due_at = created + timedelta(hours=4) if has_sla else None
        t.resolution_due_at = created + timedelta(hours=30) if has_sla else None
        t.first_responded_at = (
            created + timedelta(hours=rng.uniform(0.1, 9))
            if rng.random() < 0.8
            else None
        )
        t.resolved_at = t.closed_at = t.sla_breached_at = None
        t.satisfaction_rating = None
        fate = rng.random()
        if fate < 0.6:
            t.resolved_at = created + timedelta(hours=rng.uniform(1, 90))
            t.status = Status.RESOLVED
            if rng.random() < 0.5:
                t.status = Status.CLOSED
                t.closed_at = t.resolved_at + timedelta(days=2)
            if rng.random() < 0.4:
                t.satisfaction_rating = rng.randint(1, 5)
        elif fate < 0.66:
            t.status = Status.REJECTED
            t.closed_at = created + timedelta(hours=2)
        else:
            t.status = rng.choice([Status.NEW, Status.OPEN, Status.WAITING_ON_CUSTOMER])
        late = t.resolved_at is None or t.resolved_at > created + timedelta(hours=30)
        if has_sla and late and t.status != Status.REJECTED and rng.random() < 0.7:
            t.sla_breached_at = created + timedelta(hours=30, minutes=5)
        tickets.append(t)
    Ticket.objects.bulk_update(
        tickets,
        [
            "created_at",
            "organization",
            "assignee",
            "category",
            "priority",
            "first_response_due_at",
            "resolution_due_at",
            "first_responded_at",
            "resolved_at",
            "closed_at",
            "sla_breached_at",
            "satisfaction_rating",
            "status",
        ],
    )
    days = (LAST_DAY - FIRST_DAY).days + 1
    store.backfill(days, now=NOW)
    return {"queues": queues, "agents": agents}


def test_rollups_equal_the_raw_figures(supervisor, history, queue):
    agent = history["agents"][queue.pk][0]
    assert read.report_scope(agent) == {queue.pk}  # read from the slices
    assert read.report_scope(supervisor) is None
    for user in (supervisor, agent):
        for dimension in DIMENSIONS:
            for first, last in RANGES:
                got = as_figures(reports.report_rows(user, dimension, first, last))
                expected = oracle(user, dimension, first, last)
                assert got == expected, (user.email, dimension, first, last)
    # The data set exercises every figure.
    year = oracle(supervisor, "queue", date(2025, 1, 1), date(2025, 12, 31))["Total"]
    created, resolved, backlog, *_, rated = year
    assert (created, resolved > 100, backlog > 20, rated > 30) == (
        240,
        True,
        True,
        True,
    )
    assert 0 < year[5] < 100


def test_period_rows_read_the_period(supervisor, history):
    rows = reports.period_rows(supervisor, "organization", "month", date(2025, 2, 14))
    expected = oracle(supervisor, "organization", date(2025, 2, 1), date(2025, 2, 28))
    assert as_figures(rows) == expected
    assert StatsSlice.objects.filter(period="month", start=date(2025, 2, 1)).exists()


def test_agent_seeing_beyond_their_queues_gets_the_raw_figures(
    supervisor, history, queue, other_queue
):
    """An agent also assigned a ticket in another queue (a direct grant) sees it in
    the report: the slices of their queues cannot say so, the raw path does."""
    agent = history["agents"][queue.pk][0]
    elsewhere = Ticket.objects.filter(queue=other_queue).first()
    Ticket.objects.filter(pk=elsewhere.pk).update(assignee=agent)
    sync_ticket_permissions(Ticket.objects.get(pk=elsewhere.pk))
    assert read.report_scope(agent) is False
    for dimension in ("queue", "agent"):
        first, last = date(2025, 1, 1), date(2025, 12, 31)
        got = as_figures(reports.report_rows(agent, dimension, first, last))
        assert got == oracle(agent, dimension, first, last)
        assert other_queue.name in got or dimension == "agent"


def snapshot():
    return sorted(
        StatsSlice.objects.values_list(
            "period",
            "start",
            "queue_id",
            "dimension",
            "value",
            "created",
            "resolved",
            "backlog",
            "first_response_seconds",
            "resolution_seconds",
            "sla_met",
            "sla_settled",
            "rating_sum",
            "rated",
        ),
        key=str,
    ), sorted(DailyStats.objects.values_list(), key=lambda r: str(r[1:]))


def test_raw_figures_of_one_organization_are_its_row(supervisor, history, acme):
    """``raw_facts(..., organization=)`` (the CRM's Organization 360) gives exactly
    that organization's row of the whole computation."""
    first, last = date(2025, 2, 1), date(2025, 4, 30)

    def plain(facts):
        return {
            value: (f.created, f.resolved, f.backlog, sorted(f.first_response))
            + (sorted(f.resolution), f.sla_met, f.sla_settled, f.rating_sum, f.rated)
            for value, f in facts.items()
        }

    everyone = plain(read.raw_facts(supervisor, "organization", first, last))
    one = read.raw_facts(supervisor, "organization", first, last, organization=acme)
    assert plain(one) == {str(acme.pk): everyone[str(acme.pk)]}
    assert everyone[str(acme.pk)][0] > 0


def test_the_job_twice_changes_nothing(history):
    Ticket.objects.update(updated_at=BASE)  # nothing changed since: today's periods
    before = snapshot()
    store.update(now=NOW)
    assert snapshot()[0] == before[0]
    store.update(now=NOW)
    assert snapshot()[0] == before[0]
    assert [r[1:] for r in snapshot()[1]] == [r[1:] for r in before[1]]


def test_the_job_picks_up_changes_to_old_tickets(supervisor, history):
    """A rating given today to a ticket resolved in March reaches March's day,
    week, month and year rows through the ticket's ``updated_at``."""
    march = [date(2025, 3, 1), date(2025, 3, 31)]
    Ticket.objects.update(updated_at=BASE)
    ticket = Ticket.objects.filter(
        resolved_at__month=3, satisfaction_rating__isnull=True
    ).first()
    Ticket.objects.filter(pk=ticket.pk).update(satisfaction_rating=5, updated_at=NOW)
    stale = as_figures(reports.report_rows(supervisor, "queue", *march))
    assert stale != oracle(supervisor, "queue", *march)
    store.update(now=NOW)
    for first, last in [march, *RANGES]:
        got = as_figures(reports.report_rows(supervisor, "queue", first, last))
        assert got == oracle(supervisor, "queue", first, last)


def test_report_page_queries_do_not_grow_with_rows(client, supervisor, history):
    client.force_login(supervisor)

    def count(params):
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/admin/helpdesk/reports/", params)
        assert response.status_code == 200
        return len(queries), response.content.decode().count("<tr")

    small = count({"period": "week", "start": "2025-03-12", "dimension": "queue"})
    large = count({"period": "year", "start": "2025-03-12", "dimension": "agent"})
    assert large[1] > small[1] + 3  # more rows …
    assert large[0] == small[0]  # … the same queries


def test_period_parameter_picks_the_whole_period(client, supervisor, history):
    client.force_login(supervisor)
    response = client.get(
        "/admin/helpdesk/reports/",
        {"period": "year", "dimension": "organization", "start": "2025-03-12"},
    )
    assert response.status_code == 200
    assert response.context["start"] == date(2025, 1, 1)
    assert response.context["end"] == date(2025, 12, 31)
    assert as_figures(response.context["rows"]) == oracle(
        supervisor, "organization", date(2025, 1, 1), date(2025, 12, 31)
    )
    bad = client.get("/admin/helpdesk/reports/", {"period": "decade"})
    assert bad.status_code == 400


def test_generated_load_data_leaves_statistics_filled(supervisor):
    call_command(
        "generate_load_data",
        "--organizations=3",
        "--customers=10",
        "--agents=2",
        "--queues=2",
        "--tickets=80",
        "--articles=0",
        "--no-progress",
        stdout=StringIO(),
    )
    first, last = reports.period_dates("year")
    assert StatsSlice.objects.filter(period="year", start=first).exists()
    got = as_figures(reports.report_rows(supervisor, "organization", first, last))
    assert got == oracle(supervisor, "organization", first, last)
    assert got["Total"][0] > 0


def test_demo_leaves_statistics_filled(supervisor):
    call_command("load_demo", stdout=StringIO())
    first, last = reports.period_dates("month")
    assert StatsSlice.objects.filter(period="month", start=first).exists()
    got = as_figures(reports.report_rows(supervisor, "queue", first, last))
    assert got == oracle(supervisor, "queue", first, last)
