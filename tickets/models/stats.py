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
