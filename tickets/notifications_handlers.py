"""Ticket emails: who is told about what, written to the notification outbox.

Each ticket change that people care about registers an in-transaction handler with
``tickets.hooks``: it decides the recipients and writes one outbox row per email
(``portal.notifications.dispatch.write_notifications``, one INSERT per event) in the
service's transaction, so the emails commit or roll back with the change and survive
a lost job or a killed worker. The context is plain data (strings), rendered by the
worker in each recipient's language. The idempotency key
``<event id>:<recipient id>:<kind>`` makes every email go out once.

Who gets what:

- created: the requester gets a receipt with the reference (also when they filed it
  themselves: it is their only record of the number); the queue's agents get an alert.
- public reply: the requester and the watchers; the assignee too when the customer
  replied (``notify_on_reply``).
- status changed: the requester and the watchers (``notify_on_status``); "resolved"
  carries the rating link ``/portal/tickets/<ref>/#rate``.
- closed automatically: the requester (``notify_on_status``).
- assigned: the new assignee.
- SLA breached: the assignee and the supervisors.

The actor of a change is never emailed about it (except the receipt above).
"""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import dateformat, formats, timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy

from accounts import roles
from kb.queries import suggest_articles
from portal import cache as shared_cache
from portal import instances
from portal.notifications.dispatch import write_notifications
from portal.notifications.sending import (
    Outgoing,
    idempotency_key,
    send_notifications,
)
from portal.sql import KeptStatement

from . import defaults, hooks
from .desk.inbox import STAFF_GENERATION_KEY, staff_cache_enabled, staff_generation
from .models import Comment, EventKind, Priority, Source, Status, TicketEvent
from .permissions import is_support_team, name_shown_to

logger = logging.getLogger(__name__)

NOTIFIED_KINDS = (
    EventKind.CREATED,
    EventKind.COMMENTED,
    EventKind.STATUS_CHANGED,
    EventKind.AUTO_CLOSED,
    EventKind.ASSIGNED,
    EventKind.SLA_BREACHED,
)


def write_event_notifications(kind, ticket, event, **data) -> None:
    """The in-transaction hook: write the event's emails to the outbox."""
    if event.kind in HANDLERS:
        write_notifications(list(HANDLERS[event.kind](event, event.actor)))


def register() -> None:
    for kind in NOTIFIED_KINDS:
        hooks.register(kind, write_event_notifications, in_transaction=True)
    # a new ticket: its default queue (``defaults``, when none is given) and its
    # queue's agents (``queue_agents``), each kept under a generation
    hooks.reads_generation(EventKind.CREATED, defaults.GENERATION_KEY, defaults.enabled)
    hooks.reads_generation(EventKind.CREATED, STAFF_GENERATION_KEY, staff_cache_enabled)


# --- who gets what ------------------------------------------------------------------


def _ticket_url(ticket, support_team: bool) -> str:
    """The ticket's page for a recipient: the desk's for the support team
    (``support_team``: ``is_support_team`` of the recipient), the portal's otherwise."""
    base = settings.WAGTAILADMIN_BASE_URL.rstrip("/")
    path = ticket.get_admin_url() if support_team else ticket.get_absolute_url()
    return base + path


def _context(ticket, user, shared=None) -> dict:
    """What every email about ``ticket`` to ``user`` says; ``shared``: the ticket's
    part of it (``_shared``), when one event writes to several recipients."""
    if shared is None:
        shared = _shared(ticket)
    reference, subject, queue_name, priority_label, reply_to, requester, assignee = (
        shared
    )
    team = is_support_team(user)  # asked once per recipient: the names and the link
    return {
        "reference": reference,
        "subject": subject,
        "queue_name": queue_name,
        "priority_label": priority_label,
        # names as the recipient may see them: a customer never gets a staff address
        "requester_name": name_shown_to(user, requester, support_team=team),
        "assignee_name": name_shown_to(user, assignee, support_team=team),
        "ticket_url": _ticket_url(ticket, team),
        # threading headers (portal.notifications.threads): replies go to the queue
        "reply_to": reply_to,
    }


def _shared(ticket) -> tuple:
    """The part of ``_context`` that is the same for every recipient (the priority
    label lazy: written in each recipient's language), and the ticket's requester and
    assignee, whose names each recipient sees as ``name_shown_to`` shows them."""
    queue = ticket.queue
    return (
        ticket.reference,
        ticket.subject,
        queue.name,
        Priority(ticket.priority).label,
        queue.inbound_address,
        ticket.requester,
        ticket.assignee,
    )


