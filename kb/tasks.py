"""Scheduled jobs of the knowledge base (registered in ``portal/schedules.py``)."""

from . import services


def flush_counters() -> dict[str, int]:
    """Every minute: store the article view and search counters kept in the cache."""
    return services.flush_counters()
