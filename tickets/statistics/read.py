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
(``""`` = none), and the total over every value. On PostgreSQL the slices are merged
by the database: the counts summed and the medians taken there
(``percentile_disc``), so that the duration lists (a year's are megabytes of JSON)
never travel; SQLite merges them in Python. Both give ``sla.median`` exactly. The roll-ups are as fresh as the last job run (hourly).
"""

from datetime import date, timedelta

from django.core.exceptions import EmptyResultSet
from django.db import connections

from accounts import roles

from .. import permissions, sla
from ..models import StatsSlice
from . import figures
from .figures import DAY, Facts

SHORT_RANGE_DAYS = 31
SLICE_FIELDS = (
    "start",
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
)


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
    elif connections[source[0].db].vendor == "postgresql":
        by_value, everything = _database_facts(*source, total, durations)
        return by_value, everything
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


def _slices(user, dimension, first, last, period):
    """``(the slices to merge, the day whose backlog counts)`` for the range (that
    day None: every slice's, one whole period), or None when the range is computed
    from the tickets."""
    exact = period and figures.period_range(period, first) == (first, last)
    kind = period if exact else figures.whole_period(first, last)
    if kind is None and (last - first).days < SHORT_RANGE_DAYS:
        return None
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
    """The slices merged per value in Python (SQLite): counts added up, duration
    lists concatenated."""
    merged: dict[str, Facts] = {}
    fields = SLICE_FIELDS if durations else _COUNT_FIELDS
    for row in slices.values_list(*fields).iterator(chunk_size=2000):
        start, value, created, resolved, backlog, *rest = row
        facts = merged.setdefault(value, Facts())
        facts.created += created
        facts.resolved += resolved
        if closing is None or start == closing:
            facts.backlog += backlog
        if durations:
            firsts, resolutions, *rest = rest
            facts.first_response += firsts
            facts.resolution += resolutions
        met, settled, rating_sum, rated = rest
        facts.sla_met += met
        facts.sla_settled += settled
        facts.rating_sum += rating_sum
        facts.rated += rated
    return merged


_COUNT_FIELDS = (
    "start",
    "value",
    "created",
    "resolved",
    "backlog",
    "sla_met",
    "sla_settled",
    "rating_sum",
    "rated",
)
_SUMMED = ("created", "resolved", "sla_met", "sla_settled", "rating_sum", "rated")


def _database_facts(slices, closing, total, durations):
    """PostgreSQL: the same figures in one statement, so that the duration lists
    never leave the database. Each slice row comes with its durations as rows of
    their own (``which`` 1 and 2); counts are summed over the slice rows
    (``which = 0``) per value, and over every value with ``total`` (``ROLLUP``); a
    median is ``sla.median_of_middles`` of the merged list's lower middle value
    (``percentile_disc(0.5)``, ascending) and upper one (the same, descending),
    which are one value for an odd count. The SQL is built from constants only; the
    slices' filters and the closing day are parameters."""
    lists = _LISTS if durations else ()
    try:
        inner, params = slices.values(*_COUNT_FIELDS, *lists).query.sql_with_params()
    except EmptyResultSet:  # no queue to read (an agent of none)
        return {}, Facts(medians=(None, None))
    sums = [f"sum(s.{name}) FILTER (WHERE d.which = 0)" for name in _SUMMED]
    closing_day = "" if closing is None else " AND s.start = %s"
    sums.append(f"sum(s.backlog) FILTER (WHERE d.which = 0{closing_day})")
    middles = [
        f"percentile_disc(0.5) WITHIN GROUP (ORDER BY d.seconds {order}) "
        f"FILTER (WHERE d.which = {which})"
        for which in (1, 2)
        for order in ("ASC", "DESC")
    ]
    elements = [
        f"SELECT {which}, e.j::float8 FROM jsonb_array_elements(s.{name}) AS e(j)"  # noqa: S608
        for which, name in enumerate(lists, start=1)
    ]
    rows = " UNION ALL ".join(["SELECT 0 AS which, NULL::float8 AS seconds", *elements])
    groups = "ROLLUP (s.value)" if total else "s.value"
    sql = (
        f"SELECT GROUPING(s.value), s.value, {', '.join(sums + middles)} "  # noqa: S608
        f"FROM ({inner}) AS s CROSS JOIN LATERAL ({rows}) AS d GROUP BY {groups}"
    )
    arguments = ([] if closing is None else [closing]) + list(params)
    by_value: dict[str, Facts] = {}
    everything = Facts(medians=(None, None))
    with connections[slices.db].cursor() as cursor:
        cursor.execute(sql, arguments)
        for grouped, value, *counts, backlog, lo1, hi1, lo2, hi2 in cursor.fetchall():
            facts = Facts(
                **dict(zip(_SUMMED, (c or 0 for c in counts), strict=True)),
                backlog=backlog or 0,
                medians=(
                    sla.median_of_middles(lo1, hi1),
                    sla.median_of_middles(lo2, hi2),
                ),
            )
            if grouped:
                everything = facts
            else:
                by_value[value] = facts
    return by_value, everything


_LISTS = ("first_response_seconds", "resolution_seconds")


def raw_facts(user, dimension: str, first: date, last: date) -> dict[str, Facts]:
    """The same figures from the tickets ``user`` may see, without the roll-ups."""
    lower = figures.midnight(first)
    upper = figures.midnight(last + timedelta(days=1))
    intervals = figures.Intervals({"range": [(lower, upper, first)]})
    rows = (
        permissions.visible_tickets(user)
        .filter(figures.touching(lower, upper))
        .order_by()
        .values(*figures.FIELDS)
    )
    merged: dict[str, Facts] = {}
    for key, facts in figures.accumulate(rows, intervals, [dimension]).items():
        merged.setdefault(key[-1], Facts()).add(facts)
    return merged
