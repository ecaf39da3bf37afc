"""Load on PostgreSQL through a real gunicorn over loopback.

Fifty customers file a ticket at the same moment, then fifty replies land on one
ticket at once, through the portal's forms with real sessions and CSRF tokens. Nothing
may fail, every reference is unique and gap-free, every comment and its audit event is
there, and the SLA clocks agree with the queue's policy.

The server must see the test's rows, so the test commits (``transaction=True``);
``serialized_rollback`` restores the migrations' data (groups, KB pages) afterwards.
"""

import re
import threading
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from tickets import sla
from tickets.models import Comment, EventKind, Status, Ticket, TicketEvent
from tickets.tests.factories import (
    OrganizationFactory,
    QueueFactory,
    TicketFactory,
    make_customer,
)

from .servers import fetch, gunicorn

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PARALLEL = 50


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (SQLite serialises every writer)")


@pytest.fixture
def server():
    db = connection.settings_dict
    url = (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}"
    )
    env = {"DJANGO_SETTINGS_MODULE": "portal.settings.test", "DATABASE_URL": url}
    with gunicorn(env, workers=4, threads=8) as base:
        yield base


class Browser:
    """A signed-in customer's cookies, talking to the server with urllib."""

    def __init__(self, base, user):
        self.base = base
        client = Client()
        client.force_login(user)
        self.cookies = {settings.SESSION_COOKIE_NAME: client.cookies["sessionid"].value}

    def _cookie_header(self):
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def get(self, path):
        status, headers, body = fetch(
            self.base + path, headers={"Cookie": self._cookie_header()}
        )
        for header, value in headers.items():
            if header.lower() == "set-cookie":
                cookie = SimpleCookie(value)
                self.cookies.update({k: m.value for k, m in cookie.items()})
        return status, body.decode()

    def csrf_token(self, path):
        status, html = self.get(path)
        assert status == 200, html[:500]
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]

    def post(self, path, data, token):
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": token}).encode()
        status, headers, _body = fetch(
            self.base + path,
            data=body,
            method="POST",
            headers={
                "Cookie": self._cookie_header(),
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": self.base + path,
            },
        )
        return status, headers.get("Location", "")


def run_at_once(jobs):
    barrier = threading.Barrier(len(jobs))

    def start(job):
        barrier.wait(timeout=60)
        return job()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(start, jobs))


def assert_sla_consistent(ticket):
    first_due, resolution_due = sla.due_times(
        ticket.queue, ticket.priority, ticket.created_at
    )
    assert ticket.first_response_due_at == first_due
    assert ticket.resolution_due_at == resolution_due


def test_fifty_customers_file_tickets_at_once(server):
    QueueFactory(slug="support", name="Support", is_default=True)
    customers = [make_customer(email=f"c{n}@example.com") for n in range(PARALLEL)]
    browsers = [Browser(server, customer) for customer in customers]
    tokens = [b.csrf_token("/portal/tickets/new/") for b in browsers]

    def file(number):
        return lambda: browsers[number].post(
            "/portal/tickets/new/",
            {
                "subject": f"Parallel {number}",
                "description": "All at once.",
                "category": "technical",
                "priority": ["low", "medium", "high", "critical"][number % 4],
            },
            tokens[number],
        )

    results = run_at_once([file(n) for n in range(PARALLEL)])

    assert [status for status, _ in results] == [302] * PARALLEL
    tickets = list(Ticket.objects.select_related("queue").order_by("reference"))
    assert [t.reference for t in tickets] == [
        f"HD-{n:06d}" for n in range(1, PARALLEL + 1)
    ]
    assert sorted(location for _, location in results) == sorted(
        f"/portal/tickets/{t.reference}/" for t in tickets
    )
    assert sorted(t.subject for t in tickets) == sorted(
        f"Parallel {n}" for n in range(PARALLEL)
    )
    assert {t.requester.email for t in tickets} == {c.email for c in customers}
    for ticket in tickets:
        assert ticket.status == Status.NEW
        assert_sla_consistent(ticket)
    created = TicketEvent.objects.filter(kind=EventKind.CREATED)
    assert sorted(created.values_list("ticket_id", flat=True)) == sorted(
        t.pk for t in tickets
    )


