"""The notification outbox: rows written with the change, claimed, retried, reconciled.

The killed worker, the failing database and the unreachable broker are run with real
processes in ``tests/reliability/test_notification_outbox.py``.

Over 400 lines until split: the claim written once (``KeptClaim``) and its twins of the
former claim are due to move into a file of their own."""

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


@pytest.fixture
def alice(make_user):
    return make_user("alice@acme.example", display_name="Alice")


@pytest.fixture
def agent(make_user):
    return make_user("agent@example.com", display_name="Alex")


def _write(user, event="evt-1", kind="account_approved", **extra):
    """What a service does in its transaction; the wake-up job is not run (lost)."""
    with transaction.atomic():
        sending.store(
            [
                sending.Outgoing(
                    kind=kind,
                    recipient=user,
                    context={"reason": f"for {event}"},
                    idempotency_key=sending.idempotency_key(event, user.pk, kind),
                    **extra,
                )
            ]
        )


@pytest.mark.django_db
def test_the_reconciliation_sends_what_no_job_sent_and_then_nothing(alice, agent):
    # the wake-up jobs were never run (lost with a worker, or never queued)
    for n in range(3):
        _write(alice, event=f"evt-{n}", kind="account_rejected")
    _write(agent)
    assert SentNotification.objects.filter(status="pending").count() == 4
    assert deliver_due_notifications() == {"sent": 4}
    assert deliver_due_notifications() == {}
    assert sorted((m.to[0], m.subject) for m in mail.outbox) == [
        ("agent@example.com", "Your Support Portal account has been approved"),
        *[("alice@acme.example", "Your Support Portal account request")] * 3,
    ]
    assert sorted(
        line for m in mail.outbox for line in m.body.splitlines() if "Reason" in line
    ) == [f"Reason: for evt-{n}" for n in range(3)]


@pytest.mark.django_db
def test_a_claim_is_left_alone_until_its_lease_runs_out(alice, settings):
    settings.NOTIFICATIONS_LEASE_SECONDS = 60
    _write(alice)
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
def test_the_outcome_of_a_claim_taken_over_is_not_recorded_by_the_old_worker(alice):
    _write(alice)
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
    alice, settings, admin_client
):
    settings.NOTIFICATIONS_BACKOFF_BASE_SECONDS = 60
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    _write(alice)
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
def test_an_email_older_than_the_maximum_age_is_given_up(alice, settings):
    settings.NOTIFICATIONS_MAX_AGE_HOURS = 24
    _write(alice)
    with mock.patch(
        "django.core.mail.EmailMultiAlternatives.send",
        side_effect=ConnectionRefusedError("SMTP down"),
    ):
        later = timezone.now() + timedelta(hours=23, minutes=59, seconds=30)
        assert sending.deliver_due(now=later) == {"failed": 1}
    assert SentNotification.objects.get().status == "failed"


@pytest.mark.django_db
def test_a_row_that_kills_every_worker_is_given_up(alice, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    _write(alice)
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
def test_preferences_are_checked_again_when_sending(alice, agent):
    _write(alice, preference="notify_on_reply")
    _write(agent, preference="notify_on_reply")
    alice.notify_on_reply = False  # changed her mind before the worker came
    alice.save()
    assert deliver_due_notifications() == {"sent": 1, "skipped_preference": 1}
    assert [m.to for m in mail.outbox] == [["agent@example.com"]]
    assert dict(SentNotification.objects.values_list("to_email", "status")) == {
        "agent@example.com": "sent",
        "alice@acme.example": "skipped",
    }


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
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (SQLite serialises every writer)",
)
# serialized_rollback: a flush without it re-creates content types under new ids, and
# the next test that restores the serialized database then fails to set up
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_workers_never_send_one_email_twice(make_user):
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


def _rows_for(users, event):
    sending.store(
        [
            sending.Outgoing(
                kind="account_approved",
                recipient=user.pk,
                context={"n": n},
                idempotency_key=f"{event}:{user.pk}:account_approved",
            )
            for n, user in enumerate(users)
        ]
    )
    return [f"{event}:{user.pk}:account_approved" for user in users]


_CLAIMED = [
    "idempotency_key",
    "recipient_id",
    "status",
    "attempts",
    "claimed_at",
    "claimed_until",
    "claim_token",
    "next_attempt_at",
    "context",
]


def _state(rows):
    return [tuple(getattr(row, name) for name in _CLAIMED) for row in rows]


