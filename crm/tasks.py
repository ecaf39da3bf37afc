"""The CRM's scheduled job (``portal.schedules``: ``crm-task-reminders``). Safe to
run twice or concurrently: each reminder is claimed once (``crm.reminders``)."""

from . import reminders


def send_task_reminders() -> int:
    """Email the assignee of each task that fell due, once."""
    return reminders.send_due_reminders()
