"""The claim of a job's keys as one statement on PostgreSQL (``outbox.KeptClaim``):
two connections racing for the same rows never both take one, a locked row is
skipped without waiting, and only due rows are taken, counted and leased."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.notifications import sending
from portal.notifications.models import SentNotification

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL (elsewhere the claim is a SELECT and an UPDATE)",
    ),
]


def _rows_for(users, event):
    _, keys = sending.store(
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
    return keys


def _writes(token, now):
    lease = timedelta(seconds=300)
    return {"claimed_at": now, "claimed_until": now + lease, "claim_token": token}


def _claim(keys, token, now=None):
    now = now or timezone.now()
    return sending._KEYS_CLAIM.claim({"keys": keys, "now": now}, **_writes(token, now))


@pytest.mark.django_db
def test_the_claim_is_one_statement_returning_the_rows_as_written(make_user):
    users = [make_user(f"u{n}@example.com", display_name=f"U{n}") for n in range(3)]
    keys = _rows_for(users, "one")
    now = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        rows = _claim(keys, "token-one", now)
    assert len(queries) == 1
    assert queries[0]["sql"].startswith('WITH "claim_locked"("locked_id") AS ')
    assert [row.recipient for row in rows] == users  # read with them: no query
    assert [(r.attempts, r.claim_token, r.claimed_at) for r in rows] == [
        (1, "token-one", now)
    ] * 3
    assert all(row.claimed_until == now + timedelta(seconds=300) for row in rows)
    assert all(row._state.adding is False and row._state.db for row in rows)
    stored = SentNotification.objects.order_by("pk")
    assert [(r.attempts, r.claim_token) for r in stored] == [(1, "token-one")] * 3
    assert _claim(keys, "token-two") == []  # leased: nothing due
    assert set(stored.values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db
def test_the_claim_takes_due_rows_only_in_due_order(make_user):
    users = [make_user(f"u{n}@example.com") for n in range(6)]
    keys = _rows_for(users, "due")
    now = timezone.now()
    rows = SentNotification.objects.filter(idempotency_key__in=keys)
    rows.filter(recipient=users[0]).update(status="sent")
    rows.filter(recipient=users[1]).update(claimed_until=now + timedelta(minutes=1))
    rows.filter(recipient=users[2]).update(next_attempt_at=now + timedelta(hours=1))
    rows.filter(recipient=users[3]).update(
        claimed_until=now - timedelta(seconds=1), attempts=4, claim_token="expired"
    )
    rows.filter(recipient=users[5]).update(next_attempt_at=now - timedelta(hours=1))
    found = _claim([*keys, "due:0:missing"], "mine", now)
    # (next_attempt_at, id): users[5] first, then users[3] and users[4], then users[2]
    assert [row.recipient_id for row in found] == [
        users[5].pk,
        users[3].pk,
        users[4].pk,
        users[2].pk,
    ]
    assert [row.attempts for row in found] == [1, 5, 1, 1]
    assert dict(rows.values_list("recipient_id", "claim_token")) == {
        users[0].pk: "",
        users[1].pk: "",
        users[2].pk: "mine",
        users[3].pk: "mine",
        users[4].pk: "mine",
        users[5].pk: "mine",
    }


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_connections_racing_never_take_one_row_both(make_user):
    """One connection holds its claim uncommitted (its rows locked); the other,
    claiming the same keys meanwhile, skips those rows at once and takes the rest;
    after the first commits, the leased rows are not due for anyone."""
    users = [make_user(f"user{n}@example.com") for n in range(10)]
    keys = _rows_for(users, "race")
    claimed, held, release = {}, threading.Event(), threading.Event()

    def first():
        try:
            with transaction.atomic():
                claimed["first"] = _claim(keys[:6], "first")
                held.set()
                release.wait(timeout=30)
        finally:
            held.set()
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert held.wait(timeout=30)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # a wait would fail, not hang
        claimed["second"] = _claim(keys[::-1], "second")
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
    finally:
        release.set()
        thread.join(timeout=30)
    first_keys = {row.idempotency_key for row in claimed["first"]}
    second_keys = {row.idempotency_key for row in claimed["second"]}
    assert first_keys == set(keys[:6])
    assert second_keys == set(keys[6:])
    assert _claim(keys, "third") == []
    tokens = dict(
        SentNotification.objects.values_list("idempotency_key", "claim_token")
    )
    assert tokens == {key: "first" if key in first_keys else "second" for key in keys}
    assert set(SentNotification.objects.values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_many_connections_claiming_at_once_take_each_row_once(make_user):
    users = [make_user(f"user{n}@example.com") for n in range(30)]
    keys = _rows_for(users, "many")
    barrier = threading.Barrier(4)
    taken = []

    def worker(n, chosen):
        barrier.wait(timeout=30)
        try:
            for _ in range(3):
                taken.extend(r.idempotency_key for r in _claim(chosen, f"w{n}"))
        finally:
            connection.close()

    chosen = [keys, keys[::-1], keys[5:25], keys[::3]]
    threads = [
        threading.Thread(target=worker, args=(n, c)) for n, c in enumerate(chosen)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(taken) == sorted(keys)
    assert set(SentNotification.objects.values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db
def test_the_claimed_rows_read_their_moments_as_django_reads_them(make_user):
    """Read with psycopg's own ``timestamptz`` loader: the same values, in the same
    time zone object, as a queryset gives (the recipient's too)."""
    users = [make_user(f"u{n}@example.com") for n in range(2)]
    SentNotification.objects.all().delete()
    keys = _rows_for(users, "moments")
    type(users[0]).objects.filter(pk=users[0].pk).update(last_login=timezone.now())
    rows = _claim(keys, "moments")
    plain = {
        row.pk: row
        for row in SentNotification.objects.select_related("recipient").filter(
            idempotency_key__in=keys
        )
    }
    names = [
        f.attname
        for f in SentNotification._meta.concrete_fields
        if f.get_internal_type() == "DateTimeField"
    ]
    user_names = [
        f.attname
        for f in type(users[0])._meta.concrete_fields
        if f.get_internal_type() == "DateTimeField"
    ]
    compared = 0
    for row in rows:
        read = plain[row.pk]
        pairs = [(getattr(row, n), getattr(read, n)) for n in names]
        pairs += [
            (getattr(row.recipient, n), getattr(read.recipient, n)) for n in user_names
        ]
        for mine, theirs in pairs:
            assert mine == theirs
            if theirs is not None:
                assert mine.tzinfo is theirs.tzinfo
                compared += 1
    assert compared >= 2 * 5


@pytest.mark.django_db(transaction=True)
def test_the_claim_of_keys_finds_them_by_key_whatever_the_statistics_say(make_user):
    """Statistics taken while nothing was pending (the usual state) make the pending
    rows' partial index look empty; a claim of keys that walked it would read every
    pending row (a backlog drained in quadratic time). The claim's plan reads the
    unique key's index only."""
    user = make_user("stats@example.com")
    SentNotification.objects.bulk_create(
        SentNotification(
            idempotency_key=f"old:{n}", kind="account_approved", status="sent"
        )
        for n in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {SentNotification._meta.db_table}")
    SentNotification.objects.bulk_create(
        SentNotification(idempotency_key=f"backlog:{n}", kind="account_approved")
        for n in range(2000)
    )
    keys = _rows_for([user], "fresh")
    plan = sending._due(timezone.now(), keys).explain()
    assert "notifications_sentnotification_idempotency_key_key" in plan
    assert "notification_pending_due" not in plan
    with CaptureQueriesContext(connection) as claimed:
        rows = sending._claim(timezone.now(), keys, len(keys))
    assert [row.idempotency_key for row in rows] == keys
    assert len(claimed.captured_queries) == 1
    # the reconciliation still walks the pending rows by due time
    assert "notification_pending_due" in sending._due(timezone.now(), None).explain()


@pytest.mark.django_db
def test_the_update_writes_the_rows_the_statement_locked_by_their_ids_alone(
    make_user,
):
    """The due condition and the keys are read once, by the locking part: the
    UPDATE names the locked ids only (PostgreSQL reads the condition again for a
    row changed since the statement's snapshot before it locks it, and a locked row
    stays as it is until the UPDATE)."""
    users = [make_user(f"u{n}@example.com") for n in range(4)]
    keys = _rows_for(users, "ids")
    now = timezone.now()
    rows = SentNotification.objects.filter(idempotency_key__in=keys)
    rows.filter(recipient=users[0]).update(status="sent")
    rows.filter(recipient=users[1]).update(claimed_until=now + timedelta(minutes=1))
    with CaptureQueriesContext(connection) as queries:
        claimed = _claim(keys, "token-ids", now)
    [sql] = [query["sql"] for query in queries]
    assert sql.count("unnest(") == 1
    update = sql.split(" AS (UPDATE ", 1)[1].split(" RETURNING *", 1)[0]
    assert update.split(" WHERE ", 1)[1] == (
        '"notifications_sentnotification"."id" IN (SELECT "locked_id" FROM '
        '"claim_locked")'
    )
    assert [row.recipient for row in claimed] == users[2:]
    # the denied twins: a row sent and a row leased are neither taken nor written
    stored = {row.recipient_id: row for row in rows}
    for user in users[:2]:
        assert (stored[user.pk].attempts, stored[user.pk].claim_token) == (0, "")
    for user in users[2:]:
        assert (stored[user.pk].attempts, stored[user.pk].claim_token) == (
            1,
            "token-ids",
        )
