"""Ticket changes → webhook outbox, inside the service's transaction.

A webhook acts for its owner: it receives an event only when its owner may see the
ticket, the audit event and the comment, as ``tickets.permissions`` decides at that
moment (``Audience.sees``): an agent's webhook follows the agent's queues, an internal
note goes only to owners who may read internal notes (and only to webhooks that opted
in), and customers' webhooks carry no staff email addresses or desk-only fields.

Registered with ``tickets.hooks`` as in-transaction handlers (see ``register``), so a
delivery commits with the change it reports or not at all. Every ticket event uses the
ordering key ``ticket:<reference>``, so a receiver sees a ticket's events in order.
"""

from tickets.permissions import address_visible_to, is_support_team, name_shown_to
from webhooks.outbox import GENERATION_KEY, enqueue, kept_enabled


class Audience:
    """What one webhook owner may be told about a ticket's change, decided by the
    tickets policy (``tickets.permissions``) when the event is recorded."""

    def __init__(self, owner):
        self.owner = owner
        self.staff = is_support_team(owner)

    def sees(self, ticket, event, comment=None) -> bool:
        """The ticket, this audit event (internal-note events only with
        ``view_internal``) and the comment (an internal note likewise), read afresh
        inside the change's transaction, after its grants were synced."""
        from tickets.models import Comment, TicketEvent
        from tickets.permissions import (
            comments_visible_to,
            events_visible_to,
            visible_tickets,
        )

        if not visible_tickets(self.owner).filter(pk=ticket.pk).exists():
            return False
        if not (
            TicketEvent.objects.filter(pk=event.pk)
            .filter(events_visible_to(self.owner))
            .exists()
        ):
            return False
        return comment is None or (
            Comment.objects.filter(pk=comment.pk)
            .filter(comments_visible_to(self.owner))
            .exists()
        )

    def person(self, user) -> dict | None:
        """A person as the owner sees them on the ticket (``tickets.permissions``: the
        customer's view names staff and colleagues without their addresses), as
        GraphQL's ``User`` does."""
        if user is None:
            return None
        shown = {"id": user.pk, "name": name_shown_to(self.owner, user)}
        if address_visible_to(self.owner, user):
            shown["email"] = user.email
        return shown


def ticket_payload(ticket, audience: Audience) -> dict:
    payload = {
        "reference": ticket.reference,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "category": ticket.category,
        "queue": ticket.queue.slug,
        "organization": ticket.organization.slug if ticket.organization_id else None,
        "requester": audience.person(ticket.requester),
        "assignee": audience.person(ticket.assignee),
        "createdAt": ticket.created_at,
        "updatedAt": ticket.updated_at,
        "resolvedAt": ticket.resolved_at,
        "closedAt": ticket.closed_at,
        "firstResponseDueAt": ticket.first_response_due_at,
        "resolutionDueAt": ticket.resolution_due_at,
    }
    if audience.staff:  # the desk shows these; the portal and GraphQL do not
        payload.update(source=ticket.source, slaBreachedAt=ticket.sla_breached_at)
    return payload


def _key(ticket) -> str:
    return f"ticket:{ticket.reference}"


def _base(ticket, event, audience: Audience) -> dict:
    return {
        "ticket": ticket_payload(ticket, audience),
        "actor": audience.person(event.actor) if event.actor_id else None,
        "eventId": event.pk,
    }


def _record(name, ticket, event, build, *, comment=None, include_internal=False):
    """Enqueue ``name`` with ``build(audience) -> dict`` for every owner who may see
    the ticket, the event and the comment."""

    def payload_for(owner):
        audience = Audience(owner)
        if not audience.sees(ticket, event, comment):
            return None
        return build(audience)

    enqueue(
        name, payload_for, ordering_key=_key(ticket), include_internal=include_internal
    )


def on_created(kind, ticket, event, **data):
    def build(audience):
        payload = _base(ticket, event, audience)
        payload["ticket"]["description"] = ticket.description
        return payload

    _record("ticket.created", ticket, event, build)


def on_status_changed(kind, ticket, event, **data):
    def build(audience):
        payload = _base(ticket, event, audience)
        payload.update(
            oldStatus=event.old_value,
            newStatus=event.new_value,
            reason=data.get("reason") or "",
            automatic=kind == "auto_closed",
        )
        return payload

    _record("ticket.status_changed", ticket, event, build)


def on_assigned(kind, ticket, event, **data):
    def build(audience):
        payload = _base(ticket, event, audience)
        payload.update(
            oldAssignee=audience.person(data.get("old_assignee")),
            newAssignee=audience.person(data.get("new_assignee")),
        )
        return payload

    _record("ticket.assigned", ticket, event, build)


def on_comment(kind, ticket, event, *, comment, **data):
    def build(audience):
        payload = _base(ticket, event, audience)
        payload["comment"] = {
            "id": comment.pk,
            "body": comment.body,
            "internal": comment.is_internal,
            "author": audience.person(comment.author),
            "createdAt": comment.created_at,
        }
        return payload

    _record(
        "comment.created",
        ticket,
        event,
        build,
        comment=comment,
        include_internal=comment.is_internal,
    )


#: Event kinds reported as ``ticket.updated``, with the field that changed.
UPDATED_FIELDS = {
    "priority_changed": "priority",
    "queue_changed": "queue",
    "tags_changed": "tags",
    "merged": "merged",
    "rated": "satisfactionRating",
    "sla_breached": "slaBreachedAt",
}


def on_updated(kind, ticket, event, **data):
    def build(audience):
        payload = _base(ticket, event, audience)
        payload["change"] = {
            "field": UPDATED_FIELDS[kind],
            "old": event.old_value,
            "new": event.new_value,
        }
        if kind == "tags_changed":
            payload["change"].update(old=data.get("old_tags"), new=data.get("new_tags"))
        return payload

    _record("ticket.updated", ticket, event, build)


def register() -> None:
    """Called from ``TicketsConfig.ready()``; registering twice is harmless."""
    from tickets import hooks
    from tickets.models import EventKind

    handlers = {
        EventKind.CREATED: on_created,
        EventKind.STATUS_CHANGED: on_status_changed,
        EventKind.AUTO_CLOSED: on_status_changed,
        EventKind.ASSIGNED: on_assigned,
        EventKind.COMMENTED: on_comment,
        EventKind.NOTE_ADDED: on_comment,
        **dict.fromkeys(UPDATED_FIELDS, on_updated),
    }
    for kind, func in handlers.items():
        hooks.register(kind, func, in_transaction=True)
    # a new ticket reads the subscribable webhooks, kept under a generation
    hooks.reads_generation(EventKind.CREATED, GENERATION_KEY, kept_enabled)
