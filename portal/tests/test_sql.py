"""``portal.sql.KeptSubquery``: the SQL Django writes for the subquery, compiled once
and reused, and the rows read again by every query."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Q
from django.db.models.sql.query import Query

from accounts.models import User
from portal.sql import KeptStatement, KeptSubquery

pytestmark = pytest.mark.django_db


def members(name):
    return User.objects.filter(groups__name=name).order_by("email").values("pk")


def test_the_sql_is_the_one_django_writes_for_the_queryset():
    kept = Q(pk__in=KeptSubquery(members("crew")))
    plain = Q(pk__in=members("crew"))
    for build in (
        lambda q: User.objects.filter(q),
        lambda q: User.objects.filter(q).filter(is_active=True).order_by("-pk")[:3],
        lambda q: User.objects.filter(q | Q(email="x@example.com")).values("email"),
    ):
        assert str(build(kept).query) == str(build(plain).query)


def test_rows_are_read_when_each_query_runs():
    crew = Group.objects.create(name="crew")
    ann = User.objects.create_user("ann@example.com")
    ben = User.objects.create_user("ben@example.com")
    condition = Q(pk__in=KeptSubquery(members("crew")))
    assert list(User.objects.filter(condition)) == []
    ann.groups.add(crew)
    assert list(User.objects.filter(condition)) == [ann]
    ben.groups.add(crew)
    ann.groups.remove(crew)
    assert list(User.objects.filter(condition)) == [ben]
    assert User.objects.exclude(condition).filter(pk=ann.pk).exists()


def test_compiled_once_per_database(monkeypatch):
    kept = KeptSubquery(members("crew"))
    resolved = []
    original = Query.resolve_expression

    def counting(self, *args, **kwargs):
        resolved.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Query, "resolve_expression", counting)
    for _ in range(3):
        list(User.objects.filter(pk__in=kept).filter(is_active=True))
    assert resolved.count(kept.subquery) == 1
    assert list(kept._compiled) == [connection.alias]


def test_a_queryset_of_whole_rows_is_refused():
    with pytest.raises(ValueError):
        KeptSubquery(User.objects.filter(is_active=True))


def names_in(group_id, user_id):
    return (
        Group.objects.filter(pk=group_id, user__pk=user_id)
        .values_list("name", flat=True)
        .union(Group.objects.filter(name="all", user__pk=user_id).values_list("name"))
    )


def test_a_kept_statement_answers_what_its_queryset_answers(
    django_assert_num_queries,
):
    statement = KeptStatement(names_in, ("group_id", "user_id"))
    crew, everyone = Group.objects.create(name="crew"), Group.objects.create(name="all")
    ann = User.objects.create_user("ann@example.com")
    ben = User.objects.create_user("ben@example.com")
    ann.groups.add(crew, everyone)
    for group, user in ((crew, ann), (crew, ben), (everyone, ann), (everyone, ben)):
        with django_assert_num_queries(1):
            rows = statement.rows(group_id=group.pk, user_id=user.pk)
        assert sorted(rows) == sorted((name,) for name in names_in(group.pk, user.pk))
    assert sorted(statement.rows(group_id=crew.pk, user_id=ann.pk)) == [
        ("all",),
        ("crew",),
    ]
    assert statement.rows(group_id=crew.pk, user_id=ben.pk) == []
    ben.groups.add(crew)  # read when it runs
    assert statement.rows(group_id=crew.pk, user_id=ben.pk) == [("crew",)]
    assert list(statement._compiled) == [connection.alias]


def test_a_kept_statement_is_compiled_once(monkeypatch):
    built = []

    def build(**values):
        built.append(values)
        return names_in(**values)

    statement = KeptStatement(build, ("group_id", "user_id"))
    for n in range(3):
        statement.rows(group_id=n, user_id=n)
    assert len(built) == 1


def test_a_kept_statement_must_find_each_variable_among_its_parameters():
    statement = KeptStatement(
        lambda group_id, user_id: Group.objects.filter(pk=group_id).values_list("pk"),
        ("group_id", "user_id"),
    )
    with pytest.raises(ValueError, match="user_id"):
        statement.rows(group_id=1, user_id=1)


def test_a_variable_of_a_text_field_is_found_as_its_text(django_assert_num_queries):
    statement = KeptStatement(
        lambda name, user_id: (
            Group.objects.filter(name=name, user__pk=user_id)
            .order_by("pk")
            .values_list("pk", "name")
        ),
        ("name", "user_id"),
    )
    crew = Group.objects.create(name="crew")
    Group.objects.create(name="-2013265917")  # the stand-in's text as a real value
    ann = User.objects.create_user("ann@example.com")
    ann.groups.add(crew)
    for name in ("crew", "-2013265917", "nobody"):
        with django_assert_num_queries(1):
            rows = statement.rows(name=name, user_id=ann.pk)
        assert rows == list(
            Group.objects.filter(name=name, user__pk=ann.pk).values_list("pk", "name")
        )
    assert statement.rows(name="crew", user_id=ann.pk) == [(crew.pk, "crew")]


def test_a_datetime_variable_is_put_in_the_databases_form(django_assert_num_queries):
    from datetime import timedelta

    from django.utils import timezone

    statement = KeptStatement(
        lambda since, user_id: (
            User.objects.filter(date_joined__gte=since, pk__gte=user_id)
            .order_by("email")
            .values_list("email")
        ),
        ("since", "user_id"),
        datetimes=("since",),
    )
    now = timezone.now()
    for n, email in enumerate(["a@example.com", "b@example.com", "c@example.com"]):
        User.objects.create_user(email, date_joined=now - timedelta(hours=n))
    for since in (
        now - timedelta(hours=1),  # exactly b's moment: included, as by the ORM
        now - timedelta(hours=1, microseconds=-1),
        now - timedelta(days=1),
        now + timedelta(seconds=1),
    ):
        with django_assert_num_queries(1):
            rows = statement.rows(since=since, user_id=0)
        assert rows == list(
            User.objects.filter(date_joined__gte=since)
            .order_by("email")
            .values_list("email")
        )
    assert statement.rows(since=now - timedelta(hours=1), user_id=0) == [
        ("a@example.com",),
        ("b@example.com",),
    ]
    with pytest.raises(ValueError, match="aware"):
        statement.rows(since=now.replace(tzinfo=None), user_id=0)
    with pytest.raises(ValueError, match="among the variables"):
        KeptStatement(lambda a: None, ("a",), datetimes=("b",))
