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
(``""`` = none), and the total over every value. The slices are merged in Python:
taking the medians in PostgreSQL (``percentile_disc`` over the expanded lists) was
measured slower on the full benchmark set (bench/FINDINGS.md, ST-1). The roll-ups are as fresh as the last job run (hourly).
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
    """The figures of ``first``..``last`` (inclusive) per value of ``dimension``
    (``report_facts`` without the total)."""
    return _read(user, dimension, first, last, period, total=False)[0]


def report_facts(
    user,
    dimension: str,
    first: date,
    last: date,
    *,
    period: str | None = None,
    durations: bool = True,
) -> tuple[dict[str, Facts], Facts]:
    """``facts_by_value`` and their total over every value (a report's "Total" row:
    its medians are those of every duration, not of the values' medians).
    ``durations=False``: the figures without the medians (``Facts.medians`` is
    ``(None, None)``), which cost the most to take."""
    return _read(user, dimension, first, last, period, durations=durations)


def _read(user, dimension, first, last, period, *, total=True, durations=True):
    if dimension not in figures.DIMENSIONS:
        raise ValueError(f"Unknown report dimension {dimension!r}")
    source = _slices(user, dimension, first, last, period)
    if source is None:
        by_value = raw_facts(user, dimension, first, last)
    else:
        by_value = _merged_slices(*source, durations)
    everything = Facts()
    if total:
        for facts in by_value.values():
            everything.add(facts)
    if not durations:
        for facts in (*by_value.values(), everything):
            facts.first_response, facts.resolution = [], []
            facts.medians = (None, None)
    return by_value, everything


def _reads_slices(first, last, period) -> bool:
    """Whether a report of ``first``..``last`` may come from the roll-ups at all
    (whole periods and long ranges; a short range is computed from the tickets)."""
    return _kind(first, last, period) is not None or (
        (last - first).days >= SHORT_RANGE_DAYS
    )


def _kind(first, last, period) -> str | None:
    exact = period and figures.period_range(period, first) == (first, last)
    return period if exact else figures.whole_period(first, last)


def slices_scope(user, ranges) -> str | None:
    """What reports of ``ranges`` (``(first, last, period)`` each) for ``user`` read,
    as the part of a cache key that tells users apart: ``"all"`` (every queue's
    slices) or the worked queues' ids; None when one of them is computed from the
    tickets (a short range, or a user the slices cannot express), which is up to the
    minute and must not be kept. Users with the same scope read the same slices,
    hence the same figures."""
    if not all(_reads_slices(*r) for r in ranges):
        return None
    scope = report_scope(user)
    if scope is False:
        return None
    if scope is None:
        return "all"
    return "queues:" + ",".join(str(pk) for pk in sorted(scope))


def _slices(user, dimension, first, last, period):
    """``(the slices to merge, the day whose backlog counts)`` for the range (that
    day None: every slice's, one whole period), or None when the range is computed
    from the tickets."""
    if not _reads_slices(first, last, period):
        return None
    kind = _kind(first, last, period)
    scope = report_scope(user)
    if scope is False:
        return None
    slices = StatsSlice.objects.filter(dimension=dimension).order_by()
    if scope is not None:
        slices = slices.filter(queue_id__in=scope)
    if kind is not None:
        return slices.filter(period=kind, start=first), None
    return slices.filter(period=DAY, start__gte=first, start__lte=last), last


def _merged_slices(slices, closing, durations) -> dict[str, Facts]:
    """The slices merged per value: counts added up, duration lists concatenated
    (``durations=False``: not read)."""
    merged: dict[str, Facts] = {}
    columns = SLICE_FIELDS if durations else _COUNT_FIELDS
    for row in (
        slices.order_by()
        .values_list("start", "value", *columns)
        .iterator(chunk_size=2000)
    ):
        start, value, *values = row
        if not durations:  # the lists were not read: add nothing to them
            values[3:3] = ((), ())
        facts = merged.setdefault(value, Facts())
        add_slice(facts, values, backlog=closing is None or start == closing)
    return merged


_COUNT_FIELDS = tuple(f for f in SLICE_FIELDS if not f.endswith("_seconds"))


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
