"""Notification jobs run by the django-q2 worker; each is safe to run twice or
concurrently (rows are claimed, keys are unique)."""

from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from . import sending
from .models import SentNotification


def deliver_notifications(keys: list[str]) -> dict:
    """The wake-up queued after a change committed: send its emails now (one claim,
    one record). A row another worker holds, or already sent, is left alone."""
    return dict(Counter(sending.deliver(keys).values()))


def deliver_due_notifications() -> dict:
    """The reconciliation (every minute): send what is due, whatever became of the
    wake-up job (lost with a killed worker or a down broker, failed on a database
    error), retries included; give up on rows past their attempts or age."""
    return dict(sending.deliver_due())


# Jobs queued by releases before the outbox; a deploy may find some in the broker.


def send_notification_task(
    kind: str,
    recipient_id: int,
    *,
    context: dict,
    idempotency_key: str,
    actor_id: int | None = None,
    preference: bool | str | None = None,
) -> str:
    """Send one email whose context is plain data; safe to run twice."""
    recipient = get_user_model().objects.filter(pk=recipient_id).first()
    if recipient is None:
        return "skipped_no_recipient"
    return sending.send_notification(
        kind,
        recipient,
        context=context,
        idempotency_key=idempotency_key,
        actor=actor_id,
        preference=preference,
    )


def send_to_address_task(
    kind: str, email: str, *, context: dict, idempotency_key: str, locale: str = ""
) -> str:
    """Send one email to a bare address; safe to run twice."""
    return sending.send_notification(
        kind,
        sending.Address(email=email, locale=locale),
        context=context,
        idempotency_key=idempotency_key,
    )


def purge_old_notifications(now=None) -> int:
    """Forget finished rows (sent, skipped, failed) older than
    ``NOTIFICATIONS_RETENTION_DAYS``; pending ones stay until they are done."""
    cutoff = (now or timezone.now()) - timedelta(
        days=settings.NOTIFICATIONS_RETENTION_DAYS
    )
    deleted, _ = (
        SentNotification.objects.filter(created_at__lt=cutoff)
        .exclude(status=SentNotification.Status.PENDING)
        .delete()
    )
    return deleted