@pytest.mark.django_db
def test_the_kept_claim_of_keys_claims_what_claim_rows_claims(
    make_user, django_assert_num_queries
):
    """The same rows in two states, claimed by the kept claim and by
    ``outbox.claim_rows`` with the queryset it was written from: the same instances
    (recipients read with them) and the same rows afterwards."""
    from portal import outbox

    users = [make_user(f"u{n}@example.com", display_name=f"U{n}") for n in range(6)]
    now = timezone.now()
    lease = timedelta(seconds=settings_lease())
    claimed = {}
    for event in ("kept", "plain"):
        keys = _rows_for(users, event)
        rows = SentNotification.objects.filter(idempotency_key__in=keys)
        rows.update(next_attempt_at=now - timedelta(seconds=2))
        # not due: sent, failed, leased by another worker; due: an expired lease,
        # a backoff not over (a job's keys are sent now)
        rows.filter(recipient=users[0]).update(status="sent")
        rows.filter(recipient=users[1]).update(status="failed")
        rows.filter(recipient=users[2]).update(claimed_until=now + lease)
        rows.filter(recipient=users[3]).update(
            claimed_until=now - timedelta(seconds=1), attempts=2
        )
        rows.filter(recipient=users[4]).update(next_attempt_at=now + lease)
        writes = {
            "claimed_at": now,
            "claimed_until": now + lease,
            "claim_token": f"token-{event}",
        }
        asked = [*keys, f"{event}:0:missing"]
        if event == "kept":
            # PostgreSQL: one statement; elsewhere the SELECT and the UPDATE (in a
            # savepoint here: the test's transaction)
            with django_assert_num_queries(
                1 if connection.vendor == "postgresql" else 4
            ):
                found = sending._KEYS_CLAIM.claim({"keys": asked, "now": now}, **writes)
            with django_assert_num_queries(0):
                recipients = [row.recipient for row in found]
        else:
            found = outbox.claim_rows(
                sending._due(now, asked).select_related("recipient"),
                limit=len(asked),
                increment=("attempts",),
                **writes,
            )
            recipients = [row.recipient for row in found]
        stored = SentNotification.objects.filter(idempotency_key__in=keys).order_by(
            "pk"
        )
        claimed[event] = (
            _state(found),
            recipients,
            _state(stored),
            [row.pk for row in found],
        )
    kept, plain = claimed["kept"], claimed["plain"]

    def same(state, event):
        return [
            tuple(
                value.replace(event, "E") if isinstance(value, str) else value
                for value in row
            )
            for row in state
        ]

    assert same(kept[0], "kept") == same(plain[0], "plain")
    assert kept[1] == plain[1] == [users[3], users[5], users[4]]  # due order
    assert same(kept[2], "kept") == same(plain[2], "plain")
    assert [row[3] for row in kept[0]] == [3, 1, 1]  # attempts counted
    assert {row[6] for row in kept[2]} == {"", "token-kept"}
    assert len(kept[3]) == 3


@pytest.mark.django_db
def test_the_kept_claim_leaves_out_a_row_claimed_between_its_select_and_update(
    make_user, monkeypatch
):
    """SQLite takes no row lock: a row another worker claimed after the SELECT is
    not in the conditional UPDATE, and not returned (the two-statement claim, also
    on PostgreSQL, where the claim is otherwise one statement)."""
    users = [make_user(f"u{n}@example.com") for n in range(3)]
    keys = _rows_for(users, "race")
    monkeypatch.setattr(sending._KEYS_CLAIM, "_single", lambda alias: None)
    select = sending._KEYS_CLAIM._select
    original = select.instances
    now = timezone.now()

    def then_another_worker_claims(**values):
        found = original(**values)
        SentNotification.objects.filter(recipient=users[1]).update(
            claimed_until=now + timedelta(hours=1), claim_token="other"
        )
        return found

    monkeypatch.setattr(select, "instances", then_another_worker_claims)
    rows = sending._claim(now, keys, len(keys))
    assert [row.recipient_id for row in rows] == [users[0].pk, users[2].pk]
    assert dict(
        SentNotification.objects.values_list("recipient_id", "claim_token")
    ) == {
        users[0].pk: rows[0].claim_token,
        users[1].pk: "other",
        users[2].pk: rows[0].claim_token,
    }


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (SQLite serialises every writer)",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_jobs_of_the_same_keys_never_send_one_email_twice(make_user):
    users = [make_user(f"user{n}@example.com") for n in range(40)]
    keys = _rows_for(users, "twice")
    barrier = threading.Barrier(4)
    results = []

    def worker(chosen):
        barrier.wait(timeout=30)
        try:
            results.append(sending.deliver(chosen))
        finally:
            connection.close()

    # overlapping key lists, in different orders
    chosen = [keys, keys[::-1], keys[10:30], keys[::2]]
    threads = [threading.Thread(target=worker, args=(c,)) for c in chosen]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    sent = [key for result in results for key, o in result.items() if o == "sent"]
    assert sorted(sent) == sorted(keys)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in users)
    assert set(SentNotification.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db
def test_a_claim_of_keys_takes_no_more_keys_than_its_limit():
    with pytest.raises(ValueError, match="limit"):
        sending._claim(timezone.now(), ["a:1:k", "b:1:k"], 1)
    assert sending._claim(timezone.now(), ["a:1:k", "a:1:k"], 2) == []
