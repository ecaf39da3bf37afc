"""Site-wide scheduled jobs (registered in ``portal.schedules``); each is safe to run
twice."""

from datetime import timedelta

from django.conf import settings
from django.core.management import call_command
from django.db.models import Q
from django.utils import timezone


def publish_scheduled() -> None:
    """Wagtail's scheduled publishing/unpublishing; safe to run twice."""
    call_command("publish_scheduled")


def clear_expired_sessions() -> None:
    """Delete expired database sessions (Django's ``clearsessions``)."""
    call_command("clearsessions")


def purge_api_tokens(now=None) -> int:
    """Delete API tokens revoked or expired more than ``API_TOKENS_RETENTION_DAYS``
    ago: they can never authenticate again, and keeping them only keeps hashes."""
    from accounts.models import ApiToken

    cutoff = (now or timezone.now()) - timedelta(
        days=settings.API_TOKENS_RETENTION_DAYS
    )
    deleted, _ = ApiToken.objects.filter(
        Q(revoked_at__lt=cutoff) | Q(expires_at__lt=cutoff)
    ).delete()
    return deleted
