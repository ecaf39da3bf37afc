"""Tickets through GraphQL: queries, mutations, the permission matrix, query counts.

Over 400 lines until split: queries, mutations and query counts are due to move into
their own modules (test_ticket_queries.py, test_ticket_mutations.py); the matrix here
also runs in tests/reliability/test_permission_matrix.py.
"""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from accounts.models import ApprovalStatus, TicketSharing
from tickets import permissions, services
from tickets.models import Attachment, Comment, Queue, Ticket, TicketEvent
from tickets.tests.factories import (
    OrganizationFactory,
    QueueFactory,
    TicketFactory,
    make_agent,
    make_customer,
    make_supervisor,
    make_viewer,
    png_bytes,
    upload,
)

from .conftest import Gql

TICKET = """query($r: String!) { ticket(reference: $r) {
  reference subject description status priority category tags
  queue { slug } requester { email } organization { slug } assignee { email }
  createdAt updatedAt firstResponseDueAt resolutionDueAt satisfactionRating
  comments { body isInternal author { email } attachments { filename } }
  attachments { filename size contentType url }
  events { kind actor { email } oldValue newValue }
} }"""


@pytest.fixture
def world(db, token_for):
    queue = QueueFactory(slug="support", name="Support", is_default=True)
    billing = QueueFactory(slug="billing", name="Billing")
    acme = OrganizationFactory(name="Acme", slug="acme")
    globex = OrganizationFactory(name="Globex", slug="globex")
    requester = make_customer(acme, email="alice@acme.example")
    agent = make_agent(queue, email="agent@example.com")
    ticket = TicketFactory(
        requester=requester,
        queue=queue,
        organization=acme,
        subject="Sync stopped",
        priority="high",
    )
    services.change_status(agent, ticket, "open")
    services.reply(
        requester, ticket, body="Public", attachments=[upload("a.png", png_bytes())]
    )
    note = services.add_internal_note(
        agent, ticket, body="Secret", attachments=[upload("n.png", png_bytes())]
    )
    users = {
        "anonymous": AnonymousUser(),
        "requester": requester,
        "colleague": make_customer(acme, email="bob@acme.example"),
        "other_org_customer": make_customer(globex, email="carol@globex.example"),
        "queue_agent": agent,
        "other_queue_agent": make_agent(billing, email="billing.agent@example.com"),
        "supervisor": make_supervisor(email="supervisor@example.com"),
        "viewer": make_viewer(email="viewer@example.com"),
    }
    return {
        "ticket": ticket,
        "note": note,
        "acme": acme,
        "queue": queue,
        "agent": agent,
        "users": users,
    }


def share(world, sharing):
    acme = world["acme"]
    acme.ticket_sharing = sharing
    acme.save()
    services.apply_organization_sharing(acme)


def client_for(user, token_for, scopes="read,write"):
    if not user.is_authenticated:
        return Gql(Client())
    return Gql(Client(), token_for(user, scopes))


def state(ticket):
    fresh = Ticket.objects.get(pk=ticket.pk)
    return {
        "comments": Comment.objects.filter(ticket=ticket).count(),
        "events": TicketEvent.objects.filter(ticket=ticket).count(),
        "status": fresh.status,
        "assignee": fresh.assignee_id,
        "rating": fresh.satisfaction_rating,
    }


# --- queries ----------------------------------------------------------------------------


def test_requester_reads_the_ticket_without_internal_notes(world, token_for):
    gql = client_for(world["users"]["requester"], token_for)
    ticket = world["ticket"]
    data = gql(TICKET, {"r": ticket.reference})["ticket"]
    assert data["reference"] == ticket.reference
    assert (data["subject"], data["status"], data["priority"], data["category"]) == (
        "Sync stopped",
        "OPEN",
        "HIGH",
        "TECHNICAL",
    )
    assert data["queue"] == {"slug": "support"}
    assert data["requester"] == {"email": "alice@acme.example"}
    assert data["organization"] == {"slug": "acme"}
    assert data["assignee"] is None
    assert data["comments"] == [
        {
            "body": "Public",
            "isInternal": False,
            "author": {"email": "alice@acme.example"},
            "attachments": [{"filename": "a.png"}],
        }
    ]
    attachment = Attachment.objects.get(original_name="a.png")
    assert data["attachments"] == [
        {
            "filename": "a.png",
            "size": attachment.size,
            "contentType": "image/png",
            "url": f"http://testserver/portal/attachments/{attachment.pk}/a.png",
        }
    ]
    kinds = [event["kind"] for event in data["events"]]
    assert kinds == list(
        TicketEvent.objects.filter(ticket=ticket)
        .exclude(kind="note_added")
        .exclude(kind="attachment_added", new_value="n.png")
        .values_list("kind", flat=True)
    )
    assert "commented" in kinds
    assert "Secret" not in str(data) and "n.png" not in str(data)


