"""The due-task reminder: one email per task and due time, to the assignee, in their
language, however often (or concurrently) the job runs."""

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection

from crm import reminders, services, tasks
from crm.models import Task
from portal.notifications.models import SentNotification
from portal.schedules import SCHEDULES


@pytest.fixture
def act(django_capture_on_commit_callbacks):
    def _act(func, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return func(*args, **kwargs)

    return _act


def test_the_job_is_scheduled_every_five_minutes():
    (job,) = [job for job in SCHEDULES if job.func == "crm.tasks.send_task_reminders"]
    assert (job.name, job.minutes) == ("crm-task-reminders", 5)


@pytest.mark.django_db
def test_a_due_task_is_reminded_once(act, make_task, agent, supervisor, acme, now):
    due = make_task(
        title="Call Acme",
        assignee=agent,
        organization=acme,
        due_at=now - timedelta(minutes=1),
    )
    make_task(title="Not yet", assignee=agent, due_at=now + timedelta(hours=1))
    make_task(
        title="Done", assignee=agent, due_at=now - timedelta(hours=1), status="done"
    )
    make_task(title="No date", assignee=agent, due_at=None)

    assert act(tasks.send_task_reminders) == 1
    assert act(tasks.send_task_reminders) == 0
    assert act(reminders.send_due_reminders, now + timedelta(hours=2)) == 1  # "Not yet"

    assert [(m.to[0], m.subject) for m in mail.outbox] == [
        ("agent@example.com", "Task due: Call Acme"),
        ("agent@example.com", "Task due: Not yet"),
    ]
    assert "Acme" in mail.outbox[0].body and f"/tasks/{due.pk}/" in mail.outbox[0].body
    due.refresh_from_db()
    assert due.reminder_sent_at is not None
    assert SentNotification.objects.filter(kind="crm_task_due").count() == 2


@pytest.mark.django_db
def test_a_rescheduled_task_is_reminded_again(act, make_task, agent, now):
    task = make_task(assignee=agent, due_at=now - timedelta(minutes=1))
    assert act(reminders.send_due_reminders, now) == 1
    services.update_task(agent, task, due_at=now + timedelta(minutes=5))
    assert act(reminders.send_due_reminders, now) == 0
    assert act(reminders.send_due_reminders, now + timedelta(minutes=6)) == 1
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_the_reminder_is_written_in_the_assignees_language(act, make_task, agent, now):
    agent.locale = "de"
    agent.save()
    make_task(title="Rückruf", assignee=agent, due_at=now - timedelta(minutes=1))
    act(reminders.send_due_reminders, now)
    (email,) = mail.outbox
    assert "Rückruf" in email.subject
    row = SentNotification.objects.get(kind="crm_task_due")
    assert row.recipient_id == agent.pk


@pytest.mark.django_db
def test_a_claim_taken_by_another_run_sends_nothing(act, make_task, agent, now):
    task = make_task(assignee=agent, due_at=now - timedelta(minutes=1))
    assert act(reminders.claim_and_notify, task.pk, now) is True
    assert act(reminders.claim_and_notify, task.pk, now) is False
    assert len(mail.outbox) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_runs_claim_each_reminder_once(make_task, agent, now, settings):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (SQLite serialises writers anyway)")
    for n in range(10):
        make_task(title=f"Task {n}", assignee=agent, due_at=now - timedelta(minutes=1))
    barrier = threading.Barrier(4)
    counts, errors = [], []

    def run():
        from django.db import connection as thread_connection

        try:
            barrier.wait(timeout=30)
            counts.append(reminders.send_due_reminders(now))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(repr(error))
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(counts) == 10
    assert SentNotification.objects.filter(kind="crm_task_due").count() == 10
    assert not Task.objects.filter(reminder_sent_at__isnull=True).exists()
