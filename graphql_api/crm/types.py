"""CRM types: follow-up tasks, interactions and an organization's timeline. Which rows
are listed is decided by the root resolvers through ``crm.permissions``; a linked
ticket is shown only where ``tickets.permissions`` lets the caller see it (an agent
may see a task assigned to them about a ticket of another queue: the task, not the
ticket)."""

from datetime import datetime
from enum import Enum

import strawberry
import strawberry_django
from django.utils import timezone
from strawberry import relay
from strawberry.types import Info

from crm.models import Interaction, InteractionKind, Task, TaskStatus
from tickets import permissions as ticket_permissions

from ..accounts.types import OrganizationType, UserType
from ..choices import enum_of
from ..context import get_user
from ..fields import ModelField
from ..tickets.types import TicketType

TaskStatusEnum = enum_of(TaskStatus, "TaskStatus")
InteractionKindEnum = enum_of(InteractionKind, "InteractionKind")

# The root resolvers annotate their querysets with whether the caller may see each
# row's ticket (one subquery, not a query per row); rows without it (a mutation's
# result, the timeline) ask the ticket policy once.
TICKET_VISIBLE = "_ticket_visible"


def visible_ticket(info: Info, row):
    if row.ticket_id is None:
        return None
    visible = getattr(row, TICKET_VISIBLE, None)
    if visible is None:
        visible = ticket_permissions.can(get_user(info), "view", row.ticket)
    return row.ticket if visible else None


@strawberry_django.type(Task, name="Task", field_cls=ModelField)
class TaskType(relay.Node):
    title: str
    notes: str
    due_at: datetime | None
    status: TaskStatusEnum
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    assignee: UserType
    created_by: UserType
    organization: OrganizationType | None
    contact: UserType | None

    @strawberry_django.field(
        only=["status", "due_at"],
        description="Open (to do or in progress) and due before now.",
    )
    def is_overdue(self) -> bool:
        return self.is_overdue(timezone.now())

    @strawberry_django.field(
        select_related=["ticket"],
        description="The ticket the task is about; null when none or when the caller "
        "may not see it.",
    )
    def ticket(self, info: Info) -> TicketType | None:
        return visible_ticket(info, self)


@strawberry_django.type(Interaction, name="Interaction", field_cls=ModelField)
class InteractionType(relay.Node):
    kind: InteractionKindEnum
    subject: str
    summary: str
    happened_at: datetime
    created_at: datetime
    author: UserType
    organization: OrganizationType | None
    contact: UserType | None

    @strawberry_django.field(
        select_related=["ticket"],
        description="The ticket the interaction is about; null when none or when the "
        "caller may not see it.",
    )
    def ticket(self, info: Info) -> TicketType | None:
        return visible_ticket(info, self)


@strawberry.enum(name="TimelineKind")
class TimelineKind(Enum):
    TICKET = "ticket"
    INTERACTION = "interaction"
    TASK = "task"


@strawberry.type(
    name="TimelineEntry",
    description="One entry of an organization's timeline: exactly one of `ticket`, "
    "`interaction` and `task` is set, as `kind` says.",
)
class TimelineEntry:
    kind: TimelineKind
    at: datetime = strawberry.field(
        description="When: a ticket's creation, an interaction's time, a task's due "
        "time (else its creation)."
    )
    ticket: TicketType | None = None
    interaction: InteractionType | None = None
    task: TaskType | None = None


@strawberry.input(description="Narrow the tasks list; every field is optional.")
class TaskFilter:
    mine: bool | None = strawberry.field(
        default=None,
        description="true: tasks assigned to the caller; false: assigned to others.",
    )
    overdue: bool | None = strawberry.field(
        default=None,
        description="true: open tasks due before now; false: all the others.",
    )
    status: list[TaskStatusEnum] | None = None


@strawberry.input
class CreateTaskInput:
    title: str
    notes: str | None = ""
    due_at: datetime | None = strawberry.field(
        default=None, description="With a time zone."
    )
    assignee: str | None = strawberry.field(
        default=None,
        description="The assignee's email (an agent, supervisor or administrator); "
        "the caller when omitted.",
    )
    status: TaskStatusEnum = TaskStatusEnum.TODO
    ticket: str | None = strawberry.field(
        default=None, description="Ticket reference; links its organization too."
    )
    organization: str | None = strawberry.field(
        default=None, description="Organization slug."
    )
    contact: str | None = strawberry.field(
        default=None, description="The contact's (a customer's) email."
    )


@strawberry.input(
    description="Change a task: omitted fields stay as they are; null ones too, "
    "except `dueAt: null`, which removes the due time, and `ticket`, `organization` "
    "or `contact: null`, which unlink."
)
class UpdateTaskInput:
    id: strawberry.ID = strawberry.field(description="The task's `id`.")
    title: str | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET
    due_at: datetime | None = strawberry.UNSET
    assignee: str | None = strawberry.field(
        default=strawberry.UNSET, description="The new assignee's email."
    )
    status: TaskStatusEnum | None = strawberry.UNSET
    ticket: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Ticket reference (null unlinks); a task left with a ticket and "
        "no organization links the ticket's organization.",
    )
    organization: str | None = strawberry.field(
        default=strawberry.UNSET, description="Organization slug (null unlinks)."
    )
    contact: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The contact's (a customer's) email (null unlinks).",
    )


@strawberry.input
class LogInteractionInput:
    kind: InteractionKindEnum
    subject: str
    summary: str | None = ""
    happened_at: datetime | None = strawberry.field(
        default=None, description="With a time zone; now when omitted."
    )
    organization: str | None = strawberry.field(
        default=None, description="Organization slug."
    )
    contact: str | None = strawberry.field(
        default=None, description="The contact's (a customer's) email."
    )
    ticket: str | None = strawberry.field(
        default=None,
        description="Ticket reference; without organization and contact, the "
        "ticket's organization and requester are used.",
    )
