"""The worked queues kept by the policy (``permissions.worked_queue_list``, bench
FINDINGS S-14): ``list(worked_queues(user))`` instance by instance for every kind of
user, kept per agent-groups generation and role names; a queue renamed, a group
renamed, a membership changed and a language switched show at once on the inbox
page; a change that renews nothing (a queryset ``update``) stays unseen, so the
renewal is what shows the others."""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts import roles
from tickets import permissions
from tickets.desk import forms, kept_fields
from tickets.models import Queue

from .factories import QueueFactory, make_agent, make_customer

pytestmark = pytest.mark.django_db
INBOX = "/admin/helpdesk/tickets/"


@pytest.fixture(autouse=True)
def kept(settings):
    settings.AGENT_GROUPS_CACHE = True  # as with Redis (one process here)
    cache.clear()
    permissions._kept_agent_groups.forget()
    permissions._kept_worked_queues.forget()
    kept_fields.forget_kept_fields()
    yield
    cache.clear()
    permissions._kept_agent_groups.forget()
    permissions._kept_worked_queues.forget()
    kept_fields.forget_kept_fields()


def committed():
    """What the commit of the test's changes does: the agent groups' generation
    renewed (the tests run in one transaction, which never commits)."""
    permissions._agent_groups.renew()


def fresh(user):
    """The user as a request reads them: their group names read with them."""
    return roles.with_role_names(get_user_model().objects.filter(pk=user.pk))[0]


def _seen(queues):
    return [
        (type(q), {k: v for k, v in q.__dict__.items() if k != "_state"}, q._state.db)
        for q in queues
    ]


@pytest.fixture
def people(queue, other_queue, agent, other_agent, supervisor, viewer, acme):
    QueueFactory(slug="empty", name="Empty")
    both = make_agent(queue, email="both@example.com")
    both.groups.add(other_queue.agent_group)
    customer = make_customer(acme, email="carol@acme.example")
    off = make_agent(queue, email="off@example.com")
    off.is_active = False
    off.save()
    committed()
    return [agent, other_agent, both, supervisor, viewer, customer, off]


def test_the_list_is_the_querysets_built_then_kept(people):
    for user in people:
        user = fresh(user)
        expected = _seen(permissions.worked_queues(user))
        assert _seen(permissions.worked_queue_list(user)) == expected
        with CaptureQueriesContext(connection) as captured:
            got = permissions.worked_queue_list(user)
        assert len(captured) == 0  # kept
        assert _seen(got) == expected
    supervisor, customer = fresh(people[3]), fresh(people[5])
    assert [q.slug for q in permissions.worked_queue_list(supervisor)] == [
        q.slug for q in Queue.objects.all()
    ]
    assert len(permissions.worked_queue_list(supervisor)) == 3
    assert permissions.worked_queue_list(customer) == []
    assert permissions.worked_queue_list(fresh(people[6])) == []  # inactive


def test_new_instances_each_call(people):
    agent = fresh(people[0])
    first = permissions.worked_queue_list(agent)
    first[0].name = "Changed here"
    again = permissions.worked_queue_list(agent)
    assert again[0] is not first[0] and again[0].name == "Support"


def test_switched_off_it_reads_each_time(people, settings):
    settings.AGENT_GROUPS_CACHE = False
    agent = fresh(people[0])
    for _ in range(2):
        with CaptureQueriesContext(connection) as captured:
            got = permissions.worked_queue_list(agent)
        assert len(captured) == 1
        assert [q.slug for q in got] == ["support"]


