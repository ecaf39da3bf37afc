"""Helpdesk models, re-exported so that ``from tickets.models import Ticket`` works."""

from .activity import Attachment, Comment, TicketEvent, TimeEntry
from .choices import (
    DONE_STATUSES,
    FINAL_STATUSES,
    OPEN_STATUSES,
    PAUSED_STATUSES,
    Category,
    EventKind,
    Priority,
    Source,
    Status,
)
from .deflection import DeflectionEvent, DeflectionOutcome
from .queues import CannedResponse, Queue, SLAPolicy
from .reporting import ReportSubscription
from .stats import DailyStats, StatsSlice
from .tallies import GrantTally, QueueTally, TalliedUser
from .tickets import (
    TaggedTicket,
    Ticket,
    TicketGroupObjectPermission,
    TicketSequence,
    TicketUserObjectPermission,
)

__all__ = [
    "DONE_STATUSES",
    "FINAL_STATUSES",
    "OPEN_STATUSES",
    "PAUSED_STATUSES",
    "Attachment",
    "CannedResponse",
    "Category",
    "Comment",
    "DailyStats",
    "DeflectionEvent",
    "DeflectionOutcome",
    "EventKind",
    "GrantTally",
    "Priority",
    "Queue",
    "QueueTally",
    "TalliedUser",
    "ReportSubscription",
    "SLAPolicy",
    "StatsSlice",
    "Source",
    "Status",
    "TaggedTicket",
    "Ticket",
    "TicketEvent",
    "TicketGroupObjectPermission",
    "TicketSequence",
    "TicketUserObjectPermission",
    "TimeEntry",
]
