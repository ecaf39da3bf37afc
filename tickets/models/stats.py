from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .queues import Queue


class DailyStats(models.Model):
    """One day's numbers for a slice (queue × organization × agent; empty = all).

    Filled by the statistics job with ``update_or_create`` on the four keys (NULL keys
    are matched with IS NULL there, so the unique constraint is a safety net for the
    non-null combinations).
    """

    day = models.DateField(_("day"))
    queue = models.ForeignKey(
        Queue,
        verbose_name=_("queue"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="daily_stats",
    )
    organization = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("organization"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="daily_ticket_stats",
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="daily_ticket_stats",
    )
    created = models.PositiveIntegerField(_("tickets created"), default=0)
    resolved = models.PositiveIntegerField(_("tickets resolved"), default=0)
    median_first_response_seconds = models.PositiveIntegerField(
        _("median first response (seconds)"), null=True, blank=True
    )
    median_resolution_seconds = models.PositiveIntegerField(
        _("median resolution (seconds)"), null=True, blank=True
    )
    sla_met_percent = models.DecimalField(
        _("SLA met (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("daily statistics")
        verbose_name_plural = _("daily statistics")
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "queue", "organization", "agent"],
                name="daily_stats_unique_slice",
            )
        ]

    def __str__(self):
        return f"{self.day}"


class StatsSlice(models.Model):
    """One period's figures for the tickets of one queue that share one value of one
    dimension (``dimension="organization", value="42"``; ``""`` = none).

    Keyed per queue so that a report for an agent recombines exactly the queues they
    work. Counts add up across slices; the medians cannot, so the slice keeps every
    duration (seconds, sorted) and a report takes the median of the merged lists.
    Written only by ``tickets.statistics.store`` (delete and insert per period, in one
    transaction); the definitions are in ``tickets.statistics``.
    """

    class Period(models.TextChoices):
        DAY = "day", _("Day")
        WEEK = "week", _("Week")
        MONTH = "month", _("Month")
        YEAR = "year", _("Year")

    class Dimension(models.TextChoices):
        QUEUE = "queue", _("Queue")
        AGENT = "agent", _("Agent")
        ORGANIZATION = "organization", _("Organization")
        CATEGORY = "category", _("Category")
        PRIORITY = "priority", _("Priority")

    period = models.CharField(_("period"), max_length=8, choices=Period.choices)
    start = models.DateField(_("first day of the period"))
    queue = models.ForeignKey(
        Queue,
        verbose_name=_("queue"),
        on_delete=models.CASCADE,
        related_name="stats_slices",
    )
    dimension = models.CharField(
        _("dimension"), max_length=16, choices=Dimension.choices
    )
    value = models.CharField(_("dimension value"), max_length=64, blank=True)
    created = models.PositiveIntegerField(_("tickets created"), default=0)
    resolved = models.PositiveIntegerField(_("tickets resolved"), default=0)
    backlog = models.PositiveIntegerField(_("open at the period's end"), default=0)
    first_response_seconds = models.JSONField(
        _("first response times (seconds)"), default=list, blank=True
    )
    resolution_seconds = models.JSONField(
        _("resolution times (seconds)"), default=list, blank=True
    )
    sla_met = models.PositiveIntegerField(_("SLA met"), default=0)
    sla_settled = models.PositiveIntegerField(_("SLA settled"), default=0)
    rating_sum = models.PositiveIntegerField(_("sum of ratings"), default=0)
    rated = models.PositiveIntegerField(_("rated tickets"), default=0)

    class Meta:
        verbose_name = _("statistics slice")
        verbose_name_plural = _("statistics slices")
        constraints = [
            models.UniqueConstraint(
                fields=["period", "start", "dimension", "queue", "value"],
                name="stats_slice_unique",
            )
        ]

    def __str__(self):
        return f"{self.period} {self.start} {self.dimension}={self.value}"
