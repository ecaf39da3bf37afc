"""What the bus carries for a committed ticket event: ids and the facts visibility
needs, never content (the stream reads the database)."""

from tickets import permissions

from . import bus


def message_for(event) -> dict:
    return {
        "t": "event",
        "id": event.pk,
        "ticket": event.ticket_id,
        "kind": str(event.kind),
        "internal": permissions.is_internal_event(event.kind, event.data),
    }


def on_ticket_event(kind, ticket, event, **data) -> None:
    """A ``tickets.hooks`` after-commit handler: the change is committed, wake the
    subscribers."""
    if event is not None and event.pk is not None:
        bus.publish(message_for(event))
