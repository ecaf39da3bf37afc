"""A new ticket's alert goes to its queue's agents, read once per staff generation
(``tickets.notifications_handlers.queue_agents``): the second filing reads no agents,
and every change of who they are (a membership, a role, an account's active state,
address, name or language, the queue's group) shows at the next filing, made in this
process or another one. Denied twins: an agent taken out of the group, deactivated,
or no longer on the queue's group gets no alert at the next filing; nothing is kept
while such a change waits for its commit, with the staff cache off or without a
generation (the cache down)."""

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts import roles
from portal import cache as shared_cache
from portal.notifications.models import SentNotification
from tickets import notifications_handlers, services
from tickets.desk import inbox

from .factories import GroupFactory, make_agent

# Committed changes: a new staff generation is set when a change commits.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def kept(settings):
    settings.DESK_STAFF_CACHE = True  # as with Redis (one process here)
    cache.clear()
    notifications_handlers._kept_agents.forget()
    yield
    cache.clear()
    notifications_handlers._kept_agents.forget()


def agents_read(queries) -> int:
    """The statements that read the queue's agents (the users with their roles)."""
    return sum(
        q["sql"].startswith('SELECT "accounts_user"') and "JSON" in q["sql"].upper()
        for q in queries
    )


def file(requester):
    """File a ticket; the alerts written (recipient address, kind, link) and how many
    statements read the agents."""
    with CaptureQueriesContext(connection) as queries:
        ticket = services.create_ticket(requester, subject="Help", description="Please")
    rows = SentNotification.objects.filter(
        idempotency_key__startswith=f"{ticket.events.get().pk}:"
    ).order_by("pk")
    return [
        (row.to_email, row.kind, row.context["ticket_url"].split("/")[3])
        for row in rows
        if row.kind == "ticket_created_agent"
    ], agents_read(queries)


def test_the_second_filing_reads_no_agents_and_alerts_the_same(alice, queue):
    make_agent(queue, email="ann@example.com")
    make_agent(queue, email="bob@example.com")
    first = file(alice)
    assert first == (
        [
            ("ann@example.com", "ticket_created_agent", "admin"),
            ("bob@example.com", "ticket_created_agent", "admin"),
        ],
        1,
    )
    assert file(alice) == (first[0], 0)


def test_the_kept_agents_are_new_instances_as_the_read_gives_them(queue):
    ann = make_agent(queue, email="ann@example.com", locale="pl")
    read = notifications_handlers.queue_agents(queue.agent_group_id)
    kept = notifications_handlers.queue_agents(queue.agent_group_id)
    assert [a.pk for a in read] == [a.pk for a in kept] == [ann.pk]
    assert read[0] is not kept[0]
    fields = [f.attname for f in type(ann)._meta.concrete_fields]
    names = {roles.AGENTS, queue.agent_group.name}
    assert roles.group_names(type(ann).objects.get(pk=ann.pk)) == names
    for agent in (read[0], kept[0]):
        assert [getattr(agent, f) for f in fields] == [getattr(ann, f) for f in fields]
        assert agent._state.adding is False and agent._state.db == "default"
        assert agent._role_names_cache == names
    kept[0]._role_names_cache.add("mutated")
    kept[0].email = "mutated@example.com"
    again = notifications_handlers.queue_agents(queue.agent_group_id)[0]
    assert again._role_names_cache == names
    assert again.email == "ann@example.com"


def test_an_agent_taken_out_of_the_group_gets_no_alert_at_the_next_filing(alice, queue):
    # the denied twin
    ann = make_agent(queue, email="ann@example.com")
    make_agent(queue, email="bob@example.com")
    assert [r[0] for r in file(alice)[0]] == ["ann@example.com", "bob@example.com"]
    ann.groups.remove(queue.agent_group)
    assert file(alice) == ([("bob@example.com", "ticket_created_agent", "admin")], 1)
    # and from the group's side
    queue.agent_group.user_set.remove(ann)  # already out: nothing changes
    bob = queue.agent_group.user_set.get()
    queue.agent_group.user_set.remove(bob)
    assert file(alice) == ([], 1)


