"""The outbox's read of the webhooks that may get an event: compiled once
(``portal.sql.KeptStatement``), the webhooks and their owners the ORM's
``select_related`` read gives, in one statement."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from webhooks import outbox
from webhooks.models import Webhook


@pytest.mark.django_db
def test_the_webhooks_and_owners_are_the_orms(make_webhook, integrator):
    other = User.objects.create_superuser(email="other@example.com", password="x")
    locked = User.objects.create_superuser(email="locked@example.com", password="x")
    locked.locked_at = timezone.now()
    locked.save()
    gone = User.objects.create_user("gone@example.com", is_active=False)
    two = make_webhook(name="two", events=["ticket.created", "ticket.updated"])
    one = make_webhook(name="one", owner=other, secret="other-secret")
    three = make_webhook(name="three", events=["comment.created"])
    # none of these may be read: inactive, without owner, owner locked or inactive
    make_webhook(name="off", active=False)
    make_webhook(name="orphan", owner=None)
    make_webhook(name="locked", owner=locked)
    make_webhook(name="gone", owner=gone)
    expected = list(
        Webhook.objects.filter(
            active=True, owner__is_active=True, owner__locked_at__isnull=True
        )
        .select_related("owner")
        .order_by("id")
    )
    with CaptureQueriesContext(connection) as captured:
        got = outbox._SUBSCRIBABLE.instances()
    assert len(captured) == 1
    assert [w.pk for w in got] == [two.pk, one.pk, three.pk]
    for webhook, oracle in zip(got, expected, strict=True):
        for field in Webhook._meta.concrete_fields:
            assert getattr(webhook, field.attname) == getattr(oracle, field.attname)
        for field in User._meta.concrete_fields:
            assert getattr(webhook.owner, field.attname) == getattr(
                oracle.owner, field.attname
            )
        assert webhook.owner.date_joined.tzinfo is not None
        assert webhook.owner._state.db == oracle.owner._state.db
    assert got[1].secret == "other-secret" and got[0].events == [
        "ticket.created",
        "ticket.updated",
    ]
    assert got[0].subscribes_to("ticket.updated") and not got[2].subscribes_to(
        "ticket.updated"
    )
