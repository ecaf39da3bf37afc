"""``roles.with_role_names``: the users with their role names in one statement, the
same names ``group_names`` reads one user at a time."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import roles

pytestmark = pytest.mark.django_db


def test_with_role_names_reads_the_same_names_in_one_statement():
    User = get_user_model()
    odd = Group.objects.create(name='Odd, "quoted" [name]')
    agents = Group.objects.get(name=roles.AGENTS)
    none = User.objects.create_user(email="none@example.com")
    one = User.objects.create_user(email="one@example.com")
    one.groups.add(agents)
    two = User.objects.create_user(email="two@example.com")
    two.groups.add(agents, odd, Group.objects.get(name=roles.SUPERVISORS))

    with CaptureQueriesContext(connection) as ctx:
        users = roles.with_role_names(
            User.objects.filter(pk__in=[none.pk, one.pk, two.pk]).order_by("email")
        )
        names = {user.pk: roles.group_names(user) for user in users}
    assert len(ctx.captured_queries) == 1
    assert [user.pk for user in users] == [none.pk, one.pk, two.pk]
    fresh = {u.pk: roles.group_names(User.objects.get(pk=u.pk)) for u in users}
    assert names == fresh
    assert names == {
        none.pk: set(),
        one.pk: {roles.AGENTS},
        two.pk: {roles.AGENTS, roles.SUPERVISORS, odd.name},
    }
    assert roles.has_role(users[2], roles.SUPERVISORS)
    assert not roles.has_role(users[1], roles.SUPERVISORS)
