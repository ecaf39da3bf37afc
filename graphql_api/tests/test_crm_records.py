"""The CRM through GraphQL, continued: changing a task's links (``updateTask``'s
``ticket``, ``organization``, ``contact``), an organization's and a contact's
customer record (``updateOrganizationDetails``, ``updateContactDetails``), each with
its exact database outcome and its denied twins (viewer, customer, agent of an
unrelated organization, another organization's ticket or contact, read-only token:
nothing changed). The scene is ``test_crm``'s.

Over 400 lines until split: the task-link tests move to their own module beside the
record tests."""

# ruff: noqa: F811 - fixtures imported from test_crm are used as arguments

import pytest
from django.contrib.auth import get_user_model

from accounts.models import Organization
from crm.models import Task

from .test_crm import (  # noqa: F401 - fixtures
    acme_task,
    caller,
    gid,
    make_task,
    messages,
    now,
    snapshot,
    world,
)

LINKS = """mutation($i: UpdateTaskInput!) { updateTask(input: $i) {
  __typename
  ... on Task { title ticket { reference } organization { slug } contact { email } }
  ... on OperationInfo { messages { kind field code message } }
} }"""

ORGANIZATION = """mutation($o: String!, $i: OrganizationDetailsInput!) {
  updateOrganizationDetails(organization: $o, input: $i) {
    __typename
    ... on Organization { slug website industry address phone notes
                          accountManager { email } }
    ... on OperationInfo { messages { kind field code message } }
  }
}"""

CONTACT = """mutation($c: String!, $i: ContactDetailsInput!) {
  updateContactDetails(contact: $c, input: $i) {
    __typename
    ... on User { email jobTitle phone notes }
    ... on OperationInfo { messages { kind field code message } }
  }
}"""

ME = "{ me { email jobTitle phone notes } }"
TASK_CONTACT = "{ tasks { edges { node { contact { jobTitle phone notes } } } } }"


def records():
    """Every customer record the mutations could change, and the tasks."""
    return (
        list(Organization.objects.order_by("pk").values()),
        list(
            get_user_model()
            .objects.order_by("pk")
            .values("pk", "job_title", "phone", "notes")
        ),
        snapshot(),
    )


def links(task) -> tuple:
    task.refresh_from_db()
    return (task.ticket_id, task.organization_id, task.contact_id)


# --- updateTask: links ----------------------------------------------------------------


def test_agent_links_and_unlinks_a_task(world, acme_task, caller):
    gql = caller("agent")
    reference = world["acme_ticket"].reference
    payload = gql(
        LINKS,
        {
            "i": {
                "id": gid(acme_task),
                "ticket": reference,
                "contact": "alice@acme.example",
            }
        },
    )["updateTask"]
    assert payload == {
        "__typename": "Task",
        "title": "Call Acme back",
        "ticket": {"reference": reference},
        "organization": {"slug": "acme"},
        "contact": {"email": "alice@acme.example"},
    }
    alice = world["users"]["alice"]
    assert links(acme_task) == (world["acme_ticket"].pk, world["acme"].pk, alice.pk)
    # Absent: unchanged.
    gql(LINKS, {"i": {"id": gid(acme_task), "title": "Renamed"}})
    assert links(acme_task) == (world["acme_ticket"].pk, world["acme"].pk, alice.pk)
    # Explicit null: unlinked.
    payload = gql(
        LINKS,
        {
            "i": {
                "id": gid(acme_task),
                "ticket": None,
                "organization": None,
                "contact": None,
            }
        },
    )["updateTask"]
    assert (payload["ticket"], payload["organization"], payload["contact"]) == (
        None,
        None,
        None,
    )
    assert links(acme_task) == (None, None, None)


def test_a_ticket_links_its_organization_when_the_task_has_none(
    world, make_task, caller
):
    task = make_task("Loose", assignee=world["users"]["agent"])
    payload = caller("agent")(
        LINKS, {"i": {"id": gid(task), "ticket": world["acme_ticket"].reference}}
    )["updateTask"]
    assert payload["organization"] == {"slug": "acme"}
    assert links(task) == (world["acme_ticket"].pk, world["acme"].pk, None)


def test_supervisor_moves_a_task_to_another_organization(world, acme_task, caller):
    caller("supervisor")(
        LINKS,
        {
            "i": {
                "id": gid(acme_task),
                "organization": "globex",
                "contact": "gina@globex.example",
            }
        },
    )
    gina = get_user_model().objects.get(email="gina@globex.example")
    assert links(acme_task) == (None, world["globex"].pk, gina.pk)