def _unique(users):
    seen, result = set(), []
    for user in users:
        if user is not None and user.pk not in seen:
            seen.add(user.pk)
            result.append(user)
    return result


def _message(
    event, kind, user, *, actor, preference=None, shared=None, **context
) -> Outgoing:
    return Outgoing(
        kind=kind,
        recipient=user,
        context={**_context(event.ticket, user, shared), **context},
        idempotency_key=idempotency_key(event.pk, user.pk, kind),
        actor=actor,
        preference=preference,
    )


def _suggested_articles(ticket) -> list[dict]:
    """A few knowledge-base articles for the subject of a ticket that came by email
    (the portal suggests them while the form is filled in). A search failure never
    costs the ticket: no suggestions then."""
    base = settings.WAGTAILADMIN_BASE_URL.rstrip("/")
    try:
        articles = suggest_articles(ticket.requester, ticket.subject, 3)
        return [{"title": a.title, "url": base + (a.url or "")} for a in articles]
    except Exception:
        logger.exception("article suggestions for %s failed", ticket.reference)
        return []


def _created(event, actor):
    ticket = event.ticket
    extra = {}
    if ticket.source == Source.EMAIL:  # the acknowledgement is answered by email
        extra = {"by_email": True, "suggestions": _suggested_articles(ticket)}
    shared = _shared(ticket)  # one ticket, a receipt and an alert per agent
    yield _message(
        event, "ticket_created", ticket.requester, actor=None, shared=shared, **extra
    )
    for agent in queue_agents(ticket.queue.agent_group_id):
        if agent.pk == ticket.requester_id:
            continue
        yield _message(
            event,
            "ticket_created_agent",
            agent,
            actor=actor,
            shared=shared,
            body=ticket.description,
        )


#: The active agents of a queue's group, by address, with their role names (their
#: roles decide the link in each email): one statement whose SQL is compiled once
#: per process.
_QUEUE_AGENTS = KeptStatement(
    lambda group: roles.annotate_role_names(
        get_user_model().objects.filter(groups=group, is_active=True).order_by("email")
    ),
    ("group",),
)

# The agents' rows per agent group, kept per process for one staff generation
# (``tickets.desk.inbox.staff_generation``): at most this many groups.
KEPT_AGENT_GROUPS = 256
_kept_agents = shared_cache.KeptPerGeneration(KEPT_AGENT_GROUPS)


def queue_agents(group_id) -> list:
    """The active members of the agent group ``group_id`` by address, their role
    names remembered (``roles.remembered``): whom a new ticket's alert goes to.

    Every filing asks it for its queue's group, so the rows are kept per process
    for one staff generation (``tickets.desk.inbox.staff_generation``, read before
    the rows are: renewed when a change commits by every save or deletion of a user
    (``is_active``, address, name, language, flags) or a group, and every change of
    a user's groups, roles included), keyed by the group (a queue given another
    group asks for that one). Nothing is kept while such a change of the current
    transaction waits for its commit, with ``DESK_STAFF_CACHE`` off, without a shared
    cache or while it is down: read each time then. Each call gets new instances
    (``Model.from_db`` of the kept values, as the read builds them), never the kept
    ones."""
    generation = staff_generation()  # before the rows are read

    def read():
        # the role names decoded once, when read (~10 Python calls an agent a filing)
        return tuple(
            (
                user._state.db,
                _values(user),
                roles.decoded(user.__dict__.pop("_role_names")),
            )
            for user in _QUEUE_AGENTS.instances(group=group_id)
        )

    rows = _kept_agents.get(generation, group_id, read)
    User = get_user_model()
    names = _attnames(User)
    plain = instances.plainly_made(User)
    agents = []
    for db, values, role_names in rows:
        agent = instances.from_db(User, db, names, values, plain=plain)
        roles.remember_decoded(agent, role_names)
        agents.append(agent)
    return agents


def _attnames(model) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def _values(user) -> tuple:
    """A user's field values as ``from_db`` takes them (plain, immutable values: text,
    numbers, booleans, datetimes, None: shared by the instances made of them)."""
    return tuple(getattr(user, name) for name in _attnames(type(user)))


