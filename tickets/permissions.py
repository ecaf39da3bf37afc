"""The one ticket permission policy, on django-guardian.

Grants are made only by ``tickets.services`` (see ``tickets.grants``): the requester
gets view/comment/rate, the assignee the agent set (``AGENT_PERMS``), the
organization's group view (sharing ``read``) or view + comment (``read_write``). The
members of the ticket's queue's agent group hold ``AGENT_PERMS`` too, by a rule stated
here on the ticket row (``queue_group_grants``), not by stored rows: every reader below
adds it.
Roles add to that: supervisors and administrators may do everything, viewers see
everything read-only. Every surface (portal views, agent desk, GraphQL, downloads, jobs)
asks the functions below; nothing else decides access.

A ticket the user may not see must look exactly like a missing one: callers turn
``TicketNotFound`` / ``Ticket.DoesNotExist`` into 404.

Over 400 lines on purpose: the one policy layer of the import contracts (surfaces →
services → permissions → models), in sections (object permissions, decisions with the
one status-change rule ``why_not_move``, querysets, what hangs off a visible ticket, the
customer's view of a ticket).
"""

import functools
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from guardian.core import ObjectPermissionChecker

from accounts import roles
from portal import cache as shared_cache
from portal import instances
from portal.sql import KeptStatement, KeptSubquery

from . import lifecycle
from .errors import TicketErrorCode
from .models import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    Attachment,
    Comment,
    EventKind,
    GrantTally,
    Queue,
    QueueTally,
    Status,
    TalliedUser,
    Ticket,
    TicketEvent,
    TicketGroupObjectPermission,
    TicketUserObjectPermission,
    TimeEntry,
)

ACTIONS = (
    "view",
    "reply",
    "add_note",
    "view_internal",
    "change_status",
    "assign",
    "change_priority",
    "move_queue",
    "set_tags",
    "watch",
    "merge",
    "rate",
    "log_time",
    "download_attachment",
    "close",
    "reopen",
    "withdraw",
)

# Denial kinds returned by ``why_not``.
NOT_FOUND = "not_found"
FORBIDDEN = "forbidden"
INVALID = "invalid"


class Denial(tuple):
    """A ``(kind, message)`` refusal; an ``INVALID`` one also names its
    ``TicketErrorCode`` in ``code`` (what the service's ``TicketError`` carries)."""

    code = None

    def __new__(cls, kind: str, message, code: TicketErrorCode | None = None):
        denial = super().__new__(cls, (kind, message))
        denial.code = code
        return denial


def _active(user) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
    )


def is_supervisor(user) -> bool:
    """Supervisors and administrators act on every ticket."""
    return _active(user) and (
        user.is_superuser or roles.has_role(user, roles.SUPERVISORS)
    )


def is_viewer(user) -> bool:
    return _active(user) and roles.has_role(user, roles.VIEWERS)


def sees_all(user) -> bool:
    return is_supervisor(user) or is_viewer(user)


def is_support_team(user) -> bool:
    """Agents, supervisors, viewers and administrators: the people who read tickets as
    the support team (the desk, tags, watchers, everyone's address) rather than as a
    customer (see "the customer's view of a ticket" below)."""
    return _active(user) and (
        user.is_superuser or roles.has_role(user, *roles.HELPDESK_ROLES)
    )


def why_not_file(user) -> str | None:
    """None when ``user`` may file a ticket of their own; otherwise why not.

    The accounts rule first (signed in, not locked or rejected, approved where approval
    is required), then the role: viewers are read-only staff and file nothing, unless
    they also work tickets (agents, supervisors, administrators). Agents, supervisors
    and editors file like anyone else (they are the requester). Every surface (the
    portal form, GraphQL, email intake) reaches it through ``services.create_ticket``;
    the portal also asks ``may_file`` to offer the form at all."""
    from accounts.permissions import can_file_tickets

    if not can_file_tickets(user):
        return _(
            "Your account cannot file tickets yet: it is awaiting approval or "
            "restricted."
        )
    if is_viewer(user) and not may_create_on_behalf(user):
        return _("Read-only staff accounts cannot file tickets.")
    return None


def may_file(user) -> bool:
    """Whether ``user`` may file a ticket of their own (see ``why_not_file``)."""
    return why_not_file(user) is None


def may_create_on_behalf(user) -> bool:
    """Agents, supervisors and administrators may file a ticket for a customer."""
    return _active(user) and (
        user.is_superuser or roles.has_role(user, roles.AGENTS, roles.SUPERVISORS)
    )


# --- object permissions ---------------------------------------------------------------

#: What a ticket's assignee (a grant row, ``tickets.grants``) and the members of its
#: queue's agent group (the rule below, no rows) hold on it.
AGENT_PERMS = (
    "view_ticket",
    "change_ticket",
    "comment_ticket",
    "add_internal_note",
    "view_internal_notes",
    "assign_ticket",
)


def queue_group_grants(ticket: Ticket) -> set[tuple[int, str]]:
    """The one rule for the queue's agent group: ``(group id, codename)`` of what it
    holds on ``ticket``, ``AGENT_PERMS`` for the agent group of the ticket's queue,
    as it stands (a queue move moves them, with no write). No rows store it: each
    reader of group grants adds it in SQL (``_held_query``, ``_page_perms_query``,
    ``_granted_ids``, ``_internal_grants_condition``, by the user's worked queues,
    ``_queues_worked_by``) or from the ticket's queue (``audience_from_rows``'s queue
    row, ``queue_group_codenames``)."""
    return {(ticket.queue.agent_group_id, codename) for codename in AGENT_PERMS}


def queue_group_codenames(user, ticket: Ticket) -> frozenset[str]:
    """The codenames ``user`` holds on ``ticket`` by ``queue_group_grants`` alone:
    ``AGENT_PERMS`` when active and a member of the ticket's queue's agent group
    (one query), else none."""
    if not _active(user):
        return frozenset()
    member = _queues_worked_by(user.pk).filter(pk=ticket.queue_id).exists()
    return frozenset(AGENT_PERMS) if member else frozenset()


def held_codenames(user, ticket: Ticket) -> frozenset[str]:
    """``ticket_perms`` read anew (no cache): guardian's rows and the queue group's
    rule. What ``user.has_perm("tickets.<codename>", ticket)`` answers
    (``tickets.backends``)."""
    if not _active(user):
        return frozenset()
    if user.is_superuser:  # every codename of the model, as guardian answers
        return frozenset(ObjectPermissionChecker(user).get_perms(ticket))
    return frozenset(_held_codenames(user, ticket))


def ticket_perms(user, ticket: Ticket) -> frozenset[str]:
    """The guardian codenames ``user`` holds on ``ticket``; cached on the instance
    (``prefetch_permissions`` fills the cache for a whole page in two queries)."""
    if not _active(user):
        return frozenset()
    cache = ticket.__dict__.setdefault("_perm_cache", {})
    if user.pk not in cache:
        cache[user.pk] = held_codenames(user, ticket)
    return cache[user.pk]


def _held_codenames(user, ticket: Ticket):
    """What guardian's ``get_perms`` answers for an active user who is not a
    superuser (the user's own grants and their groups'), with the queue group's rule
    (``AGENT_PERMS`` when the user is in the ticket's queue's agent group), in one
    UNION, its SQL compiled once (``_HELD``): every ticket page asks it."""
    from django.contrib.contenttypes.models import ContentType

    type_id = ContentType.objects.get_for_model(Ticket).pk
    rows = _HELD.rows(user_id=user.pk, ticket_id=ticket.pk, type_id=type_id)
    return [codename for (codename,) in rows]


def _held_query(user_id: int, ticket_id: int, type_id: int) -> QuerySet:
    groups = get_user_model().groups.through.objects.filter(user_id=user_id)
    by_user = TicketUserObjectPermission.objects.filter(
        user_id=user_id, content_object_id=ticket_id, permission__content_type=type_id
    ).values_list("permission__codename", flat=True)
    by_group = TicketGroupObjectPermission.objects.filter(
        group_id__in=groups.values("group_id"),
        content_object_id=ticket_id,
        permission__content_type=type_id,
    ).values_list("permission__codename", flat=True)
    by_queue = (
        Permission.objects.filter(content_type=type_id, codename__in=AGENT_PERMS)
        .filter(
            Exists(
                Ticket.objects.filter(
                    pk=ticket_id, queue__agent_group_id__in=groups.values("group_id")
                )
            )
        )
        .order_by()
        .values_list("codename", flat=True)
    )
    return by_user.union(by_group, by_queue)


# one user's grants on one ticket (keys only): prepared on the server once per
# connection, one plan for all
_HELD = KeptStatement(_held_query, ("user_id", "ticket_id", "type_id"), prepare=True)


def prefetch_permissions(user, tickets) -> list[Ticket]:
    """Load ``user``'s permissions for every ticket of a list in one query (their
    grants, their groups' and the queue group's rule, ``_page_perms_query``), so
    that ``can()`` in a loop costs nothing more."""
    tickets = list(tickets)
    if not _active(user) or not tickets or sees_all(user):
        return tickets
    held: dict[int, set[str]] = {ticket.pk: set() for ticket in tickets}
    for ticket_id, codename in _page_perms_query(user.pk, list(held)):
        if codename:
            held[ticket_id].add(codename)
        else:  # the queue group's rule
            held[ticket_id].update(AGENT_PERMS)
    for ticket in tickets:
        ticket.__dict__.setdefault("_perm_cache", {})[user.pk] = frozenset(
            held[ticket.pk]
        )
    return tickets


def _page_perms_query(user_id: int, ticket_ids: list[int]) -> QuerySet:
    """``(ticket id, codename)`` of what the user ``user_id`` holds on each of
    ``ticket_ids`` (``_held_query`` for a page): their grants, their groups' and, as
    ``(ticket id, "")``, the tickets they hold ``AGENT_PERMS`` on by the queue
    group's rule; one UNION."""
    type_id = ContentType.objects.get_for_model(Ticket).pk
    groups = get_user_model().groups.through.objects.filter(user_id=user_id)
    by_user = TicketUserObjectPermission.objects.filter(
        user_id=user_id,
        content_object_id__in=ticket_ids,
        permission__content_type=type_id,
    ).values_list("content_object_id", "permission__codename")
    by_group = TicketGroupObjectPermission.objects.filter(
        group_id__in=groups.values("group_id"),
        content_object_id__in=ticket_ids,
        permission__content_type=type_id,
    ).values_list("content_object_id", "permission__codename")
    by_queue = (
        Ticket.objects.filter(
            pk__in=ticket_ids, queue_id__in=_queues_worked_by(user_id).values("pk")
        )
        .order_by()
        .values_list("pk", Value("", output_field=CharField()))
    )
    return by_user.union(by_group, by_queue)


def invalidate(ticket: Ticket) -> None:
    """Forget cached permissions (after grants or the ticket changed)."""
    ticket.__dict__.pop("_perm_cache", None)


# --- decisions ------------------------------------------------------------------------


