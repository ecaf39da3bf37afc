"""The outbox and the delivery worker, against a real HTTP receiver on loopback.

Over 400 lines on purpose: the outbox, retries and signing against one real receiver,
which every test here shares.
"""

from datetime import timedelta
from itertools import pairwise
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from webhooks import signing
from webhooks.delivery import (
    backoff,
    claim_due,
    deliver_due,
    purge_old_deliveries,
)
from webhooks.models import WebhookDelivery
from webhooks.outbox import OutboxError, enqueue

from .helpers import everyone

EVENTS = ["ticket.created", "ticket.updated", "comment.created"]


def _story(reference="HD-000001"):
    with transaction.atomic():
        enqueue(
            "ticket.created",
            everyone({"reference": reference, "n": 1}),
            ordering_key=f"ticket:{reference}",
        )
        enqueue(
            "ticket.updated",
            everyone({"reference": reference, "n": 2}),
            ordering_key=f"ticket:{reference}",
        )
        enqueue(
            "comment.created",
            everyone({"reference": reference, "n": 3}),
            ordering_key=f"ticket:{reference}",
        )


@pytest.mark.django_db
def test_receiver_that_refuses_then_accepts_gets_every_event_once_in_order_signed(
    receiver, make_webhook
):
    webhook = make_webhook(url=receiver.url, events=EVENTS)
    _story()
    receiver.respond_with(500)
    start = timezone.now()

    assert deliver_due(now=start) == {"retry": 1}
    assert [r.json["data"]["n"] for r in receiver.requests] == [1]
    assert deliver_due(now=start + timedelta(seconds=29)) == {}
    assert len(receiver.requests) == 1

    assert deliver_due(now=start + timedelta(seconds=30)) == {"delivered": 3}
    accepted = receiver.requests[1:]
    assert [r.json["event"] for r in accepted] == EVENTS
    assert [r.json["data"] for r in accepted] == [
        {"reference": "HD-000001", "n": 1},
        {"reference": "HD-000001", "n": 2},
        {"reference": "HD-000001", "n": 3},
    ]
    rows = list(WebhookDelivery.objects.order_by("id"))
    assert [str(row.event_id) for row in rows] == [r.json["id"] for r in accepted]
    assert receiver.requests[0].json["id"] == accepted[0].json["id"]
    for request, row in zip(accepted, rows, strict=True):
        expected = signing.sign("s3cret-value", request.body)
        assert request.headers["X-Signature"] == expected
        assert signing.verify(
            webhook.secret, request.body, request.headers["X-Signature"]
        )
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["X-Webhook-Event"] == row.event
        assert request.headers["X-Webhook-Id"] == str(row.event_id)
        assert request.headers["X-Webhook-Timestamp"].isdigit()
        assert request.json["occurredAt"] == row.created_at.isoformat().replace(
            "+00:00", "Z"
        )
    assert [(r.status, r.attempts, r.last_status_code) for r in rows] == [
        ("delivered", 2, 200),
        ("delivered", 1, 200),
        ("delivered", 1, 200),
    ]

    assert deliver_due(now=start + timedelta(hours=2)) == {}
    assert len(receiver.requests) == 4


@pytest.mark.django_db
def test_signature_does_not_verify_with_another_secret_or_a_changed_body(
    receiver, make_webhook
):
    make_webhook(url=receiver.url)
    with transaction.atomic():
        enqueue(
            "ticket.created",
            everyone({"reference": "HD-1"}),
            ordering_key="ticket:HD-1",
        )
    deliver_due()
    request = receiver.requests[0]
    signature = request.headers["X-Signature"]
    assert signing.verify("s3cret-value", request.body, signature)
    assert not signing.verify("other", request.body, signature)
    assert not signing.verify("s3cret-value", request.body + b" ", signature)


@pytest.mark.django_db
def test_order_is_kept_per_key_but_other_keys_are_not_held_back(receiver, make_webhook):
    make_webhook(url=receiver.url, events=EVENTS)
    _story("HD-000001")
    _story("HD-000002")
    receiver.respond_with(500)  # the first delivery of HD-000001 fails
    start = timezone.now()

    assert deliver_due(now=start) == {"retry": 1, "delivered": 3}
    delivered = [
        (r.json["data"]["reference"], r.json["data"]["n"])
        for r in receiver.requests[1:]
    ]
    assert delivered == [("HD-000002", 1), ("HD-000002", 2), ("HD-000002", 3)]

    deliver_due(now=start + timedelta(seconds=30))
    delivered = [
        (r.json["data"]["reference"], r.json["data"]["n"])
        for r in receiver.requests[4:]
    ]
    assert delivered == [("HD-000001", 1), ("HD-000001", 2), ("HD-000001", 3)]


class Killed(BaseException):
    """Stands for the worker process dying: not an Exception, so nothing catches it."""


