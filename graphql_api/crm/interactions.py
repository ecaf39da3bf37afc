"""The interactions list: a connection like ``tasks``, for the support team (empty for
anyone else), filtered by ``crm.permissions.visible_interactions``, newest first."""

from collections.abc import Iterable

import strawberry
import strawberry_django
from strawberry.types import Info

from crm import permissions
from crm.models import Interaction
from tickets import permissions as ticket_permissions

from ..context import get_user
from ..pagination import CappedConnection
from ..tickets.schema import clean_reference
from ..validation import clean_slug, clean_text
from .schema import EMAIL_MAX_LENGTH, _with_ticket_visibility
from .types import InteractionKindEnum, InteractionType


@strawberry.input(description="Narrow the interactions list; every field is optional.")
class InteractionFilter:
    organization: str | None = strawberry.field(
        default=None, description="Organization slug."
    )
    contact: str | None = strawberry.field(
        default=None, description="The contact's (a customer's) email."
    )
    ticket: str | None = strawberry.field(
        default=None,
        description="Ticket reference; a ticket the caller may not see matches "
        "nothing, like a missing one.",
    )
    kind: list[InteractionKindEnum] | None = None


def _filtered(rows, user, filters: InteractionFilter | None):
    if filters is None:
        return rows
    if filters.organization is not None:
        rows = rows.filter(
            organization__slug=clean_slug(filters.organization, "organization")
        )
    if filters.contact is not None:
        email = clean_text(filters.contact, "contact", max_length=EMAIL_MAX_LENGTH)
        rows = rows.filter(contact__email__iexact=email)
    if filters.ticket is not None:
        reference = clean_reference(filters.ticket)
        tickets = ticket_permissions.visible_tickets(user).filter(reference=reference)
        rows = rows.filter(ticket__in=tickets.values("pk"))
    if filters.kind:
        rows = rows.filter(kind__in=[kind.value for kind in filters.kind])
    return rows


@strawberry.type
class Query:
    @strawberry_django.connection(
        CappedConnection[InteractionType],
        description="Interactions (calls, meetings, emails, notes) the caller may see "
        "(support team; empty for anyone else), newest first (max 100 a page).",
    )
    def interactions(
        self, info: Info, filters: InteractionFilter | None = None
    ) -> Iterable[Interaction]:
        user = get_user(info)
        rows = _filtered(permissions.visible_interactions(user), user, filters)
        return _with_ticket_visibility(user, rows).order_by("-happened_at", "-pk")
