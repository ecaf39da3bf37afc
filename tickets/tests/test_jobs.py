"""The scheduled ticket jobs: each gives the same state and the same emails when run
twice."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from tickets import services, tasks
from tickets.models import DailyStats, EventKind, Ticket, TicketEvent

from .factories import SLAPolicyFactory, TicketFactory, make_customer


@pytest.fixture
def act(django_capture_on_commit_callbacks):
    def _act(func, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return func(*args, **kwargs)

    return _act


@pytest.mark.django_db
def test_sla_scan_records_a_breach_once_escalates_and_notifies(
    act, alice, agent, supervisor, queue
):
    queue.sla_policy = SLAPolicyFactory(escalate_on_breach=True)
    queue.save()
    ticket = act(TicketFactory, requester=alice, queue=queue, priority="medium")
    act(services.assign, supervisor, ticket, agent)
    mail.outbox.clear()
    now = ticket.first_response_due_at + timedelta(minutes=1)

    assert act(tasks.scan_sla, now=now) == 1
    assert act(tasks.scan_sla, now=now) == 0
    assert act(tasks.scan_sla, now=now + timedelta(minutes=5)) == 0

    ticket.refresh_from_db()
    assert ticket.sla_breached_at == now
    assert ticket.priority == "high"
    breaches = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.SLA_BREACHED)
    assert list(breaches.values_list("new_value", flat=True)) == ["first_response"]
    escalations = TicketEvent.objects.filter(
        ticket=ticket, kind=EventKind.PRIORITY_CHANGED
    )
    assert list(escalations.values_list("old_value", "new_value")) == [
        ("medium", "high")
    ]
    subject = f"[{ticket.reference}] SLA breached (first response): {ticket.subject}"
    assert [(m.to[0], m.subject) for m in mail.outbox] == [
        ("agent@example.com", subject),
        ("supervisor@example.com", subject),
    ]


@pytest.mark.django_db
def test_sla_scan_without_escalation_keeps_the_priority(act, alice, queue, supervisor):
    ticket = act(TicketFactory, requester=alice, queue=queue, priority="low")
    now = ticket.first_response_due_at + timedelta(seconds=1)
    assert act(tasks.scan_sla, now=now) == 1
    ticket.refresh_from_db()
    assert ticket.priority == "low"
    assert [m.to[0] for m in mail.outbox[-1:]] == ["supervisor@example.com"]


@pytest.mark.django_db
def test_sla_scan_ignores_tickets_on_time(act, alice, queue):
    ticket = act(TicketFactory, requester=alice, queue=queue)
    assert (
        act(tasks.scan_sla, now=ticket.first_response_due_at - timedelta(seconds=1))
        == 0
    )
    ticket.refresh_from_db()
    assert ticket.sla_breached_at is None


@pytest.mark.django_db
def test_auto_close_waits_for_the_configured_days(act, alice, agent, queue, settings):
    settings.TICKETS_AUTO_CLOSE_DAYS = 7
    ticket = act(TicketFactory, requester=alice, queue=queue)
    act(services.change_status, agent, ticket, "resolved")
    ticket.refresh_from_db()
    assert (
        act(tasks.auto_close_resolved, now=ticket.resolved_at + timedelta(days=6)) == 0
    )
    assert Ticket.objects.get(pk=ticket.pk).status == "resolved"
    assert (
        act(
            tasks.auto_close_resolved,
            now=ticket.resolved_at + timedelta(days=7, seconds=1),
        )
        == 1
    )
    assert Ticket.objects.get(pk=ticket.pk).status == "closed"


@pytest.mark.django_db
def test_retention_purges_old_events_of_finished_tickets_only(
    act, alice, agent, queue, settings
):
    settings.TICKETS_EVENT_RETENTION_DAYS = 365
    finished = act(TicketFactory, requester=alice, queue=queue)
    act(services.change_status, alice, finished, "withdrawn")
    still_open = act(TicketFactory, requester=alice, queue=queue)
    resolved = act(TicketFactory, requester=alice, queue=queue)
    act(services.change_status, agent, resolved, "resolved")
    old = timezone.now() - timedelta(days=366)
    TicketEvent.objects.update(created_at=old)
    recent = TicketEvent.objects.create(
        ticket=finished, kind=EventKind.RATED, new_value="5"
    )

    assert tasks.purge_old_events() == 2  # created + withdrawn of the finished ticket
    assert tasks.purge_old_events() == 0
    assert list(TicketEvent.objects.filter(ticket=finished)) == [recent]
    assert TicketEvent.objects.filter(ticket=still_open).count() == 1
    assert TicketEvent.objects.filter(ticket=resolved).count() == 2


def _at(day, hour):
    return timezone.make_aware(datetime.combine(day, datetime.min.time())) + timedelta(
        hours=hour
    )


@pytest.mark.django_db
def test_daily_stats_upsert_the_same_rows_twice(
    act, alice, agent, queue, other_queue, acme
):
    day = date(2026, 3, 2)
    first = act(TicketFactory, requester=alice, queue=queue, organization=acme)
    loner = make_customer()  # of no organization
    second = act(TicketFactory, requester=loner, queue=queue)
    third = act(TicketFactory, requester=loner, queue=other_queue)
    Ticket.objects.filter(pk=first.pk).update(
        created_at=_at(day, 1),
        assignee=agent,
        first_responded_at=_at(day, 2),
        resolved_at=_at(day, 5),
        resolution_due_at=_at(day, 10),
        status="resolved",
    )
    Ticket.objects.filter(pk=second.pk).update(
        created_at=_at(day, 3),
        first_responded_at=_at(day, 7),
        resolved_at=_at(day, 9),
        resolution_due_at=_at(day, 8),
        status="resolved",
    )
    Ticket.objects.filter(pk=third.pk).update(
        created_at=_at(day - timedelta(days=1), 3)
    )

    def rows():
        return sorted(
            DailyStats.objects.filter(day=day).values_list(
                "queue__slug",
                "organization__slug",
                "agent__email",
                "created",
                "resolved",
                "median_first_response_seconds",
                "median_resolution_seconds",
                "sla_met_percent",
            ),
            key=str,
        )

    assert tasks.compute_daily_stats(day) == 4
    expected = sorted(
        [
            (None, None, None, 2, 2, 9000, 18000, Decimal("50.00")),
            ("support", None, None, 2, 2, 9000, 18000, Decimal("50.00")),
            (None, "acme", None, 1, 1, 3600, 14400, Decimal("100.00")),
            (None, None, "agent@example.com", 1, 1, 3600, 14400, Decimal("100.00")),
        ],
        key=str,
    )
    assert rows() == expected
    assert tasks.compute_daily_stats(day) == 4
    assert rows() == expected
    assert DailyStats.objects.filter(day=day).count() == 4


@pytest.mark.django_db
def test_backfill_command(act, queue):
    act(TicketFactory, requester=make_customer(), queue=queue)  # of no organization
    out = StringIO()
    call_command("backfill_stats", "--days", "3", stdout=out)
    # one ticket, created today: a slice per dimension (5) per period (4)
    assert out.getvalue().strip() == "20 statistics slices for the last 3 days."
    today = timezone.localdate()
    assert list(DailyStats.objects.values_list("day", "created")) == [
        (today, 1),
        (today, 1),
    ]
