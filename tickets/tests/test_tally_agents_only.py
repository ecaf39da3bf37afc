"""``GrantTally`` counts the view rows of the users who work a queue only (migration
tickets 0028): a customer's filing writes no row of theirs, a user who joins a queue's
agent group is listed with the rows they already hold, and the count reads the tallies
only for a listed user, so it is exact for everyone."""

import pytest
from django.db.models import F
from guardian.shortcuts import assign_perm

from accounts import roles
from tickets import permissions, services
from tickets.models import GrantTally, TalliedUser

from .factories import GroupFactory, QueueFactory, TicketFactory, UserFactory
from .test_visibility_tallies import _counted, _kept, assert_exact

pytestmark = pytest.mark.django_db


def _listed():
    return set(TalliedUser.objects.values_list("pk", flat=True))


def _rows_of(user):
    return {
        queue: n for (uid, queue), n in _counted()[1].items() if uid == user.pk
    } or None


def _staff_holding(*tickets):
    """A user with the Agents role who works no queue yet and holds ``view_ticket``
    on ``tickets`` by rows of their own."""
    user = UserFactory(roles=[roles.AGENTS])
    for ticket in tickets:
        assign_perm("tickets.view_ticket", user, ticket)
    return user


def test_a_customers_filing_writes_no_grant_tally_row(alice, agent, queue):
    ticket = services.create_ticket(alice, subject="Printer", description="On fire")
    assert ticket.queue == queue
    assert _kept()[0] == {queue.pk: 1}
    assert not GrantTally.objects.filter(user=alice).exists()
    assert _listed() == {agent.pk}
    assert permissions.count_visible(alice) == 1  # the customer's count: the grants
    assert_exact(agent, alice)
    # the twin: an agent's own view row is counted
    assign_perm("tickets.view_ticket", agent, ticket)
    assert GrantTally.objects.filter(user=agent).exists()
    assert_exact(agent)


def test_joining_a_queue_lists_the_user_with_the_rows_they_hold(queue, other_queue):
    inside, elsewhere = TicketFactory(queue=queue), TicketFactory(queue=other_queue)
    user = _staff_holding(inside, elsewhere)
    assert user.pk not in _listed()
    assert not GrantTally.objects.filter(user=user).exists()
    assert permissions.count_visible(user) == 2  # no queue: the grants counted

    user.groups.add(queue.agent_group)
    assert user.pk in _listed()
    assert _rows_of(user) == {queue.pk: 1, other_queue.pk: 1}
    assert_exact(user)
    TicketFactory(queue=queue)
    assert permissions.count_visible(user) == 3  # the queue's 2 and the grant


def test_joining_a_group_that_is_no_queues_lists_nobody(queue):
    user = _staff_holding(TicketFactory(queue=queue))
    user.groups.add(GroupFactory())
    assert user.pk not in _listed()
    assert not GrantTally.objects.filter(user=user).exists()


def test_a_queue_given_a_group_with_members_lists_them(queue, other_queue):
    group = GroupFactory()
    first = _staff_holding(TicketFactory(queue=queue))
    first.groups.add(group)
    assert first.pk not in _listed()
    made = QueueFactory(agent_group=group)
    assert first.pk in _listed()
    assert _rows_of(first) == {queue.pk: 1}
    assert_exact(first)

    second_group = GroupFactory()
    second = _staff_holding(TicketFactory(queue=other_queue))
    second.groups.add(second_group)
    made.agent_group = second_group
    made.save(update_fields=["agent_group"])
    assert second.pk in _listed()
    assert_exact(first, second)


def test_the_count_reads_the_tallies_of_a_listed_user_only(agent, queue, other_queue):
    """Numbers made wrong on purpose show which branch the count took: the tallies
    for a listed agent, the grants themselves once unlisted."""
    TicketFactory(queue=queue)
    assign_perm("tickets.view_ticket", agent, TicketFactory(queue=other_queue))
    assert permissions.count_visible(agent) == 2
    GrantTally.objects.filter(user=agent).update(tickets=F("tickets") + 5)
    assert permissions.count_visible(agent) == 7  # read from the tallies
    TalliedUser.objects.filter(pk=agent.pk).delete()
    assert permissions.count_visible(agent) == 2  # unlisted: exact without them
    # joining another queue lists the agent anew, the wrong rows counted afresh
    agent.groups.add(QueueFactory().agent_group)
    assert agent.pk in _listed()
    assert permissions.count_visible(agent) == 2
    assert_exact(agent)


def test_leaving_the_queue_keeps_the_numbers_exact(agent, queue, other_queue):
    assign_perm("tickets.view_ticket", agent, TicketFactory(queue=other_queue))
    agent.groups.remove(queue.agent_group)
    assert agent.pk in _listed()  # never unlisted
    assign_perm("tickets.view_ticket", agent, TicketFactory(queue=queue))
    assert_exact(agent)
    assert permissions.count_visible(agent) == 2


def test_recount_tallies_mends_wrong_numbers_and_lists_agents_only(
    alice, agent, queue, other_queue
):
    """``manage.py recount_tallies`` (the restore runs it): every number counted again
    from the rows, the agents listed, a customer holding view rows never."""
    from django.core.management import call_command

    services.create_ticket(alice, subject="Printer", description="On fire")
    assign_perm("tickets.view_ticket", agent, TicketFactory(queue=other_queue))
    expected = _kept()
    assert expected == _counted()
    GrantTally.objects.filter(user=agent).update(tickets=F("tickets") + 5)
    GrantTally.objects.create(user=alice, queue=queue, shard=0, tickets=3)
    TalliedUser.objects.all().delete()
    TalliedUser.objects.create(user=alice)
    assert _kept() != expected

    call_command("recount_tallies", verbosity=0)

    assert _listed() == {agent.pk}  # the customer is not (the twin)
    assert not GrantTally.objects.filter(user=alice).exists()
    assert _kept() == expected == _counted()
    assert _counted()[1] == {(agent.pk, other_queue.pk): 1}
    assert_exact(agent, alice)
