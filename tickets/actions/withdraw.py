"""Withdraw: the requester takes back a ticket that is still being worked (final).
Policy: ``permissions.why_not(user, "withdraw", ticket)``."""

from ..models import Status
from .base import StatusIntent


class Withdraw(StatusIntent):
    name = "withdraw"
    policy_action = "withdraw"
    target = Status.WITHDRAWN
