"""Reject: staff end a ticket with a reason (stored on the ticket and in the event;
the service refuses an empty one)."""

from ..models import Status
from .change_status import StatusMove


class Reject(StatusMove):
    name = "reject"
    target = Status.REJECTED