def test_a_queue_renamed_is_seen_at_once_an_update_is_not(people, queue):
    agent = fresh(people[0])
    assert [q.name for q in permissions.worked_queue_list(agent)] == ["Support"]
    queue.name = "Helpdesk"
    queue.save()  # the receiver: forgotten now, renewed at the commit
    assert [q.name for q in permissions.worked_queue_list(agent)] == ["Helpdesk"]
    committed()
    assert [q.name for q in permissions.worked_queue_list(agent)] == ["Helpdesk"]
    # the stale twin: no signal, no renewal, the kept rows are shown
    Queue.objects.filter(pk=queue.pk).update(name="Unseen")
    assert [q.name for q in permissions.worked_queue_list(agent)] == ["Helpdesk"]
    permissions.agent_groups_changed()
    committed()
    assert [q.name for q in permissions.worked_queue_list(agent)] == ["Unseen"]


def test_a_membership_change_is_seen_at_once(people, other_queue):
    agent = people[0]
    before = fresh(agent)
    assert [q.slug for q in permissions.worked_queue_list(before)] == ["support"]
    agent.groups.add(other_queue.agent_group)  # renews no generation
    assert [q.slug for q in permissions.worked_queue_list(fresh(agent))] == [
        "billing",
        "support",
    ]
    # the stale twin: an instance read before the change keeps its role names
    assert [q.slug for q in permissions.worked_queue_list(before)] == ["support"]
    agent.groups.remove(*agent.groups.all())
    assert permissions.worked_queue_list(fresh(agent)) == []


def test_the_inbox_shows_a_rename_a_membership_and_a_language_at_once(
    people, queue, other_queue
):
    agent = people[0]
    client = Client()
    client.force_login(agent)

    def nav():
        body = client.get(INBOX).content.decode()
        return [q.name for q in Queue.objects.all() if f">Queue: {q.name}<" in body]

    assert nav() == ["Support"]
    assert nav() == ["Support"]  # kept
    queue.name = "Helpdesk"
    queue.save()
    committed()
    assert nav() == ["Helpdesk"]
    agent.groups.add(other_queue.agent_group)
    assert nav() == ["Billing", "Helpdesk"]
    agent.locale = "pl"
    agent.save()
    body = client.get(INBOX).content.decode()
    assert ">Kolejka: Helpdesk<" in body and ">Kolejka: Billing<" in body
    assert "Queue: " not in body


def test_a_queue_asked_for_is_cleaned_against_the_worked_queues(
    people, queue, other_queue
):
    agent = fresh(people[0])
    client = Client()
    client.force_login(agent)
    body = client.get(INBOX, {"view": "queues", "queue": "support"}).content.decode()
    assert 'aria-current="page">Queue: Support<' in body
    # the denied twin: a queue the agent does not work is the form's error
    body = client.get(INBOX, {"view": "queues", "queue": "billing"}).content.decode()
    assert "Select a valid choice" in body
    form = forms.FilterForm({"queue": "billing"}, queues=None)
    assert not form.is_valid()  # no queryset: no queue is valid
    form = forms.FilterForm({"q": "x"}, queues=None)
    assert form.is_valid() and form.cleaned_data["queue"] is None


def test_the_pages_generations_are_read_in_one_round_trip(
    people, settings, monkeypatch
):
    from portal import cache as shared_cache
    from tickets.desk import inbox

    settings.DESK_STAFF_CACHE = True
    client = Client()
    client.force_login(people[0])
    asked = []
    get_many = shared_cache.cache.get_many

    def spied(keys, *args, **kwargs):
        asked.append(sorted(keys))
        return get_many(keys, *args, **kwargs)

    monkeypatch.setattr(shared_cache.cache, "get_many", spied)
    body = client.get(INBOX).content.decode()
    assert ">Queue: Support<" in body
    both = sorted([permissions.AGENT_GROUPS_GENERATION_KEY, inbox.STAFF_GENERATION_KEY])
    assert both in asked
    # switched off: neither is read ahead, the page is the same
    settings.DESK_STAFF_CACHE = settings.AGENT_GROUPS_CACHE = False
    asked.clear()
    assert ">Queue: Support<" in client.get(INBOX).content.decode()
    assert not any(key in keys for keys in asked for key in both)
