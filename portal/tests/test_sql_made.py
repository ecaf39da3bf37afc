"""``portal.sql.KeptStatement.instances`` makes its instances, and their
``select_related`` rows, with ``portal.instances.from_db``: the same instances the
queryset gives, attribute by attribute, its state and related caches included."""

import pytest
from django.db.models.signals import post_init

from accounts.models import Membership, Organization
from portal.notifications.models import SentNotification
from portal.sql import KeptStatement


def _seen(instance):
    """Everything an instance holds: its attributes, its state, its related rows."""
    if instance is None:
        return None
    values = {k: v for k, v in instance.__dict__.items() if k != "_state"}
    state = instance._state
    related = {
        name: _seen(value)
        for name, value in state.__dict__.get("fields_cache", {}).items()
    }
    return (type(instance), values, state.db, state.adding, related)


@pytest.mark.django_db
@pytest.mark.parametrize("receiver", [False, True], ids=["plain", "post_init receiver"])
def test_instances_and_their_related_rows_are_the_querysets(make_user, receiver):
    ann, ben = make_user("ann@x.example"), make_user("ben@x.example", locale="pl")
    for n, name in enumerate(["Zeta", "Alpha"]):
        organization = Organization.objects.create(name=name, slug=name.lower())
        Membership.objects.create(user=ann, organization=organization)
        if n:
            Membership.objects.create(user=ben, organization=organization)
    for n, user in enumerate([ann, ben, None]):
        SentNotification.objects.create(
            idempotency_key=f"k{n}",
            kind="account_approved",
            recipient=user,
            to_email="" if user else "new@x.example",
            context={"a": [1, "ż"]},
        )
    memberships = Membership.objects.select_related("organization", "user")
    rows = SentNotification.objects.select_related("recipient")
    cases = [
        (
            KeptStatement(lambda v: memberships.filter(user=v).order_by("pk"), ("v",)),
            lambda v: memberships.filter(user=v).order_by("pk"),
            (ann.pk, ben.pk),
        ),
        (
            KeptStatement(lambda v: rows.exclude(pk=v).order_by("pk"), ("v",)),
            lambda v: rows.exclude(pk=v).order_by("pk"),
            (0,),
        ),
    ]
    calls = []

    def made(**kwargs):
        calls.append(kwargs["instance"].pk)

    if receiver:
        post_init.connect(made, sender=SentNotification, weak=False)
    try:
        for kept, queryset, values in cases:
            for value in values:
                got = kept.instances(v=value)
                expected = list(queryset(value))
                assert [_seen(i) for i in got] == [_seen(i) for i in expected]
                assert got
    finally:
        post_init.disconnect(made, sender=SentNotification)
    # with a receiver, Django's own ``from_db`` made the kept rows too (it is called)
    assert len(calls) == (2 * 3 if receiver else 0)
