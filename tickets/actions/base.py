"""What every ticket status action is: a policy question and the change it makes.

``why_not(user, ticket)`` asks ``tickets.permissions`` (the one owner of who may);
``check`` is its yes/no; ``execute`` makes the change through ``tickets.services``
(one transaction: row lock, the lifecycle transition, the event, the outbox side
effects after commit), refusing with the policy's own answer when the ticket changed
since the page was drawn. A surface shows an action iff ``check`` says yes, and its
POST calls ``execute``: the button and the outcome cannot disagree.
"""

from django.db import transaction

from .. import permissions, services


class StatusAction:
    """One status change, named. Subclasses set ``name`` (unique in the registry),
    ``target`` (the status it moves to, or None for the generic move) and
    ``policy_action`` (the ``tickets.permissions.ACTIONS`` entry that decides it)."""

    name: str = ""
    target: str | None = None
    policy_action: str = ""

    def why_not(self, user, ticket, **kw) -> tuple[str, str] | None:
        """None when ``user`` may do this to ``ticket`` now, otherwise the policy's
        ``(kind, message)``."""
        return permissions.why_not(user, self.policy_action, ticket)

    def check(self, user, ticket, **kw) -> bool:
        return self.why_not(user, ticket, **kw) is None

    def execute(self, user, ticket, **kw):
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class StatusIntent(StatusAction):
    """A customer-facing button (close, reopen, withdraw): its own policy entry, which
    is narrower than the lifecycle move it makes (reopen only a finished ticket …)."""

    def execute(self, user, ticket, **kw):
        with transaction.atomic():
            # Lock and reload first, then ask the same policy that drew the button,
            # so a stale page is refused with the button's own message; the service
            # then applies the lifecycle move (and checks it again).
            services._lock(ticket)
            services._refuse(self.why_not(user, ticket))
            return services.change_status(user, ticket, self.target)
