"""Scheduled webhook jobs (registered in ``portal.schedules``); both are safe to run
twice or concurrently."""

from . import delivery


def process_webhooks() -> dict:
    """Deliver the deliveries that are due."""
    return dict(delivery.deliver_due())


def purge_old_deliveries() -> int:
    """Delete old delivered and failed rows."""
    return delivery.purge_old_deliveries()
