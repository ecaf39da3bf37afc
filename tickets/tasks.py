"""Scheduled ticket jobs (registered in ``portal.schedules``). Each is safe to run twice
or concurrently: state changes go through ``tickets.services``, which lock the ticket and
do nothing when the change was already made; statistics are upserted."""

import logging
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import services, sla
from .models import FINAL_STATUSES, DailyStats, Status, Ticket, TicketEvent

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


# --- daily statistics -----------------------------------------------------------------


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def compute_daily_stats(day: date) -> int:
    """Upsert the day's rows: one for everything (all keys empty) and one per queue,
    per organization and per agent (the assignee) that had activity; rows of that day
    that no longer have activity are removed. Returns the number of rows kept.

    created: tickets created that day; resolved: tickets whose ``resolved_at`` falls on
    that day; medians over tickets first answered / resolved that day; SLA met: share
    of the tickets whose SLA outcome was settled that day (``sla.settled_at``: resolved,
    or a breach recorded) that met it. Durations, medians and "met" are ``tickets.sla``'s,
    the same the desk reports use.
    """
    start, end = _day_bounds(day)
    rows = Ticket.objects.filter(
        Q(created_at__gte=start, created_at__lt=end)
        | Q(resolved_at__gte=start, resolved_at__lt=end)
        | Q(first_responded_at__gte=start, first_responded_at__lt=end)
        | Q(sla_breached_at__gte=start, sla_breached_at__lt=end)
    ).values("queue_id", "organization_id", "assignee_id", *sla.MEASURE_FIELDS)
    slices: dict[tuple, list] = defaultdict(list)
    for row in rows:
        slices[(None, None, None)].append(row)
        slices[(row["queue_id"], None, None)].append(row)
        if row["organization_id"]:
            slices[(None, row["organization_id"], None)].append(row)
        if row["assignee_id"]:
            slices[(None, None, row["assignee_id"])].append(row)

    def within(value):
        return value is not None and start <= value < end

    kept = []
    with transaction.atomic():
        for (queue_id, organization_id, agent_id), tickets in slices.items():
            created = [t for t in tickets if within(t["created_at"])]
            resolved = [t for t in tickets if within(t["resolved_at"])]
            answered = [t for t in tickets if within(t["first_responded_at"])]
            first_median = sla.median(sla.first_response_durations(answered))
            resolution_median = sla.median(sla.resolution_durations(resolved))
            hits, settled = sla.outcomes(
                t for t in tickets if within(sla.settled_at(t))
            )
            values = {
                "created": len(created),
                "resolved": len(resolved),
                "median_first_response_seconds": (
                    None if first_median is None else int(first_median)
                ),
                "median_resolution_seconds": (
                    None if resolution_median is None else int(resolution_median)
                ),
                "sla_met_percent": (
                    (Decimal(100) * hits / settled).quantize(
                        Decimal("0.01"), rounding=ROUND_HALF_UP
                    )
                    if settled
                    else None
                ),
            }
            row, _ = DailyStats.objects.update_or_create(
                day=day,
                queue_id=queue_id,
                organization_id=organization_id,
                agent_id=agent_id,
                defaults=values,
            )
            kept.append(row.pk)
        DailyStats.objects.filter(day=day).exclude(pk__in=kept).delete()
    return len(kept)


def update_daily_stats(now: datetime | None = None) -> int:
    """The scheduled job: today so far and yesterday (which may still change until the
    day is over everywhere)."""
    today = timezone.localdate(now or timezone.now())
    return compute_daily_stats(today - timedelta(days=1)) + compute_daily_stats(today)


def backfill_stats(days: int, now: datetime | None = None) -> int:
    today = timezone.localdate(now or timezone.now())
    return sum(compute_daily_stats(today - timedelta(days=n)) for n in range(days))