def test_queue_agent_sees_internal_notes_and_their_files(world, token_for):
    gql = client_for(world["agent"], token_for)
    data = gql(TICKET, {"r": world["ticket"].reference})["ticket"]
    assert [(c["body"], c["isInternal"]) for c in data["comments"]] == [
        ("Public", False),
        ("Secret", True),
    ]
    assert sorted(a["filename"] for a in data["attachments"]) == ["a.png", "n.png"]
    assert "note_added" in [event["kind"] for event in data["events"]]


def test_a_colleagues_other_organizations_stay_private(world, token_for):
    from accounts.models import Organization
    from accounts.services import setup_member

    share(world, TicketSharing.READ)
    alice = world["users"]["requester"]
    setup_member(Organization.objects.get(slug="globex"), alice)
    query = (
        "query($r: String!) { ticket(reference: $r) "
        "{ requester { organizations { slug } } } }"
    )
    variables = {"r": world["ticket"].reference}
    colleague = client_for(world["users"]["colleague"], token_for)
    assert colleague(query, variables)["ticket"]["requester"]["organizations"] == [
        {"slug": "acme"}
    ]
    for user in (alice, world["agent"]):
        data = client_for(user, token_for)(query, variables)
        assert data["ticket"]["requester"]["organizations"] == [
            {"slug": "acme"},
            {"slug": "globex"},
        ]


