"""Ticket types. Which tickets are visible is decided by the root resolvers through
``tickets.permissions.visible_tickets``; what hangs off a ticket is filtered by each
type's ``get_queryset`` with the policy's ``*_visible_to`` filters, which the
optimizer uses for its prefetches too, so customers never receive internal notes or
their files. Tags, watchers, event kinds and people's addresses follow the customer's
view of a ticket (``tickets.permissions``), the same one the portal page renders."""

from datetime import datetime
from enum import Enum

import strawberry
import strawberry_django
from django.urls import reverse
from strawberry import relay
from strawberry.types import Info

from tickets import permissions
from tickets.models import (
    Attachment,
    Category,
    Comment,
    Priority,
    Queue,
    Status,
    Ticket,
    TicketEvent,
)

from ..accounts.types import OrganizationType, UserType
from ..choices import enum_of
from ..context import get_user
from ..fields import ModelField

# The ticket enums are the model choices (names and values), not copies of them.
TicketStatus = enum_of(Status, "TicketStatus")
TicketPriority = enum_of(Priority, "TicketPriority")
TicketCategory = enum_of(Category, "TicketCategory")


@strawberry_django.type(Queue, name="Queue", field_cls=ModelField)
class QueueType:
    name: str
    slug: str


@strawberry_django.type(Attachment, name="Attachment", field_cls=ModelField)
class AttachmentType:
    @classmethod
    def get_queryset(cls, queryset, info: Info, **kwargs):
        return queryset.filter(permissions.attachments_visible_to(get_user(info)))

    size: int
    content_type: str
    created_at: datetime

    @strawberry_django.field(only=["original_name"])
    def filename(self) -> str:
        return self.original_name

    @strawberry_django.field(
        only=["original_name"],
        description="Absolute download URL; the portal checks permission on every "
        "download (send the same credentials).",
    )
    def url(self, info: Info) -> str:
        path = reverse(
            "tickets:attachment_download", args=[self.pk, self.original_name]
        )
        return info.context.request.build_absolute_uri(path)


@strawberry_django.type(Comment, name="Comment", field_cls=ModelField)
class CommentType:
    @classmethod
    def get_queryset(cls, queryset, info: Info, **kwargs):
        return queryset.filter(permissions.comments_visible_to(get_user(info)))

    body: str
    is_internal: bool
    author: UserType
    created_at: datetime
    attachments: list[AttachmentType]


@strawberry_django.type(TicketEvent, name="TicketEvent", field_cls=ModelField)
class TicketEventType:
    """An entry of the ticket's history: customers receive the kinds the portal page
    shows them (``permissions.CUSTOMER_EVENT_KINDS``), the support team all but those
    about internal notes and logged time where they may not read those."""

    @classmethod
    def get_queryset(cls, queryset, info: Info, **kwargs):
        return queryset.filter(permissions.events_visible_to(get_user(info)))

    kind: str
    actor: UserType | None
    old_value: str
    new_value: str
    created_at: datetime


@strawberry_django.type(Ticket, name="Ticket", field_cls=ModelField)
class TicketType(relay.Node):
    reference: str
    subject: str
    description: str
    queue: QueueType
    requester: UserType
    organization: OrganizationType | None
    assignee: UserType | None
    created_at: datetime
    updated_at: datetime
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    satisfaction_rating: int | None
    comments: list[CommentType]
    attachments: list[AttachmentType]
    events: list[TicketEventType]
    # The columns hold the enums' values, which GraphQL serializes as the names (an
    # unknown value is an error, as TicketStatus(value) would be); read as plain
    # columns, without a resolver per ticket.
    status: TicketStatus
    priority: TicketPriority
    category: TicketCategory

    @strawberry_django.field(
        prefetch_related=["tags"],
        description="Tag names, sorted; the support team's (empty for customers).",
    )
    def tags(self, info: Info) -> list[str]:
        return permissions.tags_visible_to(get_user(info), self)

    @strawberry_django.field(
        prefetch_related=["watchers"],
        description="People who follow the ticket, by email; the support team's "
        "(empty for customers).",
    )
    def watchers(self, info: Info) -> list[UserType]:
        return permissions.watchers_visible_to(get_user(info), self)


@strawberry.enum(name="TicketOrderField")
class TicketOrderField(Enum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    PRIORITY = "priority"
    REFERENCE = "reference"


@strawberry.enum(name="SortDirection")
class SortDirection(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.input(description="Narrow the tickets list; every field is optional.")
class TicketFilter:
    status: list[TicketStatus] | None = None
    priority: list[TicketPriority] | None = None
    queue: str | None = strawberry.field(default=None, description="Queue slug.")
    organization: str | None = strawberry.field(
        default=None, description="Organization slug."
    )
    assigned_to_me: bool | None = None
    search: str | None = strawberry.field(
        default=None,
        description="Text in the reference, the subject, the requester's email or "
        "name, or the organization's name (any case).",
    )


@strawberry.input
class TicketOrder:
    field: TicketOrderField = TicketOrderField.CREATED_AT
    direction: SortDirection = SortDirection.DESC


@strawberry.input
class CreateTicketInput:
    subject: str
    description: str
    priority: TicketPriority = TicketPriority.MEDIUM
    category: TicketCategory = TicketCategory.OTHER
    queue: str | None = strawberry.field(default=None, description="Queue slug.")
    organization: str | None = strawberry.field(
        default=None,
        description="Organization slug (one of the caller's); by default the "
        "organization the caller joined first.",
    )


@strawberry.input
class AddCommentInput:
    reference: str
    body: str
    is_internal: bool = False


@strawberry.input
class ChangeTicketStatusInput:
    reference: str
    status: TicketStatus
    reason: str | None = strawberry.field(
        default="", description="Required when rejecting."
    )


@strawberry.input
class AssignTicketInput:
    reference: str
    assignee: str | None = strawberry.field(
        default=None, description="The agent's email; null (or omitted) unassigns."
    )


@strawberry.input
class RateTicketInput:
    reference: str
    rating: int = strawberry.field(description="1 to 5.")
    comment: str | None = ""
