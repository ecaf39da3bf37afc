"""Scheduled jobs of the accounts domain (registered in ``portal.schedules``); each is
safe to run twice."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from accounts.models import ApiToken


def purge_api_tokens(now=None) -> int:
    """Delete API tokens revoked or expired more than ``API_TOKENS_RETENTION_DAYS``
    ago: they can never authenticate again, and keeping them only keeps hashes."""
    cutoff = (now or timezone.now()) - timedelta(
        days=settings.API_TOKENS_RETENTION_DAYS
    )
    deleted, _ = ApiToken.objects.filter(
        Q(revoked_at__lt=cutoff) | Q(expires_at__lt=cutoff)
    ).delete()
    return deleted