@pytest.mark.parametrize(
    ("role", "change", "expected"),
    [
        # Another queue's ticket, or none at all: a missing ticket.
        ("agent", {"ticket": "globex_ticket"}, ("ERROR", None, "NOT_FOUND")),
        ("agent", {"ticket": "HD-999999"}, ("ERROR", None, "NOT_FOUND")),
        # Another organization's contact, or nobody: a missing contact.
        (
            "agent",
            {"contact": "gina@globex.example"},
            ("VALIDATION", "contact", "CONTACT_NOT_FOUND"),
        ),
        (
            "agent",
            {"contact": "ghost@example.com"},
            ("VALIDATION", "contact", "CONTACT_NOT_FOUND"),
        ),
        (
            "agent",
            {"contact": "viewer@example.com"},
            ("VALIDATION", "contact", "CONTACT_NOT_CUSTOMER"),
        ),
        # An organization whose tickets the agent does not work (listed to the desk).
        (
            "agent",
            {"organization": "globex"},
            ("PERMISSION", None, "PERMISSION_DENIED"),
        ),
        (
            "agent",
            {"organization": "no-such-org"},
            ("VALIDATION", "organization", "INVALID_INPUT"),
        ),
        # Those who may not change the task at all.
        ("billing", {"ticket": "globex_ticket"}, ("ERROR", None, "NOT_FOUND")),
        ("viewer", {"contact": None}, ("PERMISSION", None, "PERMISSION_DENIED")),
        ("alice", {"organization": None}, ("ERROR", None, "NOT_FOUND")),
        ("anonymous", {"ticket": None}, ("PERMISSION", None, "UNAUTHENTICATED")),
    ],
)
def test_relinking_refused_changes_nothing(
    world, acme_task, caller, role, change, expected
):
    if change.get("ticket") == "globex_ticket":
        change = {"ticket": world["globex_ticket"].reference}
    before = records()
    payload = caller(role)(
        LINKS, {"i": {"id": gid(acme_task), "title": "Changed", **change}}
    )["updateTask"]
    assert messages(payload) == [expected]
    assert records() == before


def test_relinking_with_a_read_token_refused(world, acme_task, caller):
    before = records()
    errors = caller("agent", scopes="read").errors(
        LINKS, {"i": {"id": gid(acme_task), "organization": None}}
    )
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    assert records() == before


# --- updateOrganizationDetails --------------------------------------------------------

DETAILS = {
    "website": "https://acme.example",
    "industry": "Anvils",
    "address": "1 Road",
    "phone": "+1 555",
    "notes": "Pays late",
}


def acme_record():
    acme = Organization.objects.get(slug="acme")
    return (
        acme.website,
        acme.industry,
        acme.address,
        acme.phone,
        acme.notes,
        acme.account_manager_id,
    )


def test_supervisor_edits_the_record_and_chooses_the_manager(world, caller):
    payload = caller("supervisor")(
        ORGANIZATION,
        {"o": "acme", "i": {**DETAILS, "accountManager": "AGENT@example.com"}},
    )["updateOrganizationDetails"]
    assert payload == {
        "__typename": "Organization",
        "slug": "acme",
        **DETAILS,
        "accountManager": {"email": "agent@example.com"},
    }
    agent = world["users"]["agent"]
    assert acme_record() == (*DETAILS.values(), agent.pk)
    # Omitted and null fields stay; an empty string clears; null removes the manager.
    caller("supervisor")(
        ORGANIZATION,
        {"o": "acme", "i": {"industry": "", "phone": None, "accountManager": None}},
    )
    assert acme_record() == (
        "https://acme.example",
        "",
        "1 Road",
        "+1 555",
        "Pays late",
        None,
    )


def test_the_account_manager_edits_the_record_but_not_the_manager(world, caller):
    agent = world["users"]["agent"]
    Organization.objects.filter(slug="acme").update(account_manager=agent)
    payload = caller("agent")(ORGANIZATION, {"o": "acme", "i": {"notes": "Renewal"}})
    assert payload["updateOrganizationDetails"]["notes"] == "Renewal"
    assert acme_record() == ("", "", "", "", "Renewal", agent.pk)
    before = records()
    payload = caller("agent")(
        ORGANIZATION,
        {"o": "acme", "i": {"notes": "x", "accountManager": "agent@example.com"}},
    )
    assert messages(payload["updateOrganizationDetails"]) == [
        ("PERMISSION", None, "PERMISSION_DENIED")
    ]
    assert records() == before