def test_attachment_url_downloads_with_the_same_token(world, token_for):
    secret = token_for(world["users"]["requester"])
    gql = Gql(Client(), secret)
    data = gql(TICKET, {"r": world["ticket"].reference})["ticket"]
    url = data["attachments"][0]["url"]
    response = Client().get(url, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == png_bytes()
    # without credentials it is refused like a missing file
    assert Client().get(url).status_code == 404


@pytest.mark.parametrize("reference", ["HD-999999", "nope", "HD-0000011"])
def test_unknown_reference_is_null(world, token_for, reference):
    gql = client_for(world["agent"], token_for)
    query = "query($r: String!) { ticket(reference: $r) { subject } }"
    assert gql(query, {"r": reference}) == {"ticket": None}


def test_reference_is_normalised(world, token_for):
    gql = client_for(world["agent"], token_for)
    ref = world["ticket"].reference.lower() + " "
    data = gql("query($r: String!) { ticket(reference: $r) { subject } }", {"r": ref})
    assert data == {"ticket": {"subject": "Sync stopped"}}


@pytest.mark.parametrize("reference", ["", "   ", "x" * 5000])
def test_malformed_reference_is_a_clear_error(world, token_for, reference):
    gql = client_for(world["agent"], token_for)
    errors = gql.errors(
        "query($r: String!) { ticket(reference: $r) { subject } }", {"r": reference}
    )
    assert errors[0]["extensions"] == {"code": "INVALID_INPUT"}


def test_tickets_list_filters_and_ordering(world, token_for):
    agent = world["agent"]
    low = TicketFactory(
        requester=world["users"]["requester"],
        queue=world["queue"],
        priority="low",
        subject="Printer",
    )
    services.assign(agent, low, agent)
    gql = client_for(agent, token_for)
    query = """query($f: TicketFilter, $o: TicketOrder) {
      tickets(filters: $f, ordering: $o) { totalCount edges { node { reference } } } }"""

    def refs(filters=None, ordering=None):
        data = gql(query, {"f": filters, "o": ordering})["tickets"]
        return [edge["node"]["reference"] for edge in data["edges"]]

    first, second = world["ticket"].reference, low.reference
    assert refs() == [second, first]
    assert refs(ordering={"field": "CREATED_AT", "direction": "ASC"}) == [first, second]
    assert refs(ordering={"field": "PRIORITY", "direction": "DESC"}) == [first, second]
    assert refs({"priority": ["LOW"]}) == [second]
    assert refs({"status": ["OPEN"]}) == [first]
    assert refs({"assignedToMe": True}) == [second]
    assert refs({"search": "print"}) == [second]
    assert refs({"search": first.lower()}) == [first]
    assert refs({"queue": "billing"}) == []
    # filed without an organization: the requester's only one (``create_ticket``)
    assert refs({"organization": "acme"}) == [second, first]
    assert refs({"organization": "globex"}) == []


def test_tickets_page_size_is_capped(world, token_for):
    gql = client_for(world["agent"], token_for)
    errors = gql.errors("{ tickets(first: 101) { totalCount } }")
    assert errors == [
        {
            "message": "'first' must be between 0 and 100.",
            "locations": [{"line": 1, "column": 3}],
            "path": ["tickets"],
            "extensions": {"code": "PAGE_SIZE"},
        }
    ]


def test_tickets_pagination_with_cursor(world, token_for):
    for _ in range(3):
        TicketFactory(requester=world["users"]["requester"], queue=world["queue"])
    gql = client_for(world["agent"], token_for)
    page = gql(
        "{ tickets(first: 3) { totalCount pageInfo { hasNextPage endCursor } "
        "edges { node { reference } } } }"
    )["tickets"]
    assert page["totalCount"] == 4 and page["pageInfo"]["hasNextPage"] is True
    rest = gql(
        "query($a: String) { tickets(first: 3, after: $a) { pageInfo { hasNextPage } "
        "edges { node { reference } } } }",
        {"a": page["pageInfo"]["endCursor"]},
    )["tickets"]
    assert [e["node"]["reference"] for e in rest["edges"]] == [
        world["ticket"].reference
    ]
    assert rest["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize("role", ["requester", "queue_agent", "supervisor"])
def test_a_page_of_100_tickets_costs_a_fixed_number_of_queries(
    world, token_for, django_assert_max_num_queries, role
):
    user = world["users"][role]
    requester = world["users"]["requester"]
    for i in range(99):
        extra = TicketFactory(requester=requester, queue=world["queue"])
        if i % 10 == 0:
            services.reply(requester, extra, body="More")
            services.add_internal_note(world["agent"], extra, body="Hidden")
    gql = client_for(user, token_for)
    gql("{ ping }")  # the token's first use records last_used_at
    query = """{ tickets(first: 100) { edges { node {
      requester { email } comments { author { email } } attachments { filename } } } } }"""
    with django_assert_max_num_queries(6):
        data = gql(query)
    assert len(data["tickets"]["edges"]) == 100


@pytest.mark.parametrize(
    ("caller", "slugs"),
    [
        ("requester", ["billing", "support"]),  # may file into any queue
        ("queue_agent", ["support"]),  # works only their own
        ("other_queue_agent", ["billing"]),
        ("supervisor", ["billing", "support"]),
        ("viewer", ["billing", "support"]),
    ],
)
def test_queues_are_those_the_caller_may_file_into_or_work(
    world, token_for, caller, slugs
):
    gql = client_for(world["users"][caller], token_for)
    assert gql("{ queues { slug } }") == {"queues": [{"slug": s} for s in slugs]}


def test_queues_name_and_slug_for_customers(world, token_for, anon):
    gql = client_for(world["users"]["requester"], token_for)
    assert gql("{ queues { name slug } }") == {
        "queues": [
            {"name": "Billing", "slug": "billing"},
            {"name": "Support", "slug": "support"},
        ]
    }
    assert anon("{ queues { slug } }") == {"queues": []}


def test_no_queues_for_a_customer_who_may_not_file_tickets(world, token_for):
    requester = world["users"]["requester"]
    gql = client_for(requester, token_for)
    requester.approval_status = ApprovalStatus.REJECTED
    requester.save(update_fields=["approval_status"])
    assert gql("{ queues { slug } }") == {"queues": []}


def test_queues_are_capped_at_100_a_call(
    world, token_for, django_assert_max_num_queries
):
    group = world["queue"].agent_group
    Queue.objects.bulk_create(
        Queue(name=f"Queue {i:03}", slug=f"queue-{i:03}", agent_group=group)
        for i in range(100)
    )
    gql = client_for(world["users"]["supervisor"], token_for)
    gql("{ ping }")  # the token's first use records last_used_at
    with django_assert_max_num_queries(4):
        page = gql("{ queues { slug } }")["queues"]
    assert len(page) == 100
    assert gql("{ queues(offset: 100) { slug } }") == {
        "queues": [{"slug": "queue-099"}, {"slug": "support"}]
    }
    errors = gql.errors("{ queues(first: 500) { slug } }")
    assert [(e["message"], e["extensions"]) for e in errors] == [
        ("'first' must be between 0 and 100.", {"code": "PAGE_SIZE"})
    ]


@pytest.mark.parametrize(
    "caller",
    [
        "requester",
        "colleague",
        "other_org_customer",
        "queue_agent",
        "other_queue_agent",
        "supervisor",
        "viewer",
        "anonymous",
    ],
)
def test_sql_visibility_agrees_with_the_policy(world, caller):
    share(world, TicketSharing.READ)
    user = world["users"][caller]
    ticket = world["ticket"]
    comments = Comment.objects.filter(ticket=ticket).filter(
        permissions.comments_visible_to(user)
    )
    files = Attachment.objects.filter(ticket=ticket).filter(
        permissions.attachments_visible_to(user)
    )
    expected_comments = set(permissions.visible_comments(user, ticket))
    expected_files = set(permissions.visible_attachments(user, ticket))
    if not permissions.can(user, "view", ticket):
        # the root resolvers never reach these rows for such a caller
        expected_comments = set(comments)
        expected_files = set(files)
    assert set(comments) == expected_comments
    assert set(files) == expected_files


# --- the permission matrix through GraphQL ---------------------------------------------

CALLERS = [
    "anonymous",
    "requester",
    "colleague_none",
    "colleague_read",
    "colleague_read_write",
    "other_org_customer",
    "queue_agent",
    "other_queue_agent",
    "supervisor",
    "viewer",
    "requester_read_only_token",
]
ACTIONS = [
    "view",
    "reply",
    "add_internal_note",
    "see_internal_notes",
    "change_status",
    "assign",
    "rate",
]
STAFF = set(ACTIONS) - {"rate"}
EXPECTED = {
    "anonymous": set(),
    "requester": {"view", "reply", "rate"},
    "colleague_none": set(),
    "colleague_read": {"view"},
    "colleague_read_write": {"view", "reply"},
    "other_org_customer": set(),
    "queue_agent": STAFF,
    "other_queue_agent": set(),
    "supervisor": STAFF,
    "viewer": {"view", "see_internal_notes"},
    "requester_read_only_token": {"view"},
}

MUTATIONS = {
    "reply": (
        "addComment",
        "AddCommentInput",
        lambda ref, world: {"reference": ref, "body": "Hello"},
    ),
    "add_internal_note": (
        "addComment",
        "AddCommentInput",
        lambda ref, world: {"reference": ref, "body": "Note", "isInternal": True},
    ),
    "change_status": (
        "changeTicketStatus",
        "ChangeTicketStatusInput",
        lambda ref, world: {"reference": ref, "status": "IN_PROGRESS"},
    ),
    "assign": (
        "assignTicket",
        "AssignTicketInput",
        lambda ref, world: {"reference": ref, "assignee": world["agent"].email},
    ),
    "rate": (
        "rateTicket",
        "RateTicketInput",
        lambda ref, world: {"reference": ref, "rating": 5},
    ),
}


def caller(world, name, token_for):
    if name.startswith("colleague_"):
        share(world, name.removeprefix("colleague_"))
        return client_for(world["users"]["colleague"], token_for)
    if name == "requester_read_only_token":
        return client_for(world["users"]["requester"], token_for, scopes="read")
    return client_for(world["users"][name], token_for)


def attempt(action, gql, world):
    """True when GraphQL performed/showed it; False when refused (null, OperationInfo,
    or a read-only token's FORBIDDEN error)."""
    ref = world["ticket"].reference
    if action in ("view", "see_internal_notes"):
        data = gql(
            "query($r: String!) { ticket(reference: $r) { comments { body } } }",
            {"r": ref},
        )["ticket"]
        if action == "view":
            return data is not None
        return data is not None and "Secret" in [c["body"] for c in data["comments"]]
    name, input_type, make_input = MUTATIONS[action]
    query = (
        f"mutation($i: {input_type}!) {{ {name}(input: $i) {{ __typename "
        "... on OperationInfo { messages { kind message } } } }"
    )
    body = gql.post(query, {"i": make_input(ref, world)}).json()
    if body.get("errors"):
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        return False
    payload = body["data"][name]
    if payload["__typename"] != "OperationInfo":
        return True
    # A refusal, not the test's own bad input: a VALIDATION message would make a
    # "denied" row pass without the policy being asked.
    [message] = payload["messages"]
    assert message["kind"] == "PERMISSION" or (
        (message["kind"], message["message"]) == ("ERROR", "No such ticket.")
    ), message
    return False


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("who", CALLERS)
def test_permission_matrix_through_graphql(world, token_for, who, action):
    gql = caller(world, who, token_for)
    ticket = world["ticket"]
    if action == "rate":
        services.change_status(world["agent"], ticket, "resolved")
    before = state(ticket)
    allowed = action in EXPECTED[who]
    assert attempt(action, gql, world) is allowed
    if not allowed:
        assert state(ticket) == before


# --- mutations -------------------------------------------------------------------------

CREATE = """mutation($i: CreateTicketInput!) { createTicket(input: $i) {
  __typename
  ... on Ticket { reference subject status priority queue { slug } organization { slug }
                  requester { email } }
  ... on OperationInfo { messages { kind field message } }
} }"""


def test_create_ticket(world, token_for):
    gql = client_for(world["users"]["requester"], token_for)
    data = gql(
        CREATE,
        {
            "i": {
                "subject": "New laptop",
                "description": "Please set it up.",
                "priority": "CRITICAL",
                "queue": "billing",
                "organization": "acme",
            }
        },
    )["createTicket"]
    ticket = Ticket.objects.get(reference=data["reference"])
    assert data == {
        "__typename": "Ticket",
        "reference": ticket.reference,
        "subject": "New laptop",
        "status": "NEW",
        "priority": "CRITICAL",
        "queue": {"slug": "billing"},
        "organization": {"slug": "acme"},
        "requester": {"email": "alice@acme.example"},
    }
    assert ticket.source == "api"
    assert ticket.events.get().kind == "created"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"subject": ""}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"description": "  "}, "description"),
        ({"queue": "nope"}, "queue"),
        ({"queue": ""}, "queue"),
        ({"organization": "globex"}, "organization"),
        ({"organization": "x" * 5000}, "organization"),
    ],
)
def test_create_ticket_with_bad_input_writes_nothing(world, token_for, changes, field):
    gql = client_for(world["users"]["requester"], token_for)
    before = Ticket.objects.count()
    inp = {"subject": "S", "description": "D", **changes}
    data = gql(CREATE, {"i": inp})["createTicket"]
    assert data["__typename"] == "OperationInfo"
    assert [(m["kind"], m["field"]) for m in data["messages"]] == [
        ("VALIDATION", field)
    ]
    assert Ticket.objects.count() == before