def parties(user, ticket: Ticket) -> set[str]:
    """The lifecycle parties (``lifecycle.STAFF`` / ``REQUESTER`` / ``SUPERVISOR``)
    ``user`` acts as on ``ticket``."""
    if not _active(user):
        return set()
    result = set()
    if is_supervisor(user):
        result |= {lifecycle.STAFF, lifecycle.SUPERVISOR}
    perms = ticket_perms(user, ticket)
    if "change_ticket" in perms:
        result.add(lifecycle.STAFF)
    if ticket.requester_id == user.pk and "view_ticket" in perms:
        result.add(lifecycle.REQUESTER)
    return result


def acts_as_staff(user, ticket: Ticket) -> bool:
    return lifecycle.STAFF in parties(user, ticket)


def why_not(user, action: str, ticket: Ticket) -> tuple[str, str] | None:
    """None when ``user`` may do ``action`` on ``ticket``; otherwise ``(kind, message)``
    with kind ``NOT_FOUND`` (may not even see it), ``FORBIDDEN`` or ``INVALID`` (allowed
    in principle, but not in the ticket's current state)."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown ticket action {action!r}")
    facts = _Facts.of(user, ticket)
    return _Facts.missing() if facts is None else facts.why_not(action)


def why_not_each(user, actions, ticket: Ticket) -> dict[str, tuple[str, str] | None]:
    """``why_not`` for each of ``actions`` on ``ticket``, by the same rule, with what
    the answers share (the user's roles, their grants on the ticket, its state) looked
    up once: the desk's sidebar asks a dozen at a time."""
    return _each(user, actions, ticket, _need)


def _each(user, actions, ticket: Ticket, need) -> dict:
    """The answers of ``why_not_each``, each refusal made by ``need`` (``_need``, or
    ``_refused`` when only yes or no is asked)."""
    for action in actions:
        if action not in ACTIONS:
            raise ValueError(f"Unknown ticket action {action!r}")
    facts = _Facts.of(user, ticket)
    if facts is None:
        missing = _Facts.missing() if need is _need else _REFUSED
        return dict.fromkeys(actions, missing)
    facts.need = need
    return {action: facts.why_not(action) for action in actions}


def _need(condition, message, kind=FORBIDDEN, code=None):
    """None when ``condition`` holds, else the denial. ``message`` is lazy
    (``gettext_lazy``): it is translated, in the language of the moment, only for
    a refusal, so a page asking a dozen allowed actions translates nothing."""
    return None if condition else Denial(kind, str(message), code)


# The refusal when only yes or no is asked (``can``, ``can_each``): the same rule,
# no message translated (``_refused``).
_REFUSED = Denial(FORBIDDEN, "")


def _refused(condition, message, kind=FORBIDDEN, code=None):
    """``_need`` for a yes-or-no question: whether refused, not why."""
    return None if condition else _REFUSED


class _Facts:
    """What ``why_not`` decides from, for one user who may see one ticket."""

    __slots__ = (
        "user",
        "ticket",
        "supervisor",
        "viewer",
        "perms",
        "staff",
        "status",
        "requester",
        "final",
        "need",
    )

    @staticmethod
    def missing():
        return (NOT_FOUND, _("No such ticket."))

    @classmethod
    def of(cls, user, ticket: Ticket) -> "_Facts | None":
        """The facts, or None when ``user`` may not even see ``ticket``."""
        if not _active(user):
            return None
        supervisor = is_supervisor(user)
        viewer = is_viewer(user)
        perms = frozenset() if supervisor else ticket_perms(user, ticket)
        if not (supervisor or viewer or "view_ticket" in perms):
            return None
        facts = cls()
        facts.user, facts.ticket = user, ticket
        facts.supervisor, facts.viewer, facts.perms = supervisor, viewer, perms
        facts.staff = supervisor or "change_ticket" in perms
        facts.status = ticket.status
        facts.requester = ticket.requester_id == user.pk
        facts.final = facts.status in FINAL_STATUSES
        facts.need = _need
        return facts

    def status_control(self) -> tuple[tuple[str, str] | None, list[str]]:
        """``why_not("change_status")`` and the moves (``allowed_moves``), from one
        evaluation of the parties."""
        who = parties(self.user, self.ticket)
        moves = _moves(self.ticket, who)
        need = self.need
        return (
            need(
                bool(who), gettext_lazy("You cannot change the status of this ticket.")
            )
            or need(
                bool(moves),
                gettext_lazy("This ticket's status cannot change any more."),
                INVALID,
                TicketErrorCode.STATUS_LOCKED,
            )
        ), moves

    def why_not(self, action: str) -> tuple[str, str] | None:
        user, ticket, perms = self.user, self.ticket, self.perms
        supervisor, viewer, staff = self.supervisor, self.viewer, self.staff
        status, requester, final = self.status, self.requester, self.final
        need = self.need
        if action in ("view", "download_attachment"):
            return None
        if action == "view_internal":
            return need(
                supervisor or viewer or "view_internal_notes" in perms,
                gettext_lazy("Internal notes are for the support team."),
            )
        if action == "reply":
            return need(
                supervisor or "comment_ticket" in perms,
                gettext_lazy("You cannot reply to this ticket."),
            ) or need(
                not final,
                gettext_lazy(
                    "This ticket is finished; replies are no longer accepted."
                ),
                INVALID,
                TicketErrorCode.TICKET_FINISHED,
            )
        if action == "add_note":
            return need(
                supervisor or "add_internal_note" in perms,
                gettext_lazy("Only the support team can add internal notes."),
            )
        if action == "assign":
            return need(
                supervisor or "assign_ticket" in perms,
                gettext_lazy("You cannot assign this ticket."),
            ) or need(
                not final,
                gettext_lazy("A finished ticket cannot be reassigned."),
                INVALID,
                TicketErrorCode.TICKET_FINISHED,
            )
        if action == "change_status":
            # Anyone who is a lifecycle party may use a status control when the table
            # leaves them a move (a requester: close or withdraw, …); which move is
            # ``why_not_move``'s question.
            return self.status_control()[0]
        if action in ("change_priority", "move_queue", "set_tags", "log_time"):
            return need(staff, gettext_lazy("Only the support team can do this."))
        if action == "merge":
            return need(
                staff, gettext_lazy("Only the support team can merge tickets.")
            ) or need(
                not final and ticket.merged_into_id is None,
                gettext_lazy("A finished or merged ticket cannot be merged."),
                INVALID,
                TicketErrorCode.NOT_MERGEABLE,
            )
        if action == "watch":
            return need(
                staff or not roles.is_staff_member(user),
                gettext_lazy("Read-only accounts cannot follow tickets."),
            )
        if action == "rate":
            return (
                need(
                    requester and "rate_ticket" in perms,
                    gettext_lazy("Only the requester can rate a ticket."),
                )
                or need(
                    status in (Status.RESOLVED, Status.CLOSED),
                    gettext_lazy("A ticket can be rated once it is resolved."),
                    INVALID,
                    TicketErrorCode.NOT_RESOLVED,
                )
                or need(
                    ticket.satisfaction_rating is None,
                    gettext_lazy("This ticket has already been rated."),
                    INVALID,
                    TicketErrorCode.ALREADY_RATED,
                )
            )
        if action in STATUS_INTENTS:
            # The portal's buttons: who may press one, then the one status-change rule.
            target, who_may, message = STATUS_INTENTS[action]
            if action == "reopen":
                who = parties(user, ticket)
            else:
                who = {lifecycle.REQUESTER} if requester else set()
                if action == "close" and staff:
                    who.add(lifecycle.STAFF)
            return need(bool(who), who_may) or need(
                (action != "reopen" or status in (Status.RESOLVED, Status.CLOSED))
                and _may_move(status, target, who),
                message,
                INVALID,
                TicketErrorCode.TRANSITION_NOT_ALLOWED,
            )
        raise AssertionError(action)  # pragma: no cover


# The portal's status buttons: action → (target status, who may press it, why not now).
STATUS_INTENTS = {
    "close": (
        Status.CLOSED,
        gettext_lazy("Only the requester or the support team can close it."),
        gettext_lazy("This ticket cannot be closed now."),
    ),
    "reopen": (
        Status.OPEN,
        gettext_lazy("Only the requester or the support team can reopen it."),
        gettext_lazy("This ticket cannot be reopened now."),
    ),
    "withdraw": (
        Status.WITHDRAWN,
        gettext_lazy("Only the requester can withdraw a ticket."),
        gettext_lazy("This ticket can no longer be withdrawn."),
    ),
}


def _may_move(current: str, new: str, who: set[str]) -> bool:
    """Whether the parties ``who`` may move a ticket from ``current`` to ``new``:
    the lifecycle part of the one status-change rule (``_move_denial`` says why
    not)."""
    return new != current and bool(who) and lifecycle.is_allowed(current, new, who)


def _move_denial(current: str, new: str, who: set[str]) -> tuple[str, str] | None:
    """None when ``_may_move``, otherwise why not (see ``why_not_move``); the
    labels and messages are translated for a refusal only."""
    if _may_move(current, new, who):
        return None
    old_label, new_label = Status(current).label, Status(new).label
    if new == current:
        return Denial(
            INVALID,
            _("The ticket is already %(status)s.") % {"status": old_label},
            TicketErrorCode.ALREADY_IN_STATUS,
        )
    if not who:
        return FORBIDDEN, _("You cannot change the status of this ticket.")
    if lifecycle.TRANSITIONS.get(current, {}).get(new):
        return (
            FORBIDDEN,
            _("You cannot move this ticket from %(old)s to %(new)s.")
            % {"old": old_label, "new": new_label},
        )
    return Denial(
        INVALID,
        _("A ticket cannot go from %(old)s to %(new)s.")
        % {"old": old_label, "new": new_label},
        TicketErrorCode.TRANSITION_NOT_ALLOWED,
    )


def why_not_move(user, ticket: Ticket, new_status: str) -> tuple[str, str] | None:
    """The one status-change rule: None when ``user`` may move ``ticket`` to
    ``new_status`` (a ``Status`` value) now, otherwise ``(kind, message)`` like
    ``why_not``. ``services.change_status`` enforces it, the desk's status control
    (``why_not(change_status)``) and the portal's close / reopen / withdraw buttons
    (``why_not(close)`` …) ask it, so no surface offers a move the service refuses
    or hides one it performs."""
    denial = why_not(user, "view", ticket)
    if denial is not None:
        return denial
    return _move_denial(ticket.status, new_status, parties(user, ticket))


def allowed_moves(user, ticket: Ticket) -> list[str]:
    """The statuses ``why_not_move`` lets ``user`` move ``ticket`` to now, in the
    lifecycle table's order (the desk's status choices)."""
    if why_not(user, "view", ticket) is not None:
        return []
    return _moves(ticket, parties(user, ticket))


def _moves(ticket: Ticket, who: set[str]) -> list[str]:
    return [
        status
        for status in lifecycle.TRANSITIONS.get(ticket.status, {})
        if _may_move(ticket.status, status, who)
    ]


def status_control(user, ticket: Ticket) -> tuple[tuple[str, str] | None, list[str]]:
    """``(why_not(user, "change_status", ticket), allowed_moves(user, ticket))`` from
    one evaluation: the desk's status control, shown and its options offered."""
    facts = _Facts.of(user, ticket)
    return (_Facts.missing(), []) if facts is None else facts.status_control()


def can(user, action: str, ticket: Ticket) -> bool:
    """May ``user`` do ``action`` (one of ``ACTIONS``) on ``ticket`` right now?
    (``why_not``'s rule; a refusal's message is not made.)"""
    return _each(user, (action,), ticket, _refused)[action] is None


def can_each(user, actions, ticket: Ticket) -> dict[str, bool]:
    """``can`` for each of ``actions`` on ``ticket`` (``why_not_each``'s rule)."""
    decided = _each(user, actions, ticket, _refused)
    return {action: denial is None for action, denial in decided.items()}


def customer_audience(ticket: Ticket) -> frozenset[int]:
    """Ids of the customers who read ``ticket``'s conversation: its requester and the
    requesters of tickets merged into it (their grants, ``tickets.grants``), every
    member of its organization when the organization shares tickets (the group grant),
    and its watchers (they are emailed every reply). The support team is left out: who
    of them sees a ticket follows its queue, which agents change anyway."""
    from . import grants

    users = get_user_model().objects.filter(
        Q(pk__in=grants.requester_ids(ticket)) | Q(watched_tickets=ticket)
    )
    group_id = grants.sharing_group_id(ticket, "view_ticket")
    if group_id is not None:
        users = users | get_user_model().objects.filter(groups=group_id)
    return frozenset(
        users.exclude(is_superuser=True)
        .exclude(groups__name__in=roles.STAFF_ROLES)
        .values_list("pk", flat=True)
        .distinct()
    )


def why_not_merge(user, source: Ticket, target: Ticket) -> tuple[str, str] | None:
    """None when ``user`` may fold ``source`` into ``target``; otherwise ``(kind,
    message)`` as ``why_not``.

    Besides ``merge`` on both tickets, a merge must not change who reads what. After
    it, the source's replies and files are read on the target by everyone who reads
    the target, and the source's requester (and watchers) read the target's whole
    conversation. So the rule is: the customer audience of both tickets
    (``customer_audience``: requesters, organization sharing, watchers) is the same
    set of people. In practice: the same requester with the same organization
    sharing, or tickets of one organization that shares its tickets with all of its
    members. A Globex ticket never goes into an Acme one, and a ticket shared with
    colleagues does not vanish into one they cannot read."""
    denial = why_not(user, "merge", source) or why_not(user, "merge", target)
    if denial is not None:
        return denial
    if source.pk == target.pk:
        return Denial(
            INVALID,
            _("A ticket cannot be merged into itself."),
            TicketErrorCode.MERGE_INTO_ITSELF,
        )
    if customer_audience(source) != customer_audience(target):
        return Denial(
            INVALID,
            _(
                "These tickets are read by different customers: merging them would "
                "show a conversation to people who cannot see it now. Merge only "
                "tickets of the same requester, or of one organization that shares "
                "its tickets."
            ),
            TicketErrorCode.AUDIENCES_DIFFER,
        )
    return None


def can_download(user, attachment: Attachment) -> bool:
    """Attachments on internal notes also need ``view_internal``."""
    ticket = attachment.ticket
    if not can(user, "download_attachment", ticket):
        return False
    if attachment.comment_id and attachment.comment.is_internal:
        return can(user, "view_internal", ticket)
    return True


# --- querysets ------------------------------------------------------------------------


def _permission_id(codename: str) -> RawSQL:
    """The ``auth_permission`` id of a ticket codename as a scalar subquery: PostgreSQL
    evaluates it once (an InitPlan) before the grant scans, and, unlike a cached id,
    it can never be stale after tests flush and recreate the permissions. Two nested
    lookups by unique keys (the content type, then the codename), not a join ordered
    by ``Permission.Meta.ordering`` and cut to one row: the same id, cheaper to plan
    (a search statement holds six of them) and, as constant SQL, to compile (bench
    FINDINGS S-4)."""
    sql = (
        f"SELECT p.id FROM {Permission._meta.db_table} p WHERE p.codename = %s "  # noqa: S608 - table names from the models
        f"AND p.content_type_id = (SELECT t.id FROM {ContentType._meta.db_table} t "
        "WHERE t.app_label = %s AND t.model = %s)"
    )
    return RawSQL(  # noqa: S611 - values as parameters
        sql,
        (codename, Ticket._meta.app_label, Ticket._meta.model_name),
        output_field=IntegerField(),
    )


def visible_tickets(user, queryset: QuerySet | None = None) -> QuerySet:
    """Tickets ``user`` may see, as one SQL query, no per-row checks. Chain
    ``.open()``, ``.for_queue()`` … on the result.

    Why this shape (bench FINDINGS T-1): ``id IN (user grants) OR id IN (group
    grants)`` made PostgreSQL filter every ticket row. Instead:

    * the tickets of a queue whose agent group the user is in are stated on the ticket
      row (``queue.agent_group``): that group holds ``view_ticket`` on exactly the
      tickets of its queue by the rule (``queue_group_grants``), stored nowhere else;
      it lets the planner walk an ``updated_at`` index and stop after a page;
    * every other grant (the user's own, organization groups, any other group) is one
      UNION of guardian rows, the permission id a scalar subquery evaluated once, so
      PostgreSQL hashes the ids and probes the primary key instead of scanning the
      table (for customers, who work no queue, this is the whole condition).
    """
    qs = Ticket.objects.all() if queryset is None else queryset
    if not _active(user):
        return qs.none()
    if sees_all(user):
        return qs
    if roles.is_staff_member(user):
        return qs.filter(_grants_condition(user.pk, True))
    if works_a_queue(user) is False:
        # No worked-queue branch at all: the planner would estimate it as a whole
        # queue's tickets whoever the user (bench FINDINGS P-5, P-6).
        return qs.filter(_rows_condition(user.pk))
    return qs.filter(_grants_condition(user.pk, False))


def _grants_q(user_pk: int, staff: bool) -> Q:
    """``visible_tickets``' condition for an active user who does not see every
    ticket. It is SQL only (grants, memberships and queues are read when the query
    runs), so a function of the user's id and of whether they are staff: built once
    per process per user (``_grants_condition``), or once per shape with the id a
    variable (``KeptVisible``). Each subquery is a ``KeptSubquery``: compiled to SQL
    once, not again by each query that puts the condition in (~7k Python calls a
    query)."""
    if not staff:
        # Customers work no queue: every group grant goes through guardian, and no OR,
        # which would bring the full scan back.
        return Q(pk__in=KeptSubquery(_granted_ids(user_pk, all_groups=True)))
    queued = _queues_worked_by(user_pk).values("pk")
    return Q(queue_id__in=KeptSubquery(queued)) | Q(
        pk__in=KeptSubquery(_granted_ids(user_pk))
    )


# A filter with it resolves copies of its subqueries, never these (as
# ``roles.names_of``).
_grants_condition = functools.lru_cache(maxsize=1024)(_grants_q)


def _probed_grants_q(user_pk: int) -> Q:
    """``_grants_q(user_pk, True)`` (a staff member's condition) with the guardian rows
    probed by index for each ticket row read (``_Probe``) instead of hashed: for a
    statement that walks a bounded index range and stops at a ``LIMIT`` (the
    workspace's other-ticket lists, ``KeptVisible(…, probed=True)``). An agent holds
    a row on every ticket ever assigned to them, so the hashed form read all of them
    for ten tickets shown (4,167 at 250k, four times that at 1M: bench FINDINGS
    W-11); a probe reads one index entry a ticket row, however many
    grants the agent holds."""
    ticket = OuterRef("pk")
    groups = _counted_groups(user_pk, all_groups=False)
    return (
        Q(queue_id__in=KeptSubquery(_queues_worked_by(user_pk).values("pk")))
        | Q(_Probe(_user_rows(user_pk).filter(content_object_id=ticket)))
        | Q(_Probe(_group_rows(groups).filter(content_object_id=ticket)))
    )


def _rows_q(user_pk: int) -> Q:
    """A customer's condition when they work no queue (``works_a_queue`` False): the
    guardian rows alone, no worked-queue branch."""
    return Q(pk__in=KeptSubquery(_granted_ids(user_pk, all_groups=True, queues=False)))


_rows_condition = functools.lru_cache(maxsize=1024)(_rows_q)


# --- whether a customer works a queue --------------------------------------------------
# A customer who is a member of some queue's agent group sees that queue's tickets
# (``queue_group_grants``): an edge, but a branch of every customer's condition, which
# PostgreSQL estimates as a whole queue's tickets whoever the user (bench FINDINGS
# P-5). So it is decided before the query is built, from the user's group names (read
# with the session user, ``roles.group_names``) and the agent groups' names, kept per
# process for one generation renewed by every save or deletion of a queue or a group.

AGENT_GROUPS_GENERATION_KEY = "tickets:agent-groups:generation"
_agent_groups = shared_cache.Generation(
    AGENT_GROUPS_GENERATION_KEY, "AGENT_GROUPS_CACHE"
)
_kept_agent_groups = shared_cache.KeptPerGeneration(1)


def _agent_group_names() -> frozenset[str] | None:
    """The names of the groups that are some queue's agent group, kept for the
    current generation; None when nothing may be kept (``AGENT_GROUPS_CACHE`` off, by
    default without a shared cache; a change of the current transaction waiting for
    its commit; the cache down)."""
    generation = _agent_groups.current()
    if generation is None:
        return None
    from django.contrib.auth.models import Group

    def read():
        return frozenset(
            Group.objects.filter(
                pk__in=Queue.objects.order_by().values("agent_group_id")
            ).values_list("name", flat=True)
        )

    return _kept_agent_groups.get(generation, "names", read)


def works_a_queue(user) -> bool | None:
    """Whether ``user`` (an active user) is a member of some queue's agent group, from
    their group names (no statement when they were read with the user) and the kept
    agent groups' names; None when that cannot be decided without a statement
    (``_agent_group_names``): the callers then state the worked queues in SQL, as
    before, for the same rows. Group names are unique (``auth.Group``). Kept on the
    instance with its group names: a long-lived instance (a live stream's user) sees
    a change of the agent groups when it sees a change of its own groups, at the
    next read of the user."""
    groups = roles.group_names(user)
    kept = user.__dict__.get("_works_a_queue")
    if kept is not None and kept[0] is groups:
        return kept[1]
    names = _agent_group_names()
    if names is None:
        return None
    works = not names.isdisjoint(groups)
    # For the rest of the request (a GraphQL list asks three times), as long as the
    # instance keeps the group names it was decided from.
    user.__dict__["_works_a_queue"] = (groups, works)
    return works


def agent_groups_kept() -> bool:
    """Whether anything is kept under the agent groups' generation
    (``AGENT_GROUPS_GENERATION_KEY``): for a page that reads it ahead with others
    (``portal.cache.generations_read_together``)."""
    return _agent_groups.enabled()


def agent_groups_changed(**kwargs) -> None:
    """A queue or a group was saved or deleted: forget the agent groups' names in this
    process now, in every process once the change commits."""
    _kept_agent_groups.forget()
    _kept_worked_queues.forget()
    _agent_groups.changed()


def connect() -> None:
    """The receivers that keep the agent groups' names current (``TicketsConfig``)."""
    from django.contrib.auth.models import Group
    from django.db.models.signals import post_delete, post_save

    for model in (Queue, Group):
        for name, signal in (("saved", post_save), ("deleted", post_delete)):
            signal.connect(
                agent_groups_changed,
                sender=model,
                dispatch_uid=f"tickets.permissions.agent_groups.{model.__name__}.{name}",
            )


def _customer_arms(user_pk: int) -> tuple[Q, Q]:
    """``_grants_q(user_pk, False)`` (a customer's condition) as two conditions of
    which exactly one can hold, each gated by whether the user works a queue (is in
    some queue's agent group): without, the guardian rows alone; with, the whole
    condition. The gate is a condition on no row (PostgreSQL runs it once, before the
    rest, and plans the rest without it), so the planner of the first never sees the
    worked-queue branch, which it estimates as a whole queue's tickets (~50k at 250k)
    whoever the user: with it in, every customer's page hashed the grants and read
    every open ticket's index entry (bench FINDINGS P-5)."""
    works = Exists(_queues_worked_by(user_pk))
    return Q(~works) & _rows_q(user_pk), Q(works) & _grants_q(user_pk, False)


class KeptVisible:
    """A query over ``visible_tickets(user)`` run often, its SQL compiled once per
    shape of the rule (``portal.sql.KeptStatement``), not once per user.

    ``visible_tickets`` depends on the user through a few facts only, each a shape:
    inactive or anonymous (no rows, and no query), sees every ticket (no condition),
    or the grants condition (``_grants_q``) of a staff member or of a customer, in
    which the user's id is a value. ``build(visible, **values)`` states the query on
    ``visible``, the rule's queryset for the shape, the values named by ``variables``
    (``KeptStatement``'s stand-ins at compile time); ``instances(user, **values)``
    gives the model instances that query on ``visible_tickets(user)`` gives."""

    def __init__(self, build, variables: tuple[str, ...], *, probed: bool = False):
        if "user" in variables:
            raise ValueError("KeptVisible: the user is not one of the variables")
        self.build = build
        self.variables = tuple(variables)
        # a staff member's grants probed row by row (``_probed_grants_q``), for a
        # query that reads a bounded range of tickets: not hashed whole
        self.probed = probed
        self._statements = {}

    @staticmethod
    def shape(user) -> str | None:
        """``visible_tickets``' shape for ``user``: None (nothing), "all", "staff" or
        "customer"."""
        if not _active(user):
            return None
        if sees_all(user):
            return "all"
        return "staff" if roles.is_staff_member(user) else "customer"

    def _statement(self, shape: str) -> KeptStatement:
        kept = self._statements.get(shape)
        if kept is None:
            if shape == "all":
                kept = KeptStatement(
                    lambda **values: self.build(Ticket.objects.all(), **values),
                    self.variables,
                )
            elif shape == "customer":
                kept = _EitherStatement([self._customer_arm(arm) for arm in range(2)])
            else:
                condition = {
                    "staff": _probed_grants_q
                    if self.probed
                    else lambda user: _grants_q(user, True),
                    "customer-queues": lambda user: _grants_q(user, False),
                    "customer-rows": _rows_q,
                }[shape]

                def build(user, **values):
                    visible = Ticket.objects.filter(condition(user))
                    return self.build(visible, **values)

                kept = KeptStatement(build, ("user", *self.variables))
            self._statements[shape] = kept
        return kept

    def _customer_arm(self, arm: int) -> KeptStatement:
        def build(user, **values):
            visible = Ticket.objects.filter(_customer_arms(user)[arm])
            return self.build(visible, **values)

        return KeptStatement(build, ("user", *self.variables))

    @staticmethod
    def _kind(user, shape: str) -> str:
        """The statement for ``shape``: a customer's is decided by ``works_a_queue``
        ("customer-rows": no worked-queue branch; "customer-queues": with it) or,
        undecided, "customer": both, each gated in SQL (``_customer_arms``)."""
        if shape != "customer":
            return shape
        works = works_a_queue(user)
        if works is None:
            return shape
        return "customer-queues" if works else "customer-rows"

    def instances(self, user, **values) -> list:
        shape = self.shape(user)
        if shape is None:
            return []
        if shape == "all":
            return self._statement(shape).instances(**values)
        kind = self._kind(user, shape)
        return self._statement(kind).instances(user=user.pk, **values)

    def forget(self) -> None:
        """Compile again at the next use (tests that change the database vendor)."""
        for kept in self._statements.values():
            kept.forget()

    @staticmethod
    def instances_each(user, asked) -> list[list]:
        """``[kept.instances(user, **values) for kept, values in asked]`` read by ONE
        statement: each kept query a subquery of a ``UNION ALL``, its rows tagged by
        its place, so each keeps its own plan (its ``ORDER BY`` and ``LIMIT`` stay
        inside it). The queries select the same columns (a ``UNION``'s parts must).
        ``UNION ALL`` gives each part's rows in that part's order (PostgreSQL's Append
        and SQLite's compound run the parts one after the other)."""
        asked = list(asked)
        shape = KeptVisible.shape(user)
        if shape is None:
            return [[] for _ in asked]
        kind = KeptVisible._kind(user, shape)
        statements, parts, params = [], [], []
        for place, (kept, values) in enumerate(asked):
            statement = kept._statement(kind)
            if shape != "all":
                values = {"user": user.pk, **values}
            sql, part_params = statement.statement(**values)
            part = f"SELECT {place}, p{place}.* FROM ({sql}) p{place}"  # noqa: S608 - kept SQL, values as parameters
            parts.append(part)
            params += part_params
            statements.append(statement)
        found = [[] for _ in asked]
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            for row in cursor.fetchall():
                found[row[0]].append(row[1:])
        return [
            statement.instances_of(rows)
            for statement, rows in zip(statements, found, strict=True)
        ]


class _EitherStatement:
    """Kept statements whose conditions exclude each other (``_customer_arms``) run
    as one, ``SELECT * FROM (first) UNION ALL SELECT * FROM (second)``: the rows of
    the one whose condition holds, in its order. ``KeptStatement``'s ``statement``,
    ``instances_of``, ``instances`` and ``forget``, for ``KeptVisible``."""

    def __init__(self, arms: list[KeptStatement]):
        self.arms = arms

    def statement(self, using: str = DEFAULT_DB_ALIAS, **values) -> tuple[str, list]:
        parts, params = [], []
        for place, arm in enumerate(self.arms):
            sql, arm_params = arm.statement(using, **values)
            parts.append(f"SELECT * FROM ({sql}) e{place}")  # noqa: S608 - kept SQL, values as parameters
            params += arm_params
        return " UNION ALL ".join(parts), params

    def instances_of(self, rows, using: str = DEFAULT_DB_ALIAS) -> list:
        return self.arms[0].instances_of(rows, using)  # the same columns

    def instances(self, using: str = DEFAULT_DB_ALIAS, **values) -> list:
        sql, params = self.statement(using, **values)
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return self.instances_of(rows, using)

    def forget(self) -> None:
        for arm in self.arms:
            arm.forget()


def _is_agent_group():
    return Exists(Queue.objects.filter(agent_group_id=OuterRef("group_id")))


def _granted_ids(
    user_pk: int, *, all_groups: bool = False, queues: bool = True, view=None
) -> QuerySet:
    """Ids of the tickets the user ``user_pk`` holds ``view_ticket`` on through guardian
    rows: their own, and their groups' (all groups, or only those that are no queue's
    agent group, whose tickets ``visible_tickets`` states by queue instead), as one
    UNION. ``all_groups``: with the queue group's rule too, the tickets of the queues
    whose agent group the user is in (``queue_group_grants``), a UNION branch by
    ``queue_id`` (a customer who is a member of an agent group), unless ``queues``
    is False (``_customer_arms``: the rows alone). ``view``: the permission's id as
    SQL (``_permission_id`` unless a larger statement reads it once)."""
    by_user = _user_rows(user_pk, view).values("content_object_id")
    by_group = _granted_to_groups(user_pk, all_groups=all_groups, view=view)
    if not all_groups or not queues:
        return by_user.union(by_group)
    by_queue = (
        Ticket.objects.filter(queue_id__in=_queues_worked_by(user_pk).values("pk"))
        .order_by()
        .values("pk")
    )
    return by_user.union(by_group, by_queue)


def _granted_to_groups(
    user_pk: int, *, all_groups: bool = False, view=None
) -> QuerySet:
    """``_granted_ids``' group part: the ids of the tickets on which a group of the user
    ``user_pk`` holds ``view_ticket`` (all their groups, or those that are no queue's
    agent group)."""
    groups = _counted_groups(user_pk, all_groups=all_groups)
    return _group_rows(groups, view).values("content_object_id")


def _counted_groups(user_pk: int, *, all_groups: bool) -> QuerySet:
    """The ids of the groups whose ``view_ticket`` rows count for the user ``user_pk``:
    all their groups, or (``all_groups`` False: a staff member, whose queues' tickets
    the rule states by queue) those that are no queue's agent group. One place for
    the hashed form (``_granted_to_groups``) and the probed one (``_probed_grants_q``)."""
    membership = _memberships(user_pk)
    if not all_groups:
        membership = membership.filter(~_is_agent_group())
    return membership.values("group_id")


def _user_rows(user_pk: int, view=None) -> QuerySet:
    """The user ``user_pk``'s own ``view_ticket`` rows: the rule's first half, which
    every form of it (``_granted_ids``, ``customer_grant_probe``) reads."""
    view = _permission_id("view_ticket") if view is None else view
    return TicketUserObjectPermission.objects.filter(
        user_id=user_pk, permission_id=view
    )


def _group_rows(groups, view=None) -> QuerySet:
    """The ``view_ticket`` rows of ``groups`` (ids, or a subquery of them): the rule's
    second half."""
    view = _permission_id("view_ticket") if view is None else view
    return TicketGroupObjectPermission.objects.filter(
        group_id__in=groups, permission_id=view
    )


def _memberships(user_pk: int) -> QuerySet:
    return get_user_model().groups.through.objects.filter(user_id=user_pk)


# --- a customer's grants inside a larger statement (``tickets.portal.walk``) -----------
# ``_rows_q``'s rule (a customer who works no queue sees the tickets they, or a group
# they are a member of, hold a ``view_ticket`` row on), built from the same rows
# (``_user_rows``, ``_group_rows``, ``_memberships``) in the forms a walk of their
# organizations' tickets needs. ``view``: the permission's id as SQL
# (``view_ticket_id``), which such a statement reads once.


class _Probe(Exists):
    """``EXISTS`` of one row, run as an index probe for each outer row: on PostgreSQL
    the OFFSET keeps the planner from turning it into a hashed IN over every row it
    could match, all the grants hashed for a page (bench FINDINGS P-10); elsewhere a
    plain ``EXISTS`` (SQLite takes no OFFSET without a LIMIT)."""

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="EXISTS(%(subquery)s OFFSET 0)",
            **extra_context,
        )


