"""Helpdesk statistics per queue, agent, organization, category or priority over a
date range or a whole week, month or year.

One function (``report_rows``) gives every number; the CSV export prints
``ReportRow.record()`` and the HTML page ``ReportRow.display()``, the same roundings
in the reader's number format, so they cannot disagree. Numbers cover the tickets the
user may see (``permissions.visible_tickets``): agents get their queues, supervisors
and viewers everything.

The figures and their definitions belong to ``tickets.statistics`` (counted in the
period each event happened: created, resolved, open at the end, first answered,
SLA settled, rated); this module reads them (``statistics.read``: the roll-ups, or
the tickets themselves where the roll-ups cannot express the user's visibility) and
formats them.

A report read from the roll-ups only changes when the statistics job writes new
slices: ``cached_report_rows`` keeps its rows in the shared cache under the roll-ups'
generation (``store.generation``), the user's scope, the range, the dimension and
the language; the trend's months are kept the same way (``cached``). The page shows
them a page at a time, formatted with one ``NumberFormat``; the exports print every
row.
"""

import hashlib
import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import formats, numberformat, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from portal import csv
from portal.cache import cache_is_shared

from ..models import Category, Priority, Queue
from ..statistics import figures, read, store
from ..statistics.figures import Facts

# dimension: label for "none"
DIMENSIONS = {
    "queue": "—",
    "agent": _("Unassigned"),
    "organization": _("No organization"),
    "category": "—",
    "priority": "—",
}
PERIODS = {
    figures.WEEK: _("Week"),
    figures.MONTH: _("Month"),
    figures.YEAR: _("Year"),
}
HEADERS = [
    _("Created"),
    _("Resolved"),
    _("Backlog at the end"),
    _("Median first response (h)"),
    _("Median resolution (h)"),
    _("SLA met (%)"),
    _("CSAT (1-5)"),
    _("Rated"),
]
DIMENSION_NAMES = {
    "queue": _("Queue"),
    "agent": _("Agent"),
    "organization": _("Organization"),
    "category": _("Category"),
    "priority": _("Priority"),
}


@dataclass
class ReportRow:
    label: str
    volume: int
    median_first_response_seconds: float | None
    median_resolution_seconds: float | None
    sla_met_percent: float | None
    csat: float | None
    rated: int
    resolved: int = 0
    backlog: int = 0

    def record(self) -> list:
        """The printed values, in ``HEADERS`` order (hours to one decimal, percent to
        one decimal, CSAT to two; empty when there is nothing to measure)."""

        def hours(seconds):
            return "" if seconds is None else f"{seconds / 3600:.1f}"

        return [
            self.volume,
            self.resolved,
            self.backlog,
            hours(self.median_first_response_seconds),
            hours(self.median_resolution_seconds),
            "" if self.sla_met_percent is None else f"{self.sla_met_percent:.1f}",
            "" if self.csat is None else f"{self.csat:.2f}",
            self.rated,
        ]

    def display(self, number: "NumberFormat | None" = None) -> list[str]:
        """``record()`` for the page, in the active language: the same roundings with
        the locale's decimal separator and digit grouping ("1 234,5" in Polish). The
        CSV keeps ``record()``: machine-readable whatever the reader's language.
        ``number``: the page's ``NumberFormat`` (one for every row it shows)."""
        number = number or NumberFormat()
        hours = [
            None if s is None else s / 3600
            for s in (
                self.median_first_response_seconds,
                self.median_resolution_seconds,
            )
        ]
        return [
            number(self.volume, 0),
            number(self.resolved, 0),
            number(self.backlog, 0),
            number(hours[0], 1),
            number(hours[1], 1),
            number(self.sla_met_percent, 1),
            number(self.csat, 2),
            number(self.rated, 0),
        ]


