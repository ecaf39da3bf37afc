"""Scheduled ticket jobs (registered in ``portal.schedules``). Each is safe to run twice
or concurrently: state changes go through ``tickets.services``, which lock the ticket and
do nothing when the change was already made; statistics are upserted."""

import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from . import services, sla
from .models import FINAL_STATUSES, DailyStats, Status, Ticket, TicketEvent
from .statistics import figures, store

logger = logging.getLogger(__name__)


def scan_sla(now: datetime | None = None) -> int:
    """Record each new SLA breach once (event, ``sla_breached_at``, emails to the
    assignee and supervisors), and raise the priority one step where the queue's
    policy says so. Returns the number of breaches recorded."""
    now = now or timezone.now()
    recorded = 0
    candidates = (
        Ticket.objects.breaching_sla(now)
        .filter(sla_breached_at__isnull=True)
        .select_related("queue__sla_policy")
        .order_by("pk")
    )
    for ticket in candidates:
        if not services.mark_sla_breached(ticket, now=now):
            continue
        recorded += 1
        if sla.policy_for(ticket.queue).escalate_on_breach:
            services.escalate_priority(ticket)
    return recorded


def auto_close_resolved(now: datetime | None = None) -> int:
    """Close tickets resolved more than ``TICKETS_AUTO_CLOSE_DAYS`` days ago (event and
    email through the service). Returns the number closed."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.TICKETS_AUTO_CLOSE_DAYS)
    closed = 0
    due = Ticket.objects.filter(status=Status.RESOLVED, resolved_at__lt=cutoff)
    for ticket in due.order_by("pk"):
        if services.auto_close(ticket, now=now):
            closed += 1
    return closed


def purge_old_events(now: datetime | None = None) -> int:
    """Delete audit events older than ``TICKETS_EVENT_RETENTION_DAYS`` of tickets that
    are finished (closed, rejected, withdrawn); open or resolved tickets keep their whole
    history."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.TICKETS_EVENT_RETENTION_DAYS)
    deleted, _ = TicketEvent.objects.filter(
        created_at__lt=cutoff, ticket__status__in=FINAL_STATUSES
    ).delete()
    return deleted


# --- statistics -----------------------------------------------------------------------
# The definitions and the roll-ups live in ``tickets.statistics``; these are the job
# entry points that ``portal.schedules`` and the commands name.


def compute_daily_stats(day: date) -> int:
    """Rebuild one day's statistics (its slices and ``DailyStats`` rows); returns
    the number of ``DailyStats`` rows of that day."""
    store.rebuild({figures.DAY: {day}})
    return DailyStats.objects.filter(day=day).count()


def update_daily_stats(now: datetime | None = None) -> int:
    """The scheduled job: today, yesterday, the weeks, months and years containing
    them, and the periods of tickets changed since yesterday (``statistics.store``).
    Returns the number of slices written."""
    return store.update(now)


def backfill_stats(days: int, now: datetime | None = None) -> int:
    """Rebuild the last ``days`` days and the periods containing them."""
    return store.backfill(days, now)
