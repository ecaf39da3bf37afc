"""Every state change of a ticket, one function each.

Each service runs in one transaction, locks the ticket row, asks ``tickets.permissions``
(an invisible ticket raises ``TicketNotFound``, a forbidden action ``PermissionDenied``,
bad input a ``TicketError``, a ``ValidationError`` coded from ``tickets.errors``), keeps the guardian grants in step (``tickets.grants``),
writes its ``TicketEvent`` and hands side effects to ``tickets.hooks`` (in-transaction
handlers at once, the rest after commit). Portal views, the agent desk, GraphQL and jobs
call these; none of them re-implements a rule.

Over 400 lines on purpose: it is the one entry point every surface imports ticket
changes from (the import contracts name ``tickets.services`` as the services layer), in
sections (references, creating and talking, workflow, sharing and jobs); the limits forms read live here too.
"""

import contextvars
import functools
from contextlib import contextmanager
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import kept_organizations
from portal import after_commit, instances
from portal.sql import KeptInsert, KeptStatement

from . import attachments as files
from . import defaults, grants, hooks, lifecycle, permissions, references, sla
from .canned import render_canned_response
from .errors import TicketError, TicketErrorCode
from .exceptions import PermissionDenied, TicketNotFound
from .models import (
    PAUSED_STATUSES,
    Attachment,
    Category,
    Comment,
    EventKind,
    Priority,
    Queue,
    Source,
    Status,
    Ticket,
    TicketEvent,
    TimeEntry,
)

__all__ = [
    "add_internal_note",
    "add_watcher",
    "apply_organization_sharing",
    "assign",
    "auto_close",
    "change_priority",
    "change_status",
    "create_ticket",
    "default_organization",
    "escalate_priority",
    "log_time",
    "mark_sla_breached",
    "merge",
    "move_queue",
    "next_reference",
    "one_transaction",
    "organizations_for_filing",
    "rate",
    "remove_watcher",
    "render_canned_response",
    "reply",
    "self_assign",
    "set_tags",
]

MAX_BODY_LENGTH = 50_000
MAX_REASON_LENGTH = 5_000
MAX_RATING_COMMENT_LENGTH = 5_000
MAX_TAGS = 20
MAX_TAG_LENGTH = 50
MAX_MINUTES_PER_ENTRY = 24 * 60


_joined: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "tickets_one_transaction", default=False
)


