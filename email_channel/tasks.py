"""Scheduled jobs of the email channel (registered in ``portal.schedules``)."""

from . import imap


def fetch_email() -> dict:
    return dict(imap.poll_all())
