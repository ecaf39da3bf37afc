"""Webhooks for integrators, and the outbox of their deliveries.

The models moved here from ``graphql_api`` without touching the database: the tables
keep their names (``db_table``) and the secrets their encryption label.

An event is written to ``WebhookDelivery`` in the same transaction as the change that
caused it (see ``webhooks.outbox``), so a change that commits always has
its deliveries, and a rolled-back change never has any. A worker then posts the
deliveries that are due; a receiver that is down only delays them.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.fields import EncryptedTextField

WEBHOOK_EVENTS: dict[str, str] = {
    "ticket.created": _("Ticket created"),
    "ticket.updated": _("Ticket updated"),
    "ticket.status_changed": _("Ticket status changed"),
    "ticket.assigned": _("Ticket assigned"),
    "comment.created": _("Comment created"),
    "article.published": _("Article published"),
}


class Webhook(models.Model):
    """An HTTP endpoint that receives the events it subscribes to, signed with its
    secret."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    # Encrypted at rest with the attachment key ring (portal.fields), bound to the
    # label the stored values were written with before the model left graphql_api.
    secret = EncryptedTextField(
        _("signing secret"),
        label="graphql_api.webhook.secret",
        max_length=128,
        help_text=_(
            "Each delivery carries X-Signature: sha256=<HMAC-SHA256 of the body "
            "with this secret>."
        ),
    )
    events = models.JSONField(
        _("events"),
        default=list,
        help_text=_('The events this webhook receives, e.g. ["ticket.created"].'),
    )
    include_internal_notes = models.BooleanField(
        _("include internal notes"),
        default=False,
        help_text=_("Also send comment.created for internal notes."),
    )
    active = models.BooleanField(_("active"), default=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="webhooks",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "graphql_api_webhook"
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    def subscribes_to(self, event: str) -> bool:
        return event in (self.events or [])


class WebhookDelivery(models.Model):
    """One event for one webhook: the outbox row the worker posts, retries and records.

    Delivery is at least once: a worker killed after the receiver answered but before
    the row was marked delivered sends it again. ``event_id`` is the same on every
    attempt, so receivers deduplicate on it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    webhook = models.ForeignKey(
        Webhook,
        verbose_name=_("webhook"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    event = models.CharField(_("event"), max_length=50)
    event_id = models.UUIDField(_("event id"), default=uuid.uuid4, db_index=True)
    ordering_key = models.CharField(
        _("ordering key"),
        max_length=100,
        blank=True,
        default="",
        help_text=_(
            "Deliveries with the same key go to a webhook in the order they were made."
        ),
    )
    payload = models.JSONField(_("data"), default=dict)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    last_status_code = models.PositiveSmallIntegerField(
        _("last response code"), null=True, blank=True
    )
    last_error = models.TextField(_("last error"), blank=True, default="")
    created_at = models.DateTimeField(_("created at"))
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        db_table = "graphql_api_webhookdelivery"
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["status", "next_attempt_at"], name="webhook_delivery_due"
            ),
            models.Index(
                fields=["webhook", "ordering_key", "status", "id"],
                name="webhook_delivery_order",
            ),
            models.Index(
                fields=["status", "delivered_at"], name="webhook_delivery_done"
            ),
        ]

    def __str__(self):
        return f"{self.event} → {self.webhook} ({self.status})"
