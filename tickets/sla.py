"""The one owner of SLA: due times, a ticket's live SLA state, and the SLA measures.

Everything that shows or counts SLA calls this module: the services (due times), the
SLA job and the daily statistics job (``tickets.tasks``), the desk reports and the
dashboard (``tickets.desk.reports`` / ``panels``), the ticket workspace, the inbox's
"due" column and the portal's "expected response" line.

Due times
    ``due_times``: calendar minutes, or business minutes when the policy says so.

Live state of one clock (``clock_state``) and of a ticket (``live_state``)
    ``none`` (no target), ``met`` (done by the due time), ``late`` (done after it),
    ``paused`` (the resolution clock waits on the customer), ``breached`` (not done,
    due time passed: overdue), ``due_soon`` (due within ``DUE_SOON``), ``running``
    (on track). A ticket's state is the worst of its two clocks.

SLA met (``met``) — the one definition, used by the reports *and* the statistics job
    A ticket's SLA outcome is settled once it is resolved or a breach was recorded
    (``sla_breached_at``), and only when it has a target at all (a ticket with neither
    due time has no SLA and is not counted). It is *met* when no breach was recorded,
    the first response came by the first-response due time (a ticket resolved without
    any staff reply counts its resolution as the answer), and it was resolved by the
    resolution due time — each when that target applies. ``settled_at`` is the moment
    the outcome became known (the recorded breach, else the resolution).

Durations and medians
    ``first_response_seconds`` (creation → first staff reply) and
    ``resolution_seconds`` (creation → resolved, wall clock), never negative;
    ``median`` of a list of them. The callers fetch ``MEASURE_FIELDS`` with
    ``.values()`` in one query and feed the rows here (rows may be dicts or tickets).
"""

import statistics
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

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


# --- live state -----------------------------------------------------------------------

DUE_SOON = timedelta(hours=1)
NONE, MET, LATE, PAUSED, BREACHED, DUE_SOON_STATE, RUNNING = (
    "none",
    "met",
    "late",
    "paused",
    "breached",
    "due_soon",
    "running",
)
# Worst first: a ticket's state is the first of these that one of its clocks is in.
_SEVERITY = (BREACHED, LATE, DUE_SOON_STATE, RUNNING, PAUSED, MET, NONE)


def clock_state(due, done, *, now, paused=False) -> str:
    """The state of one clock (first response or resolution); see the module doc."""
    if due is None:
        return NONE
    if done is not None:
        return MET if done <= due else LATE
    if paused:
        return PAUSED
    if due < now:
        return BREACHED
    if due - now < DUE_SOON:
        return DUE_SOON_STATE
    return RUNNING


def clocks(ticket, now=None) -> list[tuple[str, datetime | None, datetime | None, str]]:
    """``(kind, due, done, state)`` of the first-response and the resolution clocks."""
    now = now or timezone.now()
    resolved = ticket.resolved_at or ticket.closed_at
    return [
        (
            "first_response",
            ticket.first_response_due_at,
            ticket.first_responded_at,
            clock_state(
                ticket.first_response_due_at, ticket.first_responded_at, now=now
            ),
        ),
        (
            "resolution",
            ticket.resolution_due_at,
            resolved,
            clock_state(
                ticket.resolution_due_at, resolved, now=now, paused=ticket.is_paused
            ),
        ),
    ]


def live_state(ticket, now=None) -> str:
    """The worst state of the ticket's two clocks."""
    states = {state for *_, state in clocks(ticket, now)}
    return next(s for s in _SEVERITY if s in states)


def next_due(ticket) -> tuple[str, datetime | None]:
    """``(kind, due)`` of the next deadline: first response while none was given, else
    resolution (the inbox's "due" column, the portal's expectation)."""
    if ticket.first_responded_at is None and ticket.first_response_due_at:
        return "first_response", ticket.first_response_due_at
    return "resolution", ticket.resolution_due_at


# --- measures -------------------------------------------------------------------------

MEASURE_FIELDS = (
    "created_at",
    "first_response_due_at",
    "first_responded_at",
    "resolution_due_at",
    "resolved_at",
    "sla_breached_at",
)


def _get(row, name):
    return row[name] if isinstance(row, dict) else getattr(row, name)


def _seconds(later, earlier) -> float | None:
    if later is None or earlier is None:
        return None
    return max(0.0, (later - earlier).total_seconds())


def first_response_seconds(row) -> float | None:
    """Creation → first staff reply; None when not answered."""
    return _seconds(_get(row, "first_responded_at"), _get(row, "created_at"))


def resolution_seconds(row) -> float | None:
    """Creation → resolved (wall clock); None when not resolved."""
    return _seconds(_get(row, "resolved_at"), _get(row, "created_at"))


def median(values: Iterable[float | None]) -> float | None:
    """The median of the known values; None when there is none."""
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def settled_at(row) -> datetime | None:
    """When the ticket's SLA outcome became known (None: not yet, or no SLA)."""
    if _get(row, "first_response_due_at") is None and (
        _get(row, "resolution_due_at") is None
    ):
        return None
    return _get(row, "sla_breached_at") or _get(row, "resolved_at")


def met(row) -> bool | None:
    """Whether the ticket met its SLA (see the module doc); None while unsettled or
    without an SLA."""
    if settled_at(row) is None:
        return None
    if _get(row, "sla_breached_at") is not None:
        return False
    resolved = _get(row, "resolved_at")
    first_due = _get(row, "first_response_due_at")
    answered = _get(row, "first_responded_at") or resolved
    if first_due is not None and (answered is None or answered > first_due):
        return False
    resolution_due = _get(row, "resolution_due_at")
    return resolution_due is None or resolved <= resolution_due


def outcomes(rows: Iterable) -> tuple[int, int]:
    """``(met, settled)``: how many of ``rows`` met their SLA, of those settled."""
    known = [m for m in map(met, rows) if m is not None]
    return sum(known), len(known)


def met_percent(rows: Iterable) -> float | None:
    """Share (0–100) of the settled tickets among ``rows`` that met their SLA."""
    hits, settled = outcomes(rows)
    return 100 * hits / settled if settled else None
