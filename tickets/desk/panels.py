"""Helpdesk panels on the Wagtail admin home (hook ``construct_homepage_panels``).

Numbers are computed from the tickets the user may see; charts are server-side SVG
(``tickets.desk.charts``) in accessible ``<figure class="chart">`` blocks.
"""

from collections import Counter
from datetime import timedelta

from django.db.models import Avg, Count
from django.db.models.functions import TruncDate
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from wagtail.admin.ui.components import Component

from .. import permissions
from ..deflection import deflection_rate as compute_deflection_rate
from . import charts, reports
from .access import my_queues

DAYS = 30


def deflection_rate(since):
    """The KB deflection rate (``tickets.deflection``) as a percentage, or None
    while no portal visit has been recorded."""
    rate = compute_deflection_rate(since)
    return None if rate is None else rate * 100


def created_vs_resolved(user, *, days=DAYS, today=None):
    """Per day over the last ``days``: tickets created and tickets resolved."""
    today = today or timezone.localdate()
    start = today - timedelta(days=days - 1)
    visible = permissions.visible_tickets(user).order_by()
    created = Counter(
        {
            row["day"]: row["n"]
            for row in visible.filter(created_at__date__gte=start)
            .annotate(day=TruncDate("created_at"))
            .values("day")
            .annotate(n=Count("pk"))
        }
    )
    resolved = Counter(
        {
            row["day"]: row["n"]
            for row in visible.filter(resolved_at__date__gte=start)
            .annotate(day=TruncDate("resolved_at"))
            .values("day")
            .annotate(n=Count("pk"))
        }
    )
    days_list = [start + timedelta(days=i) for i in range(days)]
    return days_list, [created[d] for d in days_list], [resolved[d] for d in days_list]


class HelpdeskSummaryPanel(Component):
    name = "helpdesk_summary"
    order = 50
    template_name = "tickets/desk/panels/summary.html"

    class Media:
        css = {"all": ["desk/desk.css"]}

    def __init__(self, request):
        self.request = request

    def get_context_data(self, parent_context=None):
        user = self.request.user
        now = timezone.now()
        visible = permissions.visible_tickets(user)
        since = now - timedelta(days=DAYS)
        csat = visible.filter(
            satisfaction_rating__isnull=False, created_at__gte=since
        ).aggregate(avg=Avg("satisfaction_rating"), n=Count("pk"))
        return {
            "my_open": visible.open().filter(assignee=user).count(),
            "unassigned": visible.open()
            .unassigned()
            .filter(queue__in=my_queues(user))
            .count(),
            "breaches": visible.breaching_sla(now).count(),
            "csat": csat["avg"],
            "csat_count": csat["n"],
            "deflection": deflection_rate(since),
            "days": DAYS,
        }


class HelpdeskChartsPanel(Component):
    name = "helpdesk_charts"
    order = 51
    template_name = "tickets/desk/panels/charts.html"

    class Media:
        css = {"all": ["desk/desk.css"]}

    def __init__(self, request):
        self.request = request

    def get_context_data(self, parent_context=None):
        user = self.request.user
        today = timezone.localdate()
        days, created, resolved = created_vs_resolved(user, today=today)
        trend = charts.line_chart(
            _("Created vs resolved, last 30 days"),
            _("Tickets created and resolved per day, %(start)s – %(end)s.")
            % {
                "start": formats.date_format(days[0], "MONTH_DAY_FORMAT"),
                "end": formats.date_format(days[-1], "MONTH_DAY_FORMAT"),
            },
            [formats.date_format(d, "MONTH_DAY_FORMAT") for d in days],
            [(_("Created"), created), (_("Resolved"), resolved)],
        )
        start, end = reports.date_range(None, today, today=today)
        rows = reports.report_rows(user, "queue", start, end, total=False)
        sla = charts.bar_chart(
            _("SLA compliance per queue"),
            _(
                "Share of the tickets whose SLA outcome became known in the last 30 "
                "days that met it (statistics updated hourly)."
            ),
            [r.label for r in rows],
            [r.sla_met_percent for r in rows],
            series_name=_("SLA met (%)"),
            label_header=_("Queue"),
            unit="%",
            top=100,
        )
        visible = permissions.visible_tickets(user).order_by()
        ratings = Counter(
            dict(
                visible.filter(
                    satisfaction_rating__isnull=False,
                    created_at__date__gte=start,
                )
                .values_list("satisfaction_rating")
                .annotate(n=Count("pk"))
            )
        )
        csat = charts.bar_chart(
            _("Satisfaction ratings, last 30 days"),
            _("How many rated tickets got each rating, from 1 (poor) to 5 (great)."),
            [str(i) for i in range(1, 6)],
            [ratings[i] for i in range(1, 6)],
            series_name=_("Ratings"),
            label_header=_("Rating"),
        )
        return {"charts": [trend, sla, csat]}


def panels_for(request):
    return [HelpdeskSummaryPanel(request), HelpdeskChartsPanel(request)]
