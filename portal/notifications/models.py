"""The notification outbox: one row per email, also the ledger of what was sent.

A service writes the row in the transaction of the change that causes the email
(``portal.notifications.dispatch``): the email is never lost once the change commits,
and never sent when it rolls back. The row holds everything needed to write the email
later, as plain data (kind, recipient, JSON context, language). After commit a job is
queued to deliver it at once; the job is only a wake-up: when it is lost (a killed
worker, an unreachable broker, a database error while it ran), the reconciliation
schedule delivers the row instead.

A worker claims a row for ``NOTIFICATIONS_LEASE_SECONDS`` (``claimed_until``), sends
it and marks it sent, so two workers never send it both; a worker killed in between
leaves the claim to expire, and the row is sent by the next run. The idempotency key
(``f"{event_id}:{recipient_id}:{kind}"``) is unique: writing the same email twice
keeps one row, and a retry sends only what was not sent. A failed attempt is retried
with exponential backoff until ``NOTIFICATIONS_MAX_ATTEMPTS`` attempts or
``NOTIFICATIONS_MAX_AGE_HOURS``, then the row is marked failed (listed in the admin).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SentNotification(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Not sent (recipient opted out or has no address)")
        FAILED = "failed", _("Failed (gave up)")

    # unique by ``Meta.constraints``: a unique field would also get a
    # ``varchar_pattern_ops`` index on PostgreSQL, for LIKE, which no query asks
    idempotency_key = models.CharField(_("idempotency key"), max_length=255)
    kind = models.CharField(_("kind"), max_length=50)
    # not checked by the database (migration 0004, bench FINDINGS R-8): the ORM sets
    # NULL on a user's deletion, a trigger on SQL deletions
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.SET_NULL,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    to_email = models.EmailField(_("sent to"), blank=True, default="")
    locale = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        default="",
        help_text=_("For an address without an account; users' own language wins."),
    )
    context = models.JSONField(_("context"), default=dict, blank=True)
    actor_id = models.BigIntegerField(
        _("actor id"),
        null=True,
        blank=True,
        help_text=_("The user whose action this is about: never emailed about it."),
    )
    preference = models.CharField(
        _("preference"),
        max_length=50,
        blank=True,
        default="",
        help_text=_("A user attribute that must be true for the email to go out."),
    )
    subject = models.CharField(_("subject"), max_length=255, blank=True, default="")
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    claim_token = models.CharField(
        _("claim token"), max_length=32, blank=True, default=""
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True, default="")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("notification email")
        verbose_name_plural = _("notification emails")
        ordering = ["-created_at", "-id"]
        constraints = [
            # the name PostgreSQL gave the field's former UNIQUE (migration 0003)
            models.UniqueConstraint(
                fields=["idempotency_key"],
                name="notifications_sentnotification_idempotency_key_key",
            ),
        ]
        indexes = [
            # The purge's search (``tasks.purge_old_notifications``): the finished rows
            # only, by age. A new row is pending: no entry when a filing writes it
            # (eleven a filing); its entry comes with the worker's update that
            # finishes it, which writes a new entry in every index anyway (its status
            # is in the pending index's condition: never a HOT update).
            models.Index(
                fields=["created_at"],
                condition=~models.Q(status="pending"),
                name="notification_done_created",
            ),
            # The reconciliation's search: the pending rows only, by due time.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="notification_pending_due",
            ),
        ]

    def __str__(self):
        return f"{self.kind} → {self.to_email or self.recipient_id} ({self.status})"
