"""Reopen: a resolved (or, for a supervisor, closed) ticket goes back to open.
Policy: ``permissions.why_not(user, "reopen", ticket)``."""

from ..models import Status
from .base import StatusIntent


class Reopen(StatusIntent):
    name = "reopen"
    policy_action = "reopen"
    target = Status.OPEN
