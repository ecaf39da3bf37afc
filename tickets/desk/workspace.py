"""What the ticket workspace shows: conversation, sidebar, SLA clocks, requester card,
history, and the panels apps above tickets add. Read-only assembly; the action views
change things through the services.

Apps above tickets (crm's Follow-up panel) add panels without tickets importing them:
each function registered on the ``register_ticket_workspace_panel`` Wagtail hook is
called as ``panel(request, ticket, panel_forms)`` and returns the panel's HTML (empty
for nothing). ``panel_forms`` holds the bound forms that a panel's own POST view
re-renders the workspace with (``render_page``), by names the panel chooses; ``{}``
otherwise. A panel costs a fixed number of queries (the workspace's budget counts
them)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.shortcuts import render
from django.utils.translation import gettext_lazy
from wagtail import hooks

from accounts.models import Membership
from portal import cache as shared_cache
from portal.sql import KeptStatement, read_together

from .. import actions, permissions, sla
from ..canned import placeholder_values, render_canned_response
from ..models import Status, Ticket
from . import forms, inbox, kept_fields
from .access import may_act

PANEL_HOOK = "register_ticket_workspace_panel"
TEMPLATE = "tickets/desk/ticket.html"

OTHER_TICKET_FIELDS = ("reference", "subject", "status", "created_at")

SIDEBAR_ACTIONS = (
    "reply",
    "add_note",
    "change_priority",
    "assign",
    "move_queue",
    "set_tags",
    "watch",
    "merge",
    "log_time",
    "view_internal",
)


@dataclass
class Clock:
    label: str
    due: datetime | None
    done: datetime | None
    state: str  # a ``tickets.sla.clock_state``


CLOCK_LABELS = {
    "first_response": gettext_lazy("First response"),
    "resolution": gettext_lazy("Resolution"),
}


# The ticket's own relations, read as Django's related managers read them, their SQL
# compiled once per process (``portal.sql.KeptStatement``): no policy is involved
# (``permissions.tags_visible_to`` and ``watchers_visible_to`` decide who sees them).
_TAGS = KeptStatement(lambda ticket: Ticket(pk=ticket).tags.all(), ("ticket",))
_WATCHERS = KeptStatement(lambda ticket: Ticket(pk=ticket).watchers.all(), ("ticket",))
_MERGED = KeptStatement(
    lambda ticket: Ticket(pk=ticket).merged_tickets.all(), ("ticket",)
)
# The emails the ticket came from (``email_channel``'s ``InboundMessage``), newest first.
_SOURCE_EMAILS = KeptStatement(
    lambda ticket: Ticket(pk=ticket).inbound_messages.all(), ("ticket",)
)
# The requester's organizations, and the canned responses the ticket's queue offers
# (``forms.canned_for`` decides which).
_MEMBERSHIPS = KeptStatement(
    lambda user: Membership.objects.filter(user=user).select_related("organization"),
    ("user",),
)


def _other_tickets(of: str) -> permissions.KeptVisible:
    """The tickets of the same ``of`` (requester or organization) but this one, as
    the agent may see them (``permissions.KeptVisible``: compiled once per shape of
    ``visible_tickets``), newest first, at most ten. They show a link, the subject
    and the status: those columns only, no queue or assignee. PostgreSQL reads them
    from ``(requester, created_at)`` and ``(organization, created_at)`` newest first
    and stops at the tenth visible one, however many tickets the organization has
    (bench FINDINGS W-7), each row's grants probed by index (``probed``), not every
    grant of the agent hashed (W-11)."""

    def build(visible, ticket, **same):
        return (
            visible.only(*OTHER_TICKET_FIELDS)
            .filter(**same)
            .exclude(pk=ticket)
            .order_by("-created_at")[:10]
        )

    return permissions.KeptVisible(build, (of, "ticket"), probed=True)


_REQUESTER_TICKETS = _other_tickets("requester")
_ORGANIZATION_TICKETS = _other_tickets("organization")
_CANNED = KeptStatement(
    lambda queue: forms.canned_for(Ticket(queue_id=queue)).select_related("queue"),
    ("queue",),
)


def other_tickets(user, ticket) -> tuple[list, list]:
    """The requester's other tickets and the organization's (none without one), as
    ``user`` may see them: one statement (``KeptVisible.instances_each``), each list
    read by its own plan."""
    if not ticket.organization_id:
        mine = _REQUESTER_TICKETS.instances(
            user, requester=ticket.requester_id, ticket=ticket.pk
        )
        return mine, []
    mine, theirs = permissions.KeptVisible.instances_each(
        user,
        (
            (
                _REQUESTER_TICKETS,
                {"requester": ticket.requester_id, "ticket": ticket.pk},
            ),
            (
                _ORGANIZATION_TICKETS,
                {"organization": ticket.organization_id, "ticket": ticket.pk},
            ),
        ),
    )
    return mine, theirs


def sla_clocks(ticket, now=None) -> list[Clock]:
    """The ticket's two SLA clocks, in the states ``tickets.sla`` decides."""
    return [
        Clock(CLOCK_LABELS[kind], due, done, state)
        for kind, due, done, state in sla.clocks(ticket, now)
    ]


