"""What the bus carries for a committed ticket event: ids and the facts visibility
needs, never content (the stream reads the database for a replay).

With each event goes the ticket's audience (``permissions.ticket_audience``: the ids
its grants name, read once here, after the commit; for a new ticket, the audience its
grants statement wrote, ``grants.WrittenAudience``, while no grant was written since)
and its reference, so that every
subscriber of every process decides in memory whether the event is for it: no query
per subscriber per event (bench/README.md, "Live updates"). A message without them (the
audience could not be read) is decided by each stream through the policy's queries.
"""

import logging

from tickets import permissions

from . import bus

logger = logging.getLogger(__name__)


def message_for(event, ticket=None, audience=None) -> dict:
    """``audience``: what the change already knows of the ticket's audience
    (``tickets.grants.WrittenAudience``, given with a new ticket's event), used while
    it is still current instead of reading it after the commit."""
    message = {
        "t": "event",
        "id": event.pk,
        "ticket": event.ticket_id,
        "kind": str(event.kind),
        "internal": permissions.is_internal_event(event.kind, event.data),
    }
    try:
        known = audience.current() if audience is not None else None
        if known is not None and ticket is not None and ticket.pk == event.ticket_id:
            audience = known
        else:
            audience = permissions.ticket_audience(event.ticket_id)
        if audience is not None:
            message["aud"] = audience.as_message()
            if ticket is None or ticket.pk != event.ticket_id:
                ticket = event.ticket
            message["ref"] = ticket.reference
    except Exception:  # noqa: BLE001 - the streams decide by query instead
        logger.warning("live: could not read the audience of a ticket", exc_info=True)
        message.pop("aud", None)
    return message


def on_ticket_event(kind, ticket, event, **data) -> None:
    """A ``tickets.hooks`` after-commit handler: the change is committed, wake the
    subscribers."""
    if event is not None and event.pk is not None:
        bus.publish(message_for(event, ticket, data.get("audience")))
