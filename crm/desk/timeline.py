"""One timeline of an organization: its tickets (by creation), interactions (by when
they happened) and tasks (by due time, else creation), newest first, as the user may
see each (``tickets.permissions.visible_tickets``, ``crm.permissions``).

A page is merged from the three sources without loading them whole: for page ``n``
of size ``s`` each source gives its newest ``n × s`` rows (one query each), the merge
keeps the page's slice. Counting costs one query per source. The number of queries
is therefore fixed whatever the number of rows."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from tickets import permissions as ticket_permissions

from .. import permissions

PAGE_SIZE = 25
KINDS = ("tickets", "interactions", "tasks")


@dataclass
class Entry:
    kind: str  # "ticket", "interaction" or "task"
    when: datetime
    item: object


def _bounds(start, end):
    tz = timezone.get_current_timezone()
    lower = (
        timezone.make_aware(datetime.combine(start, time.min), tz) if start else None
    )
    upper = (
        timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz)
        if end
        else None
    )
    return lower, upper


def _between(qs, field, lower, upper):
    if lower:
        qs = qs.filter(**{f"{field}__gte": lower})
    if upper:
        qs = qs.filter(**{f"{field}__lt": upper})
    return qs


def sources(user, organization, kinds, start=None, end=None):
    """``(kind, queryset ordered newest first, time attribute)`` per kind asked."""
    lower, upper = _bounds(start, end)
    result = []
    if "tickets" in kinds:
        tickets = (
            ticket_permissions.visible_tickets(user)
            .filter(organization=organization)
            .select_related("requester", "assignee")
            .annotate(when=F("created_at"))
        )
        result.append(("ticket", _between(tickets, "created_at", lower, upper)))
    if "interactions" in kinds:
        interactions = (
            permissions.visible_interactions(user)
            .filter(organization=organization)
            .select_related("author", "contact", "ticket")
            .annotate(when=F("happened_at"))
        )
        result.append(
            ("interaction", _between(interactions, "happened_at", lower, upper))
        )
    if "tasks" in kinds:
        tasks = (
            permissions.visible_tasks(user)
            .filter(organization=organization)
            .select_related("assignee", "contact", "ticket")
            .annotate(when=Coalesce("due_at", "created_at"))
        )
        result.append(("task", _between(tasks, "when", lower, upper)))
    return [(kind, qs.order_by("-when", "-pk")) for kind, qs in result]


class _Merged:
    """A sequence the paginator can count and slice: each slice asks every source for
    its first rows up to the slice's end."""

    def __init__(self, sources):
        self.sources = sources
        self._count = None

    def count(self):
        if self._count is None:
            self._count = sum(qs.order_by().count() for _, qs in self.sources)
        return self._count

    def __len__(self):
        return self.count()

    def __getitem__(self, window):
        assert isinstance(window, slice)
        stop = window.stop
        entries = [
            Entry(kind, row.when, row) for kind, qs in self.sources for row in qs[:stop]
        ]
        entries.sort(key=lambda e: (e.when, e.kind, e.item.pk), reverse=True)
        return entries[window.start : stop]


def page(user, organization, *, kinds=KINDS, start=None, end=None, number=1) -> Page:
    merged = _Merged(sources(user, organization, kinds or KINDS, start, end))
    return Paginator(merged, PAGE_SIZE).get_page(number)
