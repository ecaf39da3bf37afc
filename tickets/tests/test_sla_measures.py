"""SLA measures have one owner (``tickets.sla``): the desk reports (and the dashboard's
SLA chart, which prints them) and the daily statistics job give the same "SLA met"
figure and the same medians for the same tickets, and the live clock states shown by
the workspace, the inbox and the portal come from the same function."""

from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.utils import timezone

from tickets import sla, tasks
from tickets.desk import reports
from tickets.models import DailyStats, Status, Ticket

from .factories import TicketFactory

pytestmark = pytest.mark.django_db
DAY = date(2025, 6, 3)
T0 = timezone.make_aware(datetime.combine(DAY, time(1, 0)))  # every ticket's creation


def H(hours):
    return T0 + timedelta(hours=hours)


def make(requester, queue, name, *, reply=None, resolve=None, breach=None, sla_=True):
    """A ticket created at T0 with targets 2 h (first response) and 8 h (resolution),
    or none (``sla_=False``); times in hours after creation."""
    ticket = TicketFactory(requester=requester, queue=queue, subject=name)
    Ticket.objects.filter(pk=ticket.pk).update(
        created_at=T0,
        first_response_due_at=H(2) if sla_ else None,
        resolution_due_at=H(8) if sla_ else None,
        first_responded_at=None if reply is None else H(reply),
        resolved_at=None if resolve is None else H(resolve),
        status=Status.RESOLVED if resolve is not None else Status.OPEN,
        sla_breached_at=None if breach is None else H(breach),
    )
    return Ticket.objects.get(pk=ticket.pk)


@pytest.fixture
def mix(alice, queue, other_queue):
    """Answered / resolved / breach times as the SLA job (every 5 minutes) records
    them: a breach that lasted less than one scan is not recorded."""
    return {
        t.subject: t
        for t in [
            make(alice, queue, "met", reply=1, resolve=5),
            make(alice, other_queue, "met too", reply=1.5, resolve=7),
            # answered 2 minutes late, between two scans: no breach recorded
            make(alice, queue, "first response late", reply=2 + 2 / 60, resolve=6),
            make(
                alice,
                other_queue,
                "first response breach",
                reply=4,
                resolve=6,
                breach=2 + 5 / 60,
            ),
            # resolved 3 minutes late, between two scans
            make(alice, queue, "resolution late", reply=1, resolve=8 + 3 / 60),
            make(alice, queue, "open overdue", breach=2 + 5 / 60),
            make(
                alice,
                other_queue,
                "open resolution overdue",
                reply=1,
                breach=8 + 5 / 60,
            ),
            make(alice, queue, "no sla", reply=1, resolve=4, sla_=False),
            make(alice, other_queue, "open on track", reply=1),
        ]
    }


def test_met_is_one_definition(mix):
    outcome = {name: sla.met(t) for name, t in mix.items()}
    assert outcome == {
        "met": True,
        "met too": True,
        "first response late": False,
        "first response breach": False,
        "resolution late": False,
        "open overdue": False,
        "open resolution overdue": False,
        "no sla": None,  # no targets: no SLA, not counted
        "open on track": None,  # not settled yet
    }
    # The same verdict from a ``.values()`` row as from the ticket.
    rows = Ticket.objects.values(*sla.MEASURE_FIELDS, "subject")
    assert {r["subject"]: sla.met(r) for r in rows} == outcome


def test_reports_and_daily_statistics_agree(supervisor, mix, queue, other_queue):
    tasks.compute_daily_stats(DAY)
    stats = {
        s.queue_id: s
        for s in DailyStats.objects.filter(day=DAY, organization=None, agent=None)
    }
    rows = {r.label: r for r in reports.report_rows(supervisor, "queue", DAY, DAY)}
    pairs = {
        "Total": (rows["Total"], stats[None]),
        queue.name: (rows[queue.name], stats[queue.pk]),
        other_queue.name: (rows[other_queue.name], stats[other_queue.pk]),
    }
    for label, (row, daily) in pairs.items():
        assert row.sla_met_percent is not None, label
        assert (
            Decimal(row.sla_met_percent).quantize(Decimal("0.01"), ROUND_HALF_UP)
            == daily.sla_met_percent
        ), label
        assert int(row.median_first_response_seconds) == (
            daily.median_first_response_seconds
        ), label
        assert int(row.median_resolution_seconds) == daily.median_resolution_seconds
    # The figures: met 2 of the 7 settled tickets with an SLA (28.57 %); answered
    # after 1, 1.5, 2.03, 4, 1, 1, 1 h → median 1 h; resolved after 5, 7, 6, 6,
    # 8.05, 4 h → median 6 h.
    assert stats[None].sla_met_percent == Decimal("28.57")
    assert rows["Total"].record()[3:6] == ["1.0", "6.0", "28.6"]
    assert stats[None].median_first_response_seconds == 3600
    assert stats[None].median_resolution_seconds == 6 * 3600
    # Support: met; late first response, late resolution, open overdue → 1 of 4.
    assert stats[queue.pk].sla_met_percent == Decimal("25.00")
    # Billing: met too; first response breach, open resolution overdue → 1 of 3.
    assert stats[other_queue.pk].sla_met_percent == Decimal("33.33")


def test_live_state_of_each_ticket(mix):
    now = H(9)
    states = {name: sla.live_state(t, now) for name, t in mix.items()}
    assert states == {
        "met": "met",
        "met too": "met",
        "first response late": "late",
        "first response breach": "late",
        "resolution late": "late",
        "open overdue": "breached",
        "open resolution overdue": "breached",
        "no sla": "none",
        "open on track": "breached",  # resolution due at 8 h, now 9 h
    }
    on_track = mix["open on track"]
    assert sla.live_state(on_track, H(6)) == "running"
    assert sla.live_state(on_track, H(7.5)) == "due_soon"
    assert sla.next_due(on_track) == ("resolution", H(8))
    assert sla.next_due(mix["open overdue"]) == ("first_response", H(2))


@pytest.mark.parametrize("hours", [0.5, 1.5, 2.5, 7.5, 9])
def test_inbox_views_and_dashboard_agree_with_the_live_state(mix, hours):
    """The SQL twins (``breaching_sla``: the dashboard's count and the inbox's
    "breached" view; ``at_risk``: "due within 1 h") select the open tickets that have a
    clock in that live state."""
    now = H(hours)
    tickets = Ticket.objects.filter(pk__in=[t.pk for t in mix.values()])

    def having(state):
        return {
            t.subject
            for t in tickets
            if t.is_open and state in {s for *_, s in sla.clocks(t, now)}
        }

    assert {t.subject for t in tickets.breaching_sla(now)} == having(sla.BREACHED)
    assert {t.subject for t in tickets.at_risk(now, within=sla.DUE_SOON)} == having(
        sla.DUE_SOON_STATE
    )
