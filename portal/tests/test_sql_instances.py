"""``portal.sql.KeptStatement.instances``: a read compiled once gives the model
instances its queryset gives."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import roles
from portal.sql import KeptStatement


def _members(group):
    return roles.annotate_role_names(
        get_user_model().objects.filter(groups=group, is_active=True).order_by("email")
    )


@pytest.mark.django_db
def test_the_rows_are_the_querysets_for_every_value(make_user):
    one, two = Group.objects.create(name="one"), Group.objects.create(name="two")
    agents = Group.objects.get_or_create(name=roles.AGENTS)[0]
    for n, email in enumerate(["c@x.example", "a@x.example", "b@x.example"]):
        user = make_user(email, groups=[agents.name] if n else [])
        user.groups.add(one if n < 2 else two)
    make_user("off@x.example", is_active=False).groups.add(one)
    prepared = KeptStatement(_members, ("group",))
    for group in (one, two, Group.objects.create(name="empty")):
        with CaptureQueriesContext(connection) as captured:
            got = roles.remembered(prepared.instances(group=group.pk))
        assert len(captured) == 1
        expected = roles.with_role_names(_members(group.pk))
        assert [(u.pk, u.email, u.is_active) for u in got] == [
            (u.pk, u.email, u.is_active) for u in expected
        ]
        assert [u._role_names_cache for u in got] == [
            u._role_names_cache for u in expected
        ]
    assert [u.email for u in roles.remembered(prepared.instances(group=one.pk))] == [
        "a@x.example",
        "c@x.example",
    ]


@pytest.mark.django_db
def test_related_rows_are_refused():
    from accounts.models import Membership

    memberships = Membership.objects.select_related("organization")
    related = KeptStatement(lambda v: memberships.filter(user=v), ("v",))
    with pytest.raises(ValueError, match="no related rows"):
        related.instances(v=1)
