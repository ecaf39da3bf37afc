"""Notification jobs run by the django-q2 worker."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from .models import SentNotification
from .sending import send_notification


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
    return send_notification(
        kind,
        recipient,
        context=context,
        idempotency_key=idempotency_key,
        actor=actor_id,
        preference=preference,
    )


def purge_old_notifications(now=None) -> int:
    """Forget ledger rows older than ``NOTIFICATIONS_RETENTION_DAYS`` (their events
    are long past any retry)."""
    cutoff = (now or timezone.now()) - timedelta(
        days=settings.NOTIFICATIONS_RETENTION_DAYS
    )
    deleted, _ = SentNotification.objects.filter(created_at__lt=cutoff).delete()
    return deleted
