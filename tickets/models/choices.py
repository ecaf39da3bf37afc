from django.db import models
from django.db.models import Case, IntegerField, Value, When
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

# {(choices, language, value): label}: the labels translated so far, per language (the
# process's translation catalogues do not change once loaded); members only, so at
# most the choices' sizes times the languages.
_LABELS: dict = {}


def choice_label(choices: type[models.Choices], value):
    """What Django's generated ``get_FOO_display`` answers for a field with
    ``choices.choices``: the value's label, or the value itself when it is none of
    them. That one rebuilds the choices as a dict on every call, hashing (so
    translating) every label; this translates only the one asked for, once per
    language (lists and histories show the same few labels on every row)."""
    key = (choices, get_language(), value)
    label = _LABELS.get(key)
    if label is None:
        try:
            member = choices(value)
        except ValueError:
            return value
        label = _LABELS[key] = str(member.label)
    return label


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_ON_CUSTOMER = "waiting_on_customer", _("Waiting on customer")
    ON_HOLD = "on_hold", _("On hold")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Priority(models.TextChoices):
    """The one owner of priority values, labels and order: declared from least to
    most urgent, and every sort (desk, portal, GraphQL, admin) and every escalation
    reads that order from here, never from the stored strings (which sort
    critical, high, low, medium)."""

    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")

    @property
    def rank(self) -> int:
        """0 for the least urgent, rising with urgency."""
        return list(type(self)).index(self)

    @classmethod
    def ordered(cls, *, descending: bool = False) -> list["Priority"]:
        """The priorities from least to most urgent (most urgent first with
        ``descending``)."""
        members = list(cls)
        return members[::-1] if descending else members

    @classmethod
    def order_expression(cls, field: str = "priority") -> Case:
        """The rank of ``field`` as a database expression, to sort a queryset by
        urgency: ``qs.alias(rank=Priority.order_expression()).order_by("-rank")``
        lists critical, high, medium, low. An unknown stored value ranks below low."""
        return Case(
            *[When(**{field: member.value}, then=Value(member.rank)) for member in cls],
            default=Value(-1),
            output_field=IntegerField(),
        )

    def raised(self) -> "Priority | None":
        """The next more urgent priority; None for the most urgent."""
        members = list(type(self))
        index = members.index(self)
        return members[index + 1] if index + 1 < len(members) else None


class Category(models.TextChoices):
    TECHNICAL = "technical", _("Technical")
    ACCOUNT = "account", _("Account")
    BILLING = "billing", _("Billing")
    OTHER = "other", _("Other")


class Source(models.TextChoices):
    PORTAL = "portal", _("Portal")
    API = "api", _("API")
    EMAIL = "email", _("Email")
    AGENT = "agent", _("Agent")


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    STATUS_CHANGED = "status_changed", _("Status changed")
    ASSIGNED = "assigned", _("Assigned")
    PRIORITY_CHANGED = "priority_changed", _("Priority changed")
    QUEUE_CHANGED = "queue_changed", _("Queue changed")
    TAGS_CHANGED = "tags_changed", _("Tags changed")
    WATCHER_ADDED = "watcher_added", _("Watcher added")
    WATCHER_REMOVED = "watcher_removed", _("Watcher removed")
    COMMENTED = "commented", _("Replied")
    NOTE_ADDED = "note_added", _("Internal note added")
    ATTACHMENT_ADDED = "attachment_added", _("Attachment added")
    MERGED = "merged", _("Merged")
    RATED = "rated", _("Rated")
    TIME_LOGGED = "time_logged", _("Time logged")
    SLA_BREACHED = "sla_breached", _("SLA breached")
    AUTO_CLOSED = "auto_closed", _("Closed automatically")
    SHARING_CHANGED = "sharing_changed", _("Organization sharing applied")


# Statuses in which work is still expected.
OPEN_STATUSES = (
    Status.NEW,
    Status.OPEN,
    Status.IN_PROGRESS,
    Status.WAITING_ON_CUSTOMER,
    Status.ON_HOLD,
)
# The resolution clock stops in these.
PAUSED_STATUSES = (Status.WAITING_ON_CUSTOMER, Status.ON_HOLD)
# No further work; replies are refused.
FINAL_STATUSES = (Status.CLOSED, Status.REJECTED, Status.WITHDRAWN)
DONE_STATUSES = (Status.RESOLVED, *FINAL_STATUSES)