def _commented(event, actor):
    ticket = event.ticket
    comment = (
        Comment.objects.select_related("author")
        .filter(pk=event.data.get("comment_id"), is_internal=False)
        .first()
    )
    if comment is None:
        return
    recipients = [ticket.requester, *ticket.watchers.order_by("email")]
    if not event.data.get("by_staff"):
        recipients.append(ticket.assignee)
    for user in _unique(recipients):
        yield _message(
            event,
            "ticket_reply",
            user,
            actor=comment.author,
            preference="notify_on_reply",
            author_name=name_shown_to(user, comment.author),
            body=comment.body,
        )


def _status_changed(event, actor):
    ticket = event.ticket
    new, old = event.new_value, event.old_value
    if event.data.get("cause") == "staff_reply":
        # Sent with a staff reply ("submit as", or new → open): the reply's own email
        # is what the customer needs; a second "Open: …" email would be noise.
        return
    base = settings.WAGTAILADMIN_BASE_URL.rstrip("/")
    for user in _unique([ticket.requester, *ticket.watchers.order_by("email")]):
        rating_url = ""
        if new == Status.RESOLVED and user.pk == ticket.requester_id:
            rating_url = f"{base}{ticket.get_absolute_url()}#rate"
        yield _message(
            event,
            "ticket_status_changed",
            user,
            actor=actor,
            preference="notify_on_status",
            status_label=Status(new).label,
            old_status_label=Status(old).label if old in Status.values else old,
            reason=event.data.get("reason", ""),
            rating_url=rating_url,
        )


def _auto_closed(event, actor):
    ticket = event.ticket
    base = settings.WAGTAILADMIN_BASE_URL.rstrip("/")
    rating_url = ""
    if ticket.satisfaction_rating is None:
        rating_url = f"{base}{ticket.get_absolute_url()}#rate"
    yield _message(
        event,
        "ticket_auto_closed",
        ticket.requester,
        actor=None,
        preference="notify_on_status",
        days=settings.TICKETS_AUTO_CLOSE_DAYS,
        rating_url=rating_url,
    )


def _assigned(event, actor):
    new_id = event.data.get("new_assignee_id")
    assignee = get_user_model().objects.filter(pk=new_id).first() if new_id else None
    if assignee is None:
        return
    yield _message(
        event,
        "ticket_assigned",
        assignee,
        actor=actor,
        actor_name=name_shown_to(assignee, actor),
    )


def _format_time(moment):
    """A due time as the emails show it, in the site's time zone: the portal's
    ``DATETIME_FORMAT`` and the zone ("03 Dec 2026 14:05 UTC"). Lazy, so that the
    stored context (``sending._plain``) spells the month in the recipient's language."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return _lazy_datetime(local)


def _datetime_text(value) -> str:
    return dateformat.format(value, formats.get_format("DATETIME_FORMAT") + " e")


_lazy_datetime = lazy(_datetime_text, str)


def _sla_breached(event, actor):
    ticket = event.ticket
    target = event.data.get("target", "resolution")
    due_at = (
        ticket.first_response_due_at
        if target == "first_response"
        else ticket.resolution_due_at
    )
    supervisors = get_user_model().objects.filter(
        groups__name=roles.SUPERVISORS, is_active=True
    )
    for user in _unique([ticket.assignee, *supervisors.order_by("email")]):
        yield _message(
            event,
            "ticket_sla_breached",
            user,
            actor=None,
            target_label=gettext_lazy("first response")
            if target == "first_response"
            else gettext_lazy("resolution"),
            due_at=_format_time(due_at),
        )


HANDLERS = {
    EventKind.CREATED: _created,
    EventKind.COMMENTED: _commented,
    EventKind.STATUS_CHANGED: _status_changed,
    EventKind.AUTO_CLOSED: _auto_closed,
    EventKind.ASSIGNED: _assigned,
    EventKind.SLA_BREACHED: _sla_breached,
}


def notify_event(event_id: int) -> None:
    """Email everyone concerned by one ticket event now (the job of releases before
    the outbox, which a deploy may still find queued; also usable by hand). Safe to
    run twice: each email has its idempotency key."""
    event = (
        TicketEvent.objects.select_related(
            "actor",
            "ticket__requester",
            "ticket__assignee",
            "ticket__queue",
        )
        .filter(pk=event_id)
        .first()
    )
    if event is None or event.kind not in HANDLERS:
        return
    # One batch per event: the ledger is written twice for all its emails.
    send_notifications(list(HANDLERS[event.kind](event, event.actor)))
