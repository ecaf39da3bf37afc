"""The notification outbox: rows written with the change, claimed, retried, reconciled.

The killed worker, the failing database and the unreachable broker are run with real
processes in ``tests/reliability/test_notification_outbox.py``."""

import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from portal.notifications import sending
from portal.notifications.dispatch import notify_after_commit
from portal.notifications.models import SentNotification
from portal.notifications.sending import NotPlainData, Outcome
from portal.notifications.tasks import deliver_due_notifications
from tickets import services
from tickets.tests.factories import QueueFactory, make_agent, make_customer


@pytest.fixture
def queue(db):
    return QueueFactory(slug="support", name="Support")


@pytest.fixture
def agent(queue):
    return make_agent(queue, email="agent@example.com")


@pytest.fixture
def alice(db):
    return make_customer(email="alice@acme.example", display_name="Alice")


def _file(alice, queue, subject="Printer on fire"):
    return services.create_ticket(alice, subject=subject, description="D", queue=queue)


@pytest.mark.django_db
def test_a_change_writes_its_emails_in_its_own_transaction(
    alice, agent, queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with transaction.atomic():
            ticket = _file(alice, queue)
            # before the commit: the rows are there, with plain-data context
            rows = list(SentNotification.objects.order_by("to_email"))
    assert [(r.kind, r.to_email, r.status, r.attempts) for r in rows] == [
        ("ticket_created_agent", "agent@example.com", "pending", 0),
        ("ticket_created", "alice@acme.example", "pending", 0),
    ]
    assert rows[1].context == {
        "reference": ticket.reference,
        "subject": "Printer on fire",
        "queue_name": "Support",
        "priority_label": "Medium",
        "requester_name": "Alice",
        "assignee_name": "",
        "ticket_url": f"http://testserver/portal/tickets/{ticket.reference}/",
    }
    assert mail.outbox == []
    # one wake-up for the transaction; running it sends both, once
    [wake_up] = [c for c in callbacks if c.__qualname__.endswith("wake")]
    wake_up()
    wake_up()
    assert sorted(m.to[0] for m in mail.outbox) == [
        "agent@example.com",
        "alice@acme.example",
    ]
    assert set(SentNotification.objects.values_list("status", "attempts")) == {
        ("sent", 1)
    }


@pytest.mark.django_db
def test_a_rolled_back_change_writes_no_email_and_sends_nothing(
    alice, agent, queue, django_capture_on_commit_callbacks
):
    from tickets.models import Ticket

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            _file(alice, queue)
            assert SentNotification.objects.count() == 2
            raise RuntimeError("the request failed after filing")
    assert callbacks == []
    assert Ticket.objects.count() == 0
    assert SentNotification.objects.count() == 0
    assert mail.outbox == []
    assert deliver_due_notifications() == {}
    assert mail.outbox == []


@pytest.mark.django_db
def test_the_reconciliation_sends_what_no_job_sent_and_then_nothing(alice, queue):
    # the wake-up jobs were never run (lost with a worker, or never queued)
    for n in range(3):
        _file(alice, queue, subject=f"S{n}")
    assert SentNotification.objects.filter(status="pending").count() == 3
    assert deliver_due_notifications() == {"sent": 3}
    assert deliver_due_notifications() == {}
    assert sorted(m.subject for m in mail.outbox) == [
        f"[HD-00000{n + 1}] We received your request: S{n}" for n in range(3)
    ]


@pytest.mark.django_db
def test_a_claim_is_left_alone_until_its_lease_runs_out(alice, queue, settings):
    settings.NOTIFICATIONS_LEASE_SECONDS = 60
    _file(alice, queue)
    now = timezone.now()
    [claimed] = sending._claim(now, None, 10)  # a worker took it, then died
    assert (claimed.attempts, claimed.claimed_until) == (1, now + timedelta(seconds=60))
    assert deliver_due_notifications() == {}
    assert sending.deliver_due(now=now + timedelta(seconds=59)) == {}
    assert mail.outbox == []

    assert sending.deliver_due(now=now + timedelta(seconds=61)) == {"sent": 1}
    row = SentNotification.objects.get()
    assert (row.status, row.attempts, row.claimed_until) == ("sent", 2, None)
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_the_outcome_of_a_claim_taken_over_is_not_recorded_by_the_old_worker(
    alice, queue
):
    _file(alice, queue)
    now = timezone.now()
    [stale] = sending._claim(now, None, 10)
    later = now + timedelta(seconds=settings_lease() + 1)
    [current] = sending._claim(later, None, 10)  # the lease ran out: taken over
    assert stale.claim_token != current.claim_token
    stale.status = SentNotification.Status.FAILED
    sending._record(stale)  # the first worker wakes up late: ignored
    assert SentNotification.objects.get().status == "pending"


def settings_lease():
    from django.conf import settings

    return settings.NOTIFICATIONS_LEASE_SECONDS


@pytest.mark.django_db
def test_failures_back_off_exponentially_then_give_up_visibly(
    alice, queue, settings, admin_client
):
    settings.NOTIFICATIONS_BACKOFF_BASE_SECONDS = 60
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    _file(alice, queue)
    start = timezone.now()
    waits = []
    with mock.patch(
        "django.core.mail.EmailMultiAlternatives.send",
        side_effect=ConnectionRefusedError("SMTP down"),
    ):
        moment = start
        for _ in range(3):
            assert sending.deliver_due(now=moment) == {"failed": 1}
            row = SentNotification.objects.get()
            if row.status == "pending":
                waits.append(round((row.next_attempt_at - moment).total_seconds()))
                assert sending.deliver_due(now=moment) == {}  # not due yet
                moment = row.next_attempt_at
    assert [w // 10 * 10 for w in waits] == [60, 120]  # 1 min, then 2 min
    row = SentNotification.objects.get()
    assert (row.status, row.attempts) == ("failed", 3)
    assert row.last_error == "ConnectionRefusedError('SMTP down')"
    assert sending.deliver_due(now=moment + timedelta(hours=1)) == {}
    assert mail.outbox == []

    response = admin_client.get(
        "/django-admin/notifications/sentnotification/?status__exact=failed"
    )
    assert response.status_code == 200
    assert "alice@acme.example" in response.content.decode()


@pytest.mark.django_db
def test_an_email_older_than_the_maximum_age_is_given_up(alice, queue, settings):
    settings.NOTIFICATIONS_MAX_AGE_HOURS = 24
    _file(alice, queue)
    with mock.patch(
        "django.core.mail.EmailMultiAlternatives.send",
        side_effect=ConnectionRefusedError("SMTP down"),
    ):
        later = timezone.now() + timedelta(hours=23, minutes=59, seconds=30)
        assert sending.deliver_due(now=later) == {"failed": 1}
    assert SentNotification.objects.get().status == "failed"


@pytest.mark.django_db
def test_a_row_that_kills_every_worker_is_given_up(alice, queue, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    _file(alice, queue)
    moment = timezone.now()
    for _ in range(2):  # claimed, and the worker died each time
        sending._claim(moment, None, 10)
        moment += timedelta(seconds=settings.NOTIFICATIONS_LEASE_SECONDS + 1)
    assert sending.deliver_due(now=moment) == {"failed": 1}
    row = SentNotification.objects.get()
    assert (row.status, row.attempts) == ("failed", 3)
    assert row.last_error == "Gave up after 2 attempts without an outcome."
    assert mail.outbox == []


@pytest.mark.django_db
def test_preferences_are_checked_again_when_sending(alice, queue, agent):
    ticket = _file(alice, queue)
    for user in (alice, agent):
        user.is_active = user == agent
        user.save()
    assert deliver_due_notifications() == {"sent": 1, "skipped_no_address": 1}
    assert [m.to for m in mail.outbox] == [["agent@example.com"]]
    assert dict(SentNotification.objects.values_list("to_email", "status")) == {
        "agent@example.com": "sent",
        "alice@acme.example": "skipped",
    }
    assert ticket.reference in mail.outbox[0].subject


@pytest.mark.django_db
def test_the_context_must_be_plain_data(alice):
    with pytest.raises(NotPlainData), transaction.atomic():
        notify_after_commit(
            "account_approved",
            alice.pk,
            context={"user": alice},
            idempotency_key="k",
        )
    assert SentNotification.objects.count() == 0


@pytest.mark.django_db
def test_the_reconciliation_schedule_is_registered_once():
    from django_q.models import Schedule

    from portal.schedules import apply_schedules

    apply_schedules()
    apply_schedules()
    [schedule] = Schedule.objects.filter(name="notifications-deliver-due")
    assert (schedule.func, schedule.schedule_type, schedule.minutes) == (
        "portal.notifications.tasks.deliver_due_notifications",
        Schedule.MINUTES,
        1,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_never_send_one_email_twice(make_user):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (SQLite serialises every writer)")
    users = [make_user(f"user{n}@example.com") for n in range(60)]
    sending.store(  # the rows, without their wake-up job: the workers race for them
        [
            sending.Outgoing(
                kind="account_approved",
                recipient=user.pk,
                context={},
                idempotency_key=f"approve:{user.pk}:account_approved",
            )
            for user in users
        ]
    )
    barrier = threading.Barrier(4)
    results = []

    def worker():
        barrier.wait(timeout=30)
        try:
            results.append(sending.deliver_due())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(r.get(Outcome.SENT, 0) for r in results) == 60
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in users)
    assert set(SentNotification.objects.values_list("status", flat=True)) == {"sent"}
