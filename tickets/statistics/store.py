"""Writing the roll-ups: ``StatsSlice`` rows per day, week, month and year, and the
``DailyStats`` overview rows of each day.

Day rows are computed from the tickets (``rebuild``: one ``figures.accumulate`` pass,
the same function as a raw report). The job and the backfill then *merge* weeks and
months from their day rows and years from their month rows (``merge``): counts add
up, duration lists are concatenated (so medians stay exact) and the backlog is the
last sub-period's, which is exact by construction and reads a few hundred slices
instead of a year of tickets. A period that reaches past today takes today's backlog
(the tickets open now; nothing is done in the future). A rebuild or merge deletes the
periods' rows and inserts them again in one transaction: running it twice leaves the
same rows.

Every write of slices (``_replace``, the one place that writes them) starts a new
*generation* once it commits (``generation()``: a time stamp in the shared cache), so
whatever is computed from the slices (the desk's cached reports) can name the
generation it was made from and is never used once the slices change.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, connections, transaction
from django.db.models import Max
from django.utils import timezone

from portal import cache as shared_cache

from ..models import DailyStats, StatsSlice, Ticket
from . import figures
from .figures import DAY, MONTH, PERIODS, WEEK, YEAR, Facts

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
    return _replace(targets, slices, daily=True)


def _replace(
    targets: dict[str, set[date]], slices: dict[tuple, Facts], *, daily: bool
) -> int:
    """Swap the ``targets`` periods' rows for ``slices`` in one transaction."""
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
            _insert(StatsSlice, objects)
            if daily:
                _write_daily(targets.get(DAY, set()), slices)
            transaction.on_commit(new_generation)
    except IntegrityError:
        logger.warning("statistics: a concurrent run rebuilt the same periods")
        return 0
    return len(objects)


def _insert(model, objects: list) -> None:
    """Insert new roll-up rows: on PostgreSQL by ``COPY`` (``portal.loaddata.writer``,
    the owner of bulk ``COPY``): the same rows in the same order (so the same ids) as
    ``bulk_create``, whose preparation of every value of every column made most of a
    backfill's time; a unique-constraint violation is still an ``IntegrityError``."""
    using = model.objects.db
    connection = connections[using]
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects, batch_size=1000)
        return
    from portal.loaddata.writer import BulkWriter

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    with connection.wrap_database_errors:
        BulkWriter(using).insert(
            model,
            [f.attname for f in fields],
            ([f.pre_save(o, True) for f in fields] for o in objects),
        )


GENERATION_KEY = "statistics:generation"


def generation() -> int | None:
    """The roll-ups' current generation (``portal.cache.generation``); None when the
    cache cannot say (Redis down), and nothing computed from the slices may then be
    kept."""
    return shared_cache.generation(GENERATION_KEY)


def new_generation() -> None:
    """Called once slices were written (after the commit): what was computed from
    the earlier ones is stale."""
    shared_cache.new_generation(GENERATION_KEY)


# What each period is merged from: weeks and months from days, years from months.
PART = {WEEK: DAY, MONTH: DAY, YEAR: MONTH}
# A slice's figures, as ``add_slice`` reads them (after the columns a reader names
# first): the one list, for this module's merges and ``read``'s reports.
SLICE_FIELDS = (
    "created",
    "resolved",
    "backlog",
    "first_response_seconds",
    "resolution_seconds",
    "sla_met",
    "sla_settled",
    "rating_sum",
    "rated",
)
MERGED_FIELDS = ("start", "queue_id", "dimension", "value", *SLICE_FIELDS)


def add_slice(facts: Facts, values, *, backlog: bool) -> None:
    """Add one slice's ``SLICE_FIELDS`` ``values`` to ``facts``; ``backlog=False``
    when the slice is not the range's last (the backlog is a level, not a flow)."""
    created, resolved, level, firsts, resolutions, met, settled, rating_sum, rated = (
        values
    )
    facts.created += created
    facts.resolved += resolved
    if backlog:
        facts.backlog += level
    facts.first_response += firsts
    facts.resolution += resolutions
    facts.sla_met += met
    facts.sla_settled += settled
    facts.rating_sum += rating_sum
    facts.rated += rated


