"""Resolve: staff mark the ticket solved (the requester may then close or reopen it)."""

from ..models import Status
from .change_status import StatusMove


class Resolve(StatusMove):
    name = "resolve"
    target = Status.RESOLVED
