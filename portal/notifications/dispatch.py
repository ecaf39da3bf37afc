"""Writing notification emails to the outbox, in the transaction of the change.

A service calls these inside its ``transaction.atomic()`` block. Each email becomes a
``SentNotification`` row that commits or rolls back with the change: a rolled-back
change sends nothing, a committed one is sent even if everything after the commit
fails. After the commit, one job is queued to send the transaction's emails at once;
it is only a wake-up: if it cannot be queued (the broker is down) or is lost (a killed
worker), the reconciliation schedule (``notifications-deliver-due``) sends the rows.

The context is stored as JSON: pass plain data (strings, numbers, lists, dicts), never
model instances or dates (format them first); anything else raises ``NotPlainData``.
"""

import logging

from django.db import transaction

from portal.jobs import enqueue

from .sending import Address, Outgoing, store

logger = logging.getLogger(__name__)

DELIVER_TASK = "portal.notifications.tasks.deliver_notifications"


def _broker_unreachable(error: Exception) -> bool:
    """A refused, timed-out or dropped connection to Redis or the database (the
    ORM broker)."""
    from django.db import DatabaseError

    try:
        from redis import RedisError
    except ImportError:  # pragma: no cover - redis is installed with django-q2
        RedisError = OSError  # noqa: N806
    return isinstance(error, RedisError | OSError | DatabaseError)


def wake_up_after_commit(keys: list[str]) -> None:
    """After commit, queue a job that sends ``keys`` now. Failing to queue it is
    logged and otherwise harmless: the rows are there and the reconciliation sends
    them."""

    def not_queued(error: Exception) -> None:
        logger.warning(
            "Could not queue the delivery of %d notification(s) (%s); the "
            "reconciliation schedule will send them",
            len(keys),
            error.__class__.__name__,
            # a broker outage is expected: one line; anything else, a traceback
            exc_info=None if _broker_unreachable(error) else error,
            extra={"event": "wake_up_not_queued", "dependency": "broker"},
        )

    def wake():
        try:
            # on Redis, pushed with the change's other after-commit commands
            # (``portal.after_commit``); a failure then comes to ``not_queued``
            enqueue(DELIVER_TASK, keys, on_error=not_queued)
        except Exception as error:
            not_queued(error)

    transaction.on_commit(wake)


def write_notifications(messages: list[Outgoing]) -> list[str | None]:
    """Write ``messages`` to the outbox (one INSERT) and wake a worker after commit.
    Returns per message None (written) or the reason it will not be sent (``Outcome``
    value: the recipient is the actor, has no address, or opted out)."""
    outcomes, keys = store(messages)
    if keys:
        wake_up_after_commit(keys)
    return outcomes


def notify_after_commit(
    kind: str,
    recipient_id: int,
    *,
    context: dict,
    idempotency_key: str,
    actor_id: int | None = None,
    preference: bool | str | None = None,
) -> None:
    """Write one email to user ``recipient_id``, sent once the change commits."""
    write_notifications(
        [
            Outgoing(
                kind=kind,
                recipient=recipient_id,
                context=context,
                idempotency_key=idempotency_key,
                actor=actor_id,
                preference=preference,
            )
        ]
    )


def notify_address_after_commit(
    kind: str,
    email: str,
    *,
    context: dict,
    idempotency_key: str,
    locale: str = "",
) -> None:
    """Write one email to an address that may belong to no account yet (invitations),
    in ``locale`` (the site's language when empty), sent once the change commits."""
    write_notifications(
        [
            Outgoing(
                kind=kind,
                recipient=Address(email=email, locale=locale),
                context=context,
                idempotency_key=idempotency_key,
            )
        ]
    )
