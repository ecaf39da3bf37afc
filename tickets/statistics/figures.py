"""The statistics definitions (see the package doc) applied to ticket rows.

``accumulate`` is the only code that turns tickets into figures: the job calls it for
the periods it rebuilds, and a report that cannot read the roll-ups calls it for its
range, so both give the same numbers by construction.
"""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone

from .. import sla
from ..models import DONE_STATUSES

DAY, WEEK, MONTH, YEAR = "day", "week", "month", "year"
PERIODS = (DAY, WEEK, MONTH, YEAR)

# dimension: the ticket field its value comes from
DIMENSIONS = {
    "queue": "queue_id",
    "agent": "assignee_id",
    "organization": "organization_id",
    "category": "category",
    "priority": "priority",
}
FIELDS = (
    *sla.MEASURE_FIELDS,
    "closed_at",
    "status",
    "satisfaction_rating",
    *DIMENSIONS.values(),
)
EVENT_FIELDS = (
    "created_at",
    "first_responded_at",
    "resolved_at",
    "closed_at",
    "sla_breached_at",
)


@dataclass
class Facts:
    """The additive form of every figure: counts, and the durations themselves so
    that medians over merged facts are exact.

    ``medians`` (first response, resolution) is set instead of the lists when they
    were not read: ``(None, None)`` when the reader asked for no medians (the trend).
    Such facts are final: they do not merge (medians do not add up)."""

    created: int = 0
    resolved: int = 0
    backlog: int = 0
    first_response: list = field(default_factory=list)
    resolution: list = field(default_factory=list)
    sla_met: int = 0
    sla_settled: int = 0
    rating_sum: int = 0
    rated: int = 0
    medians: tuple[float | None, float | None] | None = None

    def add(self, other: "Facts", *, backlog: bool = True) -> "Facts":
        """Merge ``other`` in. ``backlog=False`` when ``other`` is an earlier period
        of the same range: the backlog is a level at the end, not a flow."""
        if self.medians is not None or other.medians is not None:
            raise ValueError("Facts without their durations do not merge")
        self.created += other.created
        self.resolved += other.resolved
        if backlog:
            self.backlog += other.backlog
        self.first_response += other.first_response
        self.resolution += other.resolution
        self.sla_met += other.sla_met
        self.sla_settled += other.sla_settled
        self.rating_sum += other.rating_sum
        self.rated += other.rated
        return self

    def has_events(self) -> bool:
        return bool(
            self.created
            or self.resolved
            or self.first_response
            or (self.medians is not None and self.medians[0] is not None)
            or self.sla_settled
            or self.rated
        )

    @property
    def median_first_response(self) -> float | None:
        if self.medians is not None:
            return self.medians[0]
        return sla.median(self.first_response)

    @property
    def median_resolution(self) -> float | None:
        if self.medians is not None:
            return self.medians[1]
        return sla.median(self.resolution)

    @property
    def sla_met_percent(self) -> float | None:
        return 100 * self.sla_met / self.sla_settled if self.sla_settled else None

    @property
    def csat(self) -> float | None:
        return self.rating_sum / self.rated if self.rated else None


# --- periods --------------------------------------------------------------------------


def period_start(kind: str, day: date) -> date:
    """The first day of the ``kind`` period containing ``day`` (weeks start on
    Monday)."""
    if kind == DAY:
        return day
    if kind == WEEK:
        return day - timedelta(days=day.weekday())
    if kind == MONTH:
        return day.replace(day=1)
    if kind == YEAR:
        return day.replace(month=1, day=1)
    raise ValueError(f"Unknown period {kind!r}")


def next_start(kind: str, start: date) -> date:
    if kind == DAY:
        return start + timedelta(days=1)
    if kind == WEEK:
        return start + timedelta(days=7)
    if kind == MONTH:
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start.replace(year=start.year + 1)


def period_range(kind: str, day: date) -> tuple[date, date]:
    """(first, last day) of the ``kind`` period containing ``day``."""
    start = period_start(kind, day)
    return start, next_start(kind, start) - timedelta(days=1)


def whole_period(first: date, last: date) -> str | None:
    """The week, month or year that ``first``..``last`` spans exactly, if any."""
    for kind in (YEAR, MONTH, WEEK):
        if period_range(kind, first) == (first, last):
            return kind
    return None


def midnight(day: date) -> datetime:
    """The start of ``day`` in the site's time zone: periods are the site's days,
    whoever reads the report."""
    return timezone.make_aware(
        datetime.combine(day, time.min), timezone.get_default_timezone()
    )


