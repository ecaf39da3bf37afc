"""The outcome of each email, recorded right after it is sent (``sending._record``
through ``portal.outbox.record``): the values written and the cursor they go on."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy

from portal import outbox
from portal.notifications import sending
from portal.notifications.models import SentNotification
from portal.notifications.sending import Outcome

pytestmark = pytest.mark.django_db


def _row(user, key="evt-1", **values):
    return SentNotification.objects.create(
        idempotency_key=key,
        kind="account_approved",
        recipient=user,
        context={},
        claim_token="t" * 32,
        **values,
    )


class _Moment(datetime):
    pass


def _prepared(row):
    """What every recorded field gave before: ``get_db_prep_save`` of each."""
    fields = [SentNotification._meta.get_field(name) for name in sending._RECORDED]
    return [
        field.get_db_prep_save(getattr(row, field.attname), connection)
        for field in fields
    ]


@pytest.mark.parametrize(
    "state",
    [
        "sent",
        "failed with a retry",
        "given up",
        "skipped",
        "lazy texts",
        "naive",
        "another zone",
        "a datetime subclass",
    ],
)
def test_the_values_recorded_are_what_get_db_prep_save_gives(make_user, state):
    row = _row(make_user("a@example.com"))
    now = timezone.now()
    if state == "sent":
        row.status, row.sent_at = SentNotification.Status.SENT, now
        row.subject, row.to_email = "[HD-1] Zgłoszenie «pilne» — ok", "a@example.com"
        row.last_error, row.claimed_until = "", None
    elif state == "failed with a retry":
        row.last_error = "ConnectionError('SMTP down')"
        row.next_attempt_at, row.claimed_until = now + timedelta(minutes=2), None
    elif state == "given up":
        row.status, row.last_error = SentNotification.Status.FAILED, "Gave up"
    elif state == "skipped":
        row.status, row.last_error = "skipped", Outcome.SKIPPED_ACTOR
    elif state == "another zone":  # aware, not UTC: as it is on PostgreSQL
        row.sent_at = now.astimezone(ZoneInfo("Europe/Warsaw"))
        row.next_attempt_at = now.astimezone(ZoneInfo("America/St_Johns"))
    elif state == "a datetime subclass":  # not a datetime itself: through it
        row.sent_at = _Moment.fromtimestamp(now.timestamp(), tz=UTC)
    elif state == "lazy texts":  # not a str: through get_db_prep_save
        row.subject, row.last_error = (
            gettext_lazy("Subject"),
            gettext_lazy("Description"),
        )
    else:  # a naive datetime: made aware by the field, as before
        with pytest.warns(RuntimeWarning):
            expected = _prepared(_with(row, sent_at=now.replace(tzinfo=None)))
        with pytest.warns(RuntimeWarning):
            assert sending._outcome_params(row) == expected
        return
    expected = _prepared(row)
    found = sending._outcome_params(row)
    assert found == expected
    assert [type(value) for value in found] == [type(value) for value in expected]


def _with(row, **values):
    for name, value in values.items():
        setattr(row, name, value)
    return row


def test_a_recorded_outcome_lands_only_with_the_claims_token(make_user):
    row = _row(make_user("a@example.com"))
    row.status, row.subject = SentNotification.Status.SENT, "Hello"
    row.claim_token = "other"
    sending._record(row)  # another worker's claim: nothing written
    assert SentNotification.objects.get().status == "pending"
    row.claim_token = "t" * 32
    sending._record(row)
    assert SentNotification.objects.values_list("status", "subject").get() == (
        "sent",
        "Hello",
    )


def _subject_writer(pk, subject):
    def write(cursor):
        cursor.execute(
            f"UPDATE {SentNotification._meta.db_table} SET subject = %s WHERE id = %s",  # noqa: S608
            [subject, pk],
        )
        return cursor, cursor.rowcount

    return write


@pytest.mark.django_db(transaction=True)
def test_the_outcomes_of_a_claim_go_on_one_cursor_on_postgresql(make_user):
    """On PostgreSQL in autocommit every ``record`` of a run uses the cursor the run
    opened (before: a new cursor per outcome), closed at the end; elsewhere each
    ``record`` opens its own in its transaction."""
    rows = [_row(make_user(f"u{n}@example.com"), key=f"k{n}") for n in range(3)]
    with outbox.recording():
        found = [outbox.record(_subject_writer(row.pk, f"s{row.pk}")) for row in rows]
    assert [count for _, count in found] == [1, 1, 1]
    cursors = {id(cursor) for cursor, _ in found}
    if connection.vendor == "postgresql":
        assert len(cursors) == 1
        assert found[0][0].closed
    assert sorted(SentNotification.objects.values_list("subject", flat=True)) == sorted(
        f"s{row.pk}" for row in rows
    )
    with connection.cursor() as cursor:  # the connection is usable afterwards
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


@pytest.mark.django_db(transaction=True)
def test_a_connection_lost_between_outcomes_records_the_next_on_a_new_one(make_user):
    if connection.vendor != "postgresql":
        pytest.skip("a closed SQLite connection is not reconnected (not a broken one)")
    rows = [_row(make_user(f"u{n}@example.com"), key=f"k{n}") for n in range(2)]
    with outbox.recording():
        outbox.record(_subject_writer(rows[0].pk, "first"))
        connection.connection.close()  # the server went away
        _, count = outbox.record(_subject_writer(rows[1].pk, "second"))
    assert count == 1
    assert dict(SentNotification.objects.values_list("pk", "subject")) == {
        rows[0].pk: "first",
        rows[1].pk: "second",
    }
    with connection.cursor() as cursor:  # the new session commits durably
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
