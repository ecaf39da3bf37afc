"""``crm.permissions.KeptAbout``: the Follow-up panel's reads of the tasks and
interactions about a ticket, their SQL compiled once for those who see every row
about it, give exactly what the same read on the policy's ``tasks_about`` /
``interactions_about`` gives (rows, order, columns read, the people read with them),
for every kind of user: an agent of the ticket's queue, a supervisor, a viewer, an
agent granted the ticket alone, and the denied twins (an agent of another queue, who
sees only their own rows about it and those of the organization they work; a
customer, who sees none). One statement each; a row added is read at once."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm

from crm import permissions
from crm.desk import follow_up
from tickets.tests.factories import make_agent

pytestmark = pytest.mark.django_db

READS = {
    "tasks": (follow_up._OPEN_TASKS, permissions.tasks_about),
    "interactions": (follow_up._LATEST_INTERACTIONS, permissions.interactions_about),
}
LOADED = {
    "tasks": ("pk", "title", "due_at", "status", "assignee_id"),
    "interactions": (
        "pk",
        "kind",
        "subject",
        "happened_at",
        "author_id",
        "contact_id",
    ),
}
PEOPLE = {"tasks": ("assignee",), "interactions": ("author", "contact")}


@pytest.fixture
def rows(
    scene, ticket, globex, globex_ticket, agent, supervisor, other_agent, alice, now
):
    from crm.models import Interaction, Task

    def task(**fields):
        fields.setdefault("assignee", supervisor)
        fields.setdefault("created_by", supervisor)
        return Task.objects.create(**fields)

    task(title="Soon", ticket=ticket, assignee=agent, due_at=now + timedelta(hours=1))
    task(title="Undated <b>", ticket=ticket, due_at=None)
    task(title="Late", ticket=ticket, due_at=now - timedelta(days=2))
    task(title="Same moment", ticket=ticket, due_at=now - timedelta(days=2))
    task(title="Done", ticket=ticket, status="done", due_at=now)
    task(title="Other ticket", ticket=globex_ticket, due_at=now)
    task(title="Theirs", ticket=ticket, created_by=other_agent, due_at=now)
    task(title="Globex's", ticket=ticket, organization=globex, due_at=now)
    for n in range(7):
        Interaction.objects.create(
            kind=("call", "email", "meeting")[n % 3],
            subject=f"Talk {n}",
            author=other_agent if n == 1 else supervisor,
            contact=alice if n % 2 else None,
            happened_at=now - timedelta(hours=n // 2),  # pairs at one moment
            ticket=ticket,
        )
    Interaction.objects.create(
        kind="call",
        subject="Elsewhere",
        author=supervisor,
        happened_at=now,
        ticket=globex_ticket,
    )
    return ticket


@pytest.fixture
def granted(ticket):
    """An agent of no queue who holds ``view_ticket`` on the ticket alone."""
    user = make_agent(email="granted@example.com")
    assign_perm("tickets.view_ticket", user, ticket)
    return user


def described(instance, read):
    """What the panel reads of a row: its loaded columns, the people's names, and
    which columns were left unread."""
    people = []
    for name in PEOPLE[read]:
        person = getattr(instance, name)
        people.append(
            None
            if person is None
            else (person.pk, str(person), sorted(person.get_deferred_fields()))
        )
    return (
        tuple(getattr(instance, column) for column in LOADED[read]),
        people,
        sorted(instance.get_deferred_fields()),
    )


@pytest.mark.parametrize("read", ["tasks", "interactions"])
@pytest.mark.parametrize(
    "who, sees_every_row, count",
    [
        ("agent", True, {"tasks": 6, "interactions": 5}),
        ("supervisor", True, {"tasks": 6, "interactions": 5}),
        ("viewer", True, {"tasks": 6, "interactions": 5}),
        ("granted", True, {"tasks": 6, "interactions": 5}),
        # the denied twins: their own rows, and Globex's (the organization they work)
        ("other_agent", False, {"tasks": 2, "interactions": 1}),
        ("alice", False, {"tasks": 0, "interactions": 0}),
    ],
)
def test_the_kept_read_is_the_policy_s_read(
    request, rows, read, who, sees_every_row, count
):
    user = request.getfixturevalue(who)
    kept, about = READS[read]
    assert permissions.sees_every_row_about(user, rows) is sees_every_row
    expected = list(kept.build(about(user, rows)))
    with CaptureQueriesContext(connection) as queries:
        found = kept.instances(user, rows)
        mine = [described(instance, read) for instance in found]
    assert len(queries) == (1 if count[read] or sees_every_row else 0)
    assert mine == [described(instance, read) for instance in expected]
    assert len(found) == count[read]
    assert [type(i) for i in found] == [type(i) for i in expected]


def test_the_order_is_the_panel_s(rows, agent):
    tasks = follow_up._OPEN_TASKS.instances(agent, rows)
    # soonest first (those at one moment by id), the undated last; done ones never
    assert [t.title for t in tasks] == [
        "Late",
        "Same moment",
        "Theirs",
        "Globex's",
        "Soon",
        "Undated <b>",
    ]
    interactions = follow_up._LATEST_INTERACTIONS.instances(agent, rows)
    assert [i.subject for i in interactions] == [f"Talk {n}" for n in (1, 0, 3, 2, 5)]


def test_a_row_added_is_read_at_once(rows, agent, make_task):
    before = follow_up._OPEN_TASKS.instances(agent, rows)
    make_task(title="New", ticket=rows, due_at=None)
    after = follow_up._OPEN_TASKS.instances(agent, rows)
    assert [t.title for t in after] == [t.title for t in before] + ["New"]


def test_another_ticket_s_rows_are_its_own(rows, globex_ticket, supervisor):
    tasks = follow_up._OPEN_TASKS.instances(supervisor, globex_ticket)
    assert [t.title for t in tasks] == ["Other ticket"]
    interactions = follow_up._LATEST_INTERACTIONS.instances(supervisor, globex_ticket)
    assert [i.subject for i in interactions] == ["Elsewhere"]
