"""The ticket lifecycle in one table.

``TRANSITIONS[current][next]`` is the set of parties who may make that move:

- ``STAFF``: whoever works the ticket (its queue's agents, the assignee, supervisors,
  administrators);
- ``REQUESTER``: the customer who filed it (not their colleagues);
- ``SUPERVISOR``: supervisors and administrators only.

new → open → in_progress ↔ waiting_on_customer / on_hold → resolved → closed; rejected
(with a reason) and withdrawn (by the requester) are ends; closed is final except for a
supervisor. Replies move tickets too (``after_reply``): a customer's reply on a ticket
waiting on them, or on a resolved one, returns it to open; the first staff reply on a new
ticket moves it to open, or to waiting on customer when the agent sends it as such.
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


# What staff may send a public reply "as" (like Zendesk's "submit as"): the reply and
# the status change in one step. Without a choice, the first staff reply on a new
# ticket moves it to open.
REPLY_STATUSES = (Status.OPEN, Status.WAITING_ON_CUSTOMER)


def after_reply(
    current: str, *, by_staff: bool, submit_as: str | None = None
) -> str | None:
    """The status a public reply moves the ticket to, or None to leave it.

    A customer's reply to a ticket waiting on them, or to a resolved one, reopens it.
    A staff reply moves the ticket to ``submit_as`` (one of ``REPLY_STATUSES``, when the
    table allows staff that move), and otherwise a new ticket to open."""
    if not by_staff:
        if current in (Status.WAITING_ON_CUSTOMER, Status.RESOLVED):
            return Status.OPEN
        return None
    if submit_as and submit_as != current:
        return submit_as if reply_may_submit_as(current, submit_as) else None
    if current == Status.NEW:
        return Status.OPEN
    return None


def reply_may_submit_as(current: str, submit_as: str) -> bool:
    """Whether a staff reply on a ticket in ``current`` may set ``submit_as``."""
    return submit_as in REPLY_STATUSES and (
        submit_as == current or is_allowed(current, submit_as, {STAFF})
    )


def pauses_clock(status: str) -> bool:
    return status in PAUSED_STATUSES
