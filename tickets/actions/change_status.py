"""The staff status control (desk, GraphQL, bulk): any move the lifecycle table
(``tickets.lifecycle``) allows the caller, decided by ``permissions.why_not_move``."""

from .. import permissions, services
from .base import StatusAction


class ChangeStatus(StatusAction):
    name = "change_status"
    policy_action = "change_status"

    def why_not(self, user, ticket, *, status=None, **kw):
        """Without ``status``: whether the caller has any move at all (whether to show
        the control); with it: whether that move is allowed now."""
        if status is None:
            return permissions.why_not(user, self.policy_action, ticket)
        return permissions.why_not_move(user, ticket, status)

    def choices(self, user, ticket) -> list[str]:
        """The statuses the control offers: exactly the moves ``execute`` performs."""
        return permissions.allowed_moves(user, ticket)

    def control(self, user, ticket) -> tuple[bool, list[str]]:
        """``(check(user, ticket), choices(user, ticket))`` from one evaluation."""
        denial, moves = permissions.status_control(user, ticket)
        return denial is None, moves

    def execute(self, user, ticket, *, status, reason="", **kw):
        # The service enforces ``why_not_move`` itself, under its row lock.
        return services.change_status(user, ticket, status, reason=reason)


class StatusMove(ChangeStatus):
    """A named move of the staff control to one status (resolve, reject): the same
    rule as ``ChangeStatus`` for that status."""

    def why_not(self, user, ticket, **kw):
        return super().why_not(user, ticket, status=self.target)

    def execute(self, user, ticket, *, status=None, reason="", **kw):
        if status is not None and status != self.target:
            raise ValueError(f"{self.name} moves to {self.target}, not {status!r}")
        return super().execute(user, ticket, status=self.target, reason=reason)
