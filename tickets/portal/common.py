"""Small helpers shared by the portal views."""

from django.http import Http404

from .. import permissions
from ..exceptions import TicketNotFound
from ..models import Category, Status, Ticket


def ticket_or_404(user, reference: str) -> Ticket:
    """The ticket if ``user`` may see it; a hidden one answers 404 like a missing one."""
    try:
        return permissions.get_ticket_for(user, reference)
    except TicketNotFound:
        raise Http404("No such ticket.")


def user_organization_ids(user) -> list[int]:
    return list(user.memberships.values_list("organization_id", flat=True))


STATUS_TONE = {
    Status.NEW: "info",
    Status.OPEN: "info",
    Status.IN_PROGRESS: "info",
    Status.WAITING_ON_CUSTOMER: "warn",
    Status.ON_HOLD: "muted",
    Status.RESOLVED: "ok",
    Status.CLOSED: "muted",
    Status.REJECTED: "danger",
    Status.WITHDRAWN: "muted",
}
CATEGORY_LABELS = dict(Category.choices)
