"""A mailbox per queue (where its email is fetched from) and every message received.

The mailbox password is never stored: ``password_env`` names the environment variable
that holds it. ``InboundMessage`` records each message once (its Message-ID, or the hash
of its bytes when it has none), what became of it and why; the raw message is kept in
the database and shown to staff only.
"""

import os

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Security(models.TextChoices):
    IMAPS = "imaps", _("IMAPS (TLS from the start, port 993)")
    STARTTLS = "starttls", _("STARTTLS (port 143, then TLS)")
    PLAIN = "plain", _("None (local test servers only)")


class UnknownSenders(models.TextChoices):
    CREATE = "create", _("Create an unverified customer account")
    REFUSE = "refuse", _("Refuse the message")


class StrangerReplies(models.TextChoices):
    NEW_TICKET = "new", _("Open a new ticket for the sender")
    REFUSE = "refuse", _("Refuse the message")


class Mailbox(models.Model):
    queue = models.OneToOneField(
        "tickets.Queue",
        on_delete=models.CASCADE,
        related_name="mailbox",
        verbose_name=_("queue"),
    )
    enabled = models.BooleanField(_("fetch mail"), default=True)
    host = models.CharField(_("IMAP host"), max_length=255, blank=True, default="")
    port = models.PositiveIntegerField(_("IMAP port"), default=993)
    security = models.CharField(
        _("security"), max_length=10, choices=Security.choices, default=Security.IMAPS
    )
    username = models.CharField(_("user name"), max_length=255, blank=True, default="")
    password_env = models.CharField(
        _("password environment variable"),
        max_length=100,
        blank=True,
        default="",
        help_text=_(
            "The name of the environment variable holding the password; the "
            "password itself is never stored."
        ),
    )
    folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    processed_folder = models.CharField(
        _("processed folder"),
        max_length=255,
        blank=True,
        default="",
        help_text=_("Move processed messages here; empty: flag them as seen."),
    )
    failure_folder = models.CharField(
        _("failure folder"), max_length=255, default="Helpdesk-Failed"
    )
    unknown_senders = models.CharField(
        _("unknown senders"),
        max_length=10,
        choices=UnknownSenders.choices,
        default=UnknownSenders.CREATE,
    )
    stranger_replies = models.CharField(
        _("replies from others"),
        max_length=10,
        choices=StrangerReplies.choices,
        default=StrangerReplies.NEW_TICKET,
        help_text=_(
            "A message to an existing ticket from someone who may not comment on it "
            "never lands on that ticket."
        ),
    )
    require_authentication = models.BooleanField(
        _("require DKIM or SPF pass"),
        default=False,
        help_text=_(
            "Accept only messages whose Authentication-Results header (added by your "
            "receiving server) says dkim=pass or spf=pass."
        ),
    )
    last_polled_at = models.DateTimeField(_("last polled at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True, default="")

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self):
        return f"{self.queue} ({self.username}@{self.host})"

    def password(self) -> str:
        return os.environ.get(self.password_env, "") if self.password_env else ""


class Outcome(models.TextChoices):
    CREATED = "created", _("Created a ticket")
    REPLIED = "replied", _("Added a reply")
    IGNORED = "ignored", _("Ignored")
    FAILED = "failed", _("Failed")


class InboundMessage(models.Model):
    message_key = models.CharField(_("message key"), max_length=64, unique=True)
    message_id = models.TextField(_("Message-ID"), blank=True, default="")
    mailbox = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    queue = models.ForeignKey(
        "tickets.Queue",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    sender = models.EmailField(_("sender"), blank=True, default="")
    subject = models.CharField(_("subject"), max_length=255, blank=True, default="")
    headers = models.TextField(_("headers"), blank=True, default="")
    raw = models.BinaryField(_("raw message"), editable=False)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    reason = models.TextField(_("reason"), blank=True, default="")
    ticket = models.ForeignKey(
        "tickets.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_messages",
    )
    comment = models.ForeignKey(
        "tickets.Comment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        verbose_name = _("inbound email")
        verbose_name_plural = _("inbound emails")
        ordering = ["-received_at", "-pk"]

    def __str__(self):
        return f"{self.outcome}: {self.subject}"
