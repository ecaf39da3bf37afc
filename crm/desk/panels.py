"""The CRM panel on the Wagtail admin home: my open, overdue and due-today tasks, in
one query."""

from datetime import datetime, time, timedelta

from django.db.models import Count, Q
from django.utils import timezone
from wagtail.admin.ui.components import Component

from ..models import Task


def task_counts(user, now=None) -> dict:
    now = now or timezone.now()
    today = timezone.localdate(now)
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(today, time.min), tz)
    end = start + timedelta(days=1)
    return (
        Task.objects.for_assignee(user)
        .open()
        .aggregate(
            open=Count("pk"),
            overdue=Count("pk", filter=Q(due_at__lt=now)),
            due_today=Count("pk", filter=Q(due_at__gte=start, due_at__lt=end)),
        )
    )


class MyTasksPanel(Component):
    name = "crm_my_tasks"
    order = 52
    template_name = "crm/desk/panels/tasks.html"

    class Media:
        css = {"all": ["desk/desk.css"]}

    def __init__(self, request):
        self.request = request

    def get_context_data(self, parent_context=None):
        return task_counts(self.request.user)
