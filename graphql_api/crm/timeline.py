"""An organization's timeline for the API: its tickets (by creation), interactions (by
when they happened) and tasks (by due time, else creation), newest first, each as the
caller may see it (``tickets.permissions.visible_tickets``, ``crm.permissions``).

The desk's paginated timeline (``crm.desk.timeline``) is a sibling surface that this
one may not import; this is its one-page form: each source gives its newest ``first``
rows (one query each), the merge keeps the newest ``first``. Three queries whatever
the number of rows; nothing for callers outside the support team."""

from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from accounts.models import Organization
from crm import permissions
from tickets import permissions as ticket_permissions

from ..errors import ApiError
from .types import TICKET_VISIBLE, TimelineEntry, TimelineKind

DEFAULT_ENTRIES = 25
MAX_ENTRIES = 100


def _sources(user, organization):
    tickets = (
        ticket_permissions.visible_tickets(user)
        .filter(organization=organization)
        .select_related("queue", "requester", "assignee", "organization")
        .annotate(when=F("created_at"))
    )
    interactions = (
        permissions.visible_interactions(user)
        .filter(organization=organization)
        .select_related("author", "contact", "organization", "ticket")
        .annotate(when=F("happened_at"))
    )
    tasks = (
        permissions.visible_tasks(user)
        .filter(organization=organization)
        .select_related("assignee", "created_by", "contact", "organization", "ticket")
        .annotate(when=Coalesce("due_at", "created_at"))
    )
    return (
        (TimelineKind.TICKET, tickets),
        (TimelineKind.INTERACTION, interactions),
        (TimelineKind.TASK, tasks),
    )


def entries(user, slug: str, first: int) -> list[TimelineEntry]:
    if not 0 <= first <= MAX_ENTRIES:
        raise ApiError(
            _("'first' must be between 0 and %(max)s.") % {"max": MAX_ENTRIES},
            code="PAGE_SIZE",
        )
    if not permissions.is_crm_user(user) or first == 0:
        return []
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        return []
    # Every linked ticket of the organization's rows that the caller may see, once.
    visible_ids = None
    merged = []
    for kind, queryset in _sources(user, organization):
        for row in queryset.order_by("-when", "-pk")[:first]:
            merged.append((row.when, kind.value, row.pk, kind, row))
    merged.sort(key=lambda entry: entry[:3], reverse=True)
    result = []
    for when, _kind, _pk, kind, row in merged[:first]:
        if kind is not TimelineKind.TICKET and row.ticket_id is not None:
            if visible_ids is None:
                visible_ids = _visible_ticket_ids(user, merged)
            setattr(row, TICKET_VISIBLE, row.ticket_id in visible_ids)
        result.append(TimelineEntry(kind=kind, at=when, **{kind.value: row}))
    return result


def _visible_ticket_ids(user, merged) -> set[int]:
    ids = {
        row.ticket_id
        for *_rest, kind, row in merged
        if kind is not TimelineKind.TICKET and row.ticket_id is not None
    }
    return set(
        ticket_permissions.visible_tickets(user)
        .filter(pk__in=ids)
        .values_list("pk", flat=True)
    )
