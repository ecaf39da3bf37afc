"""CRM queries and mutations, for the support team: thin translations onto
``crm.permissions`` and ``crm.services``. Anyone else (customers, anonymous callers)
gets an empty list and mutations refused with NOT_FOUND, as for a missing task: the
policy's querysets are empty for them and the services refuse them."""

from collections.abc import Iterable
from datetime import UTC, datetime

import strawberry
import strawberry_django
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import DateTimeField, Exists, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from strawberry import relay
from strawberry.types import Info

from accounts.models import Organization
from crm import permissions, services
from crm.errors import CrmError, CrmErrorCode
from crm.exceptions import TaskNotFound
from crm.models import Task
from tickets import permissions as ticket_permissions
from tickets.exceptions import TicketNotFound
from tickets.models import Ticket

from ..context import get_user, require_scope
from ..pagination import CappedConnection
from ..tickets.schema import clean_reference
from ..validation import InvalidInput, as_mutation_error, clean_slug, clean_text
from . import timeline
from .types import (
    TICKET_VISIBLE,
    CreateTaskInput,
    InteractionType,
    LogInteractionInput,
    TaskFilter,
    TaskType,
    TimelineEntry,
    UpdateTaskInput,
)

# Tasks without a due time sort after every dated one (a cursor holds no null).
NO_DUE_TIME = datetime(9999, 12, 31, tzinfo=UTC)
# Times a task or interaction may carry: a typo's year 20256 or 0001 is refused
# before it overflows a database column.
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC)
EMAIL_MAX_LENGTH = 254


def _with_ticket_visibility(user, tasks):
    if ticket_permissions.sees_all(user):
        return tasks.annotate(**{TICKET_VISIBLE: Value(True)})
    visible = ticket_permissions.visible_tickets(user).filter(pk=OuterRef("ticket_id"))
    return tasks.annotate(**{TICKET_VISIBLE: Exists(visible)})


def _filtered(tasks, user, filters: TaskFilter | None):
    if filters is None:
        return tasks
    if filters.mine is not None:
        mine = Q(assignee_id=user.pk)
        tasks = tasks.filter(mine if filters.mine else ~mine)
    if filters.overdue is not None:
        overdue = Q(pk__in=Task.objects.overdue(timezone.now()).values("pk"))
        tasks = tasks.filter(overdue if filters.overdue else ~overdue)
    if filters.status:
        tasks = tasks.filter(status__in=[s.value for s in filters.status])
    return tasks


@strawberry.type
class Query:
    @strawberry_django.connection(
        CappedConnection[TaskType],
        description="Follow-up tasks the caller may see (support team; empty for "
        "anyone else), by due time, soonest first, tasks without one last "
        "(max 100 a page).",
    )
    def tasks(self, info: Info, filters: TaskFilter | None = None) -> Iterable[Task]:
        user = get_user(info)
        tasks = _filtered(permissions.visible_tasks(user), user, filters)
        due = Coalesce("due_at", Value(NO_DUE_TIME), output_field=DateTimeField())
        return _with_ticket_visibility(user, tasks.alias(_due=due)).order_by(
            "_due", "pk"
        )

    @strawberry_django.field(
        description="An organization's timeline, newest first: its tickets, "
        "interactions and tasks that the caller may see (support team; empty for "
        f"anyone else and for an unknown slug). At most {timeline.MAX_ENTRIES}."
    )
    def organization_timeline(
        self, info: Info, organization: str, first: int = timeline.DEFAULT_ENTRIES
    ) -> list[TimelineEntry]:
        slug = clean_slug(organization, "organization")
        return timeline.entries(get_user(info), slug, first)


def _time(value, field: str):
    """An aware time within ``EARLIEST``–``LATEST``, or None."""
    if value is None:
        return None
    if timezone.is_naive(value):
        raise InvalidInput(
            _("'%(field)s' needs a time zone, e.g. 2026-12-03T15:00:00+01:00.")
            % {"field": field},
            field,
        )
    if not EARLIEST <= value < LATEST:
        raise InvalidInput(_("'%(field)s' is out of range.") % {"field": field}, field)
    return value


def _email(value, field: str) -> str:
    return clean_text(value, field, max_length=EMAIL_MAX_LENGTH)


def _assignee(value):
    """The user with this email, or None: the service refuses None, an unknown
    address and a customer's alike (``TASK_ASSIGNEE_NOT_STAFF``), so that addresses
    cannot be probed."""
    return (
        get_user_model().objects.filter(email__iexact=_email(value, "assignee")).first()
    )