def test_unapproved_customer_cannot_create_a_ticket(world, token_for, settings):
    settings.ACCOUNT_APPROVAL_REQUIRED = True
    requester = world["users"]["requester"]
    requester.approval_status = ApprovalStatus.PENDING
    requester.save()
    gql = client_for(requester, token_for)
    before = Ticket.objects.count()
    data = gql(CREATE, {"i": {"subject": "S", "description": "D"}})["createTicket"]
    assert data["__typename"] == "OperationInfo"
    assert [m["kind"] for m in data["messages"]] == ["PERMISSION"]
    assert "awaiting approval" in data["messages"][0]["message"]
    assert Ticket.objects.count() == before


def test_anonymous_cannot_create_a_ticket(world, anon):
    data = anon(CREATE, {"i": {"subject": "S", "description": "D"}})["createTicket"]
    assert data["messages"][0]["kind"] == "PERMISSION"
    assert Ticket.objects.count() == 1


def test_read_only_token_cannot_create_a_ticket(world, token_for):
    gql = client_for(world["users"]["requester"], token_for, scopes="read")
    body = gql.post(CREATE, {"i": {"subject": "S", "description": "D"}}).json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN"}
    assert Ticket.objects.count() == 1


ADD_COMMENT = """mutation($i: AddCommentInput!) { addComment(input: $i) {
  __typename
  ... on Comment { body isInternal author { email } }
  ... on OperationInfo { messages { kind field message } }
} }"""


