"""``portal.sql.KeptSubquery``: the SQL Django writes for the subquery, compiled once
and reused, and the rows read again by every query."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.sql.query import Query

from accounts.models import User
from portal.sql import KeptStatement, KeptSubquery, ValueList

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


def emails_among(ids, lowest):
    return (
        User.objects.filter(pk__in=ValueList(ids, output_field=User._meta.pk))
        .filter(pk__gte=lowest)
        .order_by("email")
        .values_list("email", flat=True)
    )


def test_a_value_list_is_one_parameter_with_the_rows_of_a_plain_in_lookup(
    django_assert_num_queries,
):
    users = [User.objects.create_user(f"u{n}@example.com") for n in range(4)]
    ids = [user.pk for user in users]
    for chosen in ([], ids[:1], ids[1:3], [*ids, 10**9], [ids[0], ids[0]]):
        values = ValueList(chosen, output_field=User._meta.pk)
        sql, params = User.objects.filter(pk__in=values).query.sql_with_params()
        assert len(params) == 1
        with django_assert_num_queries(1):
            found = sorted(User.objects.filter(pk__in=values).values_list("pk"))
        assert found == sorted(User.objects.filter(pk__in=chosen).values_list("pk"))
    named = ValueList(
        ["u1@example.com", "x", "u3@example.com", "o'hara\"{,}"],
        output_field=User._meta.get_field("email"),
    )
    assert sorted(
        User.objects.filter(email__in=named).values_list("pk", flat=True)
    ) == [ids[1], ids[3]]


def test_a_list_variable_takes_lists_of_any_length_in_one_compiled_statement(
    django_assert_num_queries,
):
    built = []

    def build(ids, lowest):
        built.append(ids)
        return emails_among(ids, lowest)

    statement = KeptStatement(build, ("ids", "lowest"), lists=("ids",))
    users = [User.objects.create_user(f"u{n}@example.com") for n in range(5)]
    ids = [user.pk for user in users]
    for chosen in (ids, ids[:2], [], [ids[4], 10**9, ids[2]], [ids[1]] * 3):
        for lowest in (0, ids[2]):
            with django_assert_num_queries(1):
                rows = statement.rows(ids=chosen, lowest=lowest)
            expected = list(
                User.objects.filter(pk__in=chosen, pk__gte=lowest)
                .order_by("email")
                .values_list("email")
            )
            assert rows == expected
    assert built == [[KeptStatement._STAND_IN]]
    assert statement.rows(ids=ids[:2], lowest=0) == [
        ("u0@example.com",),
        ("u1@example.com",),
    ]
    with pytest.raises(ValueError, match="list of values"):
        statement.rows(ids="12", lowest=0)
    with pytest.raises(ValueError, match="datetime or a list"):
        KeptStatement(lambda a: None, ("a",), datetimes=("a",), lists=("a",))


def test_a_list_of_texts_is_found_and_filled_in(django_assert_num_queries):
    statement = KeptStatement(
        lambda emails: (
            User.objects.filter(
                email__in=ValueList(emails, output_field=User._meta.get_field("email"))
            )
            .order_by("pk")
            .values_list("email", flat=True)
        ),
        ("emails",),
        lists=("emails",),
    )
    for email in (
        "a@example.com",
        "o'hara@example.com",
        'q"{,}@example.com',
        "-2013265917",
    ):
        User.objects.create_user(email)
    for chosen in (
        ["a@example.com"],
        ["o'hara@example.com", 'q"{,}@example.com', "nobody@example.com"],
        ["-2013265917"],
        [],
    ):
        with django_assert_num_queries(1):
            rows = statement.rows(emails=chosen)
        assert [email for (email,) in rows] == list(
            User.objects.filter(email__in=chosen)
            .order_by("pk")
            .values_list("email", flat=True)
        )


def test_a_kept_update_writes_what_queryset_update_writes(django_assert_num_queries):
    from datetime import timedelta

    from django.db.models import F
    from django.utils import timezone

    statement = KeptStatement(
        lambda ids, since, joined, name: User.objects.filter(
            pk__in=ValueList(ids, output_field=User._meta.pk), date_joined__gte=since
        ),
        ("ids", "since", "joined", "name"),
        datetimes=("since", "joined"),
        lists=("ids",),
        update=lambda ids, since, joined, name: {
            "display_name": name,
            "last_login": joined,
            "first_name": F("last_name"),
        },
    )
    now = timezone.now()
    users, twins = (
        [
            User.objects.create_user(
                f"{prefix}{n}@example.com",
                date_joined=now - timedelta(days=n),
                last_name=f"L{n}",
            )
            for n in range(4)
        ]
        for prefix in ("u", "t")
    )
    moment = now - timedelta(minutes=5)
    with django_assert_num_queries(1):
        count = statement.updated(
            ids=[u.pk for u in users[:3]],
            since=now - timedelta(days=1),
            joined=moment,
            name="Ann",
        )
    plain = User.objects.filter(
        pk__in=[u.pk for u in twins[:3]], date_joined__gte=now - timedelta(days=1)
    ).update(display_name="Ann", last_login=moment, first_name=F("last_name"))
    assert count == plain == 2
    fields = ("display_name", "last_login", "first_name")
    assert [
        tuple(getattr(User.objects.get(pk=u.pk), f) for f in fields) for u in users
    ] == [tuple(getattr(User.objects.get(pk=t.pk), f) for f in fields) for t in twins]
    with pytest.raises(ValueError, match="needs an update"):
        KeptStatement(emails_among, ("ids", "lowest"), lists=("ids",)).updated(
            ids=[], lowest=0
        )
    with pytest.raises(ValueError, match="reads a SELECT"):
        statement.instances(ids=[], since=now, joined=now, name="")


def test_a_text_variable_is_filled_in_as_it_is_and_in_its_forms(
    django_assert_num_queries,
):
    """A text variable: the text where the statement holds it as it is, its forms
    (here the LIKE pattern ``icontains`` writes) where it holds them; the plain
    queryset built for each text gives the same rows."""
    from django.db import connection as default

    def pattern(text):
        return f"%{default.ops.prep_for_like_query(text)}%"

    def build(text, lowest):
        return (
            User.objects.filter(Q(email__icontains=text) | Q(display_name=text))
            .filter(pk__gte=lowest)
            .order_by("pk")
            .values_list("email", flat=True)
        )

    statement = KeptStatement(
        build, ("text", "lowest"), texts={"text": {"contains": pattern}}
    )
    for email, name in (
        ("ann@example.com", "Ann"),
        ("o'hara@example.com", "100%_x"),
        ("back\\slash@example.com", "qzxkepttextaxzq"),
        ("pct%_@example.com", ""),
    ):
        User.objects.create_user(email, display_name=name)
    for text in ("ann", "Ann", "'h", "%_", "\\", "100%_x", "qzxkepttextaxzq", "", "Ω"):
        with django_assert_num_queries(1):
            rows = statement.rows(text=text, lowest=0)
        assert [email for (email,) in rows] == list(build(text, 0)), text
    first = User.objects.order_by("pk").first()
    assert statement.rows(text="example", lowest=first.pk + 1) == [
        (email,) for email in build("example", first.pk + 1)
    ]
    with pytest.raises(ValueError, match="needs a text"):
        statement.rows(text=12, lowest=0)


def test_a_text_in_a_form_not_given_or_in_the_sql_is_refused():
    from django.db.models.expressions import RawSQL

    no_forms = KeptStatement(
        lambda text: User.objects.filter(email__icontains=text).values_list("pk"),
        ("text",),
        texts={"text": {}},
    )
    with pytest.raises(ValueError, match="a form not given"):
        no_forms.rows(text="ann")
    in_sql = KeptStatement(
        lambda text: User.objects.filter(
            RawSQL(f"'{text}' = %s", ["x"], output_field=BooleanField())  # noqa: S611
        ).values_list("pk"),
        ("text",),
        texts={"text": {}},
    )
    with pytest.raises(ValueError, match="in the SQL"):
        in_sql.rows(text="ann")
    with pytest.raises(ValueError, match="datetime or a list, or a text"):
        KeptStatement(lambda a: None, ("a",), lists=("a",), texts={"a": {}})
    with pytest.raises(ValueError, match="among the variables"):
        KeptStatement(lambda a: None, ("a",), texts={"b": {}})
