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
    ``resolution_seconds`` (creation → resolved, wall clock), never negative, of one
    ticket; ``first_response_durations`` / ``resolution_durations`` of many rows, and
    their ``median``. Aggregating callers fetch ``MEASURE_FIELDS`` with ``.values()``
    in one query and feed the rows to the batch functions (``outcomes``,
    ``met_percent``, ``*_durations``): one pass in Python, as fast as the reports'
    former inline code. (A median is not an SQL aggregate on SQLite, so it is not
    computed in the database.)
"""

import functools
import statistics
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext

from . import defaults
from .models import SLAPolicy


def policy_for(queue) -> SLAPolicy:
    """The queue's policy, else the default one, else the built-in defaults (unsaved)."""
    return _saved_policy_for(queue) or SLAPolicy(name=gettext("Built-in defaults"))


def _saved_policy_for(queue) -> SLAPolicy | None:
    """``policy_for``'s saved policies: the queue's, else the default one, else None."""
    if queue is not None and queue.sla_policy_id:
        return queue.sla_policy
    return defaults.default_policy(queue)


@functools.cache
def _built_in_clocks() -> SLAPolicy:
    """The built-in defaults' targets and hours, for computing times only: one
    unsaved instance per process, never changed, saved or shown (no name: a
    translated name costs a ``gettext`` and the instance a model ``__init__`` for each
    filing where no policy applies)."""
    return SLAPolicy()


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
    policy = _saved_policy_for(queue) or _built_in_clocks()
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


def next_state(ticket, now=None) -> tuple[str, datetime | None, str]:
    """``(kind, due, state)`` of the clock that matters now: while the ticket is open,
    its next deadline (``next_due``; the resolution clock pauses while waiting on the
    customer); once it is done, its settled outcome (``met``: ``MET``, ``LATE`` for
    missed, ``NONE`` without an SLA or an outcome). The inbox's SLA cell and the
    portal's expectation line."""
    now = now or timezone.now()
    kind, due = next_due(ticket)
    if not ticket.is_open:
        return kind, due, {True: MET, False: LATE}.get(met(ticket), NONE)
    paused = kind == "resolution" and ticket.is_paused
    return kind, due, clock_state(due, None, now=now, paused=paused)


# --- measures -------------------------------------------------------------------------

MEASURE_FIELDS = (
    "created_at",
    "first_response_due_at",
    "first_responded_at",
    "resolution_due_at",
    "resolved_at",
    "sla_breached_at",
)


def _fields(row) -> dict:
    """A ``.values()`` row as it is; a ticket as the measure fields it holds."""
    if isinstance(row, dict):
        return row
    return {name: getattr(row, name) for name in MEASURE_FIELDS}


def first_response_durations(rows: Iterable[dict]) -> list[float]:
    """Creation → first staff reply, in seconds (never negative), of the answered
    ``.values()`` rows."""
    return [
        max(0.0, (r["first_responded_at"] - r["created_at"]).total_seconds())
        for r in rows
        if r["first_responded_at"] is not None
    ]


def resolution_durations(rows: Iterable[dict]) -> list[float]:
    """Creation → resolved (wall clock), in seconds, of the resolved rows."""
    return [
        max(0.0, (r["resolved_at"] - r["created_at"]).total_seconds())
        for r in rows
        if r["resolved_at"] is not None
    ]


def first_response_seconds(row) -> float | None:
    """One ticket's (or row's) first response time; None when not answered."""
    return next(iter(first_response_durations([_fields(row)])), None)


def resolution_seconds(row) -> float | None:
    """One ticket's (or row's) resolution time; None when not resolved."""
    return next(iter(resolution_durations([_fields(row)])), None)


def median(values: list[float]) -> float | None:
    """The median (``statistics.median``: the mean of the middle two of an even
    count); None when there is no value."""
    return statistics.median(values) if values else None


def settled_at(row) -> datetime | None:
    """When the ticket's SLA outcome became known (None: not yet, or no SLA)."""
    row = _fields(row)
    if row["first_response_due_at"] is None and row["resolution_due_at"] is None:
        return None
    return row["sla_breached_at"] or row["resolved_at"]


def met(row) -> bool | None:
    """Whether the ticket met its SLA (see the module doc); None while unsettled or
    without an SLA."""
    return _met(_fields(row))


def _met(row: dict) -> bool | None:
    first_due = row["first_response_due_at"]
    resolution_due = row["resolution_due_at"]
    resolved = row["resolved_at"]
    if first_due is None and resolution_due is None:
        return None  # no SLA
    if row["sla_breached_at"] is not None:
        return False
    if resolved is None:
        return None  # not settled yet
    if first_due is not None and (row["first_responded_at"] or resolved) > first_due:
        return False
    return resolution_due is None or resolved <= resolution_due


def outcomes(rows: Iterable[dict]) -> tuple[int, int]:
    """``(met, settled)``: how many of the ``.values()`` rows met their SLA, of those
    settled."""
    hits = settled = 0
    for verdict in map(_met, rows):
        if verdict is not None:
            settled += 1
            hits += verdict
    return hits, settled


def met_percent(rows: Iterable[dict]) -> float | None:
    """Share (0–100) of the settled tickets among ``rows`` that met their SLA."""
    hits, settled = outcomes(rows)
    return 100 * hits / settled if settled else None
