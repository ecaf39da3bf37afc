"""Helpdesk statistics per queue, agent or organization over a date range.

One function (``report_rows``) computes every number; the CSV export prints
``ReportRow.record()`` and the HTML page ``ReportRow.display()``, the same roundings
in the reader's number format, so they cannot disagree. Numbers come from the
tickets the user may see (``permissions.visible_tickets``): agents get their queues,
supervisors and viewers everything.

Definitions, over tickets *created* in the range:
- volume: how many were created;
- median first response: creation → first staff reply, in hours;
- median resolution: creation → resolved, in hours (wall clock);
- SLA met %: of the tickets whose SLA outcome is settled, the share that met it.
The durations, medians and "SLA met" are ``tickets.sla``'s (the daily statistics job
uses the same functions, so the dashboard and the reports agree);
- CSAT: average satisfaction rating (1–5) of the rated ones.
"""

import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from portal import csv

from .. import permissions, sla

DIMENSIONS = {
    # dimension: (key field, label fields, label for "none")
    "queue": ("queue_id", ("queue__name",), "—"),
    "agent": (
        "assignee_id",
        ("assignee__display_name", "assignee__email"),
        _("Unassigned"),
    ),
    "organization": ("organization_id", ("organization__name",), _("No organization")),
}
FIELDS = (*sla.MEASURE_FIELDS, "satisfaction_rating")
HEADERS = [
    _("Tickets"),
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

    def record(self) -> list:
        """The printed values, in ``HEADERS`` order (hours to one decimal, percent to
        one decimal, CSAT to two; empty when there is nothing to measure)."""

        def hours(seconds):
            return "" if seconds is None else f"{seconds / 3600:.1f}"

        return [
            self.volume,
            hours(self.median_first_response_seconds),
            hours(self.median_resolution_seconds),
            "" if self.sla_met_percent is None else f"{self.sla_met_percent:.1f}",
            "" if self.csat is None else f"{self.csat:.2f}",
            self.rated,
        ]

    def display(self) -> list[str]:
        """``record()`` for the page, in the active language: the same roundings with
        the locale's decimal separator and digit grouping ("1 234,5" in Polish). The
        CSV keeps ``record()``: machine-readable whatever the reader's language."""

        def number(value, places):
            if value is None:
                return ""
            rounded = Decimal(f"{value:.{places}f}")  # as record() rounds
            return formats.number_format(rounded, places, force_grouping=True)

        hours = [
            None if s is None else s / 3600
            for s in (
                self.median_first_response_seconds,
                self.median_resolution_seconds,
            )
        ]
        return [
            number(self.volume, 0),
            number(hours[0], 1),
            number(hours[1], 1),
            number(self.sla_met_percent, 1),
            number(self.csat, 2),
            number(self.rated, 0),
        ]


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


def _bounds(start: date, end: date):
    tz = timezone.get_current_timezone()
    return (
        timezone.make_aware(datetime.combine(start, time.min), tz),
        timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz),
    )


def summarize(label: str, tickets: list[dict]) -> ReportRow:
    ratings = [
        t["satisfaction_rating"]
        for t in tickets
        if t["satisfaction_rating"] is not None
    ]
    return ReportRow(
        label=label,
        volume=len(tickets),
        median_first_response_seconds=sla.median(sla.first_response_durations(tickets)),
        median_resolution_seconds=sla.median(sla.resolution_durations(tickets)),
        sla_met_percent=sla.met_percent(tickets),
        csat=(sum(ratings) / len(ratings)) if ratings else None,
        rated=len(ratings),
    )


def report_rows(user, dimension: str, start: date, end: date, *, total=True):
    """One ``ReportRow`` per queue / agent / organization with tickets in the range,
    sorted by label, then (``total=True``) a "Total" row over all of them."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"Unknown report dimension {dimension!r}")
    key, label_fields, none_label = DIMENSIONS[dimension]
    none_label = str(none_label)
    lower, upper = _bounds(start, end)
    tickets = (
        permissions.visible_tickets(user)
        .filter(created_at__gte=lower, created_at__lt=upper)
        .order_by()
        .values(key, *label_fields, *FIELDS)
    )
    groups: dict = {}
    labels: dict = {}
    for t in tickets:
        groups.setdefault(t[key], []).append(t)
        labels[t[key]] = next((t[f] for f in label_fields if t[f]), None) or none_label
    rows = [summarize(labels[k], v) for k, v in groups.items()]
    rows.sort(key=lambda r: (r.label == none_label, r.label.lower()))
    if total:
        rows.append(
            summarize(str(_("Total")), [t for group in groups.values() for t in group])
        )
    return rows


def to_csv(rows: list[ReportRow], dimension: str) -> str:
    """The report as CSV; labels (queue, agent and organization names) are user text,
    written through ``portal.csv`` so that a spreadsheet never runs them."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers(dimension))
    for row in rows:
        writer.writerow([row.label, *row.record()])
    return out.getvalue()
