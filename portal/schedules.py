"""Every scheduled job, in one registry. ``manage.py setup_schedules`` applies it.

``Schedule.name`` is not unique in django-q2, so rows are upserted by name; running the
command twice leaves the same rows. Apps add entries to ``SCHEDULES``.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    func: str
    minutes: int | None = None  # run every N minutes
    cron: str | None = None  # or a cron expression (needs croniter)


SCHEDULES: list[ScheduledJob] = [
    ScheduledJob(
        "wagtail-publish-scheduled", "portal.tasks.publish_scheduled", minutes=1
    ),
    ScheduledJob("webhooks-process", "webhooks.tasks.process_webhooks", minutes=1),
    ScheduledJob(
        "webhooks-purge-old-deliveries",
        "webhooks.tasks.purge_old_deliveries",
        cron="40 3 * * *",
    ),
    ScheduledJob(
        "sessions-clear-expired",
        "portal.tasks.clear_expired_sessions",
        cron="10 3 * * *",
    ),
    ScheduledJob(
        "api-tokens-purge", "accounts.tasks.purge_api_tokens", cron="20 3 * * *"
    ),
    ScheduledJob("email-fetch", "email_channel.tasks.fetch_email", minutes=1),
    ScheduledJob("kb-flush-counters", "kb.tasks.flush_counters", minutes=1),
    ScheduledJob("tickets-sla-scan", "tickets.tasks.scan_sla", minutes=5),
    ScheduledJob("crm-task-reminders", "crm.tasks.send_task_reminders", minutes=5),
    ScheduledJob(
        "tickets-auto-close", "tickets.tasks.auto_close_resolved", cron="25 * * * *"
    ),
    ScheduledJob(
        "tickets-daily-stats", "tickets.tasks.update_daily_stats", cron="5 * * * *"
    ),
    ScheduledJob(
        "tickets-weekly-report",
        "tickets.desk.weekly_report.send_weekly_reports",
        cron="0 7 * * 1",  # Mondays 07:00: last week's report to subscribed supervisors
    ),
    ScheduledJob(
        "tickets-purge-old-events", "tickets.tasks.purge_old_events", cron="50 3 * * *"
    ),
    ScheduledJob("backup-daily", "portal.backup.scheduled_backup", cron="15 2 * * *"),
    ScheduledJob(
        "backup-verify-weekly", "portal.backup.scheduled_verify", cron="45 4 * * 0"
    ),
    ScheduledJob(
        "notifications-deliver-due",
        "portal.notifications.tasks.deliver_due_notifications",
        minutes=1,
    ),
    ScheduledJob(
        "notifications-purge-old",
        "portal.notifications.tasks.purge_old_notifications",
        cron="30 3 * * *",
    ),
]


def apply_schedules(
    schedules: list[ScheduledJob] | None = None,
) -> list[tuple[str, bool]]:
    """Upsert each schedule by name; remove duplicates. Returns (name, created) pairs."""
    from django.db import transaction
    from django_q.models import Schedule

    results = []
    with transaction.atomic():
        for job in schedules if schedules is not None else SCHEDULES:
            defaults = {"func": job.func}
            if job.cron:
                defaults.update(
                    schedule_type=Schedule.CRON, cron=job.cron, minutes=None
                )
            else:
                defaults.update(
                    schedule_type=Schedule.MINUTES, minutes=job.minutes or 1, cron=None
                )
            existing = list(Schedule.objects.filter(name=job.name).order_by("id"))
            for extra in existing[1:]:
                extra.delete()
            if existing:
                row = existing[0]
                changed = any(
                    getattr(row, key) != value for key, value in defaults.items()
                )
                if changed:
                    for key, value in defaults.items():
                        setattr(row, key, value)
                    row.save()
                results.append((job.name, False))
            else:
                Schedule.objects.create(name=job.name, repeats=-1, **defaults)
                results.append((job.name, True))
    return results
