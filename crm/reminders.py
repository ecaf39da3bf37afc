"""The due-task reminder: when a task falls due, its assignee gets one email.

"Once" is a claim on the row: a conditional UPDATE sets ``reminder_sent_at`` only
where it is still empty, and the outbox row (``portal.notifications``) is written in
the same transaction. Two runs at the same time (or one run twice) race on that
UPDATE: the database lets exactly one of them change the row; the other updates
nothing and sends nothing. A claimed reminder whose transaction rolls back leaves the
row unclaimed for the next run. Moving the due time re-arms it (``services.update_task``).
"""

from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation

from portal.notifications.dispatch import notify_after_commit
from portal.notifications.sending import idempotency_key, recipient_language

from .models import Task

KIND = "crm_task_due"
BATCH = 200


def _context(task: Task) -> dict:
    """Plain data for the email, dates written in the assignee's language."""
    assignee = task.assignee
    with translation.override(recipient_language(assignee)):
        due = formats.date_format(timezone.localtime(task.due_at), "DATETIME_FORMAT")
    return {
        "title": task.title,
        "notes": task.notes[:1000],
        "due": due,
        "organization_name": task.organization.name if task.organization else "",
        "ticket_reference": task.ticket.reference if task.ticket else "",
        "task_path": reverse("helpdesk:task", args=[task.pk]),
    }


def claim_and_notify(task_id: int, now) -> bool:
    """Claim one due task's reminder and write its email; False when another run
    claimed it first (or it is no longer due)."""
    with transaction.atomic():
        claimed = (
            Task.objects.due_for_reminder(now)
            .filter(pk=task_id)
            .update(reminder_sent_at=now)
        )
        if not claimed:
            return False
        task = Task.objects.select_related("assignee", "organization", "ticket").get(
            pk=task_id
        )
        notify_after_commit(
            KIND,
            task.assignee_id,
            context=_context(task),
            idempotency_key=idempotency_key(
                f"crm-task-{task.pk}-due-{task.due_at.isoformat()}",
                task.assignee_id,
                KIND,
            ),
        )
    return True


def send_due_reminders(now=None) -> int:
    """Remind the assignee of every open task that fell due by ``now``; returns how
    many reminders this run claimed."""
    now = now or timezone.now()
    due_ids = list(
        Task.objects.due_for_reminder(now)
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:BATCH]
    )
    return sum(claim_and_notify(task_id, now) for task_id in due_ids)