def build_forms(ticket, user, data=None, files=None, override=None):
    """The workspace's forms, unbound (``forms.Unbuilt``: built when read) but for
    the bound ones in ``override`` (a view showing a form's errors)."""
    unbuilt = forms.Unbuilt

    def tag_names():
        return {"tags": ", ".join(tag.name for tag in ticket.tags.all())}

    built = {
        "comment_form": unbuilt(
            lambda: forms.CommentForm(ticket=ticket),
            {"body": None, "internal": None, "submit_as": None},
            forms.CommentForm,
        ),
        "status_form": unbuilt(
            lambda: forms.StatusForm(initial={"status": ticket.status}),
            {"status": ticket.status, "reason": None},
            forms.StatusForm,
        ),
        "priority_form": unbuilt(
            lambda: forms.PriorityForm(initial={"priority": ticket.priority}),
            {"priority": ticket.priority},
        ),
        "assign_form": unbuilt(
            lambda: forms.AssignForm(ticket=ticket), {"assignee": ticket.assignee_id}
        ),
        "queue_form": unbuilt(
            lambda: forms.QueueForm(initial={"queue": ticket.queue_id}),
            {"queue": ticket.queue_id},
        ),
        # ``tags.all()``: the tags prefetched for the sidebar (``context``)
        "tags_form": unbuilt(
            lambda: forms.TagsForm(initial=tag_names()),
            tag_names,
            forms.TagsForm,
        ),
        "watcher_form": unbuilt(forms.WatcherForm),
        "merge_form": unbuilt(forms.MergeForm),
        "time_form": unbuilt(forms.TimeForm),
    }
    built.update(override or {})
    return built


# What hangs off the ticket, read through the policy (``permissions.visible_rows``).
ROWS = ("attachments", "comments", "events", "time_entries")


def conversation(rows: dict) -> tuple[list, list]:
    """``(comments, ticket files)`` from ``rows``, the visible attachments and
    comments (``permissions.visible_rows_each``): the visible comments in order, each
    with its visible files as ``files``, and the files of the ticket itself. Two
    queries whatever their numbers: the files are read once, through the policy, and
    shared out here."""
    by_comment = defaultdict(list)
    for attachment in rows["attachments"]:
        by_comment[attachment.comment_id].append(attachment)
    comments = rows["comments"]
    for comment in comments:
        comment.files = by_comment.get(comment.pk, [])
    return comments, by_comment.get(None, [])


# --- one round trip ----------------------------------------------------------------------
# The page's reads once the ticket and the agent's rights on it are known depend on
# nothing read in between: they are sent together (``portal.sql.read_together``), each
# a part ``(sql, params, finish)``.


def _kept_part(kept: KeptStatement, **values):
    """``kept.instances(**values)`` as a part of ``read_together``."""
    sql, params = kept.statement(**values)
    return sql, params, kept.instances_of


def _prefetched_part(instance, name: str, kept: KeptStatement, **values):
    """``kept.prefetch(instance, name, **values)`` as a part of ``read_together``:
    the instances kept as ``instance``'s prefetched relation ``name``."""
    sql, params = kept.statement(**values)
    model = type(instance)._meta.get_field(name).related_model

    def finish(rows):
        found = kept.instances_of(rows)
        held = model._default_manager.none()
        held._result_cache = found
        held._prefetch_done = True
        instance.__dict__.setdefault("_prefetched_objects_cache", {})[name] = held
        return found

    return sql, params, finish


