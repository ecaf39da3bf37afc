"""Writing the roll-ups: ``StatsSlice`` rows per day, week, month and year, and the
``DailyStats`` overview rows of each day, both from one ``figures.accumulate`` pass.

Every period row is computed from the tickets themselves (not summed from day rows):
the same function as a raw report, so they agree by construction, and a rebuilt
period heals whatever an earlier run missed. A rebuild deletes the periods' rows and
inserts them again in one transaction: running it twice leaves the same rows.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import DailyStats, StatsSlice, Ticket
from . import figures
from .figures import DAY, PERIODS, Facts

logger = logging.getLogger(__name__)


def periods_of(days: Iterable[date]) -> dict[str, set[date]]:
    """The starts of the day, week, month and year containing each of ``days``."""
    targets: dict[str, set[date]] = {kind: set() for kind in PERIODS}
    for day in days:
        for kind in PERIODS:
            targets[kind].add(figures.period_start(kind, day))
    return targets


def rebuild(targets: dict[str, set[date]]) -> int:
    """Recompute the given periods (``{"day": {date, …}, "week": …}``) from the
    tickets; returns the number of slices written. A concurrent run of the same
    periods loses on the unique constraint and leaves the winner's rows."""
    spans = {
        kind: [figures.interval(kind, start) for start in sorted(starts)]
        for kind, starts in targets.items()
        if starts
    }
    if not spans:
        return 0
    intervals = figures.Intervals(spans)
    lower = min(i[0] for items in spans.values() for i in items)
    upper = max(i[1] for items in spans.values() for i in items)
    rows = (
        Ticket.objects.filter(figures.touching(lower, upper))
        .order_by()
        .values(*figures.FIELDS)
        .iterator(chunk_size=5000)
    )
    slices = figures.accumulate(rows, intervals)
    objects = [
        StatsSlice(
            period=kind,
            start=start,
            queue_id=queue_id,
            dimension=dimension,
            value=value,
            created=f.created,
            resolved=f.resolved,
            backlog=f.backlog,
            first_response_seconds=sorted(f.first_response),
            resolution_seconds=sorted(f.resolution),
            sla_met=f.sla_met,
            sla_settled=f.sla_settled,
            rating_sum=f.rating_sum,
            rated=f.rated,
        )
        for (kind, start, queue_id, dimension, value), f in slices.items()
    ]
    try:
        with transaction.atomic():
            for kind, starts in targets.items():
                StatsSlice.objects.filter(period=kind, start__in=starts).delete()
            StatsSlice.objects.bulk_create(objects, batch_size=1000)
            _write_daily(targets.get(DAY, set()), slices)
    except IntegrityError:
        logger.warning("statistics: a concurrent run rebuilt the same periods")
        return 0
    return len(objects)


def _write_daily(days: set[date], slices: dict[tuple, Facts]) -> None:
    """The ``DailyStats`` overview of each day (everything, per queue, organization
    and agent), merged from the day's slices; only slices with events get a row."""
    merged: dict[tuple, Facts] = defaultdict(Facts)
    for (kind, start, _queue, dimension, value), facts in slices.items():
        if kind != DAY or start not in days:
            continue
        if dimension == "queue":
            merged[(start, None, None, None)].add(facts)
            merged[(start, int(value), None, None)].add(facts)
        elif dimension == "organization" and value:
            merged[(start, None, int(value), None)].add(facts)
        elif dimension == "agent" and value:
            merged[(start, None, None, int(value))].add(facts)
    DailyStats.objects.filter(day__in=days).delete()
    DailyStats.objects.bulk_create(
        [
            DailyStats(
                day=day,
                queue_id=queue_id,
                organization_id=organization_id,
                agent_id=agent_id,
                created=f.created,
                resolved=f.resolved,
                median_first_response_seconds=_whole(f.median_first_response),
                median_resolution_seconds=_whole(f.median_resolution),
                sla_met_percent=_percent(f.sla_met_percent),
            )
            for (day, queue_id, organization_id, agent_id), f in merged.items()
            if f.has_events()
        ],
        batch_size=1000,
    )


def _whole(seconds):
    return None if seconds is None else int(seconds)


def _percent(value):
    if value is None:
        return None
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def touched_days(since: datetime) -> set[date]:
    """The days on which tickets changed since ``since`` (a rating, a reassignment, a
    queue move…) had their events: their periods must be recomputed too."""
    days = set()
    rows = Ticket.objects.filter(updated_at__gte=since).values_list(
        *figures.EVENT_FIELDS
    )
    for instants in rows.iterator(chunk_size=5000):
        days.update(_local_day(i) for i in instants if i is not None)
    return days


def _local_day(instant: datetime) -> date:
    return timezone.localtime(instant, timezone.get_default_timezone()).date()


def update(now: datetime | None = None) -> int:
    """The scheduled job: the periods containing today and yesterday, and those of
    the tickets changed since yesterday began."""
    now = now or timezone.now()
    today = _local_day(now)
    yesterday = today - timedelta(days=1)
    days = {today, yesterday} | touched_days(figures.midnight(yesterday))
    targets = periods_of(d for d in days if d <= today)
    return sum(rebuild({kind: starts}) for kind, starts in targets.items())


# Periods rebuilt per pass by ``backfill``: bounded memory (every duration of a pass
# is held once per dimension) and a bounded transaction on a large history.
CHUNK = {"day": 31, "week": 8, "month": 3, "year": 1}


def backfill(days: int, now: datetime | None = None) -> int:
    """Rebuild the last ``days`` days (today included) and every week, month and
    year containing one of them, a few periods at a time."""
    today = _local_day(now or timezone.now())
    targets = periods_of(today - timedelta(days=n) for n in range(days))
    written = 0
    for kind, starts in targets.items():
        ordered = sorted(starts)
        for index in range(0, len(ordered), CHUNK[kind]):
            written += rebuild({kind: set(ordered[index : index + CHUNK[kind]])})
    return written
