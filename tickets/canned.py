"""Canned responses: plain text with three placeholders, filled for one ticket."""

import re

from .permissions import name_shown_to

_PLACEHOLDER = re.compile(r"{{\s*(requester_name|ticket_reference|agent_name)\s*}}")


def placeholder_values(ticket, agent) -> dict[str, str]:
    """What the placeholders stand for on ``ticket`` answered by ``agent``: the same
    for every canned response of the page (``render_canned_response``)."""
    return {
        "requester_name": ticket.requester.get_short_name(),
        "ticket_reference": ticket.reference,
        # the requester reads it: a name, never the agent's address
        "agent_name": name_shown_to(ticket.requester, agent),
    }


def render_canned_response(canned, ticket, agent, values=None) -> str:
    """The response's body with ``{{ requester_name }}``, ``{{ ticket_reference }}`` and
    ``{{ agent_name }}`` filled in; other text (including unknown ``{{ x }}``) is left
    untouched. No template engine: a canned response cannot run code. ``values``:
    ``placeholder_values(ticket, agent)`` when the caller fills several."""
    if values is None:
        values = placeholder_values(ticket, agent)
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], canned.body)
