"""The ledger of notification emails, keyed by idempotency key.

A job may run twice (a retry after a timeout, a worker restarted by django-q); the row
for ``f"{event_id}:{recipient_id}:{kind}"`` makes the second run a no-op once the email
went out. A row is claimed (pending) before sending and marked sent after: a crash in
between leaves a pending row that a later run may take over once it is older than
``NOTIFICATIONS_STALE_CLAIM_SECONDS`` (at-least-once in that narrow window, never a
duplicate otherwise).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SentNotification(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed (will be retried)")

    idempotency_key = models.CharField(
        _("idempotency key"), max_length=255, unique=True
    )
    kind = models.CharField(_("kind"), max_length=50)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    to_email = models.EmailField(_("sent to"), blank=True, default="")
    subject = models.CharField(_("subject"), max_length=255, blank=True, default="")
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=1)
    claimed_at = models.DateTimeField(_("claimed at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("sent notification")
        verbose_name_plural = _("sent notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_at"], name="notification_created")]

    def __str__(self):
        return f"{self.kind} → {self.to_email} ({self.status})"
