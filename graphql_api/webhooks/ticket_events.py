"""Ticket changes → webhook outbox, inside the service's transaction.

Registered with ``tickets.hooks`` as in-transaction handlers (see ``register``), so a
delivery commits with the change it reports or not at all. Every ticket event uses the
ordering key ``ticket:<reference>``, so a receiver sees a ticket's events in order.
"""

from .outbox import enqueue


def _user(user) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "email": user.email, "name": user.get_display_name()}


def ticket_payload(ticket) -> dict:
    return {
        "reference": ticket.reference,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "category": ticket.category,
        "source": ticket.source,
        "queue": ticket.queue.slug,
        "organization": ticket.organization.slug if ticket.organization_id else None,
        "requester": _user(ticket.requester),
        "assignee": _user(ticket.assignee),
        "createdAt": ticket.created_at,
        "updatedAt": ticket.updated_at,
        "resolvedAt": ticket.resolved_at,
        "closedAt": ticket.closed_at,
        "firstResponseDueAt": ticket.first_response_due_at,
        "resolutionDueAt": ticket.resolution_due_at,
        "slaBreachedAt": ticket.sla_breached_at,
    }


def _key(ticket) -> str:
    return f"ticket:{ticket.reference}"


def _base(ticket, event) -> dict:
    return {
        "ticket": ticket_payload(ticket),
        "actor": _user(event.actor) if event.actor_id else None,
        "eventId": event.pk,
    }


def on_created(kind, ticket, event, **data):
    payload = _base(ticket, event)
    payload["ticket"]["description"] = ticket.description
    enqueue("ticket.created", payload, ordering_key=_key(ticket))


def on_status_changed(kind, ticket, event, **data):
    payload = _base(ticket, event)
    payload.update(
        oldStatus=event.old_value,
        newStatus=event.new_value,
        reason=data.get("reason") or "",
        automatic=kind == "auto_closed",
    )
    enqueue("ticket.status_changed", payload, ordering_key=_key(ticket))


def on_assigned(kind, ticket, event, **data):
    payload = _base(ticket, event)
    payload.update(
        oldAssignee=_user(data.get("old_assignee")),
        newAssignee=_user(data.get("new_assignee")),
    )
    enqueue("ticket.assigned", payload, ordering_key=_key(ticket))


def on_comment(kind, ticket, event, *, comment, **data):
    payload = _base(ticket, event)
    payload["comment"] = {
        "id": comment.pk,
        "body": comment.body,
        "internal": comment.is_internal,
        "author": _user(comment.author),
        "createdAt": comment.created_at,
    }
    enqueue(
        "comment.created",
        payload,
        ordering_key=_key(ticket),
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
    payload = _base(ticket, event)
    payload["change"] = {
        "field": UPDATED_FIELDS[kind],
        "old": event.old_value,
        "new": event.new_value,
    }
    if kind == "tags_changed":
        payload["change"].update(old=data.get("old_tags"), new=data.get("new_tags"))
    enqueue("ticket.updated", payload, ordering_key=_key(ticket))


def register() -> None:
    """Called from ``GraphqlApiConfig.ready()``; registering twice is harmless."""
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
