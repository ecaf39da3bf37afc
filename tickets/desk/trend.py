"""The helpdesk's last twelve months: tickets created and resolved per month, and the
share that met their SLA, for the reports page.

"Created" and "SLA met %" are the report's own figures (``reports.report_rows``'
total row, asked once per month), so the trend and a report over that month cannot
disagree, and the report's storage (raw tickets today, statistics roll-ups later) is
its owner's business. "Resolved" counts the visible tickets whose ``resolved_at``
falls in the month, the daily statistics' definition, in one grouped query.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from .. import permissions
from . import charts, reports

MONTHS = 12


@dataclass(frozen=True)
class MonthFigures:
    month: date  # the first day of the month
    created: int
    resolved: int
    sla_met_percent: float | None


def month_ranges(today: date, months: int = MONTHS) -> list[tuple[date, date]]:
    """(first day, last day) of the ``months`` months up to ``today``'s, oldest
    first; the current month ends at ``today``."""
    ranges = []
    first = today.replace(day=1)
    end = today
    for _index in range(months):
        ranges.append((first, end))
        end = first - timedelta(days=1)
        first = end.replace(day=1)
    return ranges[::-1]


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def resolved_per_month(user, start: date, end: date) -> dict[date, int]:
    """Visible tickets resolved from ``start`` to ``end`` (inclusive), by month."""
    tz = timezone.get_current_timezone()
    counts = (
        permissions.visible_tickets(user)
        .filter(
            resolved_at__gte=_midnight(start),
            resolved_at__lt=_midnight(end + timedelta(days=1)),
        )
        .order_by()
        .annotate(month=TruncMonth("resolved_at", tzinfo=tz))
        .values("month")
        .annotate(n=Count("pk"))
    )
    result: dict[date, int] = {}
    for row in counts:
        month = row["month"]
        if timezone.is_aware(month):
            month = timezone.localtime(month, tz)
        result[month.date()] = result.get(month.date(), 0) + row["n"]
    return result


def monthly_trend(user, months: int = MONTHS, today: date | None = None):
    """``MonthFigures`` for the ``months`` months up to ``today`` (default: today),
    oldest first, over the tickets ``user`` may see."""
    today = today or timezone.localdate()
    ranges = month_ranges(today, months)
    resolved = resolved_per_month(user, ranges[0][0], today)
    figures = []
    for first, last in ranges:
        total = reports.report_rows(user, "queue", first, last)[-1]
        figures.append(
            MonthFigures(
                month=first,
                created=total.volume,
                resolved=resolved.get(first, 0),
                sla_met_percent=total.sla_met_percent,
            )
        )
    return figures


def _label(month: date) -> str:
    return formats.date_format(month, "YEAR_MONTH_FORMAT")


def trend_charts(user, today: date | None = None) -> list[charts.Chart]:
    """The two charts of the reports page: created vs resolved per month (lines) and
    SLA met % per month (bars, on their own 0–100 axis)."""
    figures = monthly_trend(user, today=today)
    labels = [_label(f.month) for f in figures]
    period = {"start": labels[0], "end": labels[-1]}
    volume = charts.line_chart(
        _("Created vs resolved, last 12 months"),
        _("Tickets created and resolved per month, %(start)s – %(end)s.") % period,
        labels,
        [
            (_("Created"), [f.created for f in figures]),
            (_("Resolved"), [f.resolved for f in figures]),
        ],
        label_header=_("Month"),
        label_every=3,
    )
    sla = charts.bar_chart(
        _("SLA met per month, last 12 months"),
        _(
            "Of the tickets created each month whose SLA outcome is known, the share "
            "that met it, %(start)s – %(end)s."
        )
        % period,
        [formats.date_format(f.month, "M") for f in figures],
        [
            None if f.sla_met_percent is None else round(f.sla_met_percent, 1)
            for f in figures
        ],
        series_name=_("SLA met (%)"),
        label_header=_("Month"),
        unit="%",
        top=100,
    )
    return [volume, sla]
