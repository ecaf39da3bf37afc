"""One timeline of an organization, the one owner of what it holds and in what order:
its tickets (by creation), interactions (by when they happened) and tasks (by due
time, else creation), newest first, each as the user may see it
(``tickets.permissions.visible_tickets``, ``crm.permissions``). Customers have no CRM:
their timeline is empty.

The surfaces only present it: the desk's Organization 360 pages it with filters
(``crm.desk.timeline``), the API returns one page of ``first`` entries
(``graphql_api.crm.timeline``). Both read the same ``sources`` (one query each) and
``merge`` their newest rows, so the number of queries is fixed whatever the number of
rows: ``merge(sources, n)`` asks each source for its newest ``n`` rows, which hold the
newest ``n`` entries of the whole timeline.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from tickets import permissions as ticket_permissions

from . import permissions

TICKET, INTERACTION, TASK = "ticket", "interaction", "task"
# The filter names of the sources (the desk's "Show" choices).
KINDS = ("tickets", "interactions", "tasks")


@dataclass
class Entry:
    kind: str  # TICKET, INTERACTION or TASK
    when: datetime
    item: object


def _bounds(start: date | None, end: date | None):
    """``start``..``end`` (days, inclusive, in the current time zone) as instants."""
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


def sources(
    user, organization, kinds=KINDS, *, start=None, end=None
) -> list[tuple[str, QuerySet]]:
    """``(kind, queryset)`` per source asked (``KINDS``), each row annotated with
    ``when`` and ordered newest first, within ``start``..``end`` (dates, optional).
    What each entry shows is loaded with it (no query per row)."""
    if not permissions.is_crm_user(user):
        return []
    lower, upper = _bounds(start, end)
    result = []
    if "tickets" in kinds:
        tickets = (
            ticket_permissions.visible_tickets(user)
            .filter(organization=organization)
            .select_related("queue", "requester", "assignee", "organization")
            .annotate(when=F("created_at"))
        )
        result.append((TICKET, _between(tickets, "created_at", lower, upper)))
    if "interactions" in kinds:
        interactions = (
            permissions.visible_interactions(user)
            .filter(organization=organization)
            .select_related("author", "contact", "organization", "ticket")
            .annotate(when=F("happened_at"))
        )
        result.append(
            (INTERACTION, _between(interactions, "happened_at", lower, upper))
        )
    if "tasks" in kinds:
        tasks = (
            permissions.visible_tasks(user)
            .filter(organization=organization)
            .select_related(
                "assignee", "created_by", "contact", "organization", "ticket"
            )
            .annotate(when=Coalesce("due_at", "created_at"))
        )
        result.append((TASK, _between(tasks, "when", lower, upper)))
    return [(kind, qs.order_by("-when", "-pk")) for kind, qs in result]


def merge(sources, stop: int) -> list[Entry]:
    """The newest ``stop`` entries of ``sources`` (one query each), newest first; ties
    by kind, then newest row first."""
    entries = [Entry(kind, row.when, row) for kind, qs in sources for row in qs[:stop]]
    entries.sort(key=lambda e: (e.when, e.kind, e.item.pk), reverse=True)
    return entries[:stop]


def count(sources) -> int:
    """How many entries ``sources`` hold (one query each)."""
    return sum(qs.order_by().count() for _kind, qs in sources)


def newest(user, organization, first: int, kinds=KINDS) -> list[Entry]:
    """The newest ``first`` entries of ``organization``'s timeline for ``user``."""
    if first <= 0:
        return []
    return merge(sources(user, organization, kinds), first)