def test_add_comment_and_note(world, token_for):
    ref = world["ticket"].reference
    customer = client_for(world["users"]["requester"], token_for)
    assert customer(ADD_COMMENT, {"i": {"reference": ref, "body": "Thanks"}}) == {
        "addComment": {
            "__typename": "Comment",
            "body": "Thanks",
            "isInternal": False,
            "author": {"email": "alice@acme.example"},
        }
    }
    agent = client_for(world["agent"], token_for)
    note = agent(
        ADD_COMMENT, {"i": {"reference": ref, "body": "FYI", "isInternal": True}}
    )
    assert note["addComment"]["isInternal"] is True


def test_customer_cannot_add_an_internal_note(world, token_for):
    ref = world["ticket"].reference
    before = state(world["ticket"])
    customer = client_for(world["users"]["requester"], token_for)
    data = customer(
        ADD_COMMENT, {"i": {"reference": ref, "body": "x", "isInternal": True}}
    )
    assert data["addComment"]["messages"] == [
        {
            "kind": "PERMISSION",
            "field": None,
            "message": "Only the support team can add internal notes.",
        }
    ]
    assert state(world["ticket"]) == before


@pytest.mark.parametrize(
    ("inp", "kind", "field"),
    [
        ({"reference": "", "body": "x"}, "VALIDATION", "reference"),
        ({"reference": "HD-999999", "body": "x"}, "ERROR", None),
        ({"reference": "REF", "body": ""}, "VALIDATION", "body"),
    ],
)
def test_add_comment_bad_input(world, token_for, inp, kind, field):
    if inp["reference"] == "REF":
        inp = {**inp, "reference": world["ticket"].reference}
    before = state(world["ticket"])
    data = client_for(world["agent"], token_for)(ADD_COMMENT, {"i": inp})
    messages = data["addComment"]["messages"]
    assert [(m["kind"], m["field"]) for m in messages] == [(kind, field)]
    assert state(world["ticket"]) == before


STATUS = """mutation($i: ChangeTicketStatusInput!) { changeTicketStatus(input: $i) {
  __typename ... on Ticket { status }
  ... on OperationInfo { messages { kind field message } } } }"""


def test_change_status(world, token_for):
    gql = client_for(world["agent"], token_for)
    ref = world["ticket"].reference
    assert gql(STATUS, {"i": {"reference": ref, "status": "RESOLVED"}}) == {
        "changeTicketStatus": {"__typename": "Ticket", "status": "RESOLVED"}
    }
    rejected = gql(STATUS, {"i": {"reference": ref, "status": "REJECTED"}})
    assert rejected["changeTicketStatus"] == {
        "__typename": "OperationInfo",
        "messages": [
            {
                "kind": "VALIDATION",
                "field": "status",
                "message": "A ticket cannot go from Resolved to Rejected.",
            }
        ],
    }
    assert Ticket.objects.get(pk=world["ticket"].pk).status == "resolved"