def read_page(user, ticket) -> dict:
    """What ``context`` reads once ``user``'s rights on ``ticket`` are known, in one
    round trip (``read_together``): ``rows`` (``permissions.visible_rows_each`` of
    ``ROWS``), ``others`` (``other_tickets``), ``canned``, ``memberships``,
    ``merged``, ``emails`` (the kept statements' instances) and ``tags``,
    ``watchers`` (also kept as the ticket's prefetched relations). The lists read
    through the policy are its statements (``permissions.visible_statements``); the
    oracle ``tests/test_desk_workspace_round.py`` keeps them equal to the lists read
    alone."""
    asked = [(_REQUESTER_TICKETS, {"requester": ticket.requester_id})]
    if ticket.organization_id:
        asked.append((_ORGANIZATION_TICKETS, {"organization": ticket.organization_id}))
    asked = [(kept, {**values, "ticket": ticket.pk}) for kept, values in asked]
    rows, others = permissions.visible_statements(user, ticket, ROWS, asked)
    # ``ticket.tags.all()`` and ``ticket.watchers.all()`` as a prefetch leaves them
    parts = {
        "tags": _prefetched_part(ticket, "tags", _TAGS, ticket=ticket.pk),
        "watchers": _prefetched_part(ticket, "watchers", _WATCHERS, ticket=ticket.pk),
        "canned": _kept_part(_CANNED, queue=ticket.queue_id),
        "memberships": _kept_part(_MEMBERSHIPS, user=ticket.requester_id),
        **{name: part for name, part in rows.items() if part is not None},
        "merged": _kept_part(_MERGED, ticket=ticket.pk),
        "emails": _kept_part(_SOURCE_EMAILS, ticket=ticket.pk),
    }
    if others is not None:
        parts["others"] = others
    read = dict(zip(parts, read_together(parts.values()), strict=True))
    read["rows"] = {name: read.pop(name, []) for name in rows}
    # the requester's and the organization's (none without one)
    read["others"] = [*read.get("others", ()), [], []][:2]
    return read


def context(user, ticket, *, form_overrides=None, now=None) -> dict:
    """Everything the workspace shows, in a fixed number of queries (asserted in
    ``tests/test_desk_workspace.py``): each list read once, through the policy; once
    the agent's rights on the ticket are read (``can_each``), the rest in one round
    trip (``read_together``)."""
    can = permissions.can_each(user, SIDEBAR_ACTIONS, ticket)
    # The status control: shown, and its options offered, from the action it posts to.
    can["change_status"], moves = actions.CHANGE_STATUS.control(user, ticket)
    acting = may_act(user)
    allowed_statuses = [(s, Status(s).label) for s in moves]
    read = read_page(user, ticket)
    rows = read["rows"]
    canned = read["canned"]
    if canned:
        values = placeholder_values(ticket, user)
        canned = [(c, render_canned_response(c, ticket, user, values)) for c in canned]
    watchers = permissions.watchers_visible_to(user, ticket)
    time_entries = rows["time_entries"]
    comments, ticket_files = conversation(rows)
    requester_tickets, organization_tickets = read["others"]
    return {
        "ticket": ticket,
        "comments": comments,
        "ticket_files": ticket_files,
        "events": rows["events"],
        "can": can,
        "may_act": acting,
        "allowed_statuses": allowed_statuses,
        "canned": canned,
        "clocks": sla_clocks(ticket, now),
        "memberships": read["memberships"],
        "requester_tickets": requester_tickets,
        "organization_tickets": organization_tickets,
        "watchers": watchers,
        "is_watching": any(w.pk == user.pk for w in watchers),
        "time_entries": time_entries,
        "time_total": sum(entry.minutes for entry in time_entries),
        "merged_tickets": read["merged"],
        "source_emails": read["emails"],
        "tags": permissions.tags_visible_to(user, ticket),
        **build_forms(ticket, user, override=form_overrides),
    }


def extra_panels(request, ticket, panel_forms=None) -> list[str]:
    """The HTML of the panels registered on ``PANEL_HOOK``, in hook order."""
    given = panel_forms or {}
    found = (panel(request, ticket, given) for panel in hooks.get_hooks(PANEL_HOOK))
    return [html for html in found if html]


def render_page(request, ticket, *, form_overrides=None, panel_forms=None, status=200):
    """The workspace page: ``context`` and the extra panels. ``form_overrides`` are
    the workspace's own bound forms, ``panel_forms`` the panels' (see the module doc);
    a view showing a form's errors passes ``status=400``. The generations the page's
    kept fields are read under (the staff's: the assignee ``<select>`` and crm's "Add
    task"; the queues': the queue ``<select>``) are read in one round trip
    (``portal.cache.generations_read_together``) rather than a GET each."""
    keys = ()
    if inbox.staff_cache_enabled():  # the queues' switch too (``kept_fields``)
        keys = (inbox.STAFF_GENERATION_KEY, kept_fields.QUEUES_GENERATION_KEY)
    with shared_cache.generations_read_together(*keys):
        ctx = context(request.user, ticket, form_overrides=form_overrides)
        ctx["extra_panels"] = extra_panels(request, ticket, panel_forms)
        return render(request, TEMPLATE, ctx, status=status)
