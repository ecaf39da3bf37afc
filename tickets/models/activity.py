"""What happens on a ticket: replies and notes, files, the audit trail, time spent."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..storage import attachment_storage
from .choices import EventKind, Priority, Status, choice_label
from .tickets import Ticket


class Comment(models.Model):
    """A public reply (seen by the customer) or an internal note (staff only)."""

    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        related_name="comments",
        db_index=False,  # Meta: comment_ticket_idx (ticket, created_at) serves it
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="ticket_comments",
    )
    body = models.TextField(_("body"))
    is_internal = models.BooleanField(_("internal note"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="comment_ticket_idx")
        ]

    def __str__(self):
        kind = "note" if self.is_internal else "reply"
        return f"{kind} by {self.author_id} on {self.ticket_id}"


def attachment_upload_to(instance, filename):
    """A random folder per file keeps the original name readable and never collides."""
    return f"tickets/{instance.ticket.reference}/{uuid.uuid4().hex}/{filename}"


class Attachment(models.Model):
    """A private file. Served only by ``tickets.views_attachments`` after a permission
    check; ``sha256`` (of the plaintext) lets backups and support verify the bytes.
    Stored encrypted at rest unless ``ATTACHMENT_ENCRYPTION`` is off."""

    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    comment = models.ForeignKey(
        Comment,
        verbose_name=_("comment"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
    )
    file = models.FileField(
        _("file"),
        upload_to=attachment_upload_to,
        storage=attachment_storage,
        max_length=500,
    )
    original_name = models.CharField(_("original name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    # Envelope encryption (portal.filecrypt): the body is ciphertext when
    # ``encryption_key_id`` is set; the data key, wrapped by that master key, lives here
    # so that a key rotation re-wraps it without rewriting the file.
    encryption_key_id = models.CharField(
        _("encryption key id"), max_length=32, blank=True, default=""
    )
    wrapped_key = models.CharField(
        _("wrapped data key"), max_length=128, blank=True, default=""
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="ticket_attachments",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return self.original_name

    def get_absolute_url(self):
        return f"/portal/attachments/{self.pk}/{self.original_name}"

    @property
    def is_internal(self) -> bool:
        return bool(self.comment_id and self.comment.is_internal)


class TicketEvent(models.Model):
    """Append-only audit trail: who did what, from which value to which, when.

    Written by the services, never updated (``save`` refuses to change an existing row).
    """

    Kind = EventKind

    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,  # Meta: event_ticket_idx (ticket, created_at) serves it
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ticket_events",
    )
    kind = models.CharField(_("kind"), max_length=32, choices=EventKind.choices)
    old_value = models.CharField(_("old value"), max_length=255, blank=True, default="")
    new_value = models.CharField(_("new value"), max_length=255, blank=True, default="")
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="event_ticket_idx"),
            models.Index(fields=["kind", "created_at"], name="event_kind_idx"),
        ]

    def __str__(self):
        return f"{self.kind} on {self.ticket_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValueError("Ticket events are append-only.")
        return super().save(*args, **kwargs)

    def get_kind_display(self):
        """One label translated, not every kind's (``choice_label``): the history
        shows it per event."""
        return choice_label(EventKind, self.kind)

    @property
    def old_label(self) -> str:
        """``old_value`` as people read it ("New", not "new"); see ``value_label``."""
        return self.value_label(self.old_value)

    @property
    def new_label(self) -> str:
        return self.value_label(self.new_value)

    def value_label(self, value: str) -> str:
        """The human label of a stored value, from the model choices of what the
        event's kind changes (statuses, priorities, SLA targets); other values (tags,
        queue names, emails, references) are already readable and returned as is."""
        labels = _VALUE_LABELS.get(self.kind)
        if not value or labels is None:
            return value
        if isinstance(labels, type):  # model choices: ``choice_label``'s labels
            return choice_label(labels, value)
        return str(labels().get(value, value))


def _sla_target_labels():
    return {"first_response": _("First response"), "resolution": _("Resolution")}


_VALUE_LABELS = {
    EventKind.CREATED: Status,
    EventKind.STATUS_CHANGED: Status,
    EventKind.AUTO_CLOSED: Status,
    EventKind.PRIORITY_CHANGED: Priority,
    EventKind.SLA_BREACHED: _sla_target_labels,
}


class TimeEntry(models.Model):
    """Minutes an agent spent on a ticket (the agents' work log)."""

    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        related_name="time_entries",
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        on_delete=models.PROTECT,
        related_name="ticket_time_entries",
    )
    minutes = models.PositiveIntegerField(_("minutes"))
    note = models.CharField(_("note"), max_length=255, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("time entry")
        verbose_name_plural = _("time entries")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.minutes} min on {self.ticket_id}"
