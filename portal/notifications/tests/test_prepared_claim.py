"""The worker's statements on PostgreSQL (bench FINDINGS N-13): the claim of a job's
keys and the outcomes prepared once per connection with one generic plan
(``outbox.prepared_cursor``, ``OUTBOX_PREPARED_STATEMENTS``), only those."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from portal.notifications import sending
from portal.notifications.models import SentNotification

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL (prepared statements)",
    ),
]

_CLAIM = 'WITH "claim_locked"("locked_id") AS '
_STORE = 'INSERT INTO "notifications_sentnotification" '


def _keys(users, event, context=None):
    _, keys = sending.store(
        [
            sending.Outgoing(
                kind="account_approved",
                recipient=user.pk,
                context=context or {"n": n},
                idempotency_key=f"{event}:{user.pk}:account_approved",
            )
            for n, user in enumerate(users)
        ]
    )
    return keys


def _claim(keys, token):
    now = timezone.now()
    writes = {
        "claimed_at": now,
        "claimed_until": now + timedelta(seconds=300),
        "claim_token": token,
    }
    return sending._KEYS_CLAIM.claim({"keys": keys, "now": now}, **writes)


def _prepared():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
        )
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
def test_the_claim_and_outcomes_are_prepared_with_one_generic_plan(make_user):
    connection.close()  # a new connection, as a worker's
    users = [make_user(f"u{n}@example.com") for n in range(4)]
    for n, user in enumerate(users):
        keys = _keys([user], f"prep{n}")
        assert sending.deliver(keys) == {keys[0]: sending.Outcome.SENT}
    claims = [row for row in _prepared() if row[0].startswith(_CLAIM)]
    # one statement, parsed once, planned once (never for each claim's keys)
    assert len(claims) == 1
    assert claims[0][1:] == (4, 0)
    outcomes = [row for row in _prepared() if row[0].startswith("UPDATE ")]
    assert outcomes and all(custom == 0 for _, _, custom in outcomes)
    assert set(SentNotification.objects.values_list("status", "attempts")) == {
        ("sent", 1)
    }


@pytest.mark.django_db(transaction=True)
def test_django_s_own_statements_are_not_prepared(make_user):
    connection.close()
    keys = _keys([make_user("a@example.com")], "own")
    sending.deliver(keys)
    SentNotification.objects.filter(idempotency_key__in=keys).count()
    SentNotification.objects.filter(idempotency_key__in=keys).count()
    statements = [row[0] for row in _prepared()]
    # the worker's, and the store's INSERT where the web's are prepared
    # (``portal.prepared.web_cursor``: on a kept connection)
    assert statements and all(
        text.startswith((_CLAIM, "UPDATE ", _STORE)) for text in statements
    )


@pytest.mark.django_db(transaction=True)
def test_without_the_setting_nothing_is_prepared(make_user, settings):
    settings.OUTBOX_PREPARED_STATEMENTS = False
    connection.close()
    keys = _keys([make_user("a@example.com")], "off")
    assert sending.deliver(keys) == {keys[0]: sending.Outcome.SENT}
    assert [row for row in _prepared() if not row[0].startswith(_STORE)] == []
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone() == ("auto",)


@pytest.mark.django_db(transaction=True)
def test_a_prepared_claim_still_takes_only_due_rows(make_user):
    connection.close()
    users = [make_user(f"d{n}@example.com") for n in range(3)]
    keys = _keys(users, "due")
    SentNotification.objects.filter(idempotency_key=keys[0]).update(status="sent")
    for attempt in range(7):  # past the five custom plans PostgreSQL would make
        taken = _claim(keys, f"token{attempt}")
        expected = [] if attempt else keys[1:]
        assert [row.idempotency_key for row in taken] == expected
    assert sorted(
        SentNotification.objects.values_list("idempotency_key", "attempts")
    ) == sorted([(keys[0], 0), (keys[1], 1), (keys[2], 1)])