def view_ticket_id() -> RawSQL:
    """The id of ``view_ticket`` as a scalar subquery (``_permission_id``)."""
    return _permission_id("view_ticket")


def customer_grant_probe(user_pk: int, organization_group: int, view) -> Q:
    """On a ticket queryset: whether the customer ``user_pk`` holds a ``view_ticket``
    row on the ticket, probed by index row by row, in the order that finds most rows
    first: the group ``organization_group``'s row when the user is its member (the
    membership read once), then their own row, then any of their groups' rows."""
    ticket = OuterRef("pk")
    member = Exists(_memberships(user_pk).filter(group_id=organization_group))
    by_organization = _group_rows([organization_group], view)
    by_groups = _group_rows(_memberships(user_pk).values("group_id"), view)
    return (
        (member & _Probe(by_organization.filter(content_object_id=ticket)))
        | _Probe(_user_rows(user_pk, view).filter(content_object_id=ticket))
        | _Probe(by_groups.filter(content_object_id=ticket))
    )


def customer_granted_ids(user_pk: int, view) -> QuerySet:
    """The ids of ``_rows_q``'s tickets (``_granted_ids``' rows alone), one column:
    ``content_object_id``, as ``customer_granted_ids_outside``'s."""
    return _granted_ids(user_pk, all_groups=True, queues=False, view=view)


