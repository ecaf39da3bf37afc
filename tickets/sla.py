"""SLA due times: calendar minutes, or business minutes when the policy says so."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .models import SLAPolicy


def policy_for(queue) -> SLAPolicy:
    """The queue's policy, else the default one, else the built-in defaults (unsaved)."""
    if queue is not None and queue.sla_policy_id:
        return queue.sla_policy
    return SLAPolicy.objects.filter(is_default=True).first() or SLAPolicy(
        name="Built-in defaults"
    )


def add_minutes(policy: SLAPolicy, start: datetime, minutes: int) -> datetime:
    if not policy.business_hours_only:
        return start + timedelta(minutes=minutes)
    return _add_business_minutes(policy, start, minutes)


def _add_business_minutes(policy, start, minutes):
    tz = ZoneInfo(policy.time_zone or "UTC")
    days = set(policy.business_days or [0, 1, 2, 3, 4])
    open_h, close_h = policy.business_start_hour, policy.business_end_hour
    if not days or close_h <= open_h:
        return start + timedelta(minutes=minutes)
    current = start.astimezone(tz)
    remaining = timedelta(minutes=minutes)
    for _ in range(3660):  # ten years of days: a hard stop for absurd settings
        day_open = current.replace(hour=open_h, minute=0, second=0, microsecond=0)
        day_close = current.replace(hour=close_h, minute=0, second=0, microsecond=0)
        if current.weekday() in days and current < day_close:
            begin = max(current, day_open)
            available = day_close - begin
            if remaining <= available:
                return (begin + remaining).astimezone(start.tzinfo)
            remaining -= available
        current = (current + timedelta(days=1)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
    return start + timedelta(minutes=minutes)


def due_times(queue, priority: str, start: datetime) -> tuple[datetime, datetime]:
    """(first response due, resolution due) for a ticket created at ``start``."""
    policy = policy_for(queue)
    return (
        add_minutes(policy, start, policy.first_response_minutes(priority)),
        add_minutes(policy, start, policy.resolution_minutes(priority)),
    )
