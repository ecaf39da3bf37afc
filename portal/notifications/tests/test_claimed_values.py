"""A claim gives its instances the values it wrote (``portal.outbox._written``):
plain attributes set in their ``__dict__`` (deferred ones too), anything with a
descriptor of its own through ``setattr``; each equal to the row as stored."""

from datetime import timedelta

import pytest
from django.utils import timezone

from portal import outbox
from portal.notifications import sending
from portal.notifications.models import SentNotification

WRITTEN = ("claimed_at", "claimed_until", "claim_token", "attempts")


def _store(users, event):
    return sending.store(
        [
            sending.Outgoing(
                kind="account_approved",
                recipient=user,
                context={},
                idempotency_key=f"{event}:{user.pk}",
            )
            for user in users
        ]
    )[1]


@pytest.mark.django_db
@pytest.mark.parametrize("deferred", [(), ("claimed_at",), ("locale", "claim_token")])
def test_claimed_instances_hold_what_was_written(make_user, deferred):
    users = [make_user(f"c{n}@example.com") for n in range(3)]
    keys = _store(users, "e")
    SentNotification.objects.filter(idempotency_key=keys[1]).update(attempts=4)
    now = timezone.now()
    due = sending._due(now, keys).select_related("recipient").defer(*deferred)
    found = outbox.claim_rows(
        due,
        limit=10,
        increment=("attempts",),
        claimed_at=now,
        claimed_until=now + timedelta(seconds=60),
        claim_token="t",
    )
    stored = {
        row.pk: row
        for row in SentNotification.objects.filter(pk__in=[r.pk for r in found])
    }
    assert len(found) == 3
    for row in found:
        for name in WRITTEN:
            assert getattr(row, name) == getattr(stored[row.pk], name), name
    assert sorted(row.attempts for row in found) == [1, 1, 5]


def test_only_plain_attributes_are_set_in_the_dict():
    class Model:
        plain = None

        @property
        def computed(self):
            return 1

        @computed.setter
        def computed(self, value):
            self.seen = value

    assert outbox._plain(Model, ("plain", "other"))
    assert not outbox._plain(Model, ("plain", "computed"))
    rows = [Model()]
    outbox._written(rows, {"computed": 3, "plain": 2}, ())
    assert rows[0].seen == 3 and rows[0].plain == 2
    assert outbox._plain(SentNotification, WRITTEN)
