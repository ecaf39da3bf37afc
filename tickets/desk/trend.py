"""The helpdesk's last twelve months: tickets created and resolved per month, and the
share of SLA outcomes settled that month that were met, for the reports page.

Every figure is the report's own (``reports.total_row``: ``report_rows``' total
row, asked once per month, without the medians it does not show), so the trend and a
report over that month cannot disagree; where the figures come from (the statistics roll-ups for whole past months,
the tickets for the current one) is ``tickets.statistics``' business, as are their
definitions.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import formats, timezone
from django.utils.translation import gettext as _

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


def monthly_trend(user, months: int = MONTHS, today: date | None = None):
    """``MonthFigures`` for the ``months`` months up to ``today`` (default: today),
    oldest first, over the tickets ``user`` may see."""
    today = today or timezone.localdate()
    ranges = month_ranges(today, months)
    return reports.cached(
        user,
        [(first, last, None) for first, last in ranges],
        ("trend",),
        lambda: _monthly_figures(user, ranges),
    )


def _monthly_figures(user, ranges) -> list[MonthFigures]:
    figures = []
    for first, last in ranges:
        total = reports.total_row(user, first, last, medians=False)
        figures.append(
            MonthFigures(
                month=first,
                created=total.volume,
                resolved=total.resolved,
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
            "Of the SLA outcomes that became known each month, the share that met "
            "the SLA, %(start)s – %(end)s."
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