def test_a_new_agent_of_the_group_is_alerted_at_the_next_filing(alice, queue):
    make_agent(queue, email="bob@example.com")
    file(alice)
    make_agent(queue, email="ann@example.com")
    assert [r[0] for r in file(alice)[0]] == ["ann@example.com", "bob@example.com"]
    carl = make_agent(email="carl@example.com")
    file(alice)
    queue.agent_group.user_set.add(carl)
    assert file(alice)[0][-1][0] == "carl@example.com"


def test_a_deactivated_agent_gets_no_alert_and_a_reactivated_one_does(alice, queue):
    ann = make_agent(queue, email="ann@example.com")
    make_agent(queue, email="bob@example.com")
    file(alice)
    ann.is_active = False
    ann.save()
    assert [r[0] for r in file(alice)[0]] == ["bob@example.com"]
    ann.is_active = True
    ann.save(update_fields=["is_active"])
    assert [r[0] for r in file(alice)[0]] == ["ann@example.com", "bob@example.com"]


def test_an_address_name_or_language_change_is_written_at_the_next_filing(alice, queue):
    ann = make_agent(queue, email="ann@example.com", display_name="Ann")
    file(alice)
    ann.email = "ann.new@example.com"
    ann.locale = "ru"
    ann.save()
    ticket = services.create_ticket(alice, subject="Help", description="Please")
    row = SentNotification.objects.get(
        idempotency_key=f"{ticket.events.get().pk}:{ann.pk}:ticket_created_agent"
    )
    assert (row.to_email, row.recipient_id) == ("ann.new@example.com", ann.pk)
    assert row.context["requester_name"] == "Alice"


def test_a_role_change_shows_in_the_link_at_the_next_filing(alice, queue):
    # an agent who is no longer on the support team gets the portal's link
    ann = make_agent(queue, email="ann@example.com")
    assert file(alice)[0] == [("ann@example.com", "ticket_created_agent", "admin")]
    ann.groups.remove(Group.objects.get(name=roles.AGENTS))
    assert file(alice) == ([("ann@example.com", "ticket_created_agent", "portal")], 1)


def test_a_queue_given_another_group_alerts_that_groups_agents(alice, queue):
    make_agent(queue, email="ann@example.com")
    file(alice)
    other = GroupFactory()
    make_agent(email="bob@example.com").groups.add(other)
    queue.agent_group = other
    queue.save()
    assert [r[0] for r in file(alice)[0]] == ["bob@example.com"]


def test_a_change_made_in_another_process_is_seen_at_the_next_filing(alice, queue):
    ann = make_agent(queue, email="ann@example.com")
    make_agent(queue, email="bob@example.com")
    file(alice)
    # another process: the membership changed without this process's receivers,
    # then the new generation its commit set
    through = type(ann).groups.through
    through.objects.filter(user=ann, group=queue.agent_group).delete()
    assert [r[0] for r in file(alice)[0]] == ["ann@example.com", "bob@example.com"]
    cache.set(inbox.STAFF_GENERATION_KEY, 1)
    assert [r[0] for r in file(alice)[0]] == ["bob@example.com"]


def test_nothing_is_kept_while_a_staff_change_waits_for_its_commit(alice, queue):
    ann = make_agent(queue, email="ann@example.com")
    make_agent(queue, email="bob@example.com")
    file(alice)
    with transaction.atomic():
        ann.groups.remove(queue.agent_group)
        assert file(alice) == (
            [("bob@example.com", "ticket_created_agent", "admin")],
            1,
        )
        assert file(alice)[1] == 1  # still pending: read again, nothing kept
    assert [r[0] for r in file(alice)[0]] == ["bob@example.com"]


@pytest.mark.parametrize("switch", ["off", "no generation"])
def test_read_at_each_filing_without_a_generation(
    alice, queue, settings, monkeypatch, switch
):
    if switch == "off":
        settings.DESK_STAFF_CACHE = False
    else:  # the shared cache is down: no generation can be read
        monkeypatch.setattr(shared_cache, "generation", lambda key: None)
    ann = make_agent(queue, email="ann@example.com")
    assert file(alice)[1] == 1
    assert file(alice)[1] == 1
    # another process's change, without receivers or a generation: seen at once
    type(ann).groups.through.objects.filter(user=ann).delete()
    assert file(alice) == ([], 1)
