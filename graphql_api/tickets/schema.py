"""Ticket queries and mutations: thin translations onto ``tickets.permissions`` and
``tickets.services``."""

from collections.abc import Iterable

import strawberry
import strawberry_django
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.db.models.query import ModelIterable
from django.utils.translation import gettext as _
from strawberry.types import Info

from accounts.models import Organization, User
from portal import cache as shared_cache
from portal import ratelimits
from tickets import actions, permissions, services
from tickets.errors import TicketError, TicketErrorCode
from tickets.models import Priority, Queue, Source, Ticket
from tickets.models.tickets import TicketQuerySet

from .. import ratelimit
from ..context import get_api_token, get_user, require_scope
from ..pagination import (
    LIST_ARGUMENTS_HELP,
    MAX_LIST_SIZE,
    CountedConnection,
    capped_list,
    count_with,
)
from ..validation import as_mutation_error, clean_slug, clean_text
from .types import (
    AddCommentInput,
    AssignTicketInput,
    ChangeTicketStatusInput,
    CommentType,
    CreateTicketInput,
    QueueType,
    RateTicketInput,
    SortDirection,
    TicketFilter,
    TicketOrder,
    TicketOrderField,
    TicketType,
)

REFERENCE_MAX_LENGTH = 20
SEARCH_MAX_LENGTH = 200


def clean_reference(value: str | None) -> str:
    return clean_text(value, "reference", max_length=REFERENCE_MAX_LENGTH).upper()


def _filtered(tickets, user, filters: TicketFilter | None):
    if filters is None:
        return tickets
    if filters.status:
        tickets = tickets.filter(status__in=[s.value for s in filters.status])
    if filters.priority:
        tickets = tickets.filter(priority__in=[p.value for p in filters.priority])
    if filters.queue is not None:
        tickets = tickets.filter(queue__slug=clean_slug(filters.queue, "queue"))
    if filters.organization is not None:
        slug = clean_slug(filters.organization, "organization")
        tickets = tickets.filter(organization__slug=slug)
    if filters.assigned_to_me is not None:
        mine = Q(assignee_id=user.pk)
        tickets = tickets.filter(mine if filters.assigned_to_me else ~mine)
    if filters.search is not None:
        text = clean_text(filters.search, "search", max_length=SEARCH_MAX_LENGTH)
        tickets = tickets.search(text, notes=permissions.notes_searchable(user))
    return tickets


def _ordered(tickets, ordering: TicketOrder | None):
    ordering = ordering or TicketOrder()
    sign = "-" if ordering.direction == SortDirection.DESC else ""
    if ordering.field == TicketOrderField.PRIORITY:
        # The alias keeps its name (cursors are bound to the ordering's terms).
        tickets = tickets.alias(_priority_rank=Priority.order_expression())
        key = "_priority_rank"
    else:
        key = ordering.field.value
    return tickets.order_by(f"{sign}{key}", f"{sign}pk")


class _IdsFirst(TicketQuerySet):
    """A customer's visible tickets, each slice read ids first: the slice's ids are
    picked by the whole query (visibility, filters, cursors, ordering) in a subquery,
    and only those rows are read with what the response joins (the requester…).
    Sliced directly, PostgreSQL reads every granted ticket's row and joins its
    requester before it sorts and keeps a page (a big organization's customer: 5k
    tickets, 35k buffers; bench FINDINGS V-1). The outer query is the same query
    narrowed to those ids, so it gives exactly the slice's rows, in its order.
    The support team's pages walk an index and stop early: they stay as they are."""

    def __getitem__(self, k):
        if (
            not isinstance(k, slice)
            or k.step is not None
            or self._result_cache is not None
            or self._iterable_class is not ModelIterable
        ):
            return super().__getitem__(k)
        start, stop = k.start or 0, k.stop
        ids = self.values("pk")[k]
        rows = self.filter(pk__in=ids)
        if stop is None:
            return rows
        return QuerySet.__getitem__(rows, slice(0, max(stop - start, 0)))


@strawberry.type
class Query:
    @strawberry_django.connection(
        CountedConnection[TicketType],
        description="Tickets the caller may see (max 100 a page), newest first unless "
        "ordered otherwise.",
    )
    def tickets(
        self,
        info: Info,
        filters: TicketFilter | None = None,
        ordering: TicketOrder | None = None,
    ) -> Iterable[Ticket]:
        user = get_user(info)
        narrowed = _filtered(Ticket.objects.all(), user, filters)
        count_with(
            info,
            lambda: permissions.count_visible(user, narrowed),
            up_to=lambda n: permissions.count_visible_up_to(user, narrowed, n),
        )
        visible = _ordered(permissions.visible_tickets(user, narrowed), ordering)
        if permissions.KeptVisible.shape(user) == "customer":
            return _IdsFirst(
                model=Ticket, query=visible.query.chain(), using=visible.db
            )
        return visible

    @strawberry_django.field(
        description="The ticket with this reference, or null when it does not exist "
        "or the caller may not see it."
    )
    def ticket(self, info: Info, reference: str) -> TicketType | None:
        return permissions.visible_tickets(get_user(info)).filter(
            reference=clean_reference(reference)
        )

    @strawberry_django.field(
        description="Queues the caller may file into (customers: every queue) or "
        f"works (support team); empty when anonymous. By name, {LIST_ARGUMENTS_HELP}."
    )
    def queues(
        self, info: Info, first: int = MAX_LIST_SIZE, offset: int = 0
    ) -> list[QueueType]:
        queues = permissions.queues_for(get_user(info))
        return capped_list(queues.order_by("name", "pk"), first, offset)