def customer_granted_ids_outside(user_pk: int, shared, view) -> QuerySet:
    """The ids of ``_rows_q``'s tickets that a probe (``customer_grant_probe``) of
    the tickets of the organizations ``shared`` (``(organization, group)`` pairs)
    does not find, and some it does: the user's own rows, their other groups' rows,
    and the rows of those organizations' groups on other tickets (against the
    grants' invariant, written by hand: read from the organizations' ticket ids)."""
    organizations = [organization for organization, _group in shared]
    groups = [group for _organization, group in shared]
    memberships = _memberships(user_pk).values("group_id")
    theirs = Ticket.objects.filter(organization_id__in=organizations).values("pk")
    return (
        _user_rows(user_pk, view)
        .values("content_object_id")
        .union(
            _group_rows(memberships, view)
            .exclude(group_id__in=groups)
            .values("content_object_id"),
            _group_rows(memberships, view)
            .filter(group_id__in=groups)
            .exclude(content_object_id__in=theirs)
            .values("content_object_id"),
        )
    )


def _granting_groups(user_pk: int) -> QuerySet:
    """The user ``user_pk``'s memberships of groups that are no queue's agent group and
    hold ``view_ticket`` on some ticket: from the memberships, one index probe of the
    group's grants each (not every group grant: ``_granted_to_groups``)."""
    grants = TicketGroupObjectPermission.objects.filter(
        group_id=OuterRef("group_id"), permission_id=_permission_id("view_ticket")
    )
    membership = get_user_model().groups.through.objects.filter(user_id=user_pk)
    return membership.filter(~_is_agent_group()).filter(Exists(grants)).values("pk")


