"""Interactions and follow-up tasks. Who sees and changes them is ``crm.permissions``;
every write goes through ``crm.services``."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tickets.models.choices import choice_label


class InteractionKind(models.TextChoices):
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("Email")
    NOTE = "note", _("Note")


class Interaction(models.Model):
    """One contact with a customer, logged by staff against an organization and/or a
    contact (``services.log_interaction`` requires at least one), optionally about a
    ticket."""

    kind = models.CharField(_("kind"), max_length=16, choices=InteractionKind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    summary = models.TextField(_("summary"), blank=True, default="")
    happened_at = models.DateTimeField(_("happened at"), db_index=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    organization = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("organization"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="interactions",
    )
    contact = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="interactions",
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="interactions",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-happened_at", "-pk"]
        indexes = [models.Index(fields=["organization", "-happened_at"])]

    def __str__(self):
        return self.subject

    def get_kind_display(self) -> str:
        """One label translated, not every kind's (``choice_label``): the
        Follow-up panel and the timelines show it per interaction."""
        return choice_label(InteractionKind, self.kind)


class TaskStatus(models.TextChoices):
    TODO = "todo", _("To do")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")


OPEN_TASK_STATUSES = (TaskStatus.TODO, TaskStatus.IN_PROGRESS)


class TaskQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_TASK_STATUSES)

    def overdue(self, now):
        """Open tasks whose due time has passed at ``now``."""
        return self.open().filter(due_at__lt=now)

    def for_assignee(self, user):
        return self.filter(assignee_id=getattr(user, "pk", user))

    def due_for_reminder(self, now):
        """Open tasks that fell due and whose assignee was not reminded yet."""
        return self.open().filter(due_at__lte=now, reminder_sent_at__isnull=True)


class Task(models.Model):
    """A follow-up for a staff member, due at a time, about a ticket, an organization
    or a contact (all optional)."""

    title = models.CharField(_("title"), max_length=200)
    notes = models.TextField(_("notes"), blank=True, default="")
    due_at = models.DateTimeField(_("due at"), null=True, blank=True, db_index=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        related_name="crm_tasks",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=TaskStatus.choices,
        default=TaskStatus.TODO,
        db_index=True,
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    reminder_sent_at = models.DateTimeField(
        _("reminder sent at"),
        null=True,
        blank=True,
        help_text=_("Claimed by the reminder job so that each task is reminded once."),
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="crm_tasks",
    )
    organization = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("organization"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="crm_tasks",
    )
    contact = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="crm_contact_tasks",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_at", "pk"]
        indexes = [
            models.Index(fields=["assignee", "status", "due_at"]),
            models.Index(
                fields=["due_at"],
                name="crm_task_reminder_due",
                condition=Q(reminder_sent_at__isnull=True),
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_TASK_STATUSES

    def is_overdue(self, now) -> bool:
        return self.is_open and self.due_at is not None and self.due_at < now