def _ticket_for(info: Info, reference: str, action: str) -> Ticket:
    """The visible ticket the caller may ``action`` on; TicketNotFound otherwise (an
    OperationInfo "No such ticket.", the same as for a missing reference)."""
    return permissions.get_ticket_for(
        get_user(info, required=True), clean_reference(reference), action
    )


def _slug_lookup(model, value, field: str):
    if value is None:
        return None
    slug = clean_slug(value, field)
    found = model.objects.filter(slug=slug).first()
    if found is None:
        raise ValidationError({field: f"Unknown {field} “{slug}”."})
    return found


def _organization_lookup(value):
    """The organization named by slug, or None (the service then picks the
    requester's default). An unknown slug answers like one the caller does not belong
    to, so that organizations' slugs cannot be probed."""
    if value is None:
        return None
    slug = clean_slug(value, "organization")
    found = Organization.objects.filter(slug=slug).first()
    if found is None:
        raise TicketError(
            services.NOT_A_MEMBER,
            TicketErrorCode.NOT_IN_ORGANIZATION,
            field="organization",
        )
    return found


@strawberry.type
class Mutation:
    @strawberry_django.mutation(
        handle_django_errors=True, description="File a ticket as the caller."
    )
    def create_ticket(self, info: Info, input: CreateTicketInput) -> TicketType:
        with as_mutation_error(info=info):
            require_scope(info, "write")
            user = get_user(info, required=True)
            # the limit shared with the portal, and the generations the filing reads
            # in the same round trip (as the portal's); counted with the request
            # limit when the view saw the filing coming (``ratelimit.hit_ahead``)
            counted = getattr(
                getattr(info.context, "request", None), "filing_counted", None
            )
            generations = counted.read if counted else ratelimit.filing_read()
            read_ahead = ratelimits.consume(
                ratelimit.FILING_SCOPE,
                f"user:{user.pk}",
                read=generations,
                counted=counted,
            )
            queue = _slug_lookup(Queue, input.queue, "queue")
            organization = _organization_lookup(input.organization)
            with shared_cache.generations_read_together(*generations, found=read_ahead):
                return services.create_ticket(
                    user,
                    subject=input.subject,
                    description=input.description,
                    priority=input.priority.value,
                    category=input.category.value,
                    queue=queue,
                    organization=organization,
                    source=Source.API if get_api_token(info) else Source.PORTAL,
                )

    @strawberry_django.mutation(
        handle_django_errors=True,
        description="Reply to a ticket, or add an internal note (support team).",
    )
    def add_comment(self, info: Info, input: AddCommentInput) -> CommentType:
        with as_mutation_error():
            require_scope(info, "write")
            ticket = _ticket_for(info, input.reference, "view")
            actor = get_user(info)
            service = (
                services.add_internal_note if input.is_internal else services.reply
            )
            return service(actor, ticket, body=input.body)

    @strawberry_django.mutation(
        handle_django_errors=True,
        description="Move a ticket to another status (the lifecycle rules apply).",
    )
    def change_ticket_status(
        self, info: Info, input: ChangeTicketStatusInput
    ) -> TicketType:
        with as_mutation_error():
            require_scope(info, "write")
            ticket = _ticket_for(info, input.reference, "view")
            status = input.status.value
            return actions.for_status(status).execute(
                get_user(info), ticket, status=status, reason=input.reason or ""
            )

    @strawberry_django.mutation(
        handle_django_errors=True,
        description="Assign a ticket to an agent of its queue (by email), or unassign.",
    )
    def assign_ticket(self, info: Info, input: AssignTicketInput) -> TicketType:
        with as_mutation_error():
            require_scope(info, "write")
            ticket = _ticket_for(info, input.reference, "view")
            actor = get_user(info)
            if not permissions.can(actor, "assign", ticket):
                # Refused before the assignee is looked up (a caller who may not
                # assign learns nothing about addresses), with the service's own
                # refusal: PERMISSION_DENIED on a visible ticket, as on the desk.
                return services.assign(actor, ticket, ticket.assignee)
            assignee = None
            if input.assignee is not None:
                email = clean_text(input.assignee, "assignee", max_length=254)
                assignee = User.objects.filter(email__iexact=email).first()
                if assignee is None:
                    raise ValidationError({"assignee": _("No such agent.")})
            return services.assign(actor, ticket, assignee)

    @strawberry_django.mutation(
        handle_django_errors=True,
        description="Rate a resolved ticket, once (the requester).",
    )
    def rate_ticket(self, info: Info, input: RateTicketInput) -> TicketType:
        with as_mutation_error():
            require_scope(info, "write")
            ticket = _ticket_for(info, input.reference, "view")
            return services.rate(
                get_user(info), ticket, rating=input.rating, comment=input.comment or ""
            )