class NumberFormat:
    """``formats.number_format(..., force_grouping=True)`` of the active language,
    with its separators and grouping read once (a page formats hundreds of cells)."""

    def __init__(self):
        self.decimal = formats.get_format("DECIMAL_SEPARATOR")
        self.thousands = formats.get_format("THOUSAND_SEPARATOR")
        self.grouping = formats.get_format("NUMBER_GROUPING")

    def __call__(self, value, places: int) -> str:
        if value is None:
            return ""
        rounded = Decimal(f"{value:.{places}f}")  # as record() rounds
        return numberformat.format(
            rounded,
            self.decimal,
            places,
            self.grouping,
            self.thousands,
            force_grouping=True,
        )


# The dates a report may name: wide enough for any helpdesk's history, narrow enough
# that the range's arithmetic (the day after the end, 29 days before it, the time
# zone) stays inside what ``datetime`` and the databases can hold.
EARLIEST = date(1970, 1, 1)
LATEST = date(2999, 12, 31)


def validate_report_date(value: date) -> None:
    if not EARLIEST <= value <= LATEST:
        raise ValidationError(
            _("Choose a date between %(earliest)s and %(latest)s."),
            code="out_of_range",
            params={"earliest": EARLIEST.isoformat(), "latest": LATEST.isoformat()},
        )


def headers(dimension: str) -> list[str]:
    name = DIMENSION_NAMES.get(dimension) or dimension.capitalize()
    return [str(name), *(str(h) for h in HEADERS)]


def date_range(
    start: date | None, end: date | None, *, today=None
) -> tuple[date, date]:
    """Default: the last 30 days including today."""
    today = today or timezone.localdate()
    end = end or today
    start = start or end - timedelta(days=29)
    return start, end


def period_dates(period: str, day: date | None = None) -> tuple[date, date]:
    """(first, last day) of the week, month or year containing ``day`` (today)."""
    return figures.period_range(period, day or timezone.localdate())


def summarize(label: str, facts: Facts) -> ReportRow:
    return ReportRow(
        label=label,
        volume=facts.created,
        median_first_response_seconds=facts.median_first_response,
        median_resolution_seconds=facts.median_resolution,
        sla_met_percent=facts.sla_met_percent,
        csat=facts.csat,
        rated=facts.rated,
        resolved=facts.resolved,
        backlog=facts.backlog,
    )


def _labels(dimension: str, values) -> dict[str, str]:
    """Display names of the dimension's values, in one query (none for choices)."""
    if dimension in ("category", "priority"):
        choices = Category if dimension == "category" else Priority
        return {member.value: str(member.label) for member in choices}
    ids = [int(v) for v in values if v]
    if dimension == "queue":
        found = Queue.objects.filter(pk__in=ids).values_list("pk", "name")
    elif dimension == "organization":
        found = Organization.objects.filter(pk__in=ids).values_list("pk", "name")
    else:
        users = get_user_model().objects.filter(pk__in=ids)
        found = (
            (pk, display_name or email)
            for pk, display_name, email in users.values_list(
                "pk", "display_name", "email"
            )
        )
    return {str(pk): label for pk, label in found}


def _order(dimension: str, value: str, label: str, none_label: str):
    if dimension == "priority" and value in Priority.values:
        return (False, -Priority(value).rank, "")  # most urgent first
    return (value == "" or label == none_label, True, label.lower())


