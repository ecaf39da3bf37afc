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
def test_related_rows_are_read_in_the_same_query(make_user):
    from accounts.models import Membership, Organization

    ann, ben = make_user("ann@x.example"), make_user("ben@x.example")
    for n, name in enumerate(["Zeta", "Alpha"]):
        organization = Organization.objects.create(name=name, slug=name.lower())
        Membership.objects.create(user=ann, organization=organization)
        if n:
            Membership.objects.create(user=ben, organization=organization)
    memberships = Membership.objects.select_related("organization").order_by("pk")
    kept = KeptStatement(lambda v: memberships.filter(user=v), ("v",))
    for person in (ann, ben, make_user("cid@x.example")):
        with CaptureQueriesContext(connection) as captured:
            got = kept.instances(v=person.pk)
            seen = [(m.pk, m.role, m.organization.pk, m.organization.name) for m in got]
        assert len(captured) == 1
        assert seen == [
            (m.pk, m.role, m.organization.pk, m.organization.name)
            for m in memberships.filter(user=person)
        ]
    assert [m.organization.slug for m in kept.instances(v=ann.pk)] == ["zeta", "alpha"]


@pytest.mark.django_db
def test_prefetched_rows_are_refused():
    from accounts.models import Membership

    memberships = Membership.objects.prefetch_related("organization")
    related = KeptStatement(lambda v: memberships.filter(user=v), ("v",))
    with pytest.raises(ValueError, match="no prefetch"):
        related.instances(v=1)


@pytest.mark.django_db
def test_a_relation_kept_as_a_prefetch_reads_what_the_relation_holds(
    make_user, django_assert_num_queries
):
    user_model = get_user_model()
    ann, ben = make_user("ann@x.example"), make_user("ben@x.example")
    one, two = Group.objects.create(name="one"), Group.objects.create(name="two")
    ann.groups.add(two, one)
    kept = KeptStatement(lambda user: user_model(pk=user).groups.all(), ("user",))
    for person in (ann, ben):
        fresh = list(user_model.objects.get(pk=person.pk).groups.all())
        with django_assert_num_queries(1):
            kept.prefetch(person, "groups", user=person.pk)
        with django_assert_num_queries(0):
            got = list(person.groups.all())
            assert bool(person.groups.all()) is bool(fresh)
        assert [(g.pk, g.name) for g in got] == [(g.pk, g.name) for g in fresh]
    assert sorted(g.name for g in ann.groups.all()) == ["one", "two"]
    assert ben.groups.all().count() == 0
    # a further query on the kept rows reads nothing (not every group)
    assert list(ann.groups.all().filter(name="one")) == []