def merge(kind: str, starts: set[date], today: date) -> int:
    """Rebuild the ``kind`` periods starting on ``starts`` from their parts' slices
    (which must be up to date: days for weeks and months, months for years); the
    backlog is that of the part containing the period's last day, or today."""
    part = PART[kind]
    slices: dict[tuple, Facts] = {}
    for start in sorted(starts):
        last = min(figures.next_start(kind, start) - timedelta(days=1), today)
        closing = figures.period_start(part, last)
        rows = StatsSlice.objects.filter(
            period=part, start__gte=start, start__lte=last
        ).order_by()
        for row in rows.values_list(*MERGED_FIELDS).iterator(chunk_size=5000):
            (at, queue_id, dimension, value, *values) = row
            key = (kind, start, queue_id, dimension, value)
            facts = slices.get(key)
            if facts is None:
                facts = slices[key] = Facts()
            add_slice(facts, values, backlog=at == closing)
    # A value whose tickets were open only before the end, with no event in the
    # period, has no figure in it: no row, as a rebuild from the tickets gives.
    kept = {k: f for k, f in slices.items() if f.has_events() or f.backlog}
    return _replace({kind: set(starts)}, kept, daily=False)


def _rebuild_days(days: Iterable[date]) -> int:
    """Day slices from the tickets, a bounded number of days per pass."""
    ordered = sorted(days)
    return sum(
        rebuild({DAY: set(ordered[i : i + CHUNK[DAY]])})
        for i in range(0, len(ordered), CHUNK[DAY])
    )


def _merge_all(targets: dict[str, set[date]], today: date) -> int:
    """Weeks and months (from days) before years (from months)."""
    written = 0
    for kind in (WEEK, MONTH, YEAR):
        ordered = sorted(targets.get(kind, ()))
        for i in range(0, len(ordered), CHUNK[kind]):
            written += merge(kind, set(ordered[i : i + CHUNK[kind]]), today)
    return written


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
    _insert(
        DailyStats,
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
    """The scheduled job: the days since the last day built (at least today and
    yesterday: a missed run heals), the days of the tickets changed since yesterday
    began, from the tickets; then the weeks, months and years containing them,
    merged from their days and months."""
    now = now or timezone.now()
    today = _local_day(now)
    yesterday = today - timedelta(days=1)
    built = StatsSlice.objects.filter(period=DAY, start__lte=today).aggregate(
        last=Max("start")
    )["last"]
    since = min(built or yesterday, yesterday)
    days = {since + timedelta(days=n) for n in range((today - since).days + 1)}
    days |= {d for d in touched_days(figures.midnight(yesterday)) if d <= today}
    written = _rebuild_days(days)
    return written + _merge_all(periods_of(days), today)


# Periods rebuilt per pass by ``backfill``: bounded memory (every duration of a pass
# is held once per dimension) and a bounded transaction on a large history.
CHUNK = {"day": 31, "week": 8, "month": 3, "year": 1}


def backfill(days: int, now: datetime | None = None) -> int:
    """Rebuild the last ``days`` days (today included) and every week, month and
    year containing one of them, a few periods at a time. The merges need every
    part: every month of those years and every day of those weeks and months (up to
    today) are rebuilt too."""
    today = _local_day(now or timezone.now())
    targets = periods_of(today - timedelta(days=n) for n in range(days))
    for year in targets[YEAR]:
        month = year
        while month <= today and month.year == year.year:
            targets[MONTH].add(month)
            month = figures.next_start(MONTH, month)
    for kind in (WEEK, MONTH):
        for start in targets[kind]:
            day = start
            while day <= today and day < figures.next_start(kind, start):
                targets[DAY].add(day)
                day += timedelta(days=1)
    return _rebuild_days(targets[DAY]) + _merge_all(targets, today)
