"""Where tickets go (queues), how fast they must be answered (SLA policies), and the
ready-made answers agents paste (canned responses)."""

from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import Priority

HOUR = 60


def default_business_days():
    return [0, 1, 2, 3, 4]


class SLAPolicy(models.Model):
    """First-response and resolution targets per priority, in minutes.

    With ``business_hours_only`` the clocks only run between ``business_start_hour`` and
    ``business_end_hour`` on ``business_days`` (0 = Monday) in ``time_zone``.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    is_default = models.BooleanField(
        _("default policy"),
        default=False,
        help_text=_("Used for queues without their own policy."),
    )
    first_response_minutes_critical = models.PositiveIntegerField(
        _("first response, critical (minutes)"), default=1 * HOUR
    )
    first_response_minutes_high = models.PositiveIntegerField(
        _("first response, high (minutes)"), default=4 * HOUR
    )
    first_response_minutes_medium = models.PositiveIntegerField(
        _("first response, medium (minutes)"), default=8 * HOUR
    )
    first_response_minutes_low = models.PositiveIntegerField(
        _("first response, low (minutes)"), default=24 * HOUR
    )
    resolution_minutes_critical = models.PositiveIntegerField(
        _("resolution, critical (minutes)"), default=4 * HOUR
    )
    resolution_minutes_high = models.PositiveIntegerField(
        _("resolution, high (minutes)"), default=24 * HOUR
    )
    resolution_minutes_medium = models.PositiveIntegerField(
        _("resolution, medium (minutes)"), default=72 * HOUR
    )
    resolution_minutes_low = models.PositiveIntegerField(
        _("resolution, low (minutes)"), default=168 * HOUR
    )
    business_hours_only = models.BooleanField(
        _("count business hours only"), default=False
    )
    business_start_hour = models.PositiveSmallIntegerField(
        _("business day starts (hour)"), default=9
    )
    business_end_hour = models.PositiveSmallIntegerField(
        _("business day ends (hour)"), default=17
    )
    business_days = models.JSONField(
        _("business days (0 = Monday)"), default=default_business_days, blank=True
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    escalate_on_breach = models.BooleanField(
        _("escalate on breach"),
        default=False,
        help_text=_(
            "Raise the priority one step when a ticket breaches this policy "
            "(supervisors are always notified)."
        ),
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def first_response_minutes(self, priority: str) -> int:
        return getattr(self, f"first_response_minutes_{Priority(priority).value}")

    def resolution_minutes(self, priority: str) -> int:
        return getattr(self, f"resolution_minutes_{Priority(priority).value}")


class QueueQuerySet(models.QuerySet):
    def existing_default(self):
        """The flagged default queue, else the oldest; None when there is no queue."""
        return self.filter(is_default=True).first() or self.order_by("pk").first()

    def default(self):
        """The queue for tickets filed without one: the flagged default, else the oldest.

        A fresh install has no queue yet; the first ticket creates "Support" so that the
        portal works before an administrator has configured anything.
        """
        queue = self.existing_default()
        if queue is None:
            group, _ = Group.objects.get_or_create(name="Support agents")
            queue, _ = self.get_or_create(
                slug="support",
                defaults={"name": "Support", "agent_group": group, "is_default": True},
            )
        return queue


class Queue(models.Model):
    """A team's inbox. Its agent group receives object permissions on its tickets."""

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    agent_group = models.ForeignKey(
        Group,
        verbose_name=_("agent group"),
        on_delete=models.PROTECT,
        related_name="ticket_queues",
        help_text=_("Members of this group work the queue's tickets."),
    )
    sla_policy = models.ForeignKey(
        SLAPolicy,
        verbose_name=_("SLA policy"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="queues",
    )
    inbound_address = models.EmailField(
        _("inbound email address"), blank=True, default=""
    )
    is_default = models.BooleanField(
        _("default queue"),
        default=False,
        help_text=_("Tickets filed without a queue land here."),
    )

    objects = QueueQuerySet.as_manager()

    class Meta:
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="tickets_single_default_queue",
            )
        ]

    def __str__(self):
        return self.name


class CannedResponse(models.Model):
    """A reusable reply. Placeholders: ``{{ requester_name }}``, ``{{ ticket_reference }}``,
    ``{{ agent_name }}`` (rendered by ``tickets.canned.render_canned_response``)."""

    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"))
    queue = models.ForeignKey(
        Queue,
        verbose_name=_("queue"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canned_responses",
        help_text=_("Leave empty to offer it in every queue."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")
        ordering = ["title"]

    def __str__(self):
        return self.title