ASSIGN = """mutation($i: AssignTicketInput!) { assignTicket(input: $i) {
  __typename ... on Ticket { assignee { email } }
  ... on OperationInfo { messages { kind field message } } } }"""


def test_assign_and_unassign(world, token_for):
    gql = client_for(world["agent"], token_for)
    ref = world["ticket"].reference
    assigned = gql(ASSIGN, {"i": {"reference": ref, "assignee": "AGENT@example.com"}})
    assert assigned["assignTicket"]["assignee"] == {"email": "agent@example.com"}
    unassigned = gql(ASSIGN, {"i": {"reference": ref, "assignee": None}})
    assert unassigned["assignTicket"] == {"__typename": "Ticket", "assignee": None}


@pytest.mark.parametrize(
    "email", ["nobody@example.com", "alice@acme.example", "", "x" * 300]
)
def test_assign_to_someone_who_cannot_work_the_queue(world, token_for, email):
    gql = client_for(world["agent"], token_for)
    data = gql(
        ASSIGN, {"i": {"reference": world["ticket"].reference, "assignee": email}}
    )
    messages = data["assignTicket"]["messages"]
    assert [(m["kind"], m["field"]) for m in messages] == [("VALIDATION", "assignee")]
    assert Ticket.objects.get(pk=world["ticket"].pk).assignee is None


RATE = """mutation($i: RateTicketInput!) { rateTicket(input: $i) {
  __typename ... on Ticket { satisfactionRating }
  ... on OperationInfo { messages { kind field message } } } }"""


def test_rate(world, token_for):
    services.change_status(world["agent"], world["ticket"], "resolved")
    gql = client_for(world["users"]["requester"], token_for)
    ref = world["ticket"].reference
    bad = gql(RATE, {"i": {"reference": ref, "rating": 6}})
    assert [(m["kind"], m["field"]) for m in bad["rateTicket"]["messages"]] == [
        ("VALIDATION", "rating")
    ]
    good = gql(RATE, {"i": {"reference": ref, "rating": 4, "comment": "Good"}})
    assert good == {"rateTicket": {"__typename": "Ticket", "satisfactionRating": 4}}
    again = gql(RATE, {"i": {"reference": ref, "rating": 1}})
    assert again["rateTicket"] == {
        "__typename": "OperationInfo",
        "messages": [
            {
                "kind": "VALIDATION",
                "field": None,
                "message": "This ticket has already been rated.",
            }
        ],
    }
    assert Ticket.objects.get(pk=world["ticket"].pk).satisfaction_rating == 4


def test_session_mutation_without_csrf_token_is_refused(world):
    from tickets.tests.factories import PASSWORD

    client = Client(enforce_csrf_checks=True)
    assert client.login(email="alice@acme.example", password=PASSWORD)
    response = Gql(client).post(CREATE, {"i": {"subject": "S", "description": "D"}})
    assert response.status_code == 403
    assert Ticket.objects.count() == 1


def test_session_mutation_with_csrf_token_files_a_portal_ticket(world):
    from django.middleware.csrf import _get_new_csrf_string

    from tickets.tests.factories import PASSWORD

    client = Client(enforce_csrf_checks=True)
    assert client.login(email="alice@acme.example", password=PASSWORD)
    csrf = _get_new_csrf_string()
    client.cookies["csrftoken"] = csrf
    response = Gql(client).post(
        CREATE,
        {"i": {"subject": "S", "description": "D"}},
        headers={"X-CSRFToken": csrf},
    )
    reference = response.json()["data"]["createTicket"]["reference"]
    assert Ticket.objects.get(reference=reference).source == "portal"


# --- totalCount: counted apart from the page, exactly ------------------------------------


@pytest.fixture
def counted_world(world):
    """The agent of "support" sees its queue's tickets and, outside it, tickets granted
    to them (directly or through a group that is no queue's agent group); some queue
    tickets are granted as well and must be counted once."""
    from django.contrib.auth.models import Group
    from guardian.shortcuts import assign_perm

    agent, requester = world["agent"], world["users"]["requester"]
    billing = Queue.objects.get(slug="billing")
    in_queue = [
        TicketFactory(requester=requester, queue=world["queue"], priority="low")
        for _ in range(3)
    ]
    outside = [
        TicketFactory(requester=requester, queue=billing, priority="low")
        for _ in range(4)
    ]
    reviewers = Group.objects.create(name="Reviewers")
    agent.groups.add(reviewers)
    assign_perm("tickets.view_ticket", agent, in_queue[0])  # also in the queue
    assign_perm("tickets.view_ticket", reviewers, in_queue[1])  # also in the queue
    assign_perm("tickets.view_ticket", agent, outside[0])
    assign_perm("tickets.view_ticket", reviewers, outside[1])
    assign_perm("tickets.view_ticket", agent, outside[2])
    assign_perm("tickets.view_ticket", reviewers, outside[2])  # granted twice
    # outside[3]: not granted, not counted
    return {**world, "in_queue": in_queue, "outside": outside}