def _contact(value):
    if value is None:
        return None
    contact = (
        get_user_model().objects.filter(email__iexact=_email(value, "contact")).first()
    )
    if contact is None:  # the same refusal as for a contact the caller may not reach
        raise CrmError(
            _("No such contact."), CrmErrorCode.CONTACT_NOT_FOUND, field="contact"
        )
    return contact


def _organization(value):
    if value is None:
        return None
    organization = Organization.objects.filter(
        slug=clean_slug(value, "organization")
    ).first()
    if organization is None:
        raise ValidationError({"organization": _("No such organization.")})
    return organization


def _ticket(value):
    """The ticket with this reference; the service checks that the caller may see
    it, and refuses one they may not exactly like a missing one."""
    if value is None:
        return None
    ticket = Ticket.objects.filter(reference=clean_reference(value)).first()
    if ticket is None:
        raise TicketNotFound(_("No such ticket."))
    return ticket


def _task(user, value) -> Task:
    """The task named by ``value`` (its global id), if the caller may see it;
    ``TaskNotFound`` otherwise, whether it is missing or hidden."""
    try:
        global_id = relay.GlobalID.from_id(value)
        pk = int(global_id.node_id)
    except (ValueError, TypeError):
        raise TaskNotFound(_("No such task.")) from None
    task = Task.objects.filter(pk=pk).first() if global_id.type_name == "Task" else None
    if task is None or not permissions.may_view_task(user, task):
        raise TaskNotFound(_("No such task."))
    return task


# A task's links by their handles: reference, slug, email (None stays None).
LINKS = {"ticket": _ticket, "organization": _organization, "contact": _contact}


def _given(value):
    return value is not strawberry.UNSET and value is not None


@strawberry.type
class Mutation:
    @strawberry_django.mutation(
        handle_django_errors=True,
        description="Create a follow-up task (support team, not read-only).",
    )
    def create_task(self, info: Info, input: CreateTaskInput) -> TaskType:
        with as_mutation_error():
            require_scope(info, "write")
            user = get_user(info, required=True)
            if not permissions.may_write(user):
                # The service's own refusal, before any lookup tells the caller
                # which addresses, slugs or references exist.
                services.create_task(user, title=input.title, assignee=None)
            assignee = user if input.assignee is None else _assignee(input.assignee)
            return services.create_task(
                user,
                title=input.title,
                notes=input.notes or "",
                due_at=_time(input.due_at, "dueAt"),
                assignee=assignee,
                status=input.status.value,
                ticket=_ticket(input.ticket),
                organization=_organization(input.organization),
                contact=_contact(input.contact),
            )

    @strawberry_django.mutation(
        handle_django_errors=True,
        description="Change a task's title, notes, due time, assignee, status or "
        "links (support team, not read-only).",
    )
    def update_task(self, info: Info, input: UpdateTaskInput) -> TaskType:
        with as_mutation_error():
            require_scope(info, "write")
            user = get_user(info, required=True)
            task = _task(user, input.id)
            if permissions.why_not_change_task(user, task):
                services.update_task(user, task)  # raises the service's refusal
            changes = {}
            if _given(input.title):
                changes["title"] = input.title
            if _given(input.notes):
                changes["notes"] = input.notes
            if input.due_at is not strawberry.UNSET:
                changes["due_at"] = _time(input.due_at, "dueAt")
            if _given(input.assignee):
                changes["assignee"] = _assignee(input.assignee)
            if _given(input.status):
                changes["status"] = input.status.value
            for name, lookup in LINKS.items():  # null unlinks
                if getattr(input, name) is not strawberry.UNSET:
                    changes[name] = lookup(getattr(input, name))
            return services.update_task(user, task, **changes)

    @strawberry_django.mutation(
        handle_django_errors=True,
        description="Log a call, meeting, email or note with an organization and/or a "
        "contact (support team, not read-only).",
    )
    def log_interaction(
        self, info: Info, input: LogInteractionInput
    ) -> InteractionType:
        with as_mutation_error():
            require_scope(info, "write")
            user = get_user(info, required=True)
            if not permissions.may_write(user):
                services.log_interaction(  # raises the service's own refusal
                    user, kind=input.kind.value, subject=input.subject
                )
            return services.log_interaction(
                user,
                kind=input.kind.value,
                subject=input.subject,
                summary=input.summary or "",
                happened_at=_time(input.happened_at, "happenedAt"),
                organization=_organization(input.organization),
                contact=_contact(input.contact),
                ticket=_ticket(input.ticket),
            )
