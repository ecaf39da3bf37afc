"""``sending.store`` reads once what an event's messages share (their actor's id, one
JSON encoder for their contexts): each row is still the one written message by
message."""

import json

import pytest
from django.utils.functional import lazystr

from portal.notifications import sending
from portal.notifications.models import SentNotification

CONTEXT = {
    "reference": "HD-000042",
    "subject": 'Printer <b>"on fire"</b> — żółw',
    "items": [{"title": "Ä"}, ("tuple", 1)],
    "nothing": None,
    "lazy": lazystr("Priority"),
}


@pytest.mark.parametrize(
    "context",
    [CONTEXT, {}, {"n": 1.5, "big": 10**30, "nan": float("nan")}, {"s": "\ud800x"}],
)
def test_a_kept_encoder_writes_what_json_dumps_writes(context):
    with sending._Languages() as languages:
        kept = sending._plain_json(context, languages.lazy_text, languages.encoder)
        assert kept == sending._plain_json(context, languages.lazy_text)
        assert kept == json.dumps(context, default=languages.lazy_text)


@pytest.mark.parametrize("value", [object(), {1, 2}, b"bytes"])
def test_a_kept_encoder_refuses_what_json_dumps_refuses(value):
    with sending._Languages() as languages:
        with pytest.raises(sending.NotPlainData) as kept:
            sending._plain_json({"x": value}, languages.lazy_text, languages.encoder)
        with pytest.raises(sending.NotPlainData) as plain:
            sending._plain_json({"x": value}, languages.lazy_text)
    assert str(kept.value) == str(plain.value)


@pytest.mark.django_db
def test_each_message_keeps_its_own_actor(make_user):
    """Given messages whose actors change from one to the next (a user, the same
    user again, an id, none, another user), each row has its own actor and the actor
    of each message is the one skipped."""
    first, second, third = (make_user(f"u{n}@example.com") for n in range(3))
    actors = [first, first, second.pk, None, third, third, first]
    recipients = [second, first, third, first, second, third, first.pk]
    messages = [
        sending.Outgoing(
            kind="ticket_created",
            recipient=recipient,
            context=CONTEXT,
            idempotency_key=f"k{n}",
            actor=actor,
        )
        for n, (actor, recipient) in enumerate(zip(actors, recipients, strict=True))
    ]
    outcomes, keys = sending.store(messages)
    skipped = sending.Outcome.SKIPPED_ACTOR
    assert outcomes == [None, skipped, None, None, None, skipped, skipped]
    assert keys == ["k0", "k2", "k3", "k4"]
    assert dict(
        SentNotification.objects.order_by("idempotency_key").values_list(
            "idempotency_key", "actor_id"
        )
    ) == {"k0": first.pk, "k2": second.pk, "k3": None, "k4": third.pk}
