"""Reading the roll-ups back for a user, a dimension and a range of days.

- A whole week, month or year reads that period's slices.
- A range of more than ``SHORT_RANGE_DAYS`` days merges its day slices (every
  figure is additive over days; the backlog is the last day's).
- A shorter range (the desk's default "last 30 days", one day) is computed from the
  tickets (``raw_facts``): exact and up to the minute, and small.
- Slices are per queue, so an agent's figures are the slices of the queues they work.
  An agent who also sees tickets outside those queues (their own requests, a ticket
  assigned across queues) gets the raw computation over ``visible_tickets``, which
  applies the same definitions (``figures.accumulate``) to the tickets directly.

Whatever the source, the answer is ``{value: Facts}`` per dimension value
(``""`` = none). The roll-ups are as fresh as the last job run (hourly).
"""

from datetime import date, timedelta

from accounts import roles

from .. import permissions
from ..models import StatsSlice
from . import figures
from .figures import DAY, Facts
from .store import SLICE_FIELDS, add_slice

SHORT_RANGE_DAYS = 31


def report_scope(user) -> set[int] | None | bool:
    """Queue ids whose slices make up ``user``'s figures; ``None`` for all queues;
    ``False`` when the slices cannot (the raw computation is needed)."""
    if permissions.sees_all(user):
        return None
    if not roles.is_staff_member(user):
        return False
    queue_ids = set(permissions.worked_queues(user).values_list("pk", flat=True))
    beyond = permissions.visible_tickets(user).exclude(queue_id__in=queue_ids)
    return False if beyond.exists() else queue_ids


def facts_by_value(
    user, dimension: str, first: date, last: date, *, period: str | None = None
) -> dict[str, Facts]:
    """The figures of ``first``..``last`` (inclusive) per value of ``dimension``."""
    if dimension not in figures.DIMENSIONS:
        raise ValueError(f"Unknown report dimension {dimension!r}")
    exact = period and figures.period_range(period, first) == (first, last)
    kind = period if exact else figures.whole_period(first, last)
    if kind is None and (last - first).days < SHORT_RANGE_DAYS:
        return raw_facts(user, dimension, first, last)
    scope = report_scope(user)
    if scope is False:
        return raw_facts(user, dimension, first, last)
    slices = StatsSlice.objects.filter(dimension=dimension)
    if scope is not None:
        slices = slices.filter(queue_id__in=scope)
    if kind is not None:
        slices = slices.filter(period=kind, start=first)
    else:
        slices = slices.filter(period=DAY, start__gte=first, start__lte=last)
    merged: dict[str, Facts] = {}
    columns = ("start", "value", *SLICE_FIELDS)
    for row in slices.order_by().values_list(*columns).iterator(chunk_size=2000):
        start, value, *values = row
        facts = merged.setdefault(value, Facts())
        add_slice(facts, values, backlog=kind is not None or start == last)
    return merged


def raw_facts(
    user, dimension: str, first: date, last: date, *, organization=None
) -> dict[str, Facts]:
    """The same figures from the tickets ``user`` may see, without the roll-ups;
    with ``organization``, from that organization's tickets only (the CRM's
    Organization 360)."""
    lower = figures.midnight(first)
    upper = figures.midnight(last + timedelta(days=1))
    intervals = figures.Intervals({"range": [(lower, upper, first)]})
    tickets = permissions.visible_tickets(user)
    if organization is not None:
        tickets = tickets.filter(organization=organization)
    rows = (
        tickets.filter(figures.touching(lower, upper))
        .order_by()
        .values(*figures.FIELDS)
    )
    merged: dict[str, Facts] = {}
    for key, facts in figures.accumulate(rows, intervals, [dimension]).items():
        merged.setdefault(key[-1], Facts()).add(facts)
    return merged