@pytest.mark.django_db
def test_a_worker_killed_mid_delivery_loses_nothing(receiver, make_webhook, settings):
    settings.WEBHOOKS_LEASE_SECONDS = 60
    make_webhook(url=receiver.url, events=EVENTS)
    with transaction.atomic():
        enqueue("ticket.created", everyone({"n": 1}), ordering_key="ticket:HD-1")
        enqueue("ticket.created", everyone({"n": 2}), ordering_key="ticket:HD-2")
    start = timezone.now()

    with (
        mock.patch("webhooks.delivery.post", side_effect=Killed),
        pytest.raises(Killed),
    ):
        deliver_due(now=start)

    rows = list(WebhookDelivery.objects.order_by("id"))
    assert [(r.status, r.attempts) for r in rows] == [("pending", 1), ("pending", 1)]
    assert {r.next_attempt_at for r in rows} == {start + timedelta(seconds=60)}
    # another worker does not take the leased rows before the lease runs out
    assert deliver_due(now=start + timedelta(seconds=59)) == {}
    assert receiver.requests == []

    assert deliver_due(now=start + timedelta(seconds=60)) == {"delivered": 2}
    assert sorted(r.json["data"]["n"] for r in receiver.requests) == [1, 2]
    assert sorted(r.json["id"] for r in receiver.requests) == sorted(
        str(r.event_id) for r in rows
    )
    assert list(
        WebhookDelivery.objects.order_by("id").values_list("status", "attempts")
    ) == [("delivered", 2), ("delivered", 2)]


@pytest.mark.django_db
def test_a_claimed_row_is_not_claimed_again(make_webhook):
    make_webhook()
    with transaction.atomic():
        enqueue("ticket.created", everyone({"n": 1}), ordering_key="ticket:HD-1")
    now = timezone.now()
    first = claim_due(now, 10)
    second = claim_due(now, 10)
    assert [row.attempts for row in first] == [1]
    assert second == []


@pytest.mark.django_db
def test_retries_back_off_exponentially_then_the_delivery_fails_after_24_hours(
    make_webhook,
):
    make_webhook(events=EVENTS)
    with transaction.atomic():
        enqueue("ticket.created", everyone({"n": 1}), ordering_key="ticket:HD-1")
        enqueue("ticket.updated", everyone({"n": 2}), ordering_key="ticket:HD-1")
    first = WebhookDelivery.objects.order_by("id").first()
    attempt_times = []
    with mock.patch("webhooks.delivery.post", return_value=503):
        now = first.created_at
        while True:
            attempt_times.append(now)
            deliver_due(now=now, limit=1)
            first.refresh_from_db()
            if first.status != "pending":
                break
            now = first.next_attempt_at

    delays = [int((b - a).total_seconds()) for a, b in pairwise(attempt_times)]
    assert delays[:8] == [30, 60, 120, 240, 480, 960, 1920, 3600]
    assert set(delays[8:]) == {3600}
    assert attempt_times[-1] <= first.created_at + timedelta(hours=24)
    assert attempt_times[-1] + timedelta(hours=1) > first.created_at + timedelta(
        hours=24
    )
    assert first.status == "failed"
    assert first.last_status_code == 503
    assert first.last_error == "HTTP 503"
    assert first.attempts == len(attempt_times)
    # a failed row no longer holds back the next event of the ticket
    nxt = WebhookDelivery.objects.order_by("id").last()
    assert [row.pk for row in claim_due(now, 10)] == [nxt.pk]


def test_backoff_starts_within_a_minute_and_is_capped(settings):
    assert backoff(1) == timedelta(seconds=30)
    assert backoff(2) == timedelta(seconds=60)
    assert backoff(50) == timedelta(seconds=settings.WEBHOOKS_BACKOFF_MAX_SECONDS)


@pytest.mark.django_db
def test_a_receiver_slower_than_the_timeout_is_retried(
    receiver, make_webhook, settings
):
    settings.WEBHOOKS_TIMEOUT_SECONDS = 0.2
    receiver.delay = 1.0
    make_webhook(url=receiver.url)
    with transaction.atomic():
        enqueue("ticket.created", everyone({"n": 1}), ordering_key="ticket:HD-1")
    assert deliver_due() == {"retry": 1}
    row = WebhookDelivery.objects.get()
    assert row.status == "pending"
    assert row.last_status_code is None
    assert "timed out" in row.last_error


@pytest.mark.django_db
def test_redirects_are_not_followed(receiver, make_webhook):
    make_webhook(url=receiver.url)
    receiver.respond_with(302)
    with transaction.atomic():
        enqueue("ticket.created", everyone({"n": 1}))
    assert deliver_due() == {"retry": 1}
    row = WebhookDelivery.objects.get()
    assert (row.last_status_code, row.last_error) == (302, "HTTP 302")
    assert len(receiver.requests) == 1


@pytest.mark.django_db
def test_a_non_http_url_is_never_opened(make_webhook):
    make_webhook(url="file:///etc/passwd")
    with transaction.atomic():
        enqueue("ticket.created", everyone({"n": 1}))
    assert deliver_due() == {"refused": 1}
    row = WebhookDelivery.objects.get()
    assert (row.status, row.last_error) == (
        "failed",
        "Use an http:// or https:// address.",
    )