COUNTED = """query($f: TicketFilter, $n: Int) {
  tickets(first: $n, filters: $f) { totalCount pageInfo { hasNextPage }
    edges { node { reference } } } }"""


def _all_visible(user, **filters):
    return set(
        permissions.visible_tickets(user)
        .filter(**filters)
        .values_list("reference", flat=True)
    )


@pytest.mark.parametrize(
    "role",
    [
        "queue_agent",
        "other_queue_agent",
        "requester",
        "colleague",
        "other_org_customer",
        "supervisor",
        "viewer",
    ],
)
@pytest.mark.parametrize(
    ("filters", "lookups"),
    [
        (None, {}),
        ({"priority": ["LOW"]}, {"priority": "low"}),
        ({"status": ["OPEN"]}, {"status": "open"}),
        ({"queue": "billing"}, {"queue__slug": "billing"}),
        ({"search": "Sync"}, {"subject__icontains": "Sync"}),
    ],
)
def test_total_count_is_exact(counted_world, token_for, role, filters, lookups):
    user = counted_world["users"][role]
    gql = client_for(user, token_for)
    data = gql(COUNTED, {"f": filters, "n": 100})["tickets"]
    expected = _all_visible(user, **lookups)
    assert {e["node"]["reference"] for e in data["edges"]} == expected
    assert data["totalCount"] == len(expected)
    assert data["pageInfo"]["hasNextPage"] is False


def test_total_count_of_an_agent_adds_grants_outside_the_queue_once(
    counted_world, token_for
):
    gql = client_for(counted_world["agent"], token_for)
    data = gql(COUNTED, {"n": 100})["tickets"]
    # the world ticket and 3 more in the queue, 3 granted outside it
    assert data["totalCount"] == 7
    assert (
        gql(COUNTED, {"n": 100, "f": {"queue": "billing"}})["tickets"]["totalCount"]
        == 3
    )
    assert (
        gql(COUNTED, {"n": 100, "f": {"queue": "support"}})["tickets"]["totalCount"]
        == 4
    )
    assert permissions.count_visible(counted_world["agent"]) == 7


def test_count_visible_matches_visible_tickets(counted_world):
    narrowings = [
        Ticket.objects.all(),
        Ticket.objects.filter(priority="low"),
        Ticket.objects.filter(queue__slug="billing"),
        Ticket.objects.filter(status="open"),
        Ticket.objects.none(),
    ]
    for user in counted_world["users"].values():
        for narrowed in narrowings:
            assert permissions.count_visible(user, narrowed) == (
                permissions.visible_tickets(user, narrowed).count()
            ), (user, narrowed.query)


@pytest.mark.parametrize("role", ["queue_agent", "requester", "supervisor"])
def test_has_next_page_and_total_count_on_small_pages(counted_world, token_for, role):
    user = counted_world["users"][role]
    gql = client_for(user, token_for)
    total = len(_all_visible(user))
    assert total >= 2
    seen, after = [], None
    while True:
        page = gql(
            """query($a: String) { tickets(first: 2, after: $a) { totalCount
              pageInfo { hasNextPage endCursor } edges { node { reference } } } }""",
            {"a": after},
        )["tickets"]
        assert page["totalCount"] == total
        seen += [e["node"]["reference"] for e in page["edges"]]
        assert page["pageInfo"]["hasNextPage"] is (len(seen) < total)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == total and set(seen) == _all_visible(user)


def test_last_without_before_pages_from_the_end(counted_world, token_for):
    agent = counted_world["agent"]
    gql = client_for(agent, token_for)
    everything = gql(COUNTED, {"n": 100})["tickets"]["edges"]
    data = gql(
        "{ tickets(last: 2) { totalCount pageInfo { hasPreviousPage hasNextPage } "
        "edges { node { reference } } } }"
    )["tickets"]
    assert data["totalCount"] == 7
    assert data["edges"] == everything[-2:]
    assert data["pageInfo"] == {"hasPreviousPage": True, "hasNextPage": False}