@pytest.mark.parametrize(
    ("role", "slug", "expected"),
    [
        ("agent", "acme", ("PERMISSION", None, "PERMISSION_DENIED")),  # not manager
        ("billing", "acme", ("PERMISSION", None, "PERMISSION_DENIED")),
        ("viewer", "acme", ("PERMISSION", None, "PERMISSION_DENIED")),
        ("alice", "acme", ("ERROR", None, "NOT_FOUND")),  # customers: no record
        ("alice", "no-such-org", ("ERROR", None, "NOT_FOUND")),
        ("supervisor", "no-such-org", ("ERROR", None, "NOT_FOUND")),
        ("anonymous", "acme", ("PERMISSION", None, "UNAUTHENTICATED")),
    ],
)
def test_organization_edits_refused_change_nothing(world, caller, role, slug, expected):
    before = records()
    payload = caller(role)(
        ORGANIZATION, {"o": slug, "i": {"industry": "Hacked", "accountManager": None}}
    )
    assert messages(payload["updateOrganizationDetails"]) == [expected]
    assert records() == before


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"website": "javascript:alert(1)"},
            ("VALIDATION", "website", "INVALID_WEBSITE"),
        ),
        ({"phone": "9" * 51}, ("VALIDATION", "phone", "CRM_TEXT_TOO_LONG")),
        (
            {"accountManager": "ghost@example.com"},
            ("VALIDATION", "accountManager", "TASK_ASSIGNEE_NOT_STAFF"),
        ),
        (
            {"accountManager": "alice@acme.example"},
            ("VALIDATION", "accountManager", "TASK_ASSIGNEE_NOT_STAFF"),
        ),
        (
            {"accountManager": "viewer@example.com"},
            ("VALIDATION", "accountManager", "TASK_ASSIGNEE_NOT_STAFF"),
        ),
    ],
)
def test_organization_bad_input_is_typed(world, caller, changes, expected):
    before = records()
    payload = caller("supervisor")(
        ORGANIZATION, {"o": "acme", "i": {"industry": "x", **changes}}
    )
    assert messages(payload["updateOrganizationDetails"]) == [expected]
    assert records() == before


def test_organization_edit_with_a_read_token_refused(world, caller):
    errors = caller("supervisor", scopes="read").errors(
        ORGANIZATION, {"o": "acme", "i": {"industry": "x"}}
    )
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    assert acme_record() == ("", "", "", "", "", None)


# --- updateContactDetails -------------------------------------------------------------


def alice_record():
    alice = get_user_model().objects.get(email="alice@acme.example")
    return (alice.job_title, alice.phone, alice.notes)


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_contact_edited_by_its_organizations_agent_and_supervisors(world, caller, role):
    payload = caller(role)(
        CONTACT,
        {
            "c": "Alice@Acme.example",
            "i": {"jobTitle": " CTO ", "phone": "+1 555", "notes": "Prefers email"},
        },
    )["updateContactDetails"]
    assert payload == {
        "__typename": "User",
        "email": "alice@acme.example",
        "jobTitle": "CTO",
        "phone": "+1 555",
        "notes": "Prefers email",
    }
    assert alice_record() == ("CTO", "+1 555", "Prefers email")
    caller(role)(
        CONTACT, {"c": "alice@acme.example", "i": {"phone": "", "notes": None}}
    )
    assert alice_record() == ("CTO", "", "Prefers email")


@pytest.mark.parametrize(
    ("role", "contact", "expected"),
    [
        # Another organization's contact: as missing as a stranger.
        (
            "billing",
            "alice@acme.example",
            ("VALIDATION", "contact", "CONTACT_NOT_FOUND"),
        ),
        (
            "agent",
            "gina@globex.example",
            ("VALIDATION", "contact", "CONTACT_NOT_FOUND"),
        ),
        ("agent", "ghost@example.com", ("VALIDATION", "contact", "CONTACT_NOT_FOUND")),
        (
            "supervisor",
            "agent@example.com",
            ("VALIDATION", "contact", "CONTACT_NOT_FOUND"),
        ),
        ("alice", "alice@acme.example", ("VALIDATION", "contact", "CONTACT_NOT_FOUND")),
        ("viewer", "alice@acme.example", ("PERMISSION", None, "PERMISSION_DENIED")),
        ("anonymous", "alice@acme.example", ("PERMISSION", None, "UNAUTHENTICATED")),
    ],
)
def test_contact_edits_refused_change_nothing(world, caller, role, contact, expected):
    before = records()
    payload = caller(role)(CONTACT, {"c": contact, "i": {"jobTitle": "Hacked"}})
    assert messages(payload["updateContactDetails"]) == [expected]
    assert records() == before


def test_contact_bad_input_and_read_token(world, caller):
    payload = caller("supervisor")(
        CONTACT, {"c": "alice@acme.example", "i": {"jobTitle": "x" * 151}}
    )
    assert messages(payload["updateContactDetails"]) == [
        ("VALIDATION", "jobTitle", "CRM_TEXT_TOO_LONG")
    ]
    errors = caller("agent", scopes="read").errors(
        CONTACT, {"c": "alice@acme.example", "i": {"jobTitle": "x"}}
    )
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    assert alice_record() == ("", "", "")


def test_only_staff_read_a_contacts_record(world, caller):
    get_user_model().objects.filter(email="alice@acme.example").update(
        job_title="CTO", phone="+1 555", notes="Internal"
    )
    assert caller("alice")(ME)["me"] == {
        "email": "alice@acme.example",
        "jobTitle": None,
        "phone": None,
        "notes": None,
    }
    Task.objects.create(
        title="t",
        assignee=world["users"]["supervisor"],
        created_by=world["users"]["supervisor"],
        organization=world["acme"],
        contact=world["users"]["alice"],
    )
    edges = caller("viewer")(TASK_CONTACT)["tasks"]["edges"]
    assert edges[0]["node"]["contact"] == {
        "jobTitle": "CTO",
        "phone": "+1 555",
        "notes": "Internal",
    }