def report_rows(
    user,
    dimension: str,
    start: date,
    end: date,
    *,
    total=True,
    period: str | None = None,
):
    """One ``ReportRow`` per queue / agent / organization / category / priority with
    figures in ``start``..``end`` (inclusive), sorted by label (priorities by
    urgency), then (``total=True``) a "Total" row over all of them. ``period`` names
    the week / month / year the range is (it is recognised anyway when exact)."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"Unknown report dimension {dimension!r}")
    none_label = str(DIMENSIONS[dimension])
    by_value, everything = read.report_facts(user, dimension, start, end, period=period)
    groups = {
        value: facts
        for value, facts in by_value.items()
        if facts.has_events() or facts.backlog
    }
    labels = _labels(dimension, groups)
    keyed = [
        (value, labels.get(value) or (none_label if value == "" else value))
        for value in groups
    ]
    keyed.sort(key=lambda vl: _order(dimension, vl[0], vl[1], none_label))
    rows = [summarize(label, groups[value]) for value, label in keyed]
    if total:
        # the values left out have no figure: the total is the same without them
        rows.append(summarize(str(_("Total")), everything))
    return rows


def total_row(
    user,
    start: date,
    end: date,
    *,
    period: str | None = None,
    medians: bool = True,
) -> ReportRow:
    """``report_rows``' "Total" row alone: the same figures, without the rows per
    value and the query for their labels (the trend asks it once per month);
    ``medians=False``: without the medians (None), the costliest figures to take."""
    everything = read.report_facts(
        user, "queue", start, end, period=period, durations=medians
    )[1]
    return summarize(str(_("Total")), everything)


# The report's rows in the shared cache (see ``cached_report_rows``).
CACHE_PREFIX = "desk:report:v1:"  # v2 when what is kept (``ReportRow``) changes
DEFAULT_CACHE_SECONDS = 3600  # a safety net: a new generation replaces them hourly


def cache_seconds() -> int:
    """Seconds a report's rows are kept; 0 switches the cache off.
    ``REPORT_CACHE_SECONDS`` overrides; by default on only when the cache is shared by
    every process (the statistics job runs in another process: only a shared cache
    carries its new generation to the web processes)."""
    configured = getattr(settings, "REPORT_CACHE_SECONDS", None)
    if configured is not None:
        return max(int(configured), 0)
    return DEFAULT_CACHE_SECONDS if cache_is_shared() else 0


def _cache_key(user, ranges, parts) -> str | None:
    """The key of figures over ``ranges`` (``(start, end, period)`` each), or None
    when they must not be kept: the cache is off or unavailable, or a range is
    computed from the tickets. The key names the roll-ups' generation and what
    ``user``'s figures are made of (every queue, or their queues: users of different
    scopes never share an entry), the ranges, ``parts`` (what is computed) and the
    language (labels and "Total" are translated)."""
    if not cache_seconds():
        return None
    scope = read.slices_scope(user, ranges)
    if scope is None:
        return None
    generation = store.generation()
    if generation is None:
        return None
    raw = "|".join(
        (
            str(generation),
            scope,
            *(f"{start}..{end}/{period}" for start, end, period in ranges),
            *parts,
            get_language() or "",
        )
    )
    return CACHE_PREFIX + hashlib.sha256(raw.encode()).hexdigest()


def cached(user, ranges, parts: tuple[str, ...], compute):
    """``compute()``: figures of ``user`` over ``ranges`` (``(start, end, period)``
    each), kept in the shared cache until the statistics job writes new slices
    (``store.generation``) when every range comes from the roll-ups; computed each
    time otherwise, or when the cache is unavailable."""
    key = _cache_key(user, ranges, parts)
    value = None if key is None else cache.get(key)
    if value is None:
        value = compute()
        if key is not None:
            cache.set(key, value, cache_seconds())
    return value


def cached_report_rows(
    user, dimension: str, start: date, end: date, *, period: str | None = None
) -> list[ReportRow]:
    """``report_rows`` (with the total), through ``cached``."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"Unknown report dimension {dimension!r}")
    return cached(
        user,
        [(start, end, period)],
        ("rows", dimension),
        lambda: report_rows(user, dimension, start, end, period=period),
    )


def period_rows(user, dimension: str, period: str, day: date | None = None, **kwargs):
    """``report_rows`` of the whole week / month / year containing ``day``."""
    start, end = period_dates(period, day)
    return report_rows(user, dimension, start, end, period=period, **kwargs)


def to_csv(rows: list[ReportRow], dimension: str) -> str:
    """The report as CSV; labels (queue, agent and organization names) are user text,
    written through ``portal.csv`` so that a spreadsheet never runs them."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers(dimension))
    for row in rows:
        writer.writerow([row.label, *row.record()])
    return out.getvalue()
