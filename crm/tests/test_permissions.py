"""Who sees and changes interactions and tasks (``crm.permissions``): agents what is
about the organizations they work (their queues' tickets) plus their own tasks,
supervisors everything, viewers everything read only, customers nothing."""

from datetime import timedelta

import pytest

from crm import permissions
from crm.models import Task

pytestmark = pytest.mark.django_db


def test_task_querysets(make_task, agent, supervisor, now):
    overdue = make_task(title="late", assignee=agent, due_at=now - timedelta(hours=1))
    later = make_task(title="later", assignee=agent, due_at=now + timedelta(hours=1))
    done = make_task(
        title="done", assignee=agent, due_at=now - timedelta(days=2), status="done"
    )
    undated = make_task(title="someday", due_at=None)

    assert list(Task.objects.overdue(now)) == [overdue]
    assert set(Task.objects.open()) == {overdue, later, undated}
    assert set(Task.objects.for_assignee(agent)) == {overdue, later, done}
    assert list(Task.objects.for_assignee(supervisor)) == [undated]
    assert overdue.is_overdue(now) and not later.is_overdue(now)
    assert not done.is_overdue(now) and not undated.is_overdue(now)


def test_visible_tasks_follow_the_worked_organizations(
    scene,
    make_task,
    acme,
    globex,
    alice,
    gina,
    agent,
    other_agent,
    supervisor,
    viewer,
    ticket,
    globex_ticket,
):
    on_acme = make_task(title="acme", organization=acme)
    on_globex = make_task(title="globex", organization=globex)
    on_alice = make_task(title="alice", contact=alice)
    on_ticket = make_task(title="ticket", ticket=ticket)
    mine = make_task(title="mine", assignee=agent, organization=globex)
    created = make_task(title="created", created_by=agent)
    on_gina = make_task(title="gina", contact=gina)

    def titles(user):
        return sorted(t.title for t in permissions.visible_tasks(user))

    assert titles(agent) == ["acme", "alice", "created", "mine", "ticket"]
    assert titles(other_agent) == ["gina", "globex", "mine"]
    everything = sorted(
        t.title
        for t in [on_acme, on_globex, on_alice, on_ticket, mine, created, on_gina]
    )
    assert titles(supervisor) == everything
    assert titles(viewer) == everything
    assert titles(alice) == []
    assert list(permissions.changeable_tasks(viewer)) == []
    assert permissions.may_view_task(agent, mine)
    assert not permissions.may_view_task(agent, on_globex)
    assert permissions.why_not_change_task(agent, on_globex)[0] == permissions.NOT_FOUND
    assert permissions.why_not_change_task(viewer, on_acme)[0] == permissions.FORBIDDEN
    assert permissions.why_not_change_task(alice, on_acme)[0] == permissions.NOT_FOUND
    assert permissions.may_change_task(agent, on_acme)
    assert permissions.may_change_task(supervisor, on_globex)


def test_visible_interactions_follow_the_worked_organizations(
    scene,
    make_interaction,
    acme,
    globex,
    alice,
    gina,
    agent,
    other_agent,
    supervisor,
    viewer,
    globex_ticket,
):
    make_interaction(subject="acme", organization=acme)
    make_interaction(subject="alice", contact=alice)
    make_interaction(subject="globex", organization=globex)
    make_interaction(subject="globex ticket", ticket=globex_ticket, contact=gina)
    own = make_interaction(subject="own", author=agent, organization=globex)

    def subjects(user):
        return sorted(i.subject for i in permissions.visible_interactions(user))

    assert subjects(agent) == ["acme", "alice", "own"]
    assert subjects(other_agent) == ["globex", "globex ticket", "own"]
    assert len(subjects(supervisor)) == len(subjects(viewer)) == 5
    assert subjects(alice) == [] and subjects(gina) == []
    assert permissions.may_view_interaction(agent, own)


def test_an_agent_works_only_organizations_with_tickets_they_may_see(
    scene, acme, globex, agent, other_agent, supervisor, viewer, alice
):
    assert permissions.worked_organization_ids(agent) == [acme.pk]
    assert permissions.worked_organization_ids(other_agent) == [globex.pk]
    assert permissions.works_organization(supervisor, globex)
    assert permissions.why_not_link(agent, organization=globex)[0] == "forbidden"
    assert permissions.why_not_link(viewer, organization=acme)[0] == "forbidden"
    assert permissions.why_not_link(agent, organization=acme, contact=alice) is None


def test_who_edits_an_organization(acme, agent, other_agent, supervisor, viewer, alice):
    acme.account_manager = agent
    acme.save()
    assert permissions.may_edit_organization(supervisor, acme)
    assert permissions.may_edit_organization(agent, acme)
    assert not permissions.may_edit_organization(other_agent, acme)
    assert not permissions.may_edit_organization(viewer, acme)
    assert not permissions.may_edit_organization(alice, acme)


def test_assignable_staff_are_agents_supervisors_and_administrators(
    agent, supervisor, viewer, alice, make_user
):
    admin = make_user("root@example.com", is_superuser=True)
    inactive = make_user("gone@example.com", groups=["Agents"], is_active=False)
    staff = set(permissions.assignable_staff())
    assert {agent, supervisor, admin} <= staff
    assert not {viewer, alice, inactive} & staff


def test_what_is_about_a_ticket_is_what_the_user_sees_of_it(
    scene,
    make_task,
    make_interaction,
    acme,
    globex,
    alice,
    gina,
    agent,
    other_agent,
    supervisor,
    viewer,
    ticket,
    globex_ticket,
):
    """``tasks_about`` / ``interactions_about`` (the ticket's Follow-up panel) answer
    what ``visible_*(user).filter(ticket=…)`` answers, for every role and both
    tickets, without the worked organizations' scope."""
    for about, other in ((ticket, globex), (globex_ticket, acme)):
        make_task(title=f"{about.pk} plain", ticket=about)
        make_task(title=f"{about.pk} mine", ticket=about, assignee=agent)
        make_task(title=f"{about.pk} org", ticket=about, organization=other)
        make_interaction(subject=f"{about.pk} plain", ticket=about)
        make_interaction(subject=f"{about.pk} own", ticket=about, author=agent)
        make_interaction(subject=f"{about.pk} gina", ticket=about, contact=gina)
    make_task(title="no ticket", organization=acme)
    make_interaction(subject="no ticket", organization=acme)

    def tasks(qs):
        return sorted(t.title for t in qs)

    def interactions(qs):
        return sorted(i.subject for i in qs)

    seen = set()
    for user in (agent, other_agent, supervisor, viewer, alice, gina):
        for about in (ticket, globex_ticket):
            expected = tasks(permissions.visible_tasks(user).filter(ticket=about))
            assert tasks(permissions.tasks_about(user, about)) == expected
            expected_i = interactions(
                permissions.visible_interactions(user).filter(ticket=about)
            )
            assert interactions(permissions.interactions_about(user, about)) == (
                expected_i
            )
            seen.add((user.email, about.pk, len(expected), len(expected_i)))
    # The twins differ: an agent reads all of their queue's ticket, and of the other
    # queue's ticket only their own rows and those about their organizations or its
    # contacts; customers read nothing.
    assert (agent.email, ticket.pk, 3, 3) in seen
    assert (agent.email, globex_ticket.pk, 2, 1) in seen
    assert (other_agent.email, globex_ticket.pk, 3, 3) in seen
    assert (other_agent.email, ticket.pk, 1, 1) in seen
    assert (supervisor.email, globex_ticket.pk, 3, 3) in seen
    assert (alice.email, ticket.pk, 0, 0) in seen
