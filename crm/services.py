"""Every change to interactions, tasks and an organization's customer record.

Each function checks ``crm.permissions`` first, validates its input (``CrmError``, a
coded ``ValidationError``), and writes in one transaction. Something the actor may
not see raises a not-found error (``TaskNotFound``, ``TicketNotFound``: a linked
ticket the actor may not see is a missing ticket); something they see but may not
change raises ``PermissionDenied``. Nothing is written when anything is refused.

Over 400 lines until split: the customer records (organization and contact details)
are due to move into crm/records.py.
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


def _assignable(user) -> bool:
    return (
        user is not None and permissions.assignable_staff().filter(pk=user.pk).exists()
    )


def _check_assignee(assignee) -> None:
    if not _assignable(assignee):
        raise CrmError(
            _("Tasks are assigned to active agents, supervisors or administrators."),
            CrmErrorCode.NOT_STAFF_ASSIGNEE,
            field="assignee",
        )


def account_manager_refused() -> CrmError:
    """The refusal of an account manager who is not an active agent, supervisor or
    administrator. The API answers an unknown address with it too, so that addresses
    cannot be probed."""
    return CrmError(
        _("The account manager is an active agent, supervisor or administrator."),
        CrmErrorCode.NOT_STAFF_ASSIGNEE,
        field="account_manager",
    )


def ticket_contact(ticket):
    """The contact a ticket links: its requester when a customer (staff file tickets
    too, and are never contacts), else None."""
    requester = ticket.requester
    return None if permissions.is_staff(requester) else requester


def _links(ticket, organization, contact):
    """The organization and contact a task or interaction about ``ticket`` links, the
    one rule of both: what the caller gave, else the ticket's organization, and its
    contact (``ticket_contact``) when the caller gave neither."""
    if ticket is None:
        return organization, contact
    if organization is None and contact is None:
        return ticket.organization, ticket_contact(ticket)
    return organization or ticket.organization, contact


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
    organization, contact = _links(ticket, organization, contact)
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
    organization and contact it then also links: ``_links``), an organization or a
    contact."""
    if not permissions.may_write(actor):
        if not permissions.is_crm_user(actor):
            raise TaskNotFound(_("No such task."))
        raise PermissionDenied(_("Read-only accounts cannot create tasks."))
    title = _text(title, field="title", required=True, limit=TITLE_MAX)
    notes = _text(notes, field="notes", required=False)
    status = _choice(status, TaskStatus, field="status")
    _check_assignee(assignee)
    _check_ticket(actor, ticket)
    organization, contact = _links(ticket, organization, contact)
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


def _relink(actor, task: Task, **links) -> None:
    """Set the links of ``task`` that change (``ticket``, ``organization``,
    ``contact``; ``_UNSET``: unchanged, None: unlinked), checked as ``create_task``
    checks them, so that a task never links what its creator could not have: a ticket
    the actor may not see is a missing ticket (``TicketNotFound``), a contact out of
    their reach ``CONTACT_NOT_FOUND``, an organization they do not work
    ``PermissionDenied``. A task left with a ticket and no organization links the
    ticket's organization, as on creation. Only a link that changes is checked: an
    agent assigned a task about another queue's ticket still edits its title. No link
    is required (``create_task`` requires none)."""
    changes = {
        name: value
        for name, value in links.items()
        if value is not _UNSET
        and getattr(value, "pk", None) != getattr(task, f"{name}_id")
    }
    if not changes:
        return
    _check_ticket(actor, changes.get("ticket"))
    ticket = changes["ticket"] if "ticket" in changes else task.ticket
    organization = (
        changes["organization"] if "organization" in changes else task.organization
    )
    if ticket is not None and organization is None and ticket.organization_id:
        if ticket.organization_id != task.organization_id:
            changes["organization"] = ticket.organization
        else:  # unlinking the ticket's own organization keeps it
            changes.pop("organization", None)
    _check_links(
        actor,
        organization=changes.get("organization"),
        contact=changes.get("contact"),
    )
    for name, value in changes.items():
        setattr(task, name, value)


def update_task(
    actor,
    task,
    *,
    title=_UNSET,
    notes=_UNSET,
    due_at=_UNSET,
    assignee=_UNSET,
    status=_UNSET,
    ticket=_UNSET,
    organization=_UNSET,
    contact=_UNSET,
) -> Task:
    """Change the given fields of ``task`` (a ``Task`` or its id). A new due time
    re-arms the reminder; done stamps ``completed_at``, reopening clears it. The links
    (``ticket``, ``organization``, ``contact``; None unlinks) change as ``_relink``
    says, after the actor's right to change the task is established."""
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
        _relink(actor, task, ticket=ticket, organization=organization, contact=contact)
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
    denial = permissions.why_not_edit_organization(
        actor, organization, account_manager=account_manager is not _UNSET
    )
    if denial:
        kind, message = denial
        if kind == permissions.NOT_FOUND:
            raise Organization.DoesNotExist(message)
        raise PermissionDenied(message)
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
    naming = account_manager is not _UNSET and account_manager is not None
    if naming and not _assignable(account_manager):
        raise account_manager_refused()
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=organization.pk)
        for name, value in clean.items():
            setattr(organization, name, value)
        if account_manager is not _UNSET:
            organization.account_manager = account_manager
        organization.save()
    return organization


# --- contacts ---------------------------------------------------------------------------

CONTACT_FIELDS = ("job_title", "phone", "notes")
CONTACT_LIMITS = {"job_title": 150, "phone": 50}


def update_contact_details(actor, contact, **fields):
    """Change a contact's customer record (``CONTACT_FIELDS``). Whoever may write and
    reaches the contact (``permissions.why_not_edit_contact``: supervisors every
    customer, agents the members of the organizations they work); a contact out of
    reach (or staff) is refused exactly like a missing one (``CONTACT_NOT_FOUND``), a
    viewer with ``PermissionDenied``."""
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise TypeError(f"Unknown contact fields: {sorted(unknown)}")
    denial = permissions.why_not_edit_contact(actor, contact)
    if denial:
        _denied(denial)
    clean = {
        name: _text(
            value, field=name, required=False, limit=CONTACT_LIMITS.get(name, TEXT_MAX)
        )
        for name, value in fields.items()
    }
    with transaction.atomic():
        contact = type(contact).objects.select_for_update().get(pk=contact.pk)
        for name, value in clean.items():
            setattr(contact, name, value)
        if clean:
            contact.save(update_fields=list(clean))
    return contact
