"""The desk's staff list (assignee filter, bulk form's datalist) remembered per
process (``tickets.desk.inbox.desk_staff``): no statement while nothing changed, and
every change of a user, a group or a membership seen at the next page, made in this
process or another one."""

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts import roles
from accounts.models import User
from tickets.desk import inbox

from .factories import make_agent

# Committed changes: the new generation is set when a change commits.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def remembered(settings):
    settings.DESK_STAFF_CACHE = True  # as with Redis (one process here)
    cache.clear()
    inbox._kept_staff.forget()
    yield
    cache.clear()
    inbox._kept_staff.forget()


def staff():
    with CaptureQueriesContext(connection) as queries:
        listed = inbox.desk_staff()
    return [email for _pk, email, _name in listed], len(queries)


def test_a_second_read_costs_no_statement(queue):
    make_agent(queue, email="ann@example.com")
    assert staff() == (["ann@example.com"], 1)
    assert staff() == (["ann@example.com"], 0)


def test_a_new_agent_and_a_renamed_one_are_listed_at_the_next_read(queue):
    ann = make_agent(queue, email="ann@example.com")
    staff()
    make_agent(queue, email="bob@example.com")
    ann.display_name = "Ann Renamed"
    ann.save()
    assert staff()[0] == ["ann@example.com", "bob@example.com"]
    assert inbox.desk_staff()[0][2] == "Ann Renamed"


def test_who_leaves_the_desk_is_no_longer_listed(queue):
    # the denied twin: a deactivated agent and one taken out of the agents' group
    ann = make_agent(queue, email="ann@example.com")
    bob = make_agent(queue, email="bob@example.com")
    root = User.objects.create_superuser(email="root@example.com", password="x" * 12)
    assert staff()[0] == ["ann@example.com", "bob@example.com", "root@example.com"]
    ann.is_active = False
    ann.save(update_fields=["is_active"])
    bob.groups.remove(Group.objects.get(name=roles.AGENTS))
    root.is_superuser = False
    root.save()
    assert staff() == ([], 1)


def test_a_renamed_role_group_empties_the_list(queue):
    make_agent(queue, email="ann@example.com")
    staff()
    group = Group.objects.get(name=roles.AGENTS)
    group.name = "Former agents"
    group.save()
    assert staff()[0] == []


def test_a_change_made_by_another_process_is_seen_through_the_generation(queue):
    ann = make_agent(queue, email="ann@example.com")
    staff()
    # Another process deactivates her: its signal set a new generation there.
    User.objects.filter(pk=ann.pk).update(is_active=False)
    inbox._new_staff_generation()
    assert staff() == ([], 1)


def test_a_change_rolled_back_is_never_remembered(queue):
    ann = make_agent(queue, email="ann@example.com")
    staff()
    with pytest.raises(RuntimeError), transaction.atomic():
        ann.is_active = False
        ann.save()
        assert staff() == ([], 1)  # read within the transaction, not kept
        assert staff() == ([], 1)
        raise RuntimeError
    assert staff() == (["ann@example.com"], 1)
    assert staff() == (["ann@example.com"], 0)


def test_a_sign_in_keeps_the_list(queue):
    ann = make_agent(queue, email="ann@example.com")
    staff()
    ann.save(update_fields=["last_login"])
    assert staff() == (["ann@example.com"], 0)


def test_without_a_readable_generation_or_switched_off_it_is_read_each_time(
    queue, settings
):
    make_agent(queue, email="ann@example.com")
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    }
    staff()
    assert staff()[1] == 1
    settings.DESK_STAFF_CACHE = False
    assert staff()[1] == 1