def interval(kind: str, start: date) -> tuple[datetime, datetime, date]:
    return midnight(start), midnight(next_start(kind, start)), start


# --- tickets → facts ------------------------------------------------------------------


def done_at(row: dict) -> datetime | None:
    """When the ticket stopped being open: resolved, else closed (rejected and
    withdrawn set only that); a done ticket without either counts as never open."""
    done = row["resolved_at"] or row["closed_at"]
    if done is None and row["status"] in DONE_STATUSES:
        return row["created_at"]
    return done


def touching(lower: datetime, upper: datetime) -> Q:
    """Tickets that may count in a period inside ``lower``..``upper``: an event in it,
    or open at its end (a superset; ``accumulate`` decides exactly)."""
    events = Q()
    for name in EVENT_FIELDS:
        events |= Q(**{f"{name}__gte": lower, f"{name}__lt": upper})
    open_at_end = Q(created_at__lt=upper) & (
        Q(resolved_at__gte=upper)
        | Q(resolved_at__isnull=True, closed_at__gte=upper)
        | (
            Q(resolved_at__isnull=True, closed_at__isnull=True)
            & ~Q(status__in=DONE_STATUSES)
        )
    )
    return events | open_at_end


class Intervals:
    """Sorted, non-overlapping ``(lower, upper, key)`` intervals per kind, with
    lookups by instant."""

    def __init__(self, by_kind: dict[str, list[tuple[datetime, datetime, object]]]):
        self.by_kind = {k: sorted(v, key=lambda i: i[0]) for k, v in by_kind.items()}
        self.lowers = {k: [i[0] for i in v] for k, v in self.by_kind.items()}
        self.uppers = {k: [i[1] for i in v] for k, v in self.by_kind.items()}

    def containing(self, instant: datetime):
        for kind, items in self.by_kind.items():
            index = bisect_right(self.lowers[kind], instant) - 1
            if index >= 0 and instant < items[index][1]:
                yield kind, items[index][2]

    def ending_while_open(self, opened: datetime, closed: datetime | None):
        """Intervals whose end falls after ``opened`` and no later than ``closed``:
        those at whose end the ticket was open."""
        for kind, items in self.by_kind.items():
            index = bisect_right(self.uppers[kind], opened)
            while index < len(items) and (closed is None or items[index][1] <= closed):
                yield kind, items[index][2]
                index += 1


def ticket_facts(row: dict, intervals: Intervals) -> dict[tuple, Facts]:
    """One ticket's contribution to each interval, by ``(kind, key)``."""
    found: dict[tuple, Facts] = {}

    def facts(at: datetime | None):
        return (
            []
            if at is None
            else [found.setdefault(k, Facts()) for k in intervals.containing(at)]
        )

    for f in facts(row["created_at"]):
        f.created += 1
    seconds = sla.first_response_seconds(row)
    for f in facts(row["first_responded_at"]):
        f.first_response.append(seconds)
    seconds = sla.resolution_seconds(row)
    for f in facts(row["resolved_at"]):
        f.resolved += 1
        f.resolution.append(seconds)
    verdict = sla.met(row)
    if verdict is not None:
        for f in facts(sla.settled_at(row)):
            f.sla_settled += 1
            f.sla_met += verdict
    done = done_at(row)
    if row["satisfaction_rating"] is not None:
        for f in facts(done):
            f.rated += 1
            f.rating_sum += row["satisfaction_rating"]
    for key in intervals.ending_while_open(row["created_at"], done):
        found.setdefault(key, Facts()).backlog += 1
    return found


def value_of(row: dict, dimension: str) -> str:
    value = row[DIMENSIONS[dimension]]
    return "" if value is None else str(value)


def accumulate(
    rows: Iterable[dict], intervals: Intervals, dimensions: Iterable[str] = DIMENSIONS
) -> dict[tuple, Facts]:
    """Facts per ``(kind, key, queue_id, dimension, value)`` of the ticket ``rows``
    (``.values(*FIELDS)``)."""
    dimensions = tuple(dimensions)
    slices: dict[tuple, Facts] = defaultdict(Facts)
    for row in rows:
        contributions = ticket_facts(row, intervals)
        if not contributions:
            continue
        values = [(d, value_of(row, d)) for d in dimensions]
        for (kind, key), facts in contributions.items():
            for dimension, value in values:
                slices[(kind, key, row["queue_id"], dimension, value)].add(facts)
    return slices
