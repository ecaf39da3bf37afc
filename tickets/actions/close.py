"""Close: the requester marks their ticket solved (the portal's "Close" button); staff
may close a resolved one. Policy: ``permissions.why_not(user, "close", ticket)``."""

from ..models import Status
from .base import StatusIntent


class Close(StatusIntent):
    name = "close"
    policy_action = "close"
    target = Status.CLOSED
