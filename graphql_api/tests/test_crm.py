"""The CRM through GraphQL: the tasks connection and its filters, createTask,
updateTask, logInteraction, an organization's timeline and its customer record, for
every kind of caller (each refusal leaves the database as it was), and query counts.

Over 400 lines until split: the timeline and organization-field tests are due to move into a file of their own.

The scene: Acme's ticket is in the Support queue (``agent``), Globex's in Billing
(``billing``); a supervisor and a viewer see everything; Alice is Acme's customer."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from strawberry import relay

from accounts.models import Organization
from crm.models import Interaction, Task
from tickets.tests.factories import (
    OrganizationFactory,
    QueueFactory,
    TicketFactory,
    make_agent,
    make_customer,
    make_supervisor,
    make_viewer,
)

from .conftest import Gql

TASKS = """query($f: TaskFilter, $first: Int, $after: String) {
  tasks(filters: $f, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id title dueAt isOverdue status notes
      assignee { email } createdBy { email } organization { slug }
      contact { email } ticket { reference } } }
  }
}"""

CREATE = """mutation($i: CreateTaskInput!) { createTask(input: $i) {
  __typename
  ... on Task { id title status dueAt assignee { email } organization { slug }
                ticket { reference } }
  ... on OperationInfo { messages { kind field code message } }
} }"""

UPDATE = """mutation($i: UpdateTaskInput!) { updateTask(input: $i) {
  __typename
  ... on Task { title status dueAt assignee { email } }
  ... on OperationInfo { messages { kind field code message } }
} }"""

LOG = """mutation($i: LogInteractionInput!) { logInteraction(input: $i) {
  __typename
  ... on Interaction { kind subject organization { slug } contact { email }
                       ticket { reference } author { email } }
  ... on OperationInfo { messages { kind field code message } }
} }"""

TIMELINE = """query($o: String!, $first: Int!) {
  organizationTimeline(organization: $o, first: $first) {
    kind at ticket { reference } interaction { subject } task { title }
  }
}"""

ORGS = """{ organizations { slug website industry address phone notes
  accountManager { email } } }"""


@pytest.fixture
def world(db):
    support = QueueFactory(slug="support", name="Support", is_default=True)
    billing_queue = QueueFactory(slug="billing", name="Billing")
    acme = OrganizationFactory(name="Acme", slug="acme")
    globex = OrganizationFactory(name="Globex", slug="globex")
    alice = make_customer(acme, email="alice@acme.example")
    gina = make_customer(globex, email="gina@globex.example")
    agent = make_agent(support, email="agent@example.com")
    billing = make_agent(billing_queue, email="billing.agent@example.com")
    supervisor = make_supervisor(email="supervisor@example.com")
    viewer = make_viewer(email="viewer@example.com")
    acme_ticket = TicketFactory(requester=alice, queue=support, organization=acme)
    globex_ticket = TicketFactory(
        requester=gina, queue=billing_queue, organization=globex
    )
    return {
        "acme": acme,
        "globex": globex,
        "acme_ticket": acme_ticket,
        "globex_ticket": globex_ticket,
        "users": {
            "agent": agent,
            "billing": billing,
            "supervisor": supervisor,
            "viewer": viewer,
            "alice": alice,
        },
    }


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def make_task(world, now):
    def _make(title, **fields):
        fields.setdefault("assignee", world["users"]["supervisor"])
        fields.setdefault("created_by", world["users"]["supervisor"])
        fields.setdefault("due_at", now + timedelta(days=1))
        return Task.objects.create(title=title, **fields)

    return _make


@pytest.fixture
def caller(world, token_for):
    def _make(role, scopes="read,write"):
        if role == "anonymous":
            return Gql(Client())
        return Gql(Client(), token_for(world["users"][role], scopes))

    return _make


def gid(task) -> str:
    return str(relay.GlobalID("Task", str(task.pk)))


def titles(data) -> list[str]:
    return [edge["node"]["title"] for edge in data["tasks"]["edges"]]


def messages(payload) -> list[tuple]:
    assert payload["__typename"] == "OperationInfo", payload
    return [(m["kind"], m["field"], m["code"]) for m in payload["messages"]]


def snapshot():
    """Everything the mutations could change."""
    return (
        list(Task.objects.order_by("pk").values()),
        list(Interaction.objects.order_by("pk").values()),
    )


# --- tasks: who sees what -------------------------------------------------------------


@pytest.fixture
def two_tasks(world, make_task):
    acme_task = make_task("Call Acme back", organization=world["acme"])
    globex_task = make_task("Visit Globex", organization=world["globex"])
    return acme_task, globex_task


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("supervisor", ["Call Acme back", "Visit Globex"]),
        ("viewer", ["Call Acme back", "Visit Globex"]),
        ("agent", ["Call Acme back"]),
        ("billing", ["Visit Globex"]),
        ("alice", []),
        ("anonymous", []),
    ],
)
def test_tasks_lists_what_the_policy_lets_the_caller_see(
    two_tasks, caller, role, expected
):
    data = caller(role)(TASKS)
    assert titles(data) == expected
    assert data["tasks"]["totalCount"] == len(expected)


def test_read_only_token_reads_tasks(two_tasks, caller):
    assert titles(caller("agent", scopes="read")(TASKS)) == ["Call Acme back"]


def test_task_fields(world, make_task, caller, now):
    due = now + timedelta(hours=3)
    task = make_task(
        "Send the quote",
        notes="Ask about volume",
        due_at=due,
        assignee=world["users"]["agent"],
        ticket=world["acme_ticket"],
        organization=world["acme"],
        contact=world["users"]["alice"],
    )
    node = caller("agent")(TASKS)["tasks"]["edges"][0]["node"]
    assert node == {
        "id": gid(task),
        "title": "Send the quote",
        "dueAt": due.isoformat(),
        "isOverdue": False,
        "status": "TODO",
        "notes": "Ask about volume",
        "assignee": {"email": "agent@example.com"},
        "createdBy": {"email": "supervisor@example.com"},
        "organization": {"slug": "acme"},
        "contact": {"email": "alice@acme.example"},
        "ticket": {"reference": world["acme_ticket"].reference},
    }


def test_a_task_assigned_to_an_agent_hides_a_ticket_of_another_queue(
    world, make_task, caller
):
    """The task is the agent's; the ticket stays Billing's."""
    make_task(
        "Follow up",
        assignee=world["users"]["agent"],
        ticket=world["globex_ticket"],
        organization=world["globex"],
    )
    node = caller("agent")(TASKS)["tasks"]["edges"][0]["node"]
    assert (node["title"], node["ticket"]) == ("Follow up", None)
    node = caller("billing")(TASKS)["tasks"]["edges"][0]["node"]
    assert node["ticket"] == {"reference": world["globex_ticket"].reference}


# --- filters --------------------------------------------------------------------------


@pytest.fixture
def filter_tasks(world, make_task, now):
    agent, supervisor = world["users"]["agent"], world["users"]["supervisor"]
    acme = world["acme"]
    make_task("mine overdue", assignee=agent, due_at=now - timedelta(days=1))
    make_task("mine later", assignee=agent, due_at=now + timedelta(days=2))
    make_task(
        "mine done late",
        assignee=agent,
        due_at=now - timedelta(days=3),
        status="done",
        completed_at=now,
    )
    make_task("mine undated", assignee=agent, due_at=None, status="in_progress")
    make_task(
        "theirs overdue",
        assignee=supervisor,
        organization=acme,
        due_at=now - timedelta(hours=1),
    )


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (
            None,
            [
                "mine done late",
                "mine overdue",
                "theirs overdue",
                "mine later",
                "mine undated",
            ],
        ),
        (
            {"mine": True},
            ["mine done late", "mine overdue", "mine later", "mine undated"],
        ),
        ({"mine": False}, ["theirs overdue"]),
        ({"overdue": True}, ["mine overdue", "theirs overdue"]),
        ({"overdue": False}, ["mine done late", "mine later", "mine undated"]),
        ({"status": ["DONE"]}, ["mine done late"]),
        (
            {"status": ["TODO", "IN_PROGRESS"]},
            ["mine overdue", "theirs overdue", "mine later", "mine undated"],
        ),
        ({"mine": True, "overdue": True}, ["mine overdue"]),
        ({"status": ["IN_PROGRESS"], "mine": False}, []),
    ],
)
def test_task_filters(filter_tasks, world, caller, filters, expected):
    data = caller("agent")(TASKS, {"f": filters})
    assert titles(data) == expected
    assert data["tasks"]["totalCount"] == len(expected)


def test_tasks_page_through_undated_tasks(filter_tasks, caller):
    gql = caller("agent")
    seen, after = [], None
    while True:
        page = gql(TASKS, {"first": 2, "after": after})["tasks"]
        seen += [edge["node"]["title"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == titles(gql(TASKS))
    assert len(seen) == 5


def test_tasks_page_size_is_capped(caller, world):
    errors = caller("agent").errors(TASKS, {"first": 101})
    assert errors[0]["extensions"]["code"] == "PAGE_SIZE"


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_tasks_query_count_does_not_grow_with_the_page(
    world, make_task, caller, django_assert_max_num_queries, role, now
):
    agent = world["users"]["agent"]

    def run():
        with django_assert_max_num_queries(12) as captured:
            data = caller(role)(TASKS, {"first": 50})
        return len(titles(data)), len(captured)

    make_task(
        "t0",
        assignee=agent,
        ticket=world["acme_ticket"],
        organization=world["acme"],
        contact=world["users"]["alice"],
    )
    one = run()
    for i in range(1, 30):
        make_task(
            f"t{i}",
            assignee=agent,
            ticket=world["acme_ticket"],
            organization=world["acme"],
            contact=world["users"]["alice"],
        )
    thirty = run()
    assert (one[0], thirty[0]) == (1, 30)
    assert one[1] == thirty[1]


# --- createTask -----------------------------------------------------------------------


def test_agent_creates_a_task_on_an_organization_they_work(world, caller, now):
    due = (now + timedelta(days=2)).replace(microsecond=0)
    payload = caller("agent")(
        CREATE,
        {
            "i": {
                "title": "  Call back  ",
                "dueAt": due.isoformat(),
                "ticket": world["acme_ticket"].reference.lower(),
            }
        },
    )["createTask"]
    assert payload["__typename"] == "Task", payload
    task = Task.objects.get()
    assert payload["id"] == gid(task)
    assert (task.title, task.due_at, task.status) == ("Call back", due, "todo")
    assert task.assignee == world["users"]["agent"]  # the caller by default
    assert task.created_by == world["users"]["agent"]
    assert (task.ticket, task.organization) == (world["acme_ticket"], world["acme"])


def test_supervisor_creates_a_task_for_someone_else(world, caller):
    payload = caller("supervisor")(
        CREATE,
        {
            "i": {
                "title": "Renewal",
                "assignee": "AGENT@example.com",
                "organization": "globex",
                "contact": "gina@globex.example",
                "status": "IN_PROGRESS",
            }
        },
    )["createTask"]
    assert payload["assignee"] == {"email": "agent@example.com"}
    task = Task.objects.get()
    assert (task.organization.slug, task.contact.email, task.status) == (
        "globex",
        "gina@globex.example",
        "in_progress",
    )


@pytest.mark.parametrize(
    ("role", "variables", "expected"),
    [
        # An organization the agent does not work: the policy's FORBIDDEN.
        (
            "billing",
            {"title": "x", "organization": "acme"},
            [("PERMISSION", None, "PERMISSION_DENIED")],
        ),
        # A ticket of another queue: a missing ticket.
        ("billing", {"title": "x", "ticket": "HD-000001"}, "NOT_FOUND"),
        ("viewer", {"title": "x"}, [("PERMISSION", None, "PERMISSION_DENIED")]),
        # Customers have no CRM at all, whatever they name.
        ("alice", {"title": "x", "assignee": "nobody@x.example"}, "NOT_FOUND"),
    ],
)
def test_create_task_refused(world, caller, role, variables, expected):
    before = snapshot()
    payload = caller(role)(CREATE, {"i": variables})["createTask"]
    if expected == "NOT_FOUND":
        assert [m[2] for m in messages(payload)] == ["NOT_FOUND"]
    else:
        assert messages(payload) == expected
    assert snapshot() == before


def test_create_task_with_read_token_or_anonymously_refused(world, caller):
    before = snapshot()
    errors = caller("agent", scopes="read").errors(CREATE, {"i": {"title": "x"}})
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    payload = caller("anonymous")(CREATE, {"i": {"title": "x"}})["createTask"]
    assert messages(payload) == [("PERMISSION", None, "UNAUTHENTICATED")]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"title": "   "}, ("VALIDATION", "title", "CRM_TEXT_REQUIRED")),
        ({"title": "x" * 201}, ("VALIDATION", "title", "CRM_TEXT_TOO_LONG")),
        (
            {"title": "x", "assignee": "nobody@example.com"},
            ("VALIDATION", "assignee", "TASK_ASSIGNEE_NOT_STAFF"),
        ),
        (
            {"title": "x", "assignee": "alice@acme.example"},
            ("VALIDATION", "assignee", "TASK_ASSIGNEE_NOT_STAFF"),
        ),
        (
            {"title": "x", "assignee": "viewer@example.com"},
            ("VALIDATION", "assignee", "TASK_ASSIGNEE_NOT_STAFF"),
        ),
        (
            {"title": "x", "dueAt": "2026-12-24T10:00:00"},
            ("VALIDATION", "dueAt", "INVALID_INPUT"),
        ),
        (
            {"title": "x", "dueAt": "0001-01-01T00:00:00+05:00"},
            ("VALIDATION", "dueAt", "INVALID_INPUT"),
        ),
        (
            {"title": "x", "organization": "no-such-org"},
            ("VALIDATION", "organization", "INVALID_INPUT"),
        ),
        (
            {"title": "x", "contact": "nobody@example.com"},
            ("VALIDATION", "contact", "CONTACT_NOT_FOUND"),
        ),
        (
            {"title": "x", "contact": "agent@example.com"},
            ("VALIDATION", "contact", "CONTACT_NOT_CUSTOMER"),
        ),
    ],
)
def test_create_task_validation_errors_are_typed(world, caller, variables, expected):
    payload = caller("supervisor")(CREATE, {"i": variables})["createTask"]
    assert messages(payload) == [expected]
    assert not Task.objects.exists()


def test_create_task_unparsable_due_date_is_a_typed_error(world, caller):
    errors = caller("supervisor").errors(
        CREATE, {"i": {"title": "x", "dueAt": "next tuesday"}}
    )
    assert "dueAt" in errors[0]["message"]
    assert errors[0]["message"] != "Internal error."
    assert not Task.objects.exists()


# --- updateTask -----------------------------------------------------------------------


@pytest.fixture
def acme_task(world, make_task):
    return make_task(
        "Call Acme back",
        assignee=world["users"]["agent"],
        organization=world["acme"],
    )


def test_agent_updates_a_task(world, acme_task, caller, now):
    payload = caller("agent")(
        UPDATE,
        {
            "i": {
                "id": gid(acme_task),
                "title": "Call Acme",
                "status": "DONE",
                "assignee": "supervisor@example.com",
                "dueAt": None,
            }
        },
    )["updateTask"]
    assert payload == {
        "__typename": "Task",
        "title": "Call Acme",
        "status": "DONE",
        "dueAt": None,
        "assignee": {"email": "supervisor@example.com"},
    }
    acme_task.refresh_from_db()
    assert (acme_task.status, acme_task.due_at) == ("done", None)
    assert acme_task.completed_at is not None


def test_update_task_leaves_omitted_fields(world, acme_task, caller):
    caller("supervisor")(UPDATE, {"i": {"id": gid(acme_task), "notes": "n"}})
    refreshed = Task.objects.get(pk=acme_task.pk)
    assert (refreshed.title, refreshed.due_at, refreshed.notes) == (
        acme_task.title,
        acme_task.due_at,
        "n",
    )


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("billing", [("ERROR", None, "NOT_FOUND")]),  # another queue's organization
        ("alice", [("ERROR", None, "NOT_FOUND")]),
        ("viewer", [("PERMISSION", None, "PERMISSION_DENIED")]),
        ("anonymous", [("PERMISSION", None, "UNAUTHENTICATED")]),
    ],
)
def test_update_task_refused(acme_task, caller, role, expected):
    before = snapshot()
    payload = caller(role)(
        UPDATE, {"i": {"id": gid(acme_task), "title": "", "status": "DONE"}}
    )["updateTask"]
    assert messages(payload) == expected
    assert snapshot() == before


def test_update_task_read_token_refused(acme_task, caller):
    before = snapshot()
    errors = caller("agent", scopes="read").errors(
        UPDATE, {"i": {"id": gid(acme_task), "status": "DONE"}}
    )
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    assert snapshot() == before


@pytest.mark.parametrize(
    "bad_id", ["", "x", "VGFzazp4", str(relay.GlobalID("Ticket", "1")), "VGFzazo5OTk="]
)
def test_update_task_unknown_id_is_not_found(acme_task, caller, bad_id):
    payload = caller("supervisor")(UPDATE, {"i": {"id": bad_id, "title": "y"}})
    assert messages(payload["updateTask"]) == [("ERROR", None, "NOT_FOUND")]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"title": "  "}, ("VALIDATION", "title", "CRM_TEXT_REQUIRED")),
        (
            {"assignee": "alice@acme.example"},
            ("VALIDATION", "assignee", "TASK_ASSIGNEE_NOT_STAFF"),
        ),
        (
            {"assignee": "ghost@example.com"},
            ("VALIDATION", "assignee", "TASK_ASSIGNEE_NOT_STAFF"),
        ),
        ({"dueAt": "2027-01-01T09:00:00"}, ("VALIDATION", "dueAt", "INVALID_INPUT")),
    ],
)
def test_update_task_validation_errors_are_typed(acme_task, caller, changes, expected):
    before = snapshot()
    payload = caller("agent")(UPDATE, {"i": {"id": gid(acme_task), **changes}})
    assert messages(payload["updateTask"]) == [expected]
    assert snapshot() == before


# --- logInteraction -------------------------------------------------------------------


def test_agent_logs_an_interaction_about_a_ticket(world, caller):
    payload = caller("agent")(
        LOG,
        {
            "i": {
                "kind": "CALL",
                "subject": "Phoned about sync",
                "ticket": world["acme_ticket"].reference,
            }
        },
    )["logInteraction"]
    assert payload == {
        "__typename": "Interaction",
        "kind": "CALL",
        "subject": "Phoned about sync",
        "organization": {"slug": "acme"},
        "contact": {"email": "alice@acme.example"},
        "ticket": {"reference": world["acme_ticket"].reference},
        "author": {"email": "agent@example.com"},
    }
    assert Interaction.objects.get().author == world["users"]["agent"]


@pytest.mark.parametrize(
    ("role", "variables", "expected"),
    [
        (
            "billing",
            {"organization": "acme"},
            ("PERMISSION", None, "PERMISSION_DENIED"),
        ),
        (
            "billing",
            {"contact": "alice@acme.example"},
            ("VALIDATION", "contact", "CONTACT_NOT_FOUND"),
        ),
        ("viewer", {"organization": "acme"}, ("PERMISSION", None, "PERMISSION_DENIED")),
        ("alice", {"organization": "acme"}, ("ERROR", None, "NOT_FOUND")),
        (
            "anonymous",
            {"organization": "acme"},
            ("PERMISSION", None, "UNAUTHENTICATED"),
        ),
        (
            "supervisor",
            {},
            ("VALIDATION", "organization", "INTERACTION_CUSTOMER_REQUIRED"),
        ),
        (
            "supervisor",
            {"organization": "acme", "happenedAt": "2026-01-01T10:00:00"},
            ("VALIDATION", "happenedAt", "INVALID_INPUT"),
        ),
    ],
)
def test_log_interaction_refused(world, caller, role, variables, expected):
    before = snapshot()
    payload = caller(role)(LOG, {"i": {"kind": "NOTE", "subject": "s", **variables}})[
        "logInteraction"
    ]
    assert messages(payload) == [expected]
    assert snapshot() == before


def test_log_interaction_read_token_refused(world, caller):
    errors = caller("agent", scopes="read").errors(
        LOG, {"i": {"kind": "NOTE", "subject": "s", "organization": "acme"}}
    )
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    assert not Interaction.objects.exists()


# --- the organization: record and timeline --------------------------------------------


@pytest.fixture
def acme_record(world):
    acme = world["acme"]
    Organization.objects.filter(pk=acme.pk).update(
        website="https://acme.example",
        industry="Anvils",
        address="1 Road",
        phone="+1 555",
        notes="Pays late",
        account_manager=world["users"]["agent"],
    )


def test_staff_read_the_organization_record(acme_record, caller):
    acme = next(
        org for org in caller("viewer")(ORGS)["organizations"] if org["slug"] == "acme"
    )
    assert acme == {
        "slug": "acme",
        "website": "https://acme.example",
        "industry": "Anvils",
        "address": "1 Road",
        "phone": "+1 555",
        "notes": "Pays late",
        "accountManager": {"email": "agent@example.com"},
    }


def test_customers_never_read_the_organization_record(acme_record, caller):
    assert caller("alice")(ORGS)["organizations"] == [
        {
            "slug": "acme",
            "website": None,
            "industry": None,
            "address": None,
            "phone": None,
            "notes": None,
            "accountManager": None,
        }
    ]


def test_timeline_merges_tickets_interactions_and_tasks_newest_first(
    world, make_task, caller, now
):
    acme, supervisor = world["acme"], world["users"]["supervisor"]
    Organization.objects.filter(pk=acme.pk)  # the ticket was created just now
    type(world["acme_ticket"]).objects.filter(pk=world["acme_ticket"].pk).update(
        created_at=now - timedelta(days=2)
    )
    for subject, days in (("old call", -5), ("new call", -1)):
        Interaction.objects.create(
            kind="call",
            subject=subject,
            author=supervisor,
            organization=acme,
            happened_at=now + timedelta(days=days),
        )
    make_task("due soon", organization=acme, due_at=now + timedelta(days=1))
    make_task("undated", organization=acme, due_at=None)  # by creation: now
    make_task("elsewhere", organization=world["globex"])
    entries = caller("supervisor")(TIMELINE, {"o": "acme", "first": 10})[
        "organizationTimeline"
    ]
    assert [
        (e["kind"], (e["ticket"] or e["interaction"] or e["task"])) for e in entries
    ] == [
        ("TASK", {"title": "due soon"}),
        ("TASK", {"title": "undated"}),
        ("INTERACTION", {"subject": "new call"}),
        ("TICKET", {"reference": world["acme_ticket"].reference}),
        ("INTERACTION", {"subject": "old call"}),
    ]
    assert [e["at"] for e in entries] == sorted(
        (e["at"] for e in entries), reverse=True
    )
    first_two = caller("supervisor")(TIMELINE, {"o": "acme", "first": 2})
    assert [e["task"]["title"] for e in first_two["organizationTimeline"]] == [
        "due soon",
        "undated",
    ]


@pytest.mark.parametrize(
    ("role", "count"),
    [("agent", 2), ("billing", 0), ("viewer", 2), ("alice", 0), ("anonymous", 0)],
)
def test_timeline_follows_the_policy(world, make_task, caller, role, count):
    make_task("Call Acme back", organization=world["acme"])
    entries = caller(role)(TIMELINE, {"o": "acme", "first": 10})
    assert len(entries["organizationTimeline"]) == count


def test_timeline_unknown_organization_and_cap(world, caller):
    assert caller("supervisor")(TIMELINE, {"o": "nope", "first": 5}) == {
        "organizationTimeline": []
    }
    errors = caller("supervisor").errors(TIMELINE, {"o": "acme", "first": 101})
    assert errors[0]["extensions"]["code"] == "PAGE_SIZE"


def test_timeline_query_count_does_not_grow(
    world, make_task, caller, django_assert_max_num_queries
):
    def run():
        with django_assert_max_num_queries(16) as captured:
            entries = caller("agent")(TIMELINE, {"o": "acme", "first": 50})
        return len(entries["organizationTimeline"]), len(captured)

    make_task("t", organization=world["acme"], ticket=world["acme_ticket"])
    one = run()
    for i in range(29):
        make_task(f"t{i}", organization=world["acme"], ticket=world["acme_ticket"])
    thirty = run()
    assert (one[0], thirty[0]) == (2, 31)
    assert one[1] == thirty[1]
