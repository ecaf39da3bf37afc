"""Site-wide scheduled jobs (registered in ``portal.schedules``); each is safe to run
twice. Jobs about one domain's data live in that domain's ``tasks`` module: this
shared module imports no domain app (import contract in pyproject.toml)."""

from django.core.management import call_command


def publish_scheduled() -> None:
    """Wagtail's scheduled publishing/unpublishing; safe to run twice."""
    call_command("publish_scheduled")


def clear_expired_sessions() -> None:
    """Delete expired database sessions (Django's ``clearsessions``)."""
    call_command("clearsessions")