def test_fifty_replies_to_one_ticket_at_once(server):
    from accounts.models import TicketSharing

    queue = QueueFactory(slug="support", name="Support", is_default=True)
    acme = OrganizationFactory(ticket_sharing=TicketSharing.READ_WRITE)
    alice = make_customer(acme, email="alice@acme.example")
    bob = make_customer(acme, email="bob@acme.example")
    ticket = TicketFactory(requester=alice, queue=queue, organization=acme)
    ticket.refresh_from_db()
    due_before = (ticket.first_response_due_at, ticket.resolution_due_at)
    path = f"/portal/tickets/{ticket.reference}/"
    people = [Browser(server, alice), Browser(server, bob)]
    tokens = [p.csrf_token(path) for p in people]

    def reply(number):
        who = number % 2
        return lambda: people[who].post(
            path + "reply/", {"body": f"Reply {number}"}, tokens[who]
        )

    results = run_at_once([reply(n) for n in range(PARALLEL)])

    assert [status for status, _ in results] == [302] * PARALLEL
    comments = Comment.objects.filter(ticket=ticket)
    assert sorted(comments.values_list("body", flat=True)) == sorted(
        f"Reply {n}" for n in range(PARALLEL)
    )
    assert comments.filter(author=alice).count() == comments.filter(author=bob).count()
    events = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.COMMENTED)
    assert sorted(e.data["comment_id"] for e in events) == sorted(
        comments.values_list("pk", flat=True)
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW
    assert ticket.first_responded_at is None  # customers' replies are no response
    assert (ticket.first_response_due_at, ticket.resolution_due_at) == due_before
    assert_sla_consistent(ticket)
    assert ticket.updated_at >= max(comments.values_list("created_at", flat=True))


# --- the same through GraphQL with bearer tokens ---------------------------------------

CREATE = """mutation($i: CreateTicketInput!) { createTicket(input: $i) {
  __typename ... on Ticket { reference } ... on OperationInfo { messages { message } }
} }"""
COMMENT = """mutation($i: AddCommentInput!) { addComment(input: $i) {
  __typename ... on Comment { body } ... on OperationInfo { messages { message } }
} }"""


def graphql(base, secret, query, variables):
    import json

    status, _headers, body = fetch(
        base + "/graphql/",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {secret}",
        },
    )
    return status, json.loads(body)


def test_fifty_integrations_file_and_reply_at_once_through_graphql(server):
    from accounts.models import TicketSharing
    from accounts.tokens import create_token

    QueueFactory(slug="support", name="Support", is_default=True)
    acme = OrganizationFactory(ticket_sharing=TicketSharing.READ_WRITE)
    customers = [
        make_customer(acme, email=f"c{n}@acme.example") for n in range(PARALLEL)
    ]
    secrets = [
        create_token(c, name="load", scopes="read,write").secret for c in customers
    ]

    def file(number):
        return lambda: graphql(
            server,
            secrets[number],
            CREATE,
            {
                "i": {
                    "subject": f"API {number}",
                    "description": "at once",
                    "organization": acme.slug,  # shared: colleagues may reply
                }
            },
        )

    created = run_at_once([file(n) for n in range(PARALLEL)])

    assert [status for status, _ in created] == [200] * PARALLEL
    assert {b["data"]["createTicket"]["__typename"] for _, b in created} == {"Ticket"}
    references = sorted(b["data"]["createTicket"]["reference"] for _, b in created)
    assert references == [f"HD-{n:06d}" for n in range(1, PARALLEL + 1)]
    for ticket in Ticket.objects.select_related("queue"):
        assert ticket.source == "api"
        assert_sla_consistent(ticket)

    target = references[0]

    def reply(number):
        return lambda: graphql(
            server,
            secrets[number],
            COMMENT,
            {"i": {"reference": target, "body": f"API reply {number}"}},
        )

    replied = run_at_once([reply(n) for n in range(PARALLEL)])

    assert [status for status, _ in replied] == [200] * PARALLEL
    assert [
        b["data"]["addComment"]
        for _, b in replied
        if b["data"]["addComment"]["__typename"] != "Comment"
    ] == []
    ticket = Ticket.objects.get(reference=target)
    comments = Comment.objects.filter(ticket=ticket)
    assert sorted(comments.values_list("body", flat=True)) == sorted(
        f"API reply {n}" for n in range(PARALLEL)
    )
    events = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.COMMENTED)
    assert sorted(e.data["comment_id"] for e in events) == sorted(
        comments.values_list("pk", flat=True)
    )
    assert_sla_consistent(ticket)