@pytest.mark.django_db
def test_enqueue_writes_one_delivery_per_active_subscribed_webhook(make_webhook):
    subscribed = make_webhook(name="a", events=["ticket.created", "comment.created"])
    internal = make_webhook(
        name="b", events=["comment.created"], include_internal_notes=True
    )
    make_webhook(name="inactive", events=["ticket.created"], active=False)
    make_webhook(name="other", events=["ticket.assigned"])

    with transaction.atomic():
        created = enqueue(
            "ticket.created", everyone({"n": 1}), ordering_key="ticket:HD-1"
        )
        public = enqueue(
            "comment.created", everyone({"n": 2}), ordering_key="ticket:HD-1"
        )
        note = enqueue(
            "comment.created",
            everyone({"n": 3}),
            ordering_key="ticket:HD-1",
            include_internal=True,
        )

    assert [d.webhook for d in created] == [subscribed]
    assert [d.webhook for d in public] == [subscribed, internal]
    assert [d.webhook for d in note] == [internal]
    assert len({d.event_id for d in public}) == 1
    assert WebhookDelivery.objects.count() == 4


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_no_delivery(make_webhook):
    make_webhook()
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue("ticket.created", everyone({"n": 1}))
        raise RuntimeError("the change failed")
    assert WebhookDelivery.objects.count() == 0


@pytest.mark.django_db
def test_enqueue_refuses_unknown_events(make_webhook):
    make_webhook()
    with pytest.raises(OutboxError), transaction.atomic():
        enqueue("ticket.exploded", everyone({}))
    assert WebhookDelivery.objects.count() == 0


@pytest.mark.django_db
def test_enqueue_outside_a_transaction_is_refused(make_webhook):
    """Simulated: a real autocommit test would flush the database for later tests."""
    make_webhook()
    outside = mock.Mock(in_atomic_block=False)
    with (
        mock.patch(
            "webhooks.outbox.transaction.get_connection",
            return_value=outside,
        ),
        pytest.raises(OutboxError, match="inside the transaction"),
    ):
        enqueue("ticket.created", everyone({"n": 1}))
    assert WebhookDelivery.objects.count() == 0


@pytest.mark.django_db
def test_deliveries_of_an_inactive_webhook_wait(receiver, make_webhook):
    webhook = make_webhook(url=receiver.url)
    with transaction.atomic():
        enqueue("ticket.created", everyone({"n": 1}))
    webhook.active = False
    webhook.save()
    assert deliver_due() == {}
    webhook.active = True
    webhook.save()
    assert deliver_due() == {"delivered": 1}


@pytest.mark.django_db
def test_process_webhooks_command_delivers_what_is_due(receiver, make_webhook):
    make_webhook(url=receiver.url)
    with transaction.atomic():
        enqueue("ticket.created", everyone({"n": 1}))
    from io import StringIO

    out = StringIO()
    call_command("process_webhooks", stdout=out)
    assert out.getvalue().strip() == "delivered: 1, to retry: 0, failed: 0"
    call_command("process_webhooks", stdout=out)
    assert len(receiver.requests) == 1


@pytest.mark.django_db
def test_purge_keeps_pending_and_recent_rows(make_webhook, settings):
    settings.WEBHOOKS_RETENTION_DAYS = 30
    webhook = make_webhook()
    now = timezone.now()
    old = now - timedelta(days=31)
    recent = now - timedelta(days=29)

    def row(status, created_at, delivered_at=None):
        return WebhookDelivery.objects.create(
            webhook=webhook,
            event="ticket.created",
            status=status,
            created_at=created_at,
            next_attempt_at=created_at,
            delivered_at=delivered_at,
        )

    row("delivered", old, old)
    row("failed", old)
    kept = [
        row("delivered", old, recent),
        row("pending", old),
        row("failed", recent),
    ]
    assert purge_old_deliveries(now=now) == 2
    assert purge_old_deliveries(now=now) == 0
    assert list(WebhookDelivery.objects.order_by("id")) == kept


@pytest.mark.django_db
def test_small_claims_still_deliver_everything_due(receiver, make_webhook, settings):
    settings.WEBHOOKS_CLAIM_SIZE = 1
    make_webhook(url=receiver.url, events=EVENTS)
    _story("HD-000001")
    _story("HD-000002")
    assert deliver_due() == {"delivered": 6}
    assert deliver_due() == {}


@pytest.mark.django_db
def test_a_run_stops_claiming_when_its_time_is_up(receiver, make_webhook, settings):
    settings.WEBHOOKS_RUN_SECONDS = 0
    make_webhook(url=receiver.url)
    with transaction.atomic():
        enqueue("ticket.created", everyone({"n": 1}))
    assert deliver_due() == {}
    assert WebhookDelivery.objects.get().attempts == 0
