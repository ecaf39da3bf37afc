"""An organization's timeline for the API: the newest ``first`` entries of
``crm.timeline`` (the one owner of its sources, policy and order), mapped onto the
``TimelineEntry`` type. Three queries whatever the number of rows (one per source),
plus one when linked tickets are shown; nothing for callers outside the support team."""

from django.utils.translation import gettext as _

from accounts.models import Organization
from crm import permissions, timeline
from tickets import permissions as ticket_permissions

from ..errors import ApiError
from .types import TICKET_VISIBLE, TimelineEntry, TimelineKind

DEFAULT_ENTRIES = 25
MAX_ENTRIES = 100


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
    newest = timeline.newest(user, organization, first)
    # Whether the caller may see each linked ticket, asked once for all of them.
    linked = {
        entry.item.ticket_id
        for entry in newest
        if entry.kind != timeline.TICKET and entry.item.ticket_id is not None
    }
    visible_ids = _visible_ticket_ids(user, linked) if linked else set()
    result = []
    for entry in newest:
        kind = TimelineKind(entry.kind)
        row = entry.item
        if kind is not TimelineKind.TICKET and row.ticket_id is not None:
            setattr(row, TICKET_VISIBLE, row.ticket_id in visible_ids)
        result.append(TimelineEntry(kind=kind, at=entry.when, **{kind.value: row}))
    return result


def _visible_ticket_ids(user, ids) -> set[int]:
    return set(
        ticket_permissions.visible_tickets(user)
        .filter(pk__in=ids)
        .values_list("pk", flat=True)
    )
