"""Ticket status changes as actions, in the manner of Wagtail's ``wagtail/actions/``.

Each action (one module each) holds its policy check (``why_not`` / ``check``, asking
``tickets.permissions``) and its change (``execute``, through ``tickets.services``).
The portal's buttons, the desk's status control and bulk action, and GraphQL's
``changeTicketStatus`` call these and nothing else for a status change, and show an
action iff its ``check`` passes, so a surface never offers a change that its POST then
refuses, nor refuses one the service performs.

- ``close`` / ``reopen`` / ``withdraw``: the customer's buttons (portal);
- ``change_status``: the staff control, any move the lifecycle table allows;
- ``resolve`` / ``reject``: its named moves (what ``for_status`` picks for them).
"""

from .base import StatusAction, StatusIntent
from .change_status import ChangeStatus, StatusMove
from .close import Close
from .reject import Reject
from .reopen import Reopen
from .resolve import Resolve
from .withdraw import Withdraw

CLOSE = Close()
REOPEN = Reopen()
WITHDRAW = Withdraw()
RESOLVE = Resolve()
REJECT = Reject()
CHANGE_STATUS = ChangeStatus()

REGISTRY: dict[str, StatusAction] = {
    action.name: action
    for action in (CLOSE, REOPEN, WITHDRAW, RESOLVE, REJECT, CHANGE_STATUS)
}

# The buttons the customer portal offers on a ticket page, in display order.
PORTAL_ACTIONS = ("close", "reopen", "withdraw")

__all__ = [
    "CHANGE_STATUS",
    "CLOSE",
    "PORTAL_ACTIONS",
    "REGISTRY",
    "REJECT",
    "REOPEN",
    "RESOLVE",
    "WITHDRAW",
    "ChangeStatus",
    "StatusAction",
    "StatusIntent",
    "StatusMove",
    "available_actions",
    "for_status",
    "get",
]


def get(name: str) -> StatusAction:
    """The action called ``name``; ``KeyError`` for an unknown one."""
    return REGISTRY[name]


def available_actions(user, ticket, names=None) -> list[StatusAction]:
    """The actions (of ``names``, default all, in that order) ``user`` may do on
    ``ticket`` now: what a surface shows."""
    chosen = REGISTRY if names is None else names
    return [REGISTRY[name] for name in chosen if REGISTRY[name].check(user, ticket)]


def for_status(status) -> ChangeStatus:
    """The staff control's action for a move to ``status``: its named move (resolve,
    reject) when there is one, otherwise the generic ``change_status`` (which also
    answers an unknown status, with the service's validation error)."""
    for action in (RESOLVE, REJECT):
        if action.target == status:
            return action
    return CHANGE_STATUS
