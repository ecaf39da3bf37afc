"""What happened after the new-ticket form suggested knowledge-base articles.

One row per visit of the form (keyed by a random ``token`` the form carries): how many
suggestions were shown, which one was clicked, and whether the customer then filed the
ticket anyway (``filed``) or left after reading (``deflected``). The agent desk reports
the rate through ``tickets.deflection.deflection_rate``.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .tickets import Ticket


class DeflectionOutcome(models.TextChoices):
    FILED = "filed", _("Ticket filed")
    DEFLECTED = "deflected", _("Answered by an article")


class DeflectionEvent(models.Model):
    Outcome = DeflectionOutcome

    token = models.UUIDField(_("form token"), unique=True)
    session_key = models.CharField(
        _("session key"), max_length=40, blank=True, default=""
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deflection_events",
    )
    query = models.CharField(_("subject typed"), max_length=255, blank=True, default="")
    shown_count = models.PositiveSmallIntegerField(_("suggestions shown"), default=0)
    clicked_url = models.CharField(
        _("article clicked"), max_length=500, blank=True, default=""
    )
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=DeflectionOutcome.choices
    )
    ticket = models.OneToOneField(
        Ticket,
        verbose_name=_("ticket"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deflection_event",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("deflection event")
        verbose_name_plural = _("deflection events")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["created_at", "outcome"], name="deflection_time_idx"),
            # a filing's look for the session's recent deflection
            # (``deflection._recent_deflections``): only the rows it can find, so a
            # customer's filed rows (one a filing) are never read (bench FINDINGS F-6)
            models.Index(
                fields=["user", "session_key", "updated_at"],
                condition=models.Q(outcome="deflected", ticket__isnull=True),
                name="deflection_recent_idx",
            ),
        ]

    def __str__(self):
        return f"{self.outcome} ({self.shown_count} shown)"
