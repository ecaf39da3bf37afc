"""Every change to interactions, tasks and an organization's customer record.

Each function checks ``crm.permissions`` first, validates its input (``CrmError``, a
coded ``ValidationError``), and writes in one transaction. Something the actor may
not see raises a not-found error (``TaskNotFound``, ``TicketNotFound``: a linked
ticket the actor may not see is a missing ticket); something they see but may not
change raises ``PermissionDenied``. Nothing is written when anything is refused.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organization
from tickets import permissions as ticket_permissions
from tickets.exceptions import TicketNotFound

from . import permissions
from .errors import CrmError, CrmErrorCode
from .exceptions import InteractionNotFound, PermissionDenied, TaskNotFound
from .models import Interaction, InteractionKind, Task, TaskStatus

TITLE_MAX = 200
TEXT_MAX = 20_000


def _text(value, *, field: str, required: bool, limit: int = TEXT_MAX) -> str:
    value = (value or "").strip()
    if required and not value:
        raise CrmError(
            _("This field is required."), CrmErrorCode.TEXT_REQUIRED, field=field
        )
    if len(value) > limit:
        raise CrmError(
            _("At most %(limit)d characters.") % {"limit": limit},
            CrmErrorCode.TEXT_TOO_LONG,
            field=field,
        )
    return value


def _choice(value, choices, *, field: str) -> str:
    if value not in choices.values:
        raise CrmError(
            _("Unknown choice: %(value)s.") % {"value": value},
            CrmErrorCode.UNKNOWN_CHOICE,
            field=field,
        )
    return value


def _denied(denial) -> None:
    kind, message = denial
    if kind == permissions.NOT_FOUND:
        raise CrmError(message, CrmErrorCode.CONTACT_NOT_FOUND, field="contact")
    raise PermissionDenied(message)


def _check_ticket(actor, ticket):
    """The ticket, if ``actor`` may see it; a missing one otherwise."""
    if ticket is not None and not ticket_permissions.can(actor, "view", ticket):
        raise TicketNotFound(_("No such ticket."))
    return ticket


def _check_contact(contact) -> None:
    if contact is not None and permissions.is_staff(contact):
        raise CrmError(
            _("A contact is a customer, not a member of staff."),
            CrmErrorCode.CONTACT_NOT_CUSTOMER,
            field="contact",
        )


def _check_links(actor, *, organization, contact) -> None:
    _check_contact(contact)
    denial = permissions.why_not_link(actor, organization=organization, contact=contact)
    if denial:
        _denied(denial)


def _check_assignee(assignee) -> None:
    if (
        assignee is None
        or not permissions.assignable_staff().filter(pk=assignee.pk).exists()
    ):
        raise CrmError(
            _("Tasks are assigned to active agents, supervisors or administrators."),
            CrmErrorCode.NOT_STAFF_ASSIGNEE,
            field="assignee",
        )


def ticket_contact(ticket):
    """The contact a ticket links: its requester when a customer (staff file tickets
    too, and are never contacts), else None."""
    requester = ticket.requester
    return None if permissions.is_staff(requester) else requester


# --- interactions ---------------------------------------------------------------------


def log_interaction(
    actor,
    *,
    kind: str,
    subject: str,
    summary: str = "",
    happened_at: datetime | None = None,
    organization: Organization | None = None,
    contact=None,
    ticket=None,
) -> Interaction:
    """Log a call, meeting, email or note. About an organization and/or a contact; a
    linked ticket supplies both when neither is given (its organization, its
    requester when a customer)."""
    if not permissions.may_write(actor):
        if not permissions.is_crm_user(actor):
            raise InteractionNotFound(_("No such interaction."))
        raise PermissionDenied(_("Read-only accounts cannot log interactions."))
    kind = _choice(kind, InteractionKind, field="kind")
    subject = _text(subject, field="subject", required=True, limit=TITLE_MAX)
    summary = _text(summary, field="summary", required=False)
    _check_ticket(actor, ticket)
    if ticket is not None and organization is None and contact is None:
        organization = ticket.organization
        contact = ticket_contact(ticket)
    if organization is None and contact is None:
        raise CrmError(
            _("Choose an organization or a contact."),
            CrmErrorCode.CUSTOMER_REQUIRED,
            field="organization",
        )
    _check_links(actor, organization=organization, contact=contact)
    with transaction.atomic():
        return Interaction.objects.create(
            kind=kind,
            subject=subject,
            summary=summary,
            happened_at=happened_at or timezone.now(),
            author=actor,
            organization=organization,
            contact=contact,
            ticket=ticket,
        )


# --- tasks ----------------------------------------------------------------------------


def create_task(
    actor,
    *,
    title: str,
    assignee,
    notes: str = "",
    due_at: datetime | None = None,
    status: str = TaskStatus.TODO,
    ticket=None,
    organization: Organization | None = None,
    contact=None,
) -> Task:
    """A follow-up for ``assignee`` (staff), optionally about a ticket (whose
    organization it then also links), an organization or a contact."""
    if not permissions.may_write(actor):
        if not permissions.is_crm_user(actor):
            raise TaskNotFound(_("No such task."))
        raise PermissionDenied(_("Read-only accounts cannot create tasks."))
    title = _text(title, field="title", required=True, limit=TITLE_MAX)
    notes = _text(notes, field="notes", required=False)
    status = _choice(status, TaskStatus, field="status")
    _check_assignee(assignee)
    _check_ticket(actor, ticket)
    if ticket is not None and organization is None:
        organization = ticket.organization
    _check_links(actor, organization=organization, contact=contact)
    now = timezone.now()
    with transaction.atomic():
        return Task.objects.create(
            title=title,
            notes=notes,
            due_at=due_at,
            assignee=assignee,
            created_by=actor,
            status=status,
            completed_at=now if status == TaskStatus.DONE else None,
            ticket=ticket,
            organization=organization,
            contact=contact,
        )


_UNSET = object()


def _locked_task(actor, task_or_id) -> Task:
    pk = getattr(task_or_id, "pk", task_or_id)
    try:
        task = Task.objects.select_for_update().get(pk=pk)
    except (Task.DoesNotExist, ValueError, TypeError):
        raise TaskNotFound(_("No such task.")) from None
    denial = permissions.why_not_change_task(actor, task)
    if denial:
        kind, message = denial
        if kind == permissions.NOT_FOUND:
            raise TaskNotFound(message)
        raise PermissionDenied(message)
    return task


def _set_status(task: Task, status: str, now) -> None:
    if status == task.status:
        return
    task.status = status
    task.completed_at = now if status == TaskStatus.DONE else None


def update_task(
    actor,
    task,
    *,
    title=_UNSET,
    notes=_UNSET,
    due_at=_UNSET,
    assignee=_UNSET,
    status=_UNSET,
) -> Task:
    """Change the given fields of ``task`` (a ``Task`` or its id). A new due time
    re-arms the reminder; done stamps ``completed_at``, reopening clears it."""
    if title is not _UNSET:
        title = _text(title, field="title", required=True, limit=TITLE_MAX)
    if notes is not _UNSET:
        notes = _text(notes, field="notes", required=False)
    if status is not _UNSET:
        status = _choice(status, TaskStatus, field="status")
    if assignee is not _UNSET:
        _check_assignee(assignee)
    now = timezone.now()
    with transaction.atomic():
        task = _locked_task(actor, task)
        if title is not _UNSET:
            task.title = title
        if notes is not _UNSET:
            task.notes = notes
        if due_at is not _UNSET and due_at != task.due_at:
            task.due_at = due_at
            task.reminder_sent_at = None
        if assignee is not _UNSET:
            task.assignee = assignee
        if status is not _UNSET:
            _set_status(task, status, now)
        task.save()
    return task


def complete_tasks(actor, tasks) -> list[Task]:
    """Mark ``tasks`` (instances or ids) done, all or nothing: when the actor may not
    change one of them (not found, or read only), the error is raised and no task
    changes. Tasks already done stay as they were (``completed_at`` kept). Returns the
    tasks that were completed now."""
    ids = sorted({getattr(task, "pk", task) for task in tasks})
    now = timezone.now()
    with transaction.atomic():
        locked = [_locked_task(actor, pk) for pk in ids]
        completed = [task for task in locked if task.status != TaskStatus.DONE]
        for task in completed:
            _set_status(task, TaskStatus.DONE, now)
        if completed:
            Task.objects.bulk_update(
                completed, ["status", "completed_at", "updated_at"]
            )
    return completed


# --- organizations --------------------------------------------------------------------

ORGANIZATION_FIELDS = ("website", "industry", "address", "phone", "notes")


def update_organization_details(
    actor, organization: Organization, *, account_manager=_UNSET, **fields
) -> Organization:
    """Change an organization's customer record (``ORGANIZATION_FIELDS`` and its
    account manager, a member of staff or None). Supervisors and the account manager
    only; only supervisors change the account manager."""
    unknown = set(fields) - set(ORGANIZATION_FIELDS)
    if unknown:
        raise TypeError(f"Unknown organization fields: {sorted(unknown)}")
    if not permissions.is_crm_user(actor):
        raise Organization.DoesNotExist(_("No such organization."))
    if not permissions.may_edit_organization(actor, organization):
        raise PermissionDenied(
            _("Only supervisors and the account manager edit this organization.")
        )
    limits = {"website": 300, "industry": 100, "phone": 50}
    clean = {
        name: _text(value, field=name, required=False, limit=limits.get(name, TEXT_MAX))
        for name, value in fields.items()
    }
    if clean.get("website"):
        try:
            URLValidator(schemes=["http", "https"])(clean["website"])
        except ValidationError:
            raise CrmError(
                _("Enter a web address starting with http:// or https://."),
                CrmErrorCode.INVALID_WEBSITE,
                field="website",
            ) from None
    if account_manager is not _UNSET:
        if not ticket_permissions.is_supervisor(actor):
            raise PermissionDenied(_("Only supervisors choose the account manager."))
        if account_manager is not None:
            _check_assignee(account_manager)
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=organization.pk)
        for name, value in clean.items():
            setattr(organization, name, value)
        if account_manager is not _UNSET:
            organization.account_manager = account_manager
        organization.save()
    return organization
