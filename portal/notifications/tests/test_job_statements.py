"""The statements a wake-up job sends besides its claim and outcomes: none. The
outcome's UPDATE says itself that its commit does not wait for the disk
(``portal.outbox.NO_WAIT``, no SET before and after), and the claim is the
connection's health check (``portal.outbox.checked_by_use``, no ``SELECT 1`` first)."""

import logging

import pytest
from django.db import (
    DEFAULT_DB_ALIAS,
    InterfaceError,
    OperationalError,
    connection,
    connections,
)
from django.test.utils import CaptureQueriesContext

from portal import outbox
from portal.notifications import sending
from portal.notifications.models import SentNotification
from portal.notifications.sending import Outcome

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL"
)


def _stored(users, event="evt-job"):
    _, keys = sending.store(
        [
            sending.Outgoing(
                kind="account_approved",
                recipient=user.pk,
                context={},
                idempotency_key=f"{event}:{user.pk}:account_approved",
            )
            for user in users
        ]
    )
    return keys


def _as_after_close_old_connections(db):
    """What django-q2's ``close_old_django_connections`` before each job leaves on a
    connection kept open (``CONN_MAX_AGE``): a health check due at its next use."""
    db.ensure_connection()
    assert db.health_check_enabled
    db.health_check_done = False


@pytest.fixture
def checks(monkeypatch):
    """The health checks Django makes (``is_usable``), counted."""
    db = connections[DEFAULT_DB_ALIAS]
    made = []
    real = db.is_usable

    def counted():
        made.append(True)
        return real()

    monkeypatch.setattr(db, "is_usable", counted)
    return made


@postgresql_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_outcome_turns_off_waiting_for_the_disk_for_its_own_transaction(make_user):
    user = make_user("a@example.com")
    row = SentNotification.objects.create(
        idempotency_key="k", kind="account_approved", recipient=user, claim_token="t"
    )
    row.status, row.subject = SentNotification.Status.SENT, "Hello"
    with connection.cursor() as cursor:
        cursor.execute(
            sending._outcome_sql("postgresql")
            + " RETURNING current_setting('synchronous_commit')",
            [*sending._outcome_params(row), row.pk, "t"],
        )
        # in the statement's own transaction (autocommit), its commit included
        assert cursor.fetchall() == [("off",)]
        cursor.execute("SHOW synchronous_commit")  # the session's is untouched
        assert cursor.fetchone() == ("on",)
    assert SentNotification.objects.get().status == "sent"


@postgresql_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_session_commits_durably_while_the_outcomes_are_recorded(make_user):
    keys = _stored([make_user(f"u{n}@example.com") for n in range(2)])
    seen = []
    real = sending._process

    def process(row, now, batch):
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            seen.append(cursor.fetchone()[0])
        return real(row, now, batch)

    sending._process = process
    try:
        with CaptureQueriesContext(connection) as queries:
            assert sending.deliver(keys) == dict.fromkeys(keys, Outcome.SENT)
    finally:
        sending._process = real
    assert seen == ["on", "on"]
    assert not [q for q in queries if q["sql"].startswith("SET")]


@pytest.mark.django_db(transaction=True)
def test_a_job_s_claim_is_its_connection_s_health_check(make_user, checks):
    keys = _stored([make_user(f"u{n}@example.com") for n in range(3)])
    _as_after_close_old_connections(connections[DEFAULT_DB_ALIAS])
    assert sending.deliver(keys) == dict.fromkeys(keys, Outcome.SENT)
    assert checks == []
    assert set(SentNotification.objects.values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db(transaction=True)
def test_without_it_django_checks_the_connection_first(make_user, checks, monkeypatch):
    """The twin: the claim run as it is, Django's check comes first."""
    monkeypatch.setattr(outbox, "checked_by_use", lambda write: write())
    keys = _stored([make_user("a@example.com")])
    _as_after_close_old_connections(connections[DEFAULT_DB_ALIAS])
    assert sending.deliver(keys) == {keys[0]: Outcome.SENT}
    assert checks == [True]


@postgresql_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_lost_connection_is_found_by_the_claim_which_runs_on_a_new_one(
    make_user, caplog
):
    keys = _stored([make_user(f"u{n}@example.com") for n in range(3)])
    db = connections[DEFAULT_DB_ALIAS]
    _as_after_close_old_connections(db)
    lost = db.connection
    lost.close()  # the server went away while the worker waited
    with caplog.at_level(logging.WARNING, logger="portal.outbox"):
        assert sending.deliver(keys) == dict.fromkeys(keys, Outcome.SENT)
    assert db.connection is not lost
    assert "Database connection lost" in caplog.text
    rows = SentNotification.objects.values_list("status", "attempts")
    assert set(rows) == {("sent", 1)}  # claimed once, sent once


@postgresql_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_lost_connection_with_no_check_due_fails_as_before(make_user):
    """The twin: outside a job (no check due) nothing changes: the claim fails."""
    keys = _stored([make_user("a@example.com")])
    db = connections[DEFAULT_DB_ALIAS]
    db.ensure_connection()
    db.health_check_done = True
    db.connection.close()
    with pytest.raises((OperationalError, InterfaceError)):
        sending.deliver(keys)
    db.close()
    assert SentNotification.objects.get().status == "pending"


@pytest.mark.django_db(transaction=True)
def test_a_failure_on_a_usable_connection_is_raised_and_not_run_again(checks):
    _as_after_close_old_connections(connections[DEFAULT_DB_ALIAS])
    calls = []

    def write():
        calls.append(True)
        raise OperationalError("canceling statement due to statement timeout")

    with pytest.raises(OperationalError):
        outbox.checked_by_use(write)
    assert calls == [True]
    assert checks == [True]  # asked after the failure, as Django would have before


@pytest.mark.django_db
def test_inside_a_transaction_the_check_is_left_to_django(checks):
    db = connections[DEFAULT_DB_ALIAS]
    db.health_check_done = False  # inside the test's transaction: never checked
    assert outbox.checked_by_use(lambda: 7) == 7
    assert db.health_check_done is False