def count_visible(user, queryset: QuerySet | None = None) -> int:
    """``visible_tickets(user, queryset).count()``, exactly, without counting the OR.

    ``queryset`` is the caller's narrowing of ``Ticket.objects`` (filters, no
    visibility); the result is the number of its rows ``user`` may see, by the same
    rules as ``visible_tickets``. Counting ``id IN (grants) OR queue_id IN (worked
    queues)`` makes PostgreSQL test every ticket row (250k: 100+ ms), so for the
    support team the two parts are counted apart, without double counting:
    |F ∩ (A ∪ B)| = |F ∩ A| + |F ∩ (B \\ A)|, with A the tickets of the worked queues
    and B the granted ones. The worked queues' ids are read first (one small query)
    so that the planner sees literal ids: it then counts A on the ``queue_id`` index
    and B \\ A by probing the covering index on ``(id) INCLUDE (queue_id, …)`` for
    each grant; both counts go to the database as one statement
    (``SELECT COUNT(*) + (SELECT COUNT(*) …)``).

    Unnarrowed (every ticket: an integrator's plain list), the support team's count
    is |A| + |B \\ A| read from the numbers the database keeps per queue and per
    user and queue (``QueueTally``, ``GrantTally``: a few rows whatever the number of
    tickets; bench FINDINGS G-8; for supervisors and viewers the sum of every
    queue's number), or, when a group of theirs holds grants too,
    |B| + |A \\ B| from index entries only (``_whole_table_count``); narrowed counts
    (a status, a queue, a search) are counted from the tickets as above;
    the statement is a function of the user's id, their kind and their worked queues'
    ids only (every grant and membership is read when it runs), so it is compiled
    once per process: building and compiling the UNION count took ~6 ms of
    Python a request, several times its planning and execution (bench FINDINGS G-3)."""
    qs = (Ticket.objects.all() if queryset is None else queryset).order_by()
    if not _active(user) or qs.query.is_empty():
        return 0
    whole = _is_whole_table(qs)
    if sees_all(user):
        if whole:  # every ticket is in a queue: the sum of every queue's number
            tally = QueueTally.objects.using(qs.db)
            return tally.aggregate(n=Coalesce(Sum("tickets"), 0))["n"]
        return visible_tickets(user, qs).count()
    if not roles.is_staff_member(user):
        if whole:
            queues = works_a_queue(user) is not False
            count = _whole_table_count(qs.db, user.pk, None, queues=queues)
            return _run_count(qs.db, *count)
        return visible_tickets(user, qs).count()
    queue_ids = tuple(worked_queues(user).order_by().values_list("pk", flat=True))
    if whole:
        return _run_count(qs.db, *_whole_table_count(qs.db, user.pk, queue_ids))
    if not queue_ids:
        return qs.filter(pk__in=_granted_ids(user.pk)).count()
    return qs.filter(queue_id__in=queue_ids).aggregate(
        n=Count("*") + _granted_elsewhere(qs, user.pk, queue_ids)
    )["n"]


def count_visible_up_to(user, queryset: QuerySet | None, n: int) -> int:
    """``min(count_visible(user, queryset), n)``: the visible rows counted no further
    than ``n``, so its cost follows ``n``, not the size of the table (bench FINDINGS
    G-4). By the same rules as ``count_visible``: for the support team |F ∩ A| first
    (the worked queues' index range, stopping at ``n``), and |F ∩ (B \\ A)| only when
    that did not reach ``n`` (the grants outside the worked queues, which an agent's
    own assignments make long)."""
    if n < 0:
        raise ValueError("count_visible_up_to: n must be 0 or more")
    qs = (Ticket.objects.all() if queryset is None else queryset).order_by()
    if n == 0 or not _active(user) or qs.query.is_empty():
        return 0
    if sees_all(user):
        return _up_to(visible_tickets(user, qs), n)
    staff = roles.is_staff_member(user)
    queue_ids = (
        tuple(worked_queues(user).order_by().values_list("pk", flat=True))
        if staff
        else ()
    )
    if not queue_ids and _is_whole_table(qs):
        # As ``_whole_table_count``: the grant ids themselves, no ticket read.
        queues = staff or works_a_queue(user) is not False  # staff: no such branch
        granted = _granted_ids(user.pk, all_groups=not staff, queues=queues)
        return granted.using(qs.db).order_by()[:n].count()
    if not staff:
        return _up_to(visible_tickets(user, qs), n)
    if not queue_ids:
        return _up_to(qs.filter(pk__in=_granted_ids(user.pk)), n)
    queued = _up_to(qs.filter(queue_id__in=queue_ids), n)
    if queued >= n:
        return n
    granted = qs.filter(pk__in=_granted_ids(user.pk)).exclude(queue_id__in=queue_ids)
    return queued + _up_to(granted, n - queued)


def _up_to(qs: QuerySet, n: int) -> int:
    """The number of ``qs``'s rows, counting no further than ``n``."""
    return qs.order_by().values("pk")[:n].count()


def _granted_elsewhere(qs: QuerySet, user_pk: int, queue_ids: tuple[int, ...]):
    """The number of ``qs``'s tickets outside ``queue_ids`` granted to the user
    ``user_pk``, as a scalar subquery (B \\ A of ``count_visible``)."""
    granted = qs.filter(pk__in=_granted_ids(user_pk)).exclude(queue_id__in=queue_ids)
    return Subquery(_counted(granted), output_field=IntegerField())


def _counted(qs: QuerySet, extra=None) -> QuerySet:
    """``qs``'s count (plus ``extra``) as a one-row ``values("n")`` queryset: grouped
    by a constant, which Django leaves out, it is one row even when nothing matches
    (SELECT COUNT(*) + (SELECT COUNT(*) …)), and its SQL can be kept, where
    ``aggregate`` runs at once."""
    n = Count("*") if extra is None else Count("*") + extra
    return qs.annotate(_all=Value(1)).values("_all").annotate(n=n).values("n")


def _is_whole_table(qs: QuerySet) -> bool:
    """Whether ``qs`` is every ticket: no filter, join, annotation or slice."""
    query = qs.query
    return (
        qs.model is Ticket
        and not query.where
        and not query.annotations
        and not query.extra
        and query.combinator is None
        and not query.distinct
        and query.low_mark == 0
        and query.high_mark is None
    )


@functools.lru_cache(maxsize=1024)
def _whole_table_count(
    alias: str, user_pk: int, queue_ids: tuple[int, ...] | None, *, queues=True
) -> tuple[str, tuple]:
    """The compiled ``count_visible`` of every ticket for the user ``user_pk``: a
    customer (``queue_ids`` None; ``queues`` False: one who works no queue,
    ``works_a_queue``) or a member of the support team working ``queue_ids`` (none:
    ``()``). SQL and parameters only; nothing read from the database."""
    if not queue_ids:
        # Every visible ticket is a granted one, and every grant row's ticket exists
        # (``content_object`` is a foreign key): the grant ids are counted as they
        # are, the UNION removing the ticket granted twice, without a probe of the
        # ticket table per grant (a big organization's customer: 5k probes).
        granted = _granted_ids(
            user_pk, all_groups=queue_ids is None, queues=queues
        ).using(alias)
        sql, params = granted.query.get_compiler(using=alias).as_sql()
        return f"SELECT COUNT(*) FROM ({sql}) granted", tuple(params)  # noqa: S608 - compiled SQL, values as parameters
    # |A ∪ B| = |A| + |B \ A| from the numbers the triggers keep (``QueueTally``:
    # the worked queues' tickets; ``GrantTally``: the user's own view rows on the
    # other queues' tickets): a few rows, whatever the number of tickets (bench
    # FINDINGS G-8). Exact when B is the user's own rows only and the user's rows are
    # counted (``TalliedUser``: listed when they joined a queue's agent group); a grant
    # to one of their groups (no queue's agent group: an edge) may overlap them, so
    # then, or when the user is not listed, decided by the statement itself,
    # |B| + |A \ B| as V-2: the grant ids counted as they are
    # and the worked queues' entries of ``ticket_queue_id_idx`` not granted.
    queued_tally = QueueTally.objects.filter(queue_id__in=queue_ids)
    queued_n = _compiled(_summed(queued_tally), alias)
    elsewhere = GrantTally.objects.filter(user_id=user_pk)
    elsewhere_n = _compiled(_summed(elsewhere.exclude(queue_id__in=queue_ids)), alias)
    grouped = _compiled(_granting_groups(user_pk).using(alias), alias)
    tallied = _compiled(TalliedUser.objects.using(alias).filter(pk=user_pk), alias)
    granted = _compiled(_granted_ids(user_pk).using(alias), alias)
    queued = Ticket.objects.using(alias).order_by().filter(queue_id__in=queue_ids)
    ungranted = _compiled(_counted(queued.exclude(pk__in=_granted_ids(user_pk))), alias)
    return (
        f"SELECT CAST(CASE WHEN EXISTS ({grouped[0]}) "  # noqa: S608 - compiled SQL, values as parameters
        f"OR NOT EXISTS ({tallied[0]}) "
        f"THEN (SELECT COUNT(*) FROM ({granted[0]}) granted) + ({ungranted[0]}) "
        f"ELSE ({queued_n[0]}) + ({elsewhere_n[0]}) END AS bigint)",
        (
            *grouped[1],
            *tallied[1],
            *granted[1],
            *ungranted[1],
            *queued_n[1],
            *elsewhere_n[1],
        ),
    )


