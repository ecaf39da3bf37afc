"""The outcomes of a claim's emails sent within ``sending.RECORD_WITHIN`` of each
other, recorded in one UPDATE (PostgreSQL in autocommit, as the worker runs): the
same values as one UPDATE per email, only while the claim is ours, and never for an
email not sent; slow sends are still recorded one by one, right after each."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.translation import gettext_lazy

from portal import outbox
from portal.notifications import sending
from portal.notifications.models import SentNotification
from portal.notifications.sending import Outcome

# A lazy text that is not in the catalogues (makemessages collects gettext_lazy calls).
lazy_text = gettext_lazy
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL"
)
TOKEN = "t" * 32


def _stored(users, event="evt-together"):
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


class _Clock:
    """``sending._clock`` standing still, or moving ``step`` seconds a reading."""

    def __init__(self, step=0.0):
        self.now, self.step = 0.0, step

    def __call__(self):
        self.now += self.step
        return self.now


@pytest.fixture
def sizes(monkeypatch):
    """The number of outcomes each ``_record_together`` wrote, in order."""
    found = []
    real = sending._record_together

    def spied(rows):
        found.append(len(rows))
        return real(rows)

    monkeypatch.setattr(sending, "_record_together", spied)
    return found


def _outcome_updates(queries):
    table = SentNotification._meta.db_table
    return [q["sql"] for q in queries if q["sql"].startswith(f'UPDATE "{table}" SET')]


@postgresql_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_claims_fast_sends_are_recorded_in_one_update(make_user, monkeypatch, sizes):
    monkeypatch.setattr(sending, "_clock", _Clock())
    sending.deliver(_stored([make_user("first@example.com")], event="evt-first"))
    sizes.clear()
    mail.outbox.clear()  # the kept claim is compiled (once per process) by now
    keys = _stored([make_user(f"u{n}@example.com") for n in range(5)])
    with CaptureQueriesContext(connection) as queries:
        outcomes = sending.deliver(keys)
    assert list(outcomes.values()) == [Outcome.SENT] * 5
    # the claim and one UPDATE of the five outcomes; nothing else
    assert len(queries) == 2, [q["sql"][:80] for q in queries]
    assert len(_outcome_updates(queries)) == 1
    assert sizes == [5]
    assert len(mail.outbox) == 5
    assert list(
        SentNotification.objects.filter(idempotency_key__in=keys)
        .order_by("pk")
        .values_list("status", "claimed_until", "to_email")
    ) == [("sent", None, f"u{n}@example.com") for n in range(5)]
    with connection.cursor() as cursor:  # the session commits durably after
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)


@postgresql_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_slow_sends_are_recorded_each_right_after_it(make_user, monkeypatch, sizes):
    # every send takes more than the window: each outcome alone, as before
    monkeypatch.setattr(sending, "_clock", _Clock(step=2 * sending.RECORD_WITHIN))
    keys = _stored([make_user(f"u{n}@example.com") for n in range(4)])
    with CaptureQueriesContext(connection) as queries:
        assert set(sending.deliver(keys).values()) == {Outcome.SENT}
    assert sizes == [1, 1, 1, 1]
    assert len(_outcome_updates(queries)) == 4
    assert set(SentNotification.objects.values_list("status", flat=True)) == {"sent"}


@postgresql_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_window_closes_after_record_within(make_user, monkeypatch, sizes):
    # readings: a start, then one per email; the window closes at the third email
    step = sending.RECORD_WITHIN * 0.4
    monkeypatch.setattr(sending, "_clock", _Clock(step=step))
    keys = _stored([make_user(f"u{n}@example.com") for n in range(5)])
    assert set(sending.deliver(keys).values()) == {Outcome.SENT}
    assert sizes == [3, 2]
    assert set(SentNotification.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db(transaction=True)
def test_a_failure_mid_claim_records_what_was_sent_and_leaves_the_rest(
    make_user, monkeypatch
):
    """An error out of the loop (not a failed send, which is an outcome) ends the
    claim: the outcomes of the emails sent before it are recorded, the email it
    stopped at and those after stay claimed (sent later, once their lease ran out)."""
    monkeypatch.setattr(sending, "_clock", _Clock())
    users = [make_user(f"u{n}@example.com") for n in range(4)]
    keys = _stored(users)
    real = sending.skip_reason

    def failing(recipient, **kwargs):
        if recipient.pk == users[2].pk:
            raise RuntimeError("the worker's own failure")
        return real(recipient, **kwargs)

    monkeypatch.setattr(sending, "skip_reason", failing)
    with pytest.raises(RuntimeError):
        sending.deliver(keys)
    assert len(mail.outbox) == 2
    rows = {
        row.recipient_id: row
        for row in SentNotification.objects.filter(idempotency_key__in=keys)
    }
    assert [rows[user.pk].status for user in users] == [
        "sent",
        "sent",
        "pending",
        "pending",
    ]
    assert rows[users[0].pk].claimed_until is None
    assert rows[users[2].pk].claimed_until is not None  # its lease, then again


def _row(user, key, **values):
    return SentNotification.objects.create(
        idempotency_key=key,
        kind="account_approved",
        recipient=user,
        context={},
        claim_token=TOKEN,
        **values,
    )


class _Moment(datetime):
    pass


def _outcome(state: str, now: datetime) -> dict:
    later = now + timedelta(minutes=5)
    pending, sent = SentNotification.Status.PENDING, SentNotification.Status.SENT
    return {
        "sent": {"status": sent, "sent_at": now, "subject": "[HD-1] Hello"},
        "sent, a whole second": {
            "status": sent,
            "sent_at": now.replace(microsecond=0),
            "subject": "Zgłoszenie «ważne» & <b>\"x\"</b> \\ 'y' 😀",
        },
        "failed with a retry": {
            "status": pending,
            "next_attempt_at": later,
            "last_error": "SMTPException('Ошибка\\n\\tline\\r\\n\\u2028 {}%s')",
        },
        "given up": {
            "status": SentNotification.Status.FAILED,
            "last_error": "Gave up after 5 attempts without an outcome.",
        },
        "skipped": {
            "status": SentNotification.Status.SKIPPED,
            "last_error": "x" * 2000,
        },
        "lazy texts": {"status": sent, "sent_at": now, "subject": lazy_text("Hi")},
        "another zone": {
            "status": sent,
            "sent_at": now.astimezone(ZoneInfo("Europe/Warsaw")),
            "next_attempt_at": later.astimezone(ZoneInfo("America/St_Johns")),
        },
        "a datetime subclass": {
            "status": sent,
            "sent_at": _Moment.fromtimestamp(now.timestamp(), UTC),
        },
        "empty and long": {
            "status": sent,
            "sent_at": now,
            "subject": "",
            "to_email": "a" * 240 + "@example.com",
        },
    }[state]


STATES = [
    "sent",
    "sent, a whole second",
    "failed with a retry",
    "given up",
    "skipped",
    "lazy texts",
    "another zone",
    "a datetime subclass",
    "empty and long",
]


@postgresql_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_outcomes_written_together_equal_those_written_one_by_one(make_user):
    user = make_user("a@example.com")
    now = timezone.now()
    alone, together = [], []
    for n, state in enumerate(STATES):
        for kept, prefix in ((alone, "alone"), (together, "together")):
            row = _row(user, f"{prefix}-{n}", claimed_until=now, next_attempt_at=now)
            for name, value in {"claimed_until": None, **_outcome(state, now)}.items():
                setattr(row, name, value)
            kept.append(row)
    with outbox.recording() as together_here:
        assert together_here
        for row in alone:
            sending._record(row)
        sending._record_together(together)
    fields = [*sending._RECORDED, "attempts", "claim_token", "context"]

    def stored(prefix):
        return [
            SentNotification.objects.values_list(*fields).get(
                idempotency_key=f"{prefix}-{n}"
            )
            for n in range(len(STATES))
        ]

    assert stored("together") == stored("alone")
    assert stored("together")[0][0] == "sent"
    assert len({row[1] for row in stored("together")}) > 3  # not all alike


@postgresql_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_outcomes_together_land_only_with_the_claims_token(make_user):
    user = make_user("a@example.com")
    rows = [_row(user, f"k{n}") for n in range(3)]
    for row in rows:
        row.status, row.subject = SentNotification.Status.SENT, f"s{row.pk}"
    rows[1].claim_token = "another worker's claim"
    with outbox.recording():
        sending._record_together(rows)
    assert list(
        SentNotification.objects.order_by("pk").values_list("status", "subject")
    ) == [("sent", f"s{rows[0].pk}"), ("pending", ""), ("sent", f"s{rows[2].pk}")]


@postgresql_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_outcomes_together_turn_off_waiting_for_the_disk_for_their_own_transaction(
    make_user,
):
    user = make_user("a@example.com")
    rows = [_row(user, f"k{n}") for n in range(2)]
    for row in rows:
        row.status = SentNotification.Status.SENT
    with connection.cursor() as cursor:
        cursor.execute(
            sending._outcomes_sql()
            + " RETURNING current_setting('synchronous_commit')",
            [
                '[["sent", "", "", null, "", "2026-12-06T06:00:00+00:00", null, '
                f'{rows[0].pk}, "{TOKEN}"], ["sent", "", "", null, "", '
                f'"2026-12-06T06:00:00+00:00", null, {rows[1].pk}, "{TOKEN}"]]'
            ],
        )
        assert cursor.fetchall() == [("off",), ("off",)]
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)
    assert set(SentNotification.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db
def test_inside_a_transaction_each_outcome_is_recorded_alone(make_user, sizes):
    # the denied twin: outside ``recording``'s kept cursor (an outer transaction,
    # and SQLite) nothing is recorded together
    keys = _stored([make_user(f"u{n}@example.com") for n in range(3)])
    assert set(sending.deliver(keys).values()) == {Outcome.SENT}
    assert sizes == []
    assert set(SentNotification.objects.values_list("status", flat=True)) == {"sent"}


@postgresql_only
@pytest.mark.postgres
@pytest.mark.django_db
def test_the_joint_values_are_the_outcome_params_as_json_holds_them(make_user):
    """``_json_outcome`` reads a row's values in one pass: what ``_outcome_params``
    gives, each moment as its ISO 8601 text, then the id and token, for every state
    (texts of a ``str`` subclass and lazy texts, moments of other zones and of a
    ``datetime`` subclass included)."""
    user = make_user("a@example.com")
    now = timezone.now()
    for n, state in enumerate(STATES):
        row = _row(user, f"json-{n}", claimed_until=now, next_attempt_at=now)
        for name, value in {"claimed_until": None, **_outcome(state, now)}.items():
            setattr(row, name, value)
        expected = [
            value
            if value is None or value.__class__ is str
            else sending._json_value(value)
            for value in sending._outcome_params(row, connection)
        ] + [row.pk, row.claim_token]
        found = sending._json_outcome(row, connection)
        assert found == expected, state
        assert [value.__class__ for value in found] == [
            value.__class__ for value in expected
        ]