@pytest.mark.parametrize("role", ["queue_agent", "requester", "supervisor"])
def test_total_count_is_not_a_window_on_the_page_query(
    counted_world, token_for, django_assert_max_num_queries, role
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    gql = client_for(counted_world["users"][role], token_for)
    gql("{ ping }")  # the token's first use records last_used_at
    query = """{ tickets(first: 100) { totalCount edges { node {
      reference subject status priority requester { email }
      comments { body createdAt author { email } } } } } }"""
    with django_assert_max_num_queries(6), CaptureQueriesContext(connection) as ctx:
        data = gql(query)
    assert data["tickets"]["totalCount"] == len(data["tickets"]["edges"]) > 0
    statements = [q["sql"] for q in ctx.captured_queries]
    assert not [sql for sql in statements if "OVER (" in sql.upper()]
    page = [sql for sql in statements if sql.startswith('SELECT "tickets_ticket"."id"')]
    assert len(page) == 1 and "LIMIT 101" in page[0] and "COUNT(" not in page[0]


def test_columns_and_foreign_keys_resolve_as_basic_fields():
    from graphql_api.accounts.types import UserType
    from graphql_api.tickets.types import CommentType, TicketType

    def basic(graphql_type):
        fields = graphql_type.__strawberry_definition__.fields
        return {f.python_name for f in fields if f.is_basic_field}

    assert {"reference", "subject", "status", "priority", "created_at"} <= basic(
        TicketType
    )
    assert {"requester", "assignee", "queue"} <= basic(TicketType)
    # reverse relations keep the types' get_queryset (visibility filters)
    assert not {"comments", "attachments", "events", "tags"} & basic(TicketType)
    assert basic(CommentType) >= {"body", "created_at", "author"}
    assert "attachments" not in basic(CommentType)
    # a person's address depends on who asks (tickets.permissions.address_visible_to)
    assert basic(UserType) == set()


def test_aliased_ticket_connections_keep_their_own_counts(counted_world, token_for):
    gql = client_for(counted_world["agent"], token_for)
    data = gql(
        """{ low: tickets(filters: {priority: [LOW]}) { totalCount }
             billing: tickets(filters: {queue: "billing"}) { totalCount }
             all: tickets { totalCount } }"""
    )
    assert data == {
        "low": {"totalCount": 6},
        "billing": {"totalCount": 3},
        "all": {"totalCount": 7},
    }


# --- OperationMessage.code ---------------------------------------------------------------

CODED = {
    name: query.replace(
        "messages { kind field message }", "messages { kind code field message }"
    )
    for name, query in {
        "create": CREATE,
        "comment": ADD_COMMENT,
        "status": STATUS,
        "rate": RATE,
    }.items()
}


@pytest.mark.parametrize(
    ("who", "mutation", "inp", "expected"),
    [
        (
            "anonymous",
            "create",
            {"subject": "S", "description": "D"},
            ("PERMISSION", "UNAUTHENTICATED", None, "Sign in or send a bearer token."),
        ),
        (
            "requester",
            "create",
            {"subject": "S", "description": "D", "queue": "nope"},
            ("VALIDATION", "INVALID_INPUT", "queue", "Unknown queue “nope”."),
        ),
        (
            "requester",
            "create",
            {"subject": "S", "description": "D", "queue": "no slug"},
            ("VALIDATION", "INVALID_INPUT", "queue", "'queue' is not a valid slug."),
        ),
        (
            "queue_agent",
            "comment",
            {"reference": "HD-999999", "body": "x"},
            ("ERROR", "NOT_FOUND", None, "No such ticket."),
        ),
        (
            "requester",
            "comment",
            {"reference": "TICKET", "body": "x", "isInternal": True},
            (
                "PERMISSION",
                "PERMISSION_DENIED",
                None,
                "Only the support team can add internal notes.",
            ),
        ),
        (
            "requester",
            "rate",
            {"reference": "TICKET", "rating": 5},
            (
                "VALIDATION",
                "NOT_RESOLVED",
                None,
                "A ticket can be rated once it is resolved.",
            ),
        ),
        (
            "queue_agent",
            "status",
            {"reference": "TICKET", "status": "OPEN"},
            (
                "VALIDATION",
                "ALREADY_IN_STATUS",
                "status",
                "The ticket is already Open.",
            ),
        ),
        (
            "requester",
            "create",
            {"subject": "S", "description": "D", "organization": "nope"},
            (
                "VALIDATION",
                "NOT_IN_ORGANIZATION",
                "organization",
                "The requester is not a member of this organization.",
            ),
        ),
        (
            "requester",
            "comment",
            {"reference": "TICKET", "body": "x" * 50_001},
            (
                "VALIDATION",
                "TEXT_TOO_LONG",
                "body",
                "The reply is too long (at most 50000 characters).",
            ),
        ),
        (
            "queue_agent",
            "status",
            {"reference": "TICKET", "status": "REJECTED"},
            (
                "VALIDATION",
                "REASON_REQUIRED",
                "reason",
                "Give a reason for rejecting the ticket.",
            ),
        ),
    ],
)
def test_every_operation_message_carries_a_code(
    world, token_for, who, mutation, inp, expected
):
    ticket = world["ticket"]
    inp = {k: ticket.reference if v == "TICKET" else v for k, v in inp.items()}
    before = (state(ticket), Ticket.objects.count())
    gql = client_for(world["users"][who], token_for)
    [payload] = gql(CODED[mutation], {"i": inp}).values()
    assert payload["__typename"] == "OperationInfo"
    kind, code, field, message = expected
    assert payload["messages"] == [
        {"kind": kind, "code": code, "field": field, "message": message}
    ]
    assert (state(ticket), Ticket.objects.count()) == before