def _summed(qs: QuerySet) -> QuerySet:
    """The sum of a tally's rows as a one-row ``values("n")`` queryset (0 when none),
    grouped by a constant as ``_counted``."""
    n = Coalesce(Sum("tickets"), 0)
    return (
        qs.order_by().annotate(_all=Value(1)).values("_all").annotate(n=n).values("n")
    )


def _compiled(qs: QuerySet, alias: str) -> tuple[str, tuple]:
    sql, params = qs.query.get_compiler(using=alias).as_sql()
    return sql, tuple(params)


def _run_count(alias: str, sql: str, params: tuple) -> int:
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def worked_queues(user) -> QuerySet:
    """The queues ``user`` works: all of them for supervisors and viewers, else those
    whose agent group the user belongs to."""
    if not _active(user):
        return Queue.objects.none()
    if sees_all(user):
        return Queue.objects.all()
    return _queues_worked_by(user.pk)


# The worked queues' rows, kept per process for the agent groups' generation (renewed
# by every save or deletion of a queue or a group: a rename, a new agent group) per
# the user's role names (read with the user each request: a change of their groups is
# seen at once) or "every queue"; at most this many keys.
KEPT_WORKED_QUEUES = 1024
_kept_worked_queues = shared_cache.KeptPerGeneration(KEPT_WORKED_QUEUES)


def worked_queue_list(user) -> list:
    """``list(worked_queues(user))``, the same rows in the same order, without the
    statement where they are kept (``_kept_worked_queues``): new instances each call
    (``portal.instances``), made from the kept rows. Read each time where nothing may
    be kept (``_agent_group_names``' switch, a change of this transaction waiting
    for its commit, the cache down). Group names are unique (``auth.Group``), so a
    user's names stand for their groups within a generation."""
    if not _active(user):
        return []
    generation = _agent_groups.current()
    if generation is None:
        return list(worked_queues(user))
    every = sees_all(user)
    key = "every" if every else frozenset(roles.group_names(user))
    names = _queue_attnames()

    def read():
        queues = worked_queues(user)
        return queues.db, tuple(queues.values_list(*names))

    db, rows = _kept_worked_queues.get(generation, key, read)
    plain = instances.plainly_made(Queue)
    return [instances.from_db(Queue, db, names, row, plain=plain) for row in rows]


@functools.cache
def _queue_attnames() -> list[str]:
    return [field.attname for field in Queue._meta.concrete_fields]


def _queues_worked_by(user_pk: int) -> QuerySet:
    """The queues whose agent group the user ``user_pk`` belongs to."""
    membership = get_user_model().groups.through.objects.filter(user_id=user_pk)
    return Queue.objects.filter(agent_group_id__in=membership.values("group_id"))


def queues_for(user) -> QuerySet:
    """Queues to offer ``user``: the ones they work if they are on the support team,
    otherwise the ones they may file a ticket into. Queues have no "closed to the
    portal" flag, so a customer who may file tickets (``accounts.permissions.
    can_file_tickets``) is offered every queue, and one who may not, none."""
    from accounts.permissions import can_file_tickets

    if not _active(user):
        return Queue.objects.none()
    if user.is_superuser or roles.is_staff_member(user):
        return worked_queues(user)
    if can_file_tickets(user):
        return Queue.objects.all()
    return Queue.objects.none()


def assignable_agents(ticket: Ticket) -> QuerySet:
    """The people ``ticket`` may be assigned to: active agents of its queue,
    supervisors and administrators, by name. The one rule behind the desk's assignee
    choices and ``services.assign`` (which the desk's bulk action and GraphQL's
    ``assignTicket`` call). The group memberships are a subquery, not a join (which
    made PostgreSQL hash every user and membership), so no DISTINCT either."""
    User = get_user_model()  # noqa: N806
    members = User.groups.through.objects.filter(
        Q(group_id=ticket.queue.agent_group_id) | Q(group__name=roles.SUPERVISORS)
    ).values("user_id")
    return (
        User.objects.filter(is_active=True)
        .filter(Q(pk__in=members) | Q(is_superuser=True))
        .order_by("display_name", "email")
    )


def may_be_assigned(user, ticket: Ticket) -> bool:
    """Whether ``ticket`` may be given to ``user`` (``assignable_agents``)."""
    return _active(user) and assignable_agents(ticket).filter(pk=user.pk).exists()


def get_ticket_for(user, reference: str, action: str = "view") -> Ticket:
    """The ticket with this reference if ``user`` may do ``action`` on it; otherwise
    ``TicketNotFound`` — the same error as for a reference that does not exist."""
    from .exceptions import TicketNotFound

    reference = str(reference).strip().upper()
    if "\x00" in reference:  # PostgreSQL refuses NUL in a query: no such ticket
        raise TicketNotFound(_("No such ticket."))
    found = _BY_REFERENCE.instances(user, reference=reference)
    if not found:
        raise TicketNotFound(_("No such ticket."))
    ticket = found[0]  # ``reference`` is unique
    if action != "view" and not can(user, action, ticket):
        raise TicketNotFound(_("No such ticket."))
    return ticket


# ``visible_tickets(user).select_related(…).get(reference=…)``, compiled once per
# shape; no ordering, as ``get`` drops it.
_BY_REFERENCE = KeptVisible(
    lambda visible, reference: (
        visible.select_related("requester", "assignee", "queue", "organization")
        .filter(reference=reference)
        .order_by()
    ),
    ("reference",),
)


# --- what hangs off a visible ticket ----------------------------------------------------
# Replies are public; internal notes, the files attached to them and the events about
# them are for whoever may ``view_internal`` on the ticket. Each ``*_visible_to`` returns
# a ``Q`` for that model and assumes the ticket itself is visible (callers start from
# ``visible_tickets`` or ``can(user, "view", ticket)``). With ``ticket`` the decision is
# made once from its cached permissions; without, it is made per row in SQL, so that a
# ``Prefetch`` across a whole page of tickets stays one query per relation.

INTERNAL_EVENT_KINDS = (EventKind.NOTE_ADDED, EventKind.TIME_LOGGED)
# The events a customer reads about their ticket (the portal page's history and
# GraphQL alike): what happened to the request itself. Every other kind (assignment,
# queue moves, tags, watchers, SLA breaches, sharing) is the support team's working
# record, and a kind added later stays the team's until it is listed here.
CUSTOMER_EVENT_KINDS = (
    EventKind.CREATED,
    EventKind.STATUS_CHANGED,
    EventKind.PRIORITY_CHANGED,
    EventKind.COMMENTED,
    EventKind.ATTACHMENT_ADDED,
    EventKind.MERGED,
    EventKind.RATED,
    EventKind.AUTO_CLOSED,
)

_PUBLIC_COMMENTS = Q(is_internal=False)
_PUBLIC_ATTACHMENTS = Q(comment__isnull=True) | Q(comment__is_internal=False)
# ``~Q(data__internal=True)`` alone would be NULL, hence false, for the many events
# whose data has no "internal" key, hiding them.
_PUBLIC_EVENTS = ~Q(kind__in=INTERNAL_EVENT_KINDS) & (
    Q(data__internal__isnull=True) | ~Q(data__internal=True)
)


def _internal_visible_q(
    user, ticket_ref: str = "ticket_id", *, all_groups: bool = True
) -> Q | None:
    """SQL for ``can(user, "view_internal", row.ticket)``: the ``view_internal_notes``
    object permission, directly, through a group or by the queue group's rule
    (``queue_group_grants``); None: every ticket (supervisors, viewers). ``ticket_ref``: the row's column holding the ticket id ("pk" on
    tickets). ``all_groups=False``: only through groups that are no queue's agent
    group (the caller states those by queue, as ``visible_tickets`` does)."""
    if sees_all(user):
        return None
    if not _active(user):
        return Q(pk__in=[])
    return _internal_grants_condition(user.pk, ticket_ref, all_groups)


@functools.lru_cache(maxsize=1024)
def _internal_grants_condition(user_pk: int, ticket_ref: str, all_groups: bool) -> Q:
    """``_internal_visible_q``'s condition for an active user who does not see every
    ticket: SQL only (grants and memberships are read when the query runs), so built
    once per process for the user's id, as ``_grants_condition`` (a filter with it
    resolves copies of its subqueries, never these; building it cost each search ~3k
    Python calls, bench FINDINGS S-1)."""
    # Correlated EXISTS probes of the guardian unique indexes, one per row that needs
    # it: ``ticket_id IN (grants)`` made PostgreSQL hash every grant of the user's
    # queue groups (50k for an agent of a large queue) to filter a page's comments.
    membership = get_user_model().groups.through.objects.filter(user_id=user_pk)
    if not all_groups:
        membership = membership.filter(~_is_agent_group())
    perm_id = _permission_id("view_internal_notes")
    by_user = TicketUserObjectPermission.objects.filter(
        content_object_id=OuterRef(ticket_ref), user_id=user_pk, permission_id=perm_id
    )
    by_group = TicketGroupObjectPermission.objects.filter(
        content_object_id=OuterRef(ticket_ref),
        group_id__in=KeptSubquery(membership.values("group_id")),
        permission_id=perm_id,
    )
    granted = Q(Exists(by_user)) | Q(Exists(by_group))
    if not all_groups:
        return granted
    # the queue group's rule: the row's ticket is in a queue the user works
    by_queue = Ticket.objects.filter(
        pk=OuterRef(ticket_ref),
        queue_id__in=KeptSubquery(_queues_worked_by(user_pk).values("pk")),
    )
    return granted | Q(Exists(by_queue))


# "Nothing without ``view_internal``" (time entries): kept out of the OR below rather
# than left for the compiler to drop as an empty branch.
_NO_ROWS = Q(pk__in=[])


def _visible_given(view_internal: bool, public: Q) -> Q:
    """The condition on one ticket's rows for a user who may (or may not)
    ``view_internal`` on it."""
    return Q() if view_internal else public


def _events_given(view_internal: bool, support_team: bool) -> Q:
    """``events_visible_to`` on one ticket, from the two facts it depends on."""
    visible = _visible_given(view_internal, _PUBLIC_EVENTS)
    return visible if support_team else visible & Q(kind__in=CUSTOMER_EVENT_KINDS)


def _visible_to(user, ticket: Ticket | None, public: Q) -> Q:
    if ticket is not None:
        return _visible_given(can(user, "view_internal", ticket), public)
    internal = _internal_visible_q(user)
    if internal is None:
        return Q()
    return internal if public is _NO_ROWS else public | internal


