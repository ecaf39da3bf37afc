"""The ticket lifecycle in one table.

``TRANSITIONS[current][next]`` is the set of parties who may make that move:

- ``STAFF``: whoever works the ticket (its queue's agents, the assignee, supervisors,
  administrators);
- ``REQUESTER``: the customer who filed it (not their colleagues);
- ``SUPERVISOR``: supervisors and administrators only.

new → open → in_progress ↔ waiting_on_customer / on_hold → resolved → closed; rejected
(with a reason) and withdrawn (by the requester) are ends; closed is final except for a
supervisor. Replies move tickets too (``after_reply``): a customer's reply on a ticket
waiting on them, or on a resolved one, returns it to open.
"""

from .models import PAUSED_STATUSES, Status

STAFF = "staff"
REQUESTER = "requester"
SUPERVISOR = "supervisor"

_S = frozenset({STAFF})
_R = frozenset({REQUESTER})
_SR = frozenset({STAFF, REQUESTER})
_SUP = frozenset({SUPERVISOR})

TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    Status.NEW: {
        Status.OPEN: _S,
        Status.IN_PROGRESS: _S,
        Status.WAITING_ON_CUSTOMER: _S,
        Status.ON_HOLD: _S,
        Status.RESOLVED: _S,
        Status.REJECTED: _S,
        Status.CLOSED: _R,
        Status.WITHDRAWN: _R,
    },
    Status.OPEN: {
        Status.IN_PROGRESS: _S,
        Status.WAITING_ON_CUSTOMER: _S,
        Status.ON_HOLD: _S,
        Status.RESOLVED: _S,
        Status.REJECTED: _S,
        Status.CLOSED: _R,
        Status.WITHDRAWN: _R,
    },
    Status.IN_PROGRESS: {
        Status.OPEN: _S,
        Status.WAITING_ON_CUSTOMER: _S,
        Status.ON_HOLD: _S,
        Status.RESOLVED: _S,
        Status.REJECTED: _S,
        Status.CLOSED: _R,
        Status.WITHDRAWN: _R,
    },
    Status.WAITING_ON_CUSTOMER: {
        Status.OPEN: _SR,
        Status.IN_PROGRESS: _S,
        Status.ON_HOLD: _S,
        Status.RESOLVED: _S,
        Status.REJECTED: _S,
        Status.CLOSED: _R,
        Status.WITHDRAWN: _R,
    },
    Status.ON_HOLD: {
        Status.OPEN: _S,
        Status.IN_PROGRESS: _S,
        Status.WAITING_ON_CUSTOMER: _S,
        Status.RESOLVED: _S,
        Status.REJECTED: _S,
        Status.CLOSED: _R,
        Status.WITHDRAWN: _R,
    },
    Status.RESOLVED: {
        Status.OPEN: _SR,
        Status.IN_PROGRESS: _S,
        Status.CLOSED: _SR,
    },
    Status.CLOSED: {
        Status.OPEN: _SUP,
    },
    Status.REJECTED: {},
    Status.WITHDRAWN: {},
}

# Moves that need a reason (stored on the ticket and in the event).
REASON_REQUIRED = frozenset({Status.REJECTED})


def allowed_next(current: str, parties: set[str]) -> list[str]:
    """The statuses these parties may move a ticket in ``current`` to."""
    return [
        status for status, who in TRANSITIONS.get(current, {}).items() if who & parties
    ]


def is_allowed(current: str, new: str, parties: set[str]) -> bool:
    return bool(TRANSITIONS.get(current, {}).get(new, frozenset()) & parties)


def after_reply(current: str, *, by_staff: bool) -> str | None:
    """The status a public reply moves the ticket to, or None to leave it."""
    if not by_staff and current in (Status.WAITING_ON_CUSTOMER, Status.RESOLVED):
        return Status.OPEN
    return None


def pauses_clock(status: str) -> bool:
    return status in PAUSED_STATUSES
