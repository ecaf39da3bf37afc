"""Notification emails: rendered, sent once per key, never to the actor, per preference."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from portal.notifications.dispatch import (
    notify_address_after_commit,
    notify_after_commit,
)
from portal.notifications.models import SentNotification
from portal.notifications.sending import Outcome, idempotency_key, send_notification
from portal.notifications.tasks import purge_old_notifications


def _send(recipient, key="evt-1:1:account_approved", **extra):
    return send_notification(
        "account_approved", recipient, context={}, idempotency_key=key, **extra
    )


@pytest.fixture
def alice(make_user):
    return make_user("alice@acme.example", display_name="Alice")


@pytest.mark.django_db
def test_email_has_subject_text_and_html(alice):
    assert _send(alice) == Outcome.SENT
    [message] = mail.outbox
    assert message.to == ["alice@acme.example"]
    assert message.subject == "Your Support Portal account has been approved"
    assert message.body.startswith("Hello Alice,\n\nYour account has been approved.")
    assert "http://testserver/accounts/login/" in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert '<a href="http://testserver/accounts/login/"' in html
    row = SentNotification.objects.get()
    assert (row.status, row.to_email, row.subject, row.attempts) == (
        "sent",
        "alice@acme.example",
        "Your Support Portal account has been approved",
        1,
    )


@pytest.mark.django_db
def test_the_same_key_twice_sends_one_email(alice):
    key = idempotency_key("evt-1", alice.pk, "account_approved")
    assert key == f"evt-1:{alice.pk}:account_approved"
    assert _send(alice, key) == Outcome.SENT
    assert _send(alice, key) == Outcome.DUPLICATE
    assert len(mail.outbox) == 1
    assert SentNotification.objects.count() == 1


@pytest.mark.django_db
def test_nobody_is_emailed_about_their_own_action(alice):
    assert _send(alice, actor=alice) == Outcome.SKIPPED_ACTOR
    assert _send(alice, actor=alice.pk) == Outcome.SKIPPED_ACTOR
    assert mail.outbox == []
    assert SentNotification.objects.count() == 0


@pytest.mark.django_db
def test_someone_else_acting_does_not_stop_the_email(alice, make_user):
    bob = make_user("bob@acme.example")
    assert _send(alice, actor=bob) == Outcome.SENT
    assert [m.to for m in mail.outbox] == [["alice@acme.example"]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "preference",
    [False, "notify_on_reply", lambda user: user.notify_on_reply],
    ids=["flag", "attribute", "callable"],
)
def test_preferences_are_honoured(make_user, preference):
    quiet = make_user("quiet@acme.example", notify_on_reply=False)
    assert _send(quiet, preference=preference) == Outcome.SKIPPED_PREFERENCE
    assert mail.outbox == []
    assert SentNotification.objects.count() == 0


@pytest.mark.django_db
def test_a_preference_that_allows_sends(alice):
    assert _send(alice, preference="notify_on_status") == Outcome.SENT
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_inactive_users_get_nothing(make_user):
    gone = make_user("gone@acme.example", is_active=False)
    assert _send(gone) == Outcome.SKIPPED_NO_ADDRESS
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_failed_send_is_retried_by_the_next_run_and_sent_once(alice, settings):
    settings.NOTIFICATIONS_BACKOFF_BASE_SECONDS = 60
    with (
        mock.patch(
            "django.core.mail.EmailMultiAlternatives.send",
            side_effect=ConnectionError("smtp down"),
        ),
        pytest.raises(ConnectionError),
    ):
        _send(alice)
    row = SentNotification.objects.get()
    assert (row.status, row.attempts, row.last_error) == (
        "pending",
        1,
        "ConnectionError('smtp down')",
    )
    assert row.claimed_until is None
    wait = (row.next_attempt_at - timezone.now()).total_seconds()
    assert 50 < wait <= 60  # the backoff
    assert mail.outbox == []

    assert _send(alice) == Outcome.SENT  # run again by hand: now
    assert _send(alice) == Outcome.DUPLICATE
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, "")


@pytest.mark.django_db
def test_a_row_claimed_by_another_run_is_left_to_it_until_its_lease_ends(alice):
    key = "evt-9:1:account_approved"
    row = SentNotification.objects.create(
        idempotency_key=key,
        kind="account_approved",
        recipient=alice,
        attempts=1,
        claimed_until=timezone.now() + timedelta(seconds=60),
        claim_token="another-run",
    )
    # another run may still be sending it: do not send a second copy
    assert _send(alice, key) == Outcome.DUPLICATE
    assert mail.outbox == []

    SentNotification.objects.filter(pk=row.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1)
    )
    assert _send(alice, key) == Outcome.SENT
    assert _send(alice, key) == Outcome.DUPLICATE
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 2)


@pytest.mark.django_db
def test_notify_after_commit_sends_through_the_queue_once(
    alice, django_capture_on_commit_callbacks
):
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            notify_after_commit(
                "account_rejected",
                alice.pk,
                context={"reason": "Unknown company"},
                idempotency_key=f"reject-1:{alice.pk}:account_rejected",
            )
        assert len(callbacks) == 1
    [message] = mail.outbox
    assert message.subject == "Your Support Portal account request"
    assert "Reason: Unknown company" in message.body


@pytest.mark.django_db
def test_nothing_is_queued_when_the_transaction_rolls_back(
    alice, django_capture_on_commit_callbacks
):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            notify_after_commit(
                "account_approved", alice.pk, context={}, idempotency_key="k"
            )
            raise RuntimeError
    assert callbacks == []
    assert mail.outbox == []
    assert SentNotification.objects.count() == 0


@pytest.mark.django_db
def test_purge_forgets_old_rows_only(alice, settings):
    settings.NOTIFICATIONS_RETENTION_DAYS = 90
    _send(alice, "old")
    _send(alice, "new")
    SentNotification.objects.filter(idempotency_key="old").update(
        created_at=timezone.now() - timedelta(days=91)
    )
    assert purge_old_notifications() == 1
    assert purge_old_notifications() == 0
    assert list(SentNotification.objects.values_list("idempotency_key", flat=True)) == [
        "new"
    ]


@pytest.mark.django_db
def test_text_parts_are_not_html_escaped(make_user):
    user = make_user("obrien@acme.example", display_name="Seán O'Brien")
    send_notification(
        "account_rejected",
        user,
        context={"reason": "Smith & Sons <EU> is not a customer"},
        idempotency_key="reject-1",
    )
    [message] = mail.outbox
    assert message.body.startswith("Hello Seán O'Brien,\n\nWe could not approve")
    assert "Reason: Smith & Sons <EU> is not a customer" in message.body
    assert "Smith &amp; Sons &lt;EU&gt;" in message.alternatives[0][0]


@pytest.mark.django_db
def test_an_address_without_an_account_gets_an_email_without_a_greeting(
    django_capture_on_commit_callbacks,
):
    context = {
        "organization_name": "Smith & Sons <EU>",
        "inviter_name": "Seán O'Brien",
        "invited_email": "new@example.com",
        "url": "http://testserver/account/invitations/abc/",
        "expires_on": "2026-12-05",
    }
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            notify_address_after_commit(
                "organization_invitation",
                "new@example.com",
                context=context,
                idempotency_key="invitation-1:x:organization_invitation",
            )
    [message] = mail.outbox
    assert message.to == ["new@example.com"]
    assert message.subject == (
        "You are invited to join Smith & Sons <EU> on Support Portal"
    )
    assert message.body.startswith(
        "Seán O'Brien invited new@example.com to join the organization "
        "Smith & Sons <EU>.\n"
    )
    assert "http://testserver/account/invitations/abc/" in message.body
    assert "Hello" not in message.alternatives[0][0]
    row = SentNotification.objects.get()
    assert (row.recipient, row.to_email, row.status) == (
        None,
        "new@example.com",
        "sent",
    )


def _batch(users, key_prefix="evt-9"):
    from portal.notifications.sending import Outgoing

    return [
        Outgoing(
            kind="account_approved",
            recipient=user,
            context={},
            idempotency_key=idempotency_key(key_prefix, user.pk, "account_approved"),
        )
        for user in users
    ]


@pytest.mark.parametrize("count", [2, 8])
@pytest.mark.django_db
def test_a_batch_is_claimed_at_once_and_each_outcome_recorded_cheaply(
    count, make_user, django_assert_num_queries
):
    from portal.notifications.sending import send_notifications

    users = [make_user(f"user{n}@example.com") for n in range(count)]
    # one INSERT; the claim: on PostgreSQL one statement (the UPDATE returning the
    # rows, read with their recipients), elsewhere SELECT (the rows with their
    # recipients) + UPDATE in one transaction (+ SAVEPOINT/RELEASE in tests); then per
    # email one UPDATE in its own transaction whose commit does not wait for the disk
    # (+ SAVEPOINT/RELEASE; on PostgreSQL + SET LOCAL synchronous_commit)
    from django.db import connection

    postgresql = connection.vendor == "postgresql"
    claim, per_email = (1, 4) if postgresql else (4, 3)
    with django_assert_num_queries(1 + claim + per_email * count):
        assert send_notifications(_batch(users)) == [Outcome.SENT] * count
    assert len(mail.outbox) == count
    assert set(SentNotification.objects.values_list("status", flat=True)) == {"sent"}
    assert send_notifications(_batch(users)) == [Outcome.DUPLICATE] * count
    assert len(mail.outbox) == count


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_each_outcome_is_one_statement_and_commits_durably_after(
    make_user, django_assert_num_queries, monkeypatch
):
    """As the worker runs it (autocommit), each send slow (taking the whole
    ``RECORD_WITHIN``: fast ones share an UPDATE, ``test_outcomes_together.py``): on
    PostgreSQL each outcome is one UPDATE (its own transaction) that says itself that
    its commit does not wait for the disk (no SET before and after the outcomes), and
    the session commits durably throughout; SQLite as above."""
    from django.db import connection

    from portal.notifications import sending
    from portal.notifications.sending import send_notifications

    readings = iter(range(0, 1000))
    monkeypatch.setattr(
        sending, "_clock", lambda: next(readings) * 2 * sending.RECORD_WITHIN
    )

    users = [make_user(f"user{n}@example.com") for n in range(5)]
    if connection.vendor == "postgresql":
        # the INSERT (one statement, autocommit: before, bulk_create's BEGIN, INSERT,
        # COMMIT); the claim (one statement: before, BEGIN, SELECT with the
        # recipients, UPDATE, COMMIT); one UPDATE per email (before: BEGIN, SET
        # LOCAL, UPDATE, COMMIT; then a SET before the outcomes and a reset after)
        expected = 1 + 1 + 5
    else:  # SQLite logs BEGIN/COMMIT; per email PRAGMA, BEGIN, UPDATE, COMMIT
        expected = 1 + 4 + 4 * 5
    with django_assert_num_queries(expected):
        assert send_notifications(_batch(users)) == [Outcome.SENT] * 5
    assert len(mail.outbox) == 5
    assert set(SentNotification.objects.values_list("status", flat=True)) == {"sent"}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"


@pytest.mark.django_db
def test_one_failing_email_does_not_stop_the_others_and_a_retry_sends_only_it(
    make_user,
):
    from portal.notifications.sending import send_notifications

    users = [make_user(f"user{n}@example.com") for n in range(3)]
    real_send = mail.EmailMultiAlternatives.send

    def flaky(message, *args, **kwargs):
        if message.to == ["user1@example.com"]:
            raise ConnectionError("SMTP down")
        return real_send(message, *args, **kwargs)

    with mock.patch.object(mail.EmailMultiAlternatives, "send", flaky):
        with pytest.raises(ConnectionError):
            send_notifications(_batch(users))
    assert sorted(m.to[0] for m in mail.outbox) == [
        "user0@example.com",
        "user2@example.com",
    ]
    assert dict(SentNotification.objects.values_list("to_email", "status")) == {
        "user0@example.com": "sent",
        "user1@example.com": "pending",  # retried after the backoff
        "user2@example.com": "sent",
    }
    assert send_notifications(_batch(users)) == [
        Outcome.DUPLICATE,
        Outcome.SENT,
        Outcome.DUPLICATE,
    ]
    assert sorted(m.to[0] for m in mail.outbox) == [
        "user0@example.com",
        "user1@example.com",
        "user2@example.com",
    ]
    assert SentNotification.objects.get(to_email="user1@example.com").attempts == 2