def notes_searchable(user) -> bool | Q:
    """Where ``user``'s ticket search (``TicketQuerySet.search(text, notes=...)``)
    may match and quote internal notes: ``True`` on every ticket (supervisors,
    viewers), ``False`` on none (inactive or anonymous), else a ``Q`` on tickets: those
    where ``can(user, "view_internal", ticket)``, by the same permission rows. A
    customer holds no ``view_internal_notes`` grant (``AGENT_PERMS`` go to the
    queue's group and the assignee), so is answered ``False`` without asking rows.
    The tickets of the user's worked queues are stated by queue, first (the queue's
    agent group holds ``view_internal_notes`` on exactly its tickets, the rule
    ``queue_group_grants``), then the other grants by guardian rows."""
    if not is_support_team(user):
        return False
    internal = _internal_visible_q(user, ticket_ref="pk", all_groups=False)
    if internal is None:
        return True
    if internal == Q(pk__in=[]):
        return False
    return _notes_condition(user.pk)


@functools.lru_cache(maxsize=1024)
def _notes_condition(user_pk: int) -> Q:
    """``notes_searchable``'s ``Q`` for an active support-team member who does not
    see every ticket: SQL only, built once per process for the user's id (as
    ``_grants_condition``), the worked queues a ``KeptSubquery`` (compiled once)."""
    queued = KeptSubquery(_queues_worked_by(user_pk).values("pk"))
    return Q(queue_id__in=queued) | _internal_grants_condition(user_pk, "pk", False)


@dataclass(frozen=True)
class WorkedQueueRule:
    """``worked_queue_rule``'s answer: ``condition``, the tickets of the queues the
    user works, in SQL; ``notes``, whether internal notes count on each of them in
    the user's search (``notes_searchable``'s verdict on those tickets)."""

    condition: Q
    notes: bool


def worked_queue_rule(user) -> WorkedQueueRule | None:
    """The tickets of the queues ``user`` works, as a condition read when the query
    runs (the agent group's membership then, not a list read by an earlier
    statement), on which the queue group's rule (``queue_group_grants``: the group
    holds ``view_ticket`` and ``view_internal_notes`` on each) alone decides: every
    one is in ``visible_tickets(user)``, and ``notes_searchable(user)`` holds on
    every one or on none (``notes``). A query narrowed to the worked queues may take
    it instead of both conditions (the inbox's ranked search in its queue views).
    None where the policy is not stated by the worked queues: users who see every
    ticket (no condition to drop), customers, inactive or anonymous users."""
    if not _active(user) or sees_all(user) or not roles.is_staff_member(user):
        return None
    notes = notes_searchable(user)
    # a support-team member's ``Q`` holds the worked queues (``_notes_condition``)
    return WorkedQueueRule(_worked_queue_condition(user.pk), notes is not False)


@functools.lru_cache(maxsize=1024)
def _worked_queue_condition(user_pk: int) -> Q:
    """``worked_queue_rule``'s condition, built once per process per user's id (a
    filter with it resolves copies of its subquery, never this one)."""
    return Q(queue_id__in=KeptSubquery(_queues_worked_by(user_pk).values("pk")))


def visible_outside_worked_queues(user) -> Q | None:
    """The rest of ``visible_tickets(user)`` beside ``worked_queue_rule(user)``'s
    condition: the tickets granted otherwise (guardian rows: the user's own, their
    groups') that are not in a queue the user works, as SQL read when the query runs.
    The two are disjoint and together are ``visible_tickets(user)``, so a query may
    ask them as two parts (the inbox's ranked search in its other views: bench
    FINDINGS S-16). None where ``worked_queue_rule`` gives none."""
    if worked_queue_rule(user) is None:
        return None
    return _outside_worked_queues_condition(user.pk)


@functools.lru_cache(maxsize=1024)
def _outside_worked_queues_condition(user_pk: int) -> Q:
    """``visible_outside_worked_queues``' condition, built once per process per
    user's id: ``_grants_q``'s grants arm without its worked-queue arm's tickets."""
    granted = Q(pk__in=KeptSubquery(_granted_ids(user_pk)))
    return granted & ~_worked_queue_condition(user_pk)


def comments_visible_to(user, ticket: Ticket | None = None) -> Q:
    """Comments ``user`` may read on tickets they may see: replies, and internal notes
    where they may ``view_internal``."""
    return _visible_to(user, ticket, _PUBLIC_COMMENTS)


def attachments_visible_to(user, ticket: Ticket | None = None) -> Q:
    """Files ``user`` may have on tickets they may see: the ticket's own and replies'
    files, and internal notes' files where they may ``view_internal``."""
    return _visible_to(user, ticket, _PUBLIC_ATTACHMENTS)


def events_visible_to(user, ticket: Ticket | None = None) -> Q:
    """Audit events ``user`` may read on tickets they may see: those about internal
    notes or logged time only where they may ``view_internal``; customers only the
    ``CUSTOMER_EVENT_KINDS``."""
    if ticket is not None:
        return _events_given(can(user, "view_internal", ticket), is_support_team(user))
    visible = _visible_to(user, ticket, _PUBLIC_EVENTS)
    if is_support_team(user):
        return visible
    return visible & Q(kind__in=CUSTOMER_EVENT_KINDS)


def is_internal_event(kind: str, data: dict | None) -> bool:
    """An event about an internal note or logged time (``_PUBLIC_EVENTS`` in Python):
    what a live message carries so that subscribers decide without a query."""
    return kind in INTERNAL_EVENT_KINDS or (data or {}).get("internal") is True


def event_visible_with(
    kind: str, internal: bool, *, support_team: bool, view_internal: bool
) -> bool:
    """``events_visible_to`` for one event of a ticket the user may see, from facts
    decided once per ticket (``is_support_team``, ``can(.., "view_internal", ..)``):
    the live stream filters each message with it (an oracle test keeps the two
    equal)."""
    if internal and not view_internal:
        return False
    return support_team or kind in CUSTOMER_EVENT_KINDS


def time_entries_visible_to(user, ticket: Ticket | None = None) -> Q:
    """Work-log entries (minutes, agent, note) ``user`` may read on tickets they may
    see: like internal notes, only where they may ``view_internal``."""
    return _visible_to(user, ticket, _NO_ROWS)


def visible_comments(user, ticket: Ticket) -> QuerySet:
    """Replies (and, for staff, internal notes) in order, authors and files loaded."""
    if not can(user, "view", ticket):
        return Comment.objects.none()
    return (
        Comment.objects.filter(ticket=ticket)
        .filter(comments_visible_to(user, ticket))
        .select_related("author")
        .prefetch_related("attachments")
    )


def visible_attachments(user, ticket: Ticket) -> QuerySet:
    if not can(user, "view", ticket):
        return Attachment.objects.none()
    return (
        Attachment.objects.filter(ticket=ticket)
        .filter(attachments_visible_to(user, ticket))
        .select_related("comment")
    )


def visible_events(user, ticket: Ticket) -> QuerySet:
    """The ticket's history as ``user`` may read it, in order, actors loaded."""
    if not can(user, "view", ticket):
        return TicketEvent.objects.none()
    return (
        TicketEvent.objects.filter(ticket=ticket)
        .filter(events_visible_to(user, ticket))
        .select_related("actor")
    )


def visible_time_entries(user, ticket: Ticket) -> QuerySet:
    """The ticket's work log as ``user`` may read it, in order, agents loaded."""
    if not can(user, "view", ticket):
        return TimeEntry.objects.none()
    return (
        TimeEntry.objects.filter(ticket=ticket)
        .filter(time_entries_visible_to(user, ticket))
        .select_related("agent")
    )


# One ticket's rows as ``visible_*(user, ticket)`` read them, by the two facts the
# condition on them depends on (``view_internal`` on the ticket, support team): each
# (relation, facts) one ``KeptStatement`` with the ticket id its variable.
_ROWS = {
    "comments": (
        Comment,
        "author",
        lambda internal, team: _visible_given(internal, _PUBLIC_COMMENTS),
    ),
    "attachments": (
        Attachment,
        "comment",
        lambda internal, team: _visible_given(internal, _PUBLIC_ATTACHMENTS),
    ),
    "events": (TicketEvent, "actor", _events_given),
    "time_entries": (
        TimeEntry,
        "agent",
        lambda internal, team: _visible_given(internal, _NO_ROWS),
    ),
}


@functools.cache
def _kept_rows(relation: str, internal: bool, team: bool) -> KeptStatement:
    model, related, condition = _ROWS[relation]
    return KeptStatement(
        lambda ticket: (
            model.objects.filter(ticket=ticket)
            .filter(condition(internal, team))
            .select_related(related)
        ),
        ("ticket",),
    )


def visible_rows(user, ticket: Ticket, relation: str) -> list:
    """``list(visible_<relation>(user, ticket))`` for "comments", "attachments",
    "events" or "time_entries", their SQL compiled once per shape of the rule (the
    comments without their files: read those with "attachments")."""
    return visible_rows_each(user, ticket, (relation,))[relation]


def visible_rows_each(user, ticket: Ticket, relations) -> dict[str, list]:
    """``{relation: visible_rows(user, ticket, relation)}`` for each of
    ``relations``, the facts the rule depends on (``view``, ``view_internal``,
    support team) decided once for all of them."""
    if not can(user, "view", ticket):
        return {relation: [] for relation in relations}
    internal = can(user, "view_internal", ticket)
    team = is_support_team(user)
    found = {}
    for relation in relations:
        if _ROWS[relation][2](internal, team) is _NO_ROWS:
            found[relation] = []  # what the queryset gives, with no query either
        else:
            kept = _kept_rows(relation, internal, team)
            found[relation] = kept.instances(ticket=ticket.pk)
    return found


def visible_statements(
    user, ticket: Ticket, relations, asked=()
) -> tuple[dict[str, tuple | None], tuple | None]:
    """``visible_rows_each(user, ticket, relations)`` and
    ``KeptVisible.instances_each(user, asked)`` as statements, for a caller that
    sends them with others in one round trip (``portal.sql.read_together``): each a
    ``(sql, params, finish)``, ``finish(rows)`` giving what the reader gives from the
    statement's rows. Returns ``({relation: its statement, or None where the rule
    gives no rows: nothing to send, ``[]``}, the lists' statement, or None where
    ``user`` sees no ticket or nothing is asked)``. The same facts and kept statements
    as the two readers (a customer's lists: both arms, each gated in SQL, as
    ``KeptVisible``'s "customer" shape, so that nothing is read before the statement).
    """
    statements = dict.fromkeys(relations)
    if can(user, "view", ticket):
        internal = can(user, "view_internal", ticket)
        team = is_support_team(user)
        for relation in statements:
            if _ROWS[relation][2](internal, team) is not _NO_ROWS:
                kept = _kept_rows(relation, internal, team)
                sql, params = kept.statement(ticket=ticket.pk)
                statements[relation] = (sql, params, kept.instances_of)
    asked = list(asked)
    shape = KeptVisible.shape(user)
    if shape is None or not asked:
        return statements, None
    kept_lists, parts, params = [], [], []
    for place, (kept, values) in enumerate(asked):
        statement = kept._statement(shape)
        if shape != "all":
            values = {"user": user.pk, **values}
        sql, part_params = statement.statement(**values)
        parts.append(f"SELECT {place}, p{place}.* FROM ({sql}) p{place}")  # noqa: S608 - kept SQL, values as parameters
        params += part_params
        kept_lists.append(statement)

    def lists(rows) -> list[list]:
        found = [[] for _ in kept_lists]
        for row in rows:
            found[row[0]].append(row[1:])
        return [
            statement.instances_of(part)
            for statement, part in zip(kept_lists, found, strict=True)
        ]

    return statements, (" UNION ALL ".join(parts), params, lists)