def service(func):
    """One transaction per call; files stored during a failed call are deleted.
    Inside ``one_transaction`` the call joins that transaction (no savepoint). The
    Redis commands of its after-commit hooks (the outbox's wake-up, the live event) go
    in one round trip (``portal.after_commit.together``)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if _joined.get():
            with transaction.atomic(savepoint=False):
                return func(*args, **kwargs)
        with after_commit.together(), files.stored_files(), transaction.atomic():
            return func(*args, **kwargs)

    return wrapper


@contextmanager
def one_transaction():
    """One transaction for a surface that writes a service's change together with its
    own rows (the portal's filing and its deflection record): all or nothing, files
    stored inside are deleted when any part fails, and the services called inside join
    it instead of each opening a savepoint (a SAVEPOINT and a RELEASE per call).

    An error raised by a service inside ends the block: the transaction can only be
    rolled back, so catch it outside the ``with``. After the commit, as for one
    service: the hooks' Redis commands in one round trip."""
    if _joined.get():
        yield
        return
    token = _joined.set(True)
    try:
        with after_commit.together(), files.stored_files(), transaction.atomic():
            yield
    finally:
        _joined.reset(token)


# --- helpers --------------------------------------------------------------------------


def _lock(ticket: Ticket) -> Ticket:
    """Lock the row and reload the instance the caller holds, so checks see fresh state."""
    if ticket is None or ticket.pk is None:
        raise TicketNotFound(_("No such ticket."))
    locked = list(
        Ticket.objects.select_for_update().filter(pk=ticket.pk).values_list("pk")
    )
    if not locked:
        raise TicketNotFound(_("No such ticket."))
    ticket.refresh_from_db()
    permissions.invalidate(ticket)
    return ticket


def _check(actor, action: str, ticket: Ticket) -> None:
    _refuse(permissions.why_not(actor, action, ticket))


def _refuse(denial, *, field: str | None = None) -> None:
    """Raise the error for a policy denial ``(kind, message)``; nothing for None."""
    if denial is None:
        return
    kind, message = denial
    if kind == permissions.NOT_FOUND:
        raise TicketNotFound(message)
    if kind == permissions.INVALID:
        code = getattr(denial, "code", None)
        if code is not None:
            raise TicketError(message, code, field=field)
        if field:
            raise ValidationError({field: message}, code="state")
        raise ValidationError(message, code="state")
    raise PermissionDenied(message)


def _code(denial) -> TicketErrorCode:
    """The code of an ``INVALID`` policy denial (a plain tuple: a refused move)."""
    return getattr(denial, "code", None) or TicketErrorCode.TRANSITION_NOT_ALLOWED


def _actor_id(actor):
    return actor.pk if actor is not None and getattr(actor, "pk", None) else None


def _new_event(ticket, actor, kind, *, old="", new="", **data) -> TicketEvent:
    """An unsaved event; the actor is kept on it when it is a user, so that the
    hooks reading ``event.actor`` (notifications) do not load it again."""
    event = instances.made_new(
        TicketEvent,
        ticket=ticket,
        actor_id=_actor_id(actor),
        kind=kind,
        old_value=str(old or "")[:255],
        new_value=str(new or "")[:255],
        data=data,
    )
    # a user: what the relation holds (``get_user_model()``, without its lookup)
    if (
        isinstance(actor, TicketEvent.actor.field.related_model)
        and actor.pk is not None
    ):
        event.actor = actor
    return event


#: A filing writes a ticket and its first event: their INSERTs compiled once
#: (``TicketEvent.save`` refuses a saved event; ``KeptInsert`` refuses one too).
_NEW_TICKET = KeptInsert(Ticket)
_NEW_EVENT = KeptInsert(TicketEvent, own_save_checked=True)


#: PostgreSQL: a new ticket's first event, written by the statement that writes the
#: ticket (``grants.grant_new_ticket`` with ``insert``): its ticket id is the one that
#: statement's ``NEW_TICKET_PART`` returned, and no row is written when it returned
#: none (a reference taken).
_FIRST_EVENT = KeptInsert(
    TicketEvent,
    own_save_checked=True,
    expressions={
        "ticket": f"coalesce(%s, (SELECT id FROM {grants.NEW_TICKET_PART}))"  # noqa: S608
    },
    when=f"EXISTS (SELECT 1 FROM {grants.NEW_TICKET_PART})",  # noqa: S608
)


def _first_event_part(event: TicketEvent, ticket: Ticket):
    """``_FIRST_EVENT.part`` of ``event``, whose ``ticket`` is not written yet: the
    event goes without it into the statement and gets it back before ``post_save``."""
    event.ticket = None
    sql, params, finish = _FIRST_EVENT.part(event)

    def done(row):
        event.ticket = ticket
        return finish(row)

    return sql, params, done


def _event(ticket, actor, kind, *, old="", new="", **data) -> TicketEvent:
    event = _new_event(ticket, actor, kind, old=old, new=new, **data)
    event.save(force_insert=True)
    return event


def _save(ticket: Ticket, *fields: str) -> None:
    ticket.save(update_fields=[*fields, "updated_at"])


def _plain(value) -> str:
    """Free text as stored: NUL characters removed (PostgreSQL refuses them in text
    columns, so one would turn into a server error), surrounding space trimmed."""
    return str(value or "").replace("\x00", "").strip()


def _text_errors(label: str) -> tuple[str, str]:
    """(empty, too long) messages for a free-text field, whole sentences per field so
    that translations can agree with the field's noun."""
    if label == "subject":
        return _("The subject cannot be empty."), _(
            "The subject is too long (at most %(max_length)s characters)."
        )
    if label == "description":
        return _("The description cannot be empty."), _(
            "The description is too long (at most %(max_length)s characters)."
        )
    if label == "reply":
        return _("The reply cannot be empty."), _(
            "The reply is too long (at most %(max_length)s characters)."
        )
    return _("The note cannot be empty."), _(
        "The note is too long (at most %(max_length)s characters)."
    )


def _clean_text(value, *, field: str, label: str, max_length: int) -> str:
    value = _plain(value)
    if not value:
        empty = _text_errors(label)[0]
        raise TicketError(empty, TicketErrorCode.TEXT_REQUIRED, field=field)
    if len(value) > max_length:
        too_long = _text_errors(label)[1]
        raise TicketError(
            too_long % {"max_length": max_length},
            TicketErrorCode.TEXT_TOO_LONG,
            field=field,
        )
    return value


def _choice_names() -> dict[str, str]:
    return {
        "priority": _("priority"),
        "category": _("category"),
        "source": _("source"),
        "status": _("status"),
    }


@functools.cache
def _values_of(choices) -> frozenset:
    """``choices.values`` as a set, once per process (Django's builds its list of
    pairs and then of values on every read)."""
    return frozenset(choices.values)


def _known(value, choices) -> bool:
    try:
        return value in _values_of(choices)
    except TypeError:  # unhashable: not one of the values, asked as Django's list is
        return value in choices.values


def _choice(value, choices, *, field: str, label: str) -> str:
    if not _known(value, choices):
        allowed = ", ".join(choices.values)
        raise TicketError(
            _("Unknown %(label)s “%(value)s”; use one of %(allowed)s.")
            % {
                "label": _choice_names().get(label, label),
                "value": value,
                "allowed": allowed,
            },
            TicketErrorCode.UNKNOWN_CHOICE,
            field=field,
        )
    return value


def _user_label(user) -> str:
    return user.email if user is not None else ""


def _store(ticket, comment, validated, actor, *, first=None):
    """Store the files and write their events (after ``first``, an unsaved event of
    the same change, when given) in one INSERT; the files' hooks run here, in order.
    Returns the files and the saved ``first``."""
    made = files.store(
        ticket=ticket, comment=comment, validated=validated, uploaded_by=actor
    )
    events = [] if first is None else [first]
    events += [
        _new_event(
            ticket,
            actor,
            EventKind.ATTACHMENT_ADDED,
            new=attachment.original_name,
            attachment_id=attachment.pk,
            comment_id=comment.pk if comment else None,
            internal=bool(comment and comment.is_internal),
        )
        for attachment in made
    ]
    if len(events) == 1:
        _NEW_EVENT.save(events[0])
    elif events:
        TicketEvent.objects.bulk_create(events)
    for attachment, event in zip(made, events[len(events) - len(made) :], strict=True):
        hooks.emit(EventKind.ATTACHMENT_ADDED, ticket, event, attachment=attachment)
    return made, first


def _set_status(ticket: Ticket, new: str, *, reason: str = "", now=None) -> list[str]:
    """Apply a status and its clocks to the instance; return the changed fields."""
    now = now or timezone.now()
    old = ticket.status
    fields = ["status"]
    ticket.status = new
    if ticket.paused_at and new not in PAUSED_STATUSES:
        paused = now - ticket.paused_at
        ticket.paused_seconds += max(0, int(paused.total_seconds()))
        if ticket.resolution_due_at:
            ticket.resolution_due_at += paused
        ticket.paused_at = None
        fields += ["paused_seconds", "resolution_due_at", "paused_at"]
    elif new in PAUSED_STATUSES and old not in PAUSED_STATUSES:
        ticket.paused_at = now
        fields.append("paused_at")
    if new == Status.RESOLVED:
        ticket.resolved_at = now
        fields.append("resolved_at")
    elif new == Status.CLOSED:
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
        fields += ["closed_at", "resolved_at"]
    elif new in (Status.REJECTED, Status.WITHDRAWN):
        ticket.closed_at = now
        fields.append("closed_at")
        if new == Status.REJECTED:
            ticket.rejection_reason = reason
            fields.append("rejection_reason")
    elif old in (Status.RESOLVED, Status.CLOSED):
        ticket.resolved_at = None
        ticket.closed_at = None
        fields += ["resolved_at", "closed_at"]
    return fields


def _change_status(ticket, actor, new, *, reason="", cause="") -> TicketEvent:
    old = ticket.status
    fields = _set_status(ticket, new, reason=reason)
    _save(ticket, *dict.fromkeys(fields))
    data = {"reason": reason} if reason else {}
    if cause:
        data["cause"] = cause
    event = _event(ticket, actor, EventKind.STATUS_CHANGED, old=old, new=new, **data)
    hooks.emit(
        EventKind.STATUS_CHANGED,
        ticket,
        event,
        old_status=old,
        new_status=new,
        reason=reason,
    )
    return event


def _recompute_due_times(ticket: Ticket) -> None:
    first_due, resolution_due = sla.due_times(
        ticket.queue, ticket.priority, ticket.created_at
    )
    ticket.first_response_due_at = first_due
    # Time paused so far is added; a pause still running is added when it ends.
    ticket.resolution_due_at = resolution_due + timedelta(seconds=ticket.paused_seconds)


# --- references -----------------------------------------------------------------------


def next_reference() -> str:
    """The next ``HD-000123`` (see ``tickets.references``); call it inside the
    creating transaction."""
    return references.next_reference()


# --- creating and talking -------------------------------------------------------------


NOT_A_MEMBER = gettext_lazy("The requester is not a member of this organization.")


def organizations_for_filing(requester) -> list:
    """The requester's organizations by name, each with ``joined`` (its membership's
    ``(created_at, pk)``). Kept on the instance until ``create_ticket`` files for
    them, so that the portal form (which offers them) and the service (which checks
    the choice and picks the default) read them once."""
    cached = requester.__dict__.get("_filing_organizations")
    if cached is None:
        # the rows kept per process for a generation (``accounts.kept_organizations``)
        rows = kept_organizations.kept(
            requester.pk, lambda: tuple(_FILING_ORGANIZATIONS.rows(user=requester.pk))
        )
        cached = _FILING_ORGANIZATIONS.instances_of(rows)
        for organization in cached:
            organization.joined = (
                organization.__dict__.pop("_joined_at"),
                organization.__dict__.pop("_membership"),
            )
        requester.__dict__["_filing_organizations"] = cached
    return cached


def _organizations_of(user):
    from accounts.models import Organization

    return (
        Organization.objects.filter(memberships__user=user)
        .annotate(
            _joined_at=F("memberships__created_at"), _membership=F("memberships__pk")
        )
        .order_by("name", "_membership")
    )


#: A filer's organizations with their memberships, by name: compiled once per
#: process (every portal filing and every form reads it).
_FILING_ORGANIZATIONS = KeptStatement(_organizations_of, ("user",))


def default_organization(requester):
    """The organization a new ticket of ``requester`` belongs to when none is chosen:
    the first one they joined (membership order), or None when they belong to none.
    Deciding it here, not in each form, gives a ticket the same organization, and so
    the same sharing, whether it comes from the portal, GraphQL or email."""
    organizations = organizations_for_filing(requester)
    return min(organizations, key=lambda o: o.joined) if organizations else None


def _filing_organization(requester, organization):
    """``organization`` when the requester belongs to it, the default one for None;
    forgets the requester's organizations read for this filing."""
    try:
        if organization is None:
            return default_organization(requester)
        if organization.pk not in {o.pk for o in organizations_for_filing(requester)}:
            raise TicketError(
                NOT_A_MEMBER, TicketErrorCode.NOT_IN_ORGANIZATION, field="organization"
            )
        return organization
    finally:
        requester.__dict__.pop("_filing_organizations", None)


@service
def create_ticket(
    actor,
    *,
    subject,
    description,
    priority=Priority.MEDIUM,
    category=Category.OTHER,
    queue=None,
    organization=None,
    source=Source.PORTAL,
    attachments=(),
    requester=None,
    more=None,
) -> Ticket:
    """File a ticket. Staff (agents, supervisors) may file for a customer via
    ``requester``; viewers file nothing (``permissions.why_not_file``).
    ``organization`` must be one of the requester's; none means
    ``default_organization``. No queue means the default queue.
    ``more``: ``(ticket) -> grants.grant_new_ticket``'s ``more`` parts, written by the
    ticket's own statement where there is one (PostgreSQL); not called elsewhere (the
    caller writes its row itself: ``deflection.Filing``)."""
    if not permissions._active(actor):
        raise PermissionDenied(_("Sign in to file a ticket."))
    requester = requester or actor
    if requester.pk == actor.pk:
        refusal = permissions.why_not_file(actor)
        if refusal:
            raise PermissionDenied(refusal)
    elif not permissions.may_create_on_behalf(actor):
        raise PermissionDenied(_("Only the support team can file tickets for others."))
    if not requester.is_active:
        raise TicketError(
            _("This account is not active."),
            TicketErrorCode.REQUESTER_INACTIVE,
            field="requester",
        )
    subject = _clean_text(subject, field="subject", label="subject", max_length=200)
    description = _clean_text(
        description,
        field="description",
        label="description",
        max_length=MAX_BODY_LENGTH,
    )
    priority = _choice(priority, Priority, field="priority", label="priority")
    category = _choice(category, Category, field="category", label="category")
    source = _choice(source, Source, field="source", label="source")
    organization = _filing_organization(requester, organization)
    validated = files.validate_uploads(attachments)
    queue = queue or defaults.default_queue()
    now = timezone.now()
    first_due, resolution_due = sla.due_times(queue, priority, now)
    ticket = instances.made_new(
        Ticket,
        subject=subject,
        description=description,
        priority=priority,
        category=category,
        source=source,
        requester=requester,
        organization=organization,
        queue=queue,
        first_response_due_at=first_due,
        resolution_due_at=resolution_due,
        created_at=now,
    )
    created = _new_event(
        ticket,
        actor,
        EventKind.CREATED,
        new=ticket.status,
        source=source,
        on_behalf=requester.pk != actor.pk,
    )
    if references.uses_sequence():
        # PostgreSQL: one statement writes the ticket (its reference drawn by its
        # INSERT), its grants and its first event
        audience = grants.sync_ticket_permissions(
            ticket,
            new=True,
            insert=lambda: references.numbered_part(ticket),
            together=lambda: _first_event_part(created, ticket),
            more=None if more is None else lambda: more(ticket),
        )
    else:
        # the reference drawn just before the ticket's INSERT; the event written with
        # the files' events
        references.insert_numbered(ticket, _NEW_TICKET)
        audience = grants.sync_ticket_permissions(ticket, new=True)
    first = None if created.pk else created
    event = _store(ticket, None, validated, actor, first=first)[1] or created
    # the live bus states the audience the grants statement wrote (no read after commit)
    hooks.emit(EventKind.CREATED, ticket, event, audience=audience)
    return ticket


@service
def reply(actor, ticket, *, body, attachments=(), submit_as=None) -> Comment:
    """A public reply. The first one by staff is the first response and moves a new
    ticket on: to ``submit_as`` when staff choose one of ``lifecycle.REPLY_STATUSES``
    (e.g. waiting on customer), else to open. A customer's reply to a ticket waiting on
    them, or to a resolved one, reopens it."""
    _lock(ticket)
    _check(actor, "reply", ticket)
    body = _clean_text(body, field="body", label="reply", max_length=MAX_BODY_LENGTH)
    by_staff = permissions.acts_as_staff(actor, ticket)
    if submit_as:
        submit_as = _choice(submit_as, Status, field="submit_as", label="status")
        if not by_staff:
            raise PermissionDenied(_("Only staff can change the status with a reply."))
        if not lifecycle.reply_may_submit_as(ticket.status, submit_as):
            raise TicketError(
                _("A reply cannot move this ticket from %(old)s to %(new)s.")
                % {
                    "old": Status(ticket.status).label,
                    "new": Status(submit_as).label,
                },
                TicketErrorCode.TRANSITION_NOT_ALLOWED,
                field="submit_as",
            )
    validated = files.validate_uploads(attachments)
    now = timezone.now()
    comment = Comment.objects.create(
        ticket=ticket, author=actor, body=body, is_internal=False, created_at=now
    )
    fields = []
    if by_staff and ticket.first_responded_at is None:
        ticket.first_responded_at = now
        fields.append("first_responded_at")
    _save(ticket, *fields)
    event = _event(
        ticket,
        actor,
        EventKind.COMMENTED,
        comment_id=comment.pk,
        by_staff=by_staff,
    )
    _store(ticket, comment, validated, actor)
    new_status = lifecycle.after_reply(
        ticket.status, by_staff=by_staff, submit_as=submit_as
    )
    if new_status:
        cause = "staff_reply" if by_staff else "customer_reply"
        _change_status(ticket, actor, new_status, cause=cause)
    hooks.emit(EventKind.COMMENTED, ticket, event, comment=comment)
    return comment


@service
def add_internal_note(actor, ticket, *, body, attachments=()) -> Comment:
    """A note for the support team only; customers never see it or its files."""
    _lock(ticket)
    _check(actor, "add_note", ticket)
    body = _clean_text(body, field="body", label="note", max_length=MAX_BODY_LENGTH)
    validated = files.validate_uploads(attachments)
    comment = Comment.objects.create(
        ticket=ticket, author=actor, body=body, is_internal=True
    )
    _save(ticket)
    event = _event(ticket, actor, EventKind.NOTE_ADDED, comment_id=comment.pk)
    _store(ticket, comment, validated, actor)
    hooks.emit(EventKind.NOTE_ADDED, ticket, event, comment=comment)
    return comment


# --- workflow -------------------------------------------------------------------------


@service
def change_status(actor, ticket, new_status, *, reason="") -> Ticket:
    """Move a ticket along ``lifecycle.TRANSITIONS``. Customers use it to close (mark
    solved), reopen a resolved ticket or withdraw their own; rejecting needs a reason."""
    _lock(ticket)
    _check(actor, "view", ticket)
    new_status = _choice(new_status, Status, field="status", label="status")
    denial = permissions.why_not_move(actor, ticket, new_status)
    if denial is not None and denial[0] == permissions.INVALID:
        raise TicketError(denial[1], _code(denial), field="status")
    _refuse(denial)
    reason = _plain(reason)
    if new_status in lifecycle.REASON_REQUIRED and not reason:
        raise TicketError(
            _("Give a reason for rejecting the ticket."),
            TicketErrorCode.REASON_REQUIRED,
            field="reason",
        )
    if len(reason) > MAX_REASON_LENGTH:
        raise TicketError(
            _("The reason is too long (at most %(max_length)s characters).")
            % {"max_length": MAX_REASON_LENGTH},
            TicketErrorCode.REASON_TOO_LONG,
            field="reason",
        )
    _change_status(ticket, actor, new_status, reason=reason)
    return ticket


@service
def assign(actor, ticket, assignee) -> Ticket:
    """Give the ticket to one of ``permissions.assignable_agents`` (an agent of its
    queue, a supervisor or an administrator); ``None`` unassigns."""
    _lock(ticket)
    _check(actor, "assign", ticket)
    if assignee is not None and not permissions.may_be_assigned(assignee, ticket):
        raise TicketError(
            _("%(assignee)s is not an agent of the %(queue)s queue.")
            % {"assignee": assignee, "queue": ticket.queue},
            TicketErrorCode.NOT_ASSIGNABLE,
            field="assignee",
        )
    old = ticket.assignee
    if (old and old.pk) == (assignee and assignee.pk):
        return ticket
    ticket.assignee = assignee
    _save(ticket, "assignee")
    grants.sync_ticket_permissions(ticket)
    event = _event(
        ticket,
        actor,
        EventKind.ASSIGNED,
        old=_user_label(old),
        new=_user_label(assignee),
        old_assignee_id=old.pk if old else None,
        new_assignee_id=assignee.pk if assignee else None,
    )
    hooks.emit(
        EventKind.ASSIGNED, ticket, event, old_assignee=old, new_assignee=assignee
    )
    return ticket


def self_assign(actor, ticket) -> Ticket:
    return assign(actor, ticket, actor)


@service
def change_priority(actor, ticket, priority) -> Ticket:
    """New priority; the SLA due times are recomputed from the creation time."""
    _lock(ticket)
    _check(actor, "change_priority", ticket)
    priority = _choice(priority, Priority, field="priority", label="priority")
    old = ticket.priority
    if old == priority:
        return ticket
    ticket.priority = priority
    _recompute_due_times(ticket)
    _save(ticket, "priority", "first_response_due_at", "resolution_due_at")
    event = _event(ticket, actor, EventKind.PRIORITY_CHANGED, old=old, new=priority)
    hooks.emit(
        EventKind.PRIORITY_CHANGED,
        ticket,
        event,
        old_priority=old,
        new_priority=priority,
    )
    return ticket


@service
def move_queue(actor, ticket, queue) -> Ticket:
    """Hand the ticket to another team: the agent group's rights move with it (a rule
    on the ticket row, ``permissions.queue_group_grants``: nothing written for them)
    and the due times follow the new queue's SLA policy. The assignee keeps the
    ticket."""
    _lock(ticket)
    _check(actor, "move_queue", ticket)
    if not isinstance(queue, Queue) or queue.pk is None:
        raise TicketError(
            _("Choose an existing queue."), TicketErrorCode.UNKNOWN_QUEUE, field="queue"
        )
    old = ticket.queue
    if old.pk == queue.pk:
        return ticket
    ticket.queue = queue
    _recompute_due_times(ticket)
    _save(ticket, "queue", "first_response_due_at", "resolution_due_at")
    grants.queue_changed(ticket)  # no grant row follows the queue
    event = _event(
        ticket,
        actor,
        EventKind.QUEUE_CHANGED,
        old=old.slug,
        new=queue.slug,
        old_queue_id=old.pk,
        new_queue_id=queue.pk,
    )
    hooks.emit(EventKind.QUEUE_CHANGED, ticket, event, old_queue=old, new_queue=queue)
    return ticket


def normalize_tags(tags) -> list[str]:
    if isinstance(tags, str):
        tags = tags.split(",")
    result = []
    for tag in tags or ():
        tag = " ".join(_plain(tag).split()).lower()
        if not tag:
            continue
        if len(tag) > MAX_TAG_LENGTH:
            raise TicketError(
                _("Tags are at most %(max_length)s characters long.")
                % {"max_length": MAX_TAG_LENGTH},
                TicketErrorCode.TAG_TOO_LONG,
                field="tags",
            )
        if tag not in result:
            result.append(tag)
    if len(result) > MAX_TAGS:
        raise TicketError(
            _("At most %(count)s tags per ticket.") % {"count": MAX_TAGS},
            TicketErrorCode.TOO_MANY_TAGS,
            field="tags",
        )
    return sorted(result)


@service
def set_tags(actor, ticket, tags) -> list[str]:
    """Replace the ticket's tags (lower-cased, de-duplicated)."""
    _lock(ticket)
    _check(actor, "set_tags", ticket)
    new = normalize_tags(tags)
    old = sorted(ticket.tags.names())
    if old == new:
        return new
    ticket.tags.set(new, clear=False)
    _save(ticket)
    event = _event(
        ticket,
        actor,
        EventKind.TAGS_CHANGED,
        old=", ".join(old),
        new=", ".join(new),
        old_tags=old,
        new_tags=new,
    )
    hooks.emit(EventKind.TAGS_CHANGED, ticket, event, old_tags=old, new_tags=new)
    return new


@service
def add_watcher(actor, ticket, user=None) -> bool:
    """Follow a ticket (``user`` defaults to the actor; only staff add others). The
    watcher must be able to see the ticket. Returns False if already watching."""
    _lock(ticket)
    _check(actor, "watch", ticket)
    user = user or actor
    if user.pk != actor.pk and not permissions.acts_as_staff(actor, ticket):
        raise PermissionDenied(_("Only the support team can add other watchers."))
    if not permissions.can(user, "watch", ticket):
        raise TicketError(
            _("%(user)s cannot follow this ticket.") % {"user": user},
            TicketErrorCode.CANNOT_WATCH,
            field="user",
        )
    if ticket.watchers.filter(pk=user.pk).exists():
        return False
    ticket.watchers.add(user)
    event = _event(
        ticket, actor, EventKind.WATCHER_ADDED, new=user.email, user_id=user.pk
    )
    hooks.emit(EventKind.WATCHER_ADDED, ticket, event, user=user)
    return True


@service
def remove_watcher(actor, ticket, user=None) -> bool:
    _lock(ticket)
    _check(actor, "view", ticket)
    user = user or actor
    if user.pk != actor.pk and not permissions.acts_as_staff(actor, ticket):
        raise PermissionDenied(_("Only the support team can remove other watchers."))
    if not ticket.watchers.filter(pk=user.pk).exists():
        return False
    ticket.watchers.remove(user)
    event = _event(
        ticket, actor, EventKind.WATCHER_REMOVED, old=user.email, user_id=user.pk
    )
    hooks.emit(EventKind.WATCHER_REMOVED, ticket, event, user=user)
    return True


@service
def merge(actor, source, target) -> Ticket:
    """Fold a duplicate into ``target``: comments, attachments and time entries move
    over, the source's requester keeps access through the target (grants) and follows
    it, and the source closes with a link (``merged_into``).

    Only tickets read by the same customers merge (``permissions.why_not_merge``), so
    a merge never shows a conversation to anyone new; a refused merge changes nothing.
    Watchers of the source who may not see the target (staff of another queue) are
    not carried over."""
    if source is None or target is None:
        raise TicketNotFound(_("No such ticket."))
    # lock in a fixed order so two opposite merges cannot deadlock
    for ticket in sorted(
        {source.pk: source, target.pk: target}.values(), key=lambda t: t.pk
    ):
        _lock(ticket)
    _refuse(permissions.why_not_merge(actor, source, target), field="target")
    Comment.objects.filter(ticket=source).update(ticket=target)
    Attachment.objects.filter(ticket=source).update(ticket=target)
    TimeEntry.objects.filter(ticket=source).update(ticket=target)
    old_status = source.status
    source.merged_into = target
    fields = _set_status(source, Status.CLOSED)
    _save(source, "merged_into", *dict.fromkeys(fields))
    grants.sync_ticket_permissions(target)
    followers = [source.requester, *source.watchers.all()]
    target.watchers.add(
        *(user for user in followers if permissions.can(user, "watch", target))
    )
    _event(
        source,
        actor,
        EventKind.STATUS_CHANGED,
        old=old_status,
        new=Status.CLOSED,
        cause="merged",
    )
    _event(source, actor, EventKind.MERGED, new=target.reference, target_id=target.pk)
    event = _event(
        target, actor, EventKind.MERGED, old=source.reference, source_id=source.pk
    )
    _save(target)
    hooks.emit(EventKind.MERGED, target, event, source=source, target=target)
    return target


@service
def rate(actor, ticket, *, rating, comment="") -> Ticket:
    """The requester's satisfaction (1–5), once, after the ticket is resolved."""
    _lock(ticket)
    _check(actor, "rate", ticket)
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        raise TicketError(
            _("The rating must be a number from 1 to 5."),
            TicketErrorCode.RATING_OUT_OF_RANGE,
            field="rating",
        )
    if not 1 <= rating <= 5:
        raise TicketError(
            _("The rating must be a number from 1 to 5."),
            TicketErrorCode.RATING_OUT_OF_RANGE,
            field="rating",
        )
    comment = _plain(comment)
    if len(comment) > MAX_RATING_COMMENT_LENGTH:
        raise TicketError(
            _("The comment is too long."),
            TicketErrorCode.RATING_COMMENT_TOO_LONG,
            field="comment",
        )
    ticket.satisfaction_rating = rating
    ticket.satisfaction_comment = comment
    _save(ticket, "satisfaction_rating", "satisfaction_comment")
    event = _event(ticket, actor, EventKind.RATED, new=rating, comment=comment)
    hooks.emit(EventKind.RATED, ticket, event, rating=rating, comment=comment)
    return ticket


@service
def log_time(actor, ticket, *, minutes, note="") -> TimeEntry:
    """Record work time (agents' work log)."""
    _lock(ticket)
    _check(actor, "log_time", ticket)
    try:
        minutes = int(minutes)
    except (TypeError, ValueError):
        raise TicketError(
            _("Minutes must be a whole number."),
            TicketErrorCode.MINUTES_OUT_OF_RANGE,
            field="minutes",
        )
    if not 1 <= minutes <= MAX_MINUTES_PER_ENTRY:
        raise TicketError(
            _("Log between 1 and %(max)s minutes at a time.")
            % {"max": MAX_MINUTES_PER_ENTRY},
            TicketErrorCode.MINUTES_OUT_OF_RANGE,
            field="minutes",
        )
    note = _plain(note)[:255]
    entry = TimeEntry.objects.create(
        ticket=ticket, agent=actor, minutes=minutes, note=note
    )
    event = _event(
        ticket, actor, EventKind.TIME_LOGGED, new=minutes, entry_id=entry.pk, note=note
    )
    hooks.emit(EventKind.TIME_LOGGED, ticket, event, entry=entry)
    return entry


# --- organization sharing and jobs (no acting user) -----------------------------------


@service
def apply_organization_sharing(organization) -> int:
    """Regrant all the organization's tickets from its current ``ticket_sharing`` (a
    repair: ``accounts.services.change_ticket_sharing`` moves the grants through
    ``tickets.receivers``). Returns the number of group grants in place."""
    from accounts.services import ensure_organization_group

    ensure_organization_group(organization)
    return grants.regrant_organization(organization)


@service
def mark_sla_breached(ticket, *, now=None) -> bool:
    """Record the first SLA breach of an open ticket (for the SLA job). Idempotent:
    returns False when already recorded or not breaching."""
    now = now or timezone.now()
    _lock(ticket)
    if ticket.sla_breached_at is not None:
        return False
    if not Ticket.objects.breaching_sla(now).filter(pk=ticket.pk).exists():
        return False
    ticket.sla_breached_at = now
    _save(ticket, "sla_breached_at")
    late_first = ticket.first_responded_at is None and (
        ticket.first_response_due_at and ticket.first_response_due_at < now
    )
    event = _event(
        ticket,
        None,
        EventKind.SLA_BREACHED,
        new="first_response" if late_first else "resolution",
        target="first_response" if late_first else "resolution",
    )
    hooks.emit(
        EventKind.SLA_BREACHED,
        ticket,
        event,
        target="first_response" if late_first else "resolution",
    )
    return True


@service
def auto_close(ticket, *, now=None) -> bool:
    """Close a resolved ticket nobody reopened (for the auto-close job). Idempotent."""
    now = now or timezone.now()
    _lock(ticket)
    if ticket.status != Status.RESOLVED:
        return False
    old = ticket.status
    fields = _set_status(ticket, Status.CLOSED, now=now)
    _save(ticket, *dict.fromkeys(fields))
    event = _event(ticket, None, EventKind.AUTO_CLOSED, old=old, new=Status.CLOSED)
    hooks.emit(
        EventKind.AUTO_CLOSED,
        ticket,
        event,
        old_status=old,
        new_status=Status.CLOSED,
    )
    return True


@service
def escalate_priority(ticket) -> bool:
    """Raise the priority one step after an SLA breach (for the SLA job, when the
    queue's policy has ``escalate_on_breach``); the due times follow the new priority.
    Returns False when already critical or no longer open."""
    _lock(ticket)
    raised = Priority(ticket.priority).raised()
    if not ticket.is_open or raised is None:
        return False
    old = ticket.priority
    ticket.priority = raised.value
    _recompute_due_times(ticket)
    _save(ticket, "priority", "first_response_due_at", "resolution_due_at")
    event = _event(
        ticket,
        None,
        EventKind.PRIORITY_CHANGED,
        old=old,
        new=ticket.priority,
        cause="sla_escalation",
    )
    hooks.emit(
        EventKind.PRIORITY_CHANGED,
        ticket,
        event,
        old_priority=old,
        new_priority=ticket.priority,
    )
    return True
