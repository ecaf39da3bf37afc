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


def _old_has_role(user, *names):
    return bool(roles.group_names(user) & set(names))


QUESTIONS = [
    (roles.SUPERVISORS,),
    (roles.AGENTS,),
    tuple(roles.HELPDESK_ROLES),
    tuple(roles.STAFF_ROLES),
    (roles.CUSTOMERS,),
    (),
]


def test_has_role_answers_as_group_names_does():
    from django.contrib.auth.models import AnonymousUser
    from django.utils.functional import SimpleLazyObject

    User = get_user_model()
    agent = User.objects.create_user(email="agent@example.com")
    agent.groups.add(Group.objects.get(name=roles.AGENTS))
    customer = User.objects.create_user(email="customer@example.com")
    customer.groups.add(Group.objects.get(name=roles.CUSTOMERS))
    nobody = User.objects.create_user(email="nobody@example.com")
    for user in (agent, customer, nobody):
        kept = roles.with_role_names(User.objects.filter(pk=user.pk))[0]
        fresh = User.objects.get(pk=user.pk)
        reset = User.objects.get(pk=user.pk)
        reset._role_names_cache = None  # as accounts.ldap forgets them
        lazy = SimpleLazyObject(lambda pk=user.pk: User.objects.get(pk=pk))
        for who in (kept, fresh, reset, lazy):
            for names in QUESTIONS:
                assert roles.has_role(who, *names) == _old_has_role(who, *names)
    for names in QUESTIONS:  # the denied twins: signed out, no role
        assert roles.has_role(AnonymousUser(), *names) is False
        assert roles.has_role(nobody, *names) is False
    assert roles.has_role(agent, roles.AGENTS) is True
    assert roles.has_role(customer, roles.AGENTS) is False


def test_has_role_reads_kept_names_without_a_statement():
    User = get_user_model()
    agent = User.objects.create_user(email="agent@example.com")
    agent.groups.add(Group.objects.get(name=roles.AGENTS))
    kept = roles.with_role_names(User.objects.filter(pk=agent.pk))[0]
    with CaptureQueriesContext(connection) as ctx:
        assert roles.has_role(kept, *roles.HELPDESK_ROLES)
        assert not roles.has_role(kept, roles.SUPERVISORS)
    assert ctx.captured_queries == []
    fresh = User.objects.get(pk=agent.pk)
    with CaptureQueriesContext(connection) as ctx:  # read once, then kept
        assert roles.has_role(fresh, roles.AGENTS)
        assert roles.has_role(fresh, roles.AGENTS)
    assert len(ctx.captured_queries) == 1