# --- the customer's view of a ticket ----------------------------------------------------
# A customer reads a ticket as the portal page shows it: the conversation, status,
# priority and expectations, the ``CUSTOMER_EVENT_KINDS`` of its history, and people by
# name. Tags, watchers and the support team's email addresses are the team's. The
# portal page, the desk and GraphQL read these through the functions below.


def tags_visible_to(user, ticket: Ticket) -> list[str]:
    """The ticket's tag names, sorted, for the support team; none for customers.
    Reads ``ticket.tags.all()``, so a prefetch covers a whole page."""
    if not is_support_team(user):
        return []
    return sorted(tag.name for tag in ticket.tags.all())


def watchers_visible_to(user, ticket: Ticket) -> list:
    """The ticket's watchers, by email, for the support team; none for customers.
    Reads ``ticket.watchers.all()``, so a prefetch covers a whole page."""
    if not is_support_team(user):
        return []
    return sorted(ticket.watchers.all(), key=lambda person: person.email)


def address_visible_to(viewer, person, *, support_team: bool | None = None) -> bool:
    """Whether ``viewer`` may read ``person``'s email address: their own, and everyone's
    for the support team. Customers see other people (agents, colleagues) by name.

    ``support_team``: ``is_support_team(viewer)``, when the caller has already asked
    it for this viewer (an email's recipient, whose names and link are decided
    together); otherwise it is asked here, when needed."""
    if person is None or not _active(viewer):
        return False
    if viewer.pk == person.pk:
        return True
    return is_support_team(viewer) if support_team is None else support_team


def name_shown_to(viewer, person, *, support_team: bool | None = None) -> str:
    """The name ``viewer`` sees for ``person`` on a ticket: the display name (which falls
    back to the address) where the address is visible, otherwise the display name, the
    full name or the address's local part, never the address. ``support_team`` as for
    ``address_visible_to``."""
    if person is None:
        return ""
    if address_visible_to(viewer, person, support_team=support_team):
        return person.get_display_name()
    return person.display_name or person.get_full_name() or person.get_short_name()


def may_subscribe_to_reports(user) -> bool:
    """Whether ``user`` may choose, and does receive, the weekly report by email:
    supervisors and administrators, who oversee the whole helpdesk. Agents read the
    reports page (their queues' figures) when they want them."""
    return is_supervisor(user)


# --- who may see a ticket, as ids (the live stream) -------------------------------------
# A live event reaches every open stream of a process: asking ``visible_tickets`` per
# subscriber per event is a query each (1,000 streams × 100 events/s). Instead the
# publisher states the ticket's audience once per event, as the ids the grants name,
# and each stream matches it in memory against facts about its user loaded once
# (``viewer_facts``). ``audience_allows`` is ``visible_tickets`` and
# ``can(user, "view_internal", ticket)`` restated over those ids; an oracle test
# (live/tests/test_filtering.py) keeps them equal.


@dataclass(frozen=True)
class Audience:
    """The grants on one ticket: ``view_ticket`` users and groups (``agent_groups``:
    those of them that are some queue's agent group), the ticket's queue's agent
    group, and ``view_internal_notes`` users and groups."""

    users: frozenset[int] = frozenset()
    groups: frozenset[int] = frozenset()
    agent_groups: frozenset[int] = frozenset()
    queue_group: int | None = None
    internal_users: frozenset[int] = frozenset()
    internal_groups: frozenset[int] = frozenset()

    def as_message(self) -> dict:
        """Compact and JSON-able (what the live bus carries)."""
        return {
            "u": sorted(self.users),
            "g": sorted(self.groups),
            "a": sorted(self.agent_groups),
            "q": self.queue_group,
            "iu": sorted(self.internal_users),
            "ig": sorted(self.internal_groups),
        }

    @classmethod
    def from_message(cls, data: dict) -> "Audience":
        return cls(
            users=frozenset(data.get("u", ())),
            groups=frozenset(data.get("g", ())),
            agent_groups=frozenset(data.get("a", ())),
            queue_group=data.get("q"),
            internal_users=frozenset(data.get("iu", ())),
            internal_groups=frozenset(data.get("ig", ())),
        )


AUDIENCE_CODENAMES = ("view_ticket", "view_internal_notes")


def ticket_audience(ticket_id: int) -> Audience | None:
    """``Audience`` of the ticket as committed now, in one query (a UNION of the
    ticket's queue group and its user and group grants: the publisher runs it after
    every commit, where each round trip adds to the delivery time); None when the
    ticket is gone."""
    codenames = AUDIENCE_CODENAMES
    kind = CharField()
    queue = (
        Ticket.objects.filter(pk=ticket_id)
        .order_by()
        .values_list(
            Value("q", output_field=kind),
            "queue__agent_group_id",
            Value("", output_field=kind),
            Value(False, output_field=BooleanField()),
        )
    )
    users = (
        TicketUserObjectPermission.objects.filter(
            content_object_id=ticket_id, permission__codename__in=codenames
        )
        .order_by()
        .values_list(
            Value("u", output_field=kind),
            "user_id",
            "permission__codename",
            Value(False, output_field=BooleanField()),
        )
    )
    groups = (
        TicketGroupObjectPermission.objects.filter(
            content_object_id=ticket_id, permission__codename__in=codenames
        )
        .annotate(is_agent_group=_is_agent_group())
        .order_by()
        .values_list(
            Value("g", output_field=kind),
            "group_id",
            "permission__codename",
            "is_agent_group",
        )
    )
    return audience_from_rows(queue.union(users, groups, all=True))


def audience_from_rows(rows) -> Audience | None:
    """The ``Audience`` named by ``rows`` of ``(who, id, codename, is_agent_group)``:
    ``("q", queue's agent group, "", False)`` for the ticket's queue (no such row: the
    ticket is gone, None), whose group holds ``view_ticket`` and
    ``view_internal_notes`` by the queue group's rule (``queue_group_grants``), ``("u", user id, codename, False)`` and ``("g", group id,
    codename, whether the group is some queue's agent group)`` for its grants; other
    codenames are ignored. ``ticket_audience`` feeds it the committed rows; the
    creating service the rows its grants statement just wrote
    (``grants.grant_new_ticket``), which are all the grants a new ticket has."""
    codenames = AUDIENCE_CODENAMES
    found = False
    queue_group = None
    named: dict[tuple[str, str], set[int]] = {
        (who, name): set() for who in "ug" for name in codenames
    }
    agent_groups = set()
    for who, pk, codename, is_agent_group in rows:
        if who == "q":
            found, queue_group = True, pk
            if pk is not None:  # the rule: the queue's agent group holds AGENT_PERMS
                for name in codenames:
                    named["g", name].add(pk)
                agent_groups.add(pk)
            continue
        if codename not in codenames:
            continue
        named[who, codename].add(pk)
        if is_agent_group and codename == "view_ticket":
            agent_groups.add(pk)
    if not found:
        return None
    return Audience(
        users=frozenset(named["u", "view_ticket"]),
        groups=frozenset(named["g", "view_ticket"]),
        agent_groups=frozenset(agent_groups),
        queue_group=queue_group,
        internal_users=frozenset(named["u", "view_internal_notes"]),
        internal_groups=frozenset(named["g", "view_internal_notes"]),
    )


@dataclass(frozen=True)
class Viewer:
    """What ``audience_allows`` needs to know about a user, read fresh (roles are
    group names, so a role change shows when the facts are read again)."""

    user_id: int
    active: bool = False
    sees_all: bool = False
    staff_member: bool = False
    support_team: bool = False
    groups: frozenset[int] = frozenset()


def viewer_facts(user) -> Viewer:
    """The ``Viewer`` of ``user`` as stored now (two queries; the instance's cached
    roles are not trusted: a stream keeps its user for hours)."""
    fresh = (
        get_user_model().objects.filter(pk=user.pk).prefetch_related("groups").first()
    )
    if fresh is None or not _active(fresh):
        return Viewer(user_id=user.pk)
    return Viewer(
        user_id=fresh.pk,
        active=True,
        sees_all=sees_all(fresh),
        staff_member=roles.is_staff_member(fresh),
        support_team=is_support_team(fresh),
        groups=frozenset(group.pk for group in fresh.groups.all()),
    )


def audience_allows(viewer: Viewer, audience: Audience) -> tuple[bool, bool]:
    """``(view, view_internal)`` for the ticket of ``audience``: whether
    ``visible_tickets`` holds it and ``can(.., "view_internal", ..)``, decided in
    memory."""
    if not viewer.active:
        return False, False
    if viewer.sees_all:
        return True, True
    own = viewer.user_id in audience.users
    if viewer.staff_member:
        # visible_tickets: the user's grants, non-agent groups' grants, worked queue
        view = (
            own
            or bool((audience.groups - audience.agent_groups) & viewer.groups)
            or (
                audience.queue_group is not None
                and audience.queue_group in viewer.groups
            )
        )
    else:
        view = own or bool(audience.groups & viewer.groups)
    # can(): guardian's view_ticket (any group) and view_internal_notes
    internal = (own or bool(audience.groups & viewer.groups)) and (
        viewer.user_id in audience.internal_users
        or bool(audience.internal_groups & viewer.groups)
    )
    return view, view and internal


__all__ = [
    "ACTIONS",
    "AGENT_PERMS",
    "Audience",
    "Viewer",
    "KeptVisible",
    "CUSTOMER_EVENT_KINDS",
    "INTERNAL_EVENT_KINDS",
    "OPEN_STATUSES",
    "acts_as_staff",
    "address_visible_to",
    "attachments_visible_to",
    "audience_allows",
    "audience_from_rows",
    "can",
    "can_download",
    "comments_visible_to",
    "count_visible",
    "customer_audience",
    "event_visible_with",
    "events_visible_to",
    "get_ticket_for",
    "held_codenames",
    "invalidate",
    "is_internal_event",
    "is_supervisor",
    "is_support_team",
    "is_viewer",
    "may_create_on_behalf",
    "may_file",
    "may_subscribe_to_reports",
    "name_shown_to",
    "parties",
    "prefetch_permissions",
    "queue_group_codenames",
    "queue_group_grants",
    "queues_for",
    "sees_all",
    "tags_visible_to",
    "ticket_audience",
    "time_entries_visible_to",
    "ticket_perms",
    "visible_attachments",
    "visible_comments",
    "visible_events",
    "visible_tickets",
    "viewer_facts",
    "visible_rows",
    "visible_time_entries",
    "watchers_visible_to",
    "why_not",
    "why_not_file",
    "why_not_merge",
    "agent_groups_kept",
    "worked_queue_list",
    "worked_queues",
    "works_a_queue",
]
