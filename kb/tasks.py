"""Scheduled jobs of the knowledge base (registered in ``portal/schedules.py``)."""

from . import counters


def flush_counters() -> dict[str, int]:
    """Every minute: store the article view and search counters kept in the cache."""
    return counters.flush_counters()
