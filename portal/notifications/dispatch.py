"""Queueing notification jobs once the current transaction has committed.

A service calls these inside its transaction; nothing is queued if it rolls back, and
the job (run by the django-q2 worker; inline in tests, where ``Q_CLUSTER["sync"]``) sees
the committed rows. Pass ids and plain data, never model instances: the job reloads what
it needs, so it never works on a stale copy.
"""

from django.db import transaction

from portal.jobs import enqueue


def queue_after_commit(func: str, *args, **kwargs) -> None:
    """Run ``func`` (a dotted path) in the worker after the transaction commits."""
    transaction.on_commit(lambda: enqueue(func, *args, **kwargs))


def notify_after_commit(
    kind: str,
    recipient_id: int,
    *,
    context: dict,
    idempotency_key: str,
    actor_id: int | None = None,
    preference: bool | str | None = None,
) -> None:
    """Queue one email whose context is plain data (strings, numbers, lists)."""
    queue_after_commit(
        "portal.notifications.tasks.send_notification_task",
        kind,
        recipient_id,
        context=context,
        idempotency_key=idempotency_key,
        actor_id=actor_id,
        preference=preference,
    )


def notify_address_after_commit(
    kind: str,
    email: str,
    *,
    context: dict,
    idempotency_key: str,
    locale: str = "",
) -> None:
    """Queue one email to an address that may belong to no account yet (invitations),
    written in ``locale`` (the site's language when empty)."""
    queue_after_commit(
        "portal.notifications.tasks.send_to_address_task",
        kind,
        email,
        context=context,
        idempotency_key=idempotency_key,
        locale=locale,
    )
