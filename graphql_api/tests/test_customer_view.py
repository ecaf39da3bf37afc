"""The customer's view of a ticket is one definition (``tickets.permissions``): the
portal page and GraphQL (session and token) give a customer exactly the same tags,
watchers, history and people, and the support team's view (desk and GraphQL) keeps
what customers do not get. Four surfaces, one ticket."""

import html
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import TicketSharing
from tickets import services
from tickets.tests.factories import (
    OrganizationFactory,
    QueueFactory,
    TicketFactory,
    make_agent,
    make_customer,
)

from .conftest import Gql

pytestmark = pytest.mark.django_db

QUERY = """query($r: String!) { ticket(reference: $r) {
  tags
  watchers { email displayName }
  requester { email displayName }
  assignee { email displayName }
  comments { author { email displayName } }
  events { kind actor { email displayName } }
} }"""

# The staff addresses a customer must never receive.
STAFF_ADDRESSES = ("sam.staff@example.com", "wendy.watch@example.com")


@pytest.fixture
def scene(db):
    """Alice's ticket, worked by Sam (no display name, so only the address could
    name him): a reply, an internal note, logged time, tags, a watcher, an
    assignment, a priority change and an SLA breach."""
    queue = QueueFactory(slug="support", name="Support", is_default=True)
    acme = OrganizationFactory(
        name="Acme", slug="acme", ticket_sharing=TicketSharing.READ_WRITE
    )
    alice = make_customer(acme, email="alice@acme.example", display_name="Alice")
    bob = make_customer(acme, email="bob@acme.example", display_name="Bob")
    sam = make_agent(queue, email="sam.staff@example.com", display_name="")
    wendy = make_agent(queue, email="wendy.watch@example.com", display_name="Wendy")
    ticket = TicketFactory(requester=alice, queue=queue, organization=acme)
    services.assign(sam, ticket, sam)
    services.change_status(sam, ticket, "in_progress")
    services.reply(sam, ticket, body="Which version do you run?")
    services.reply(alice, ticket, body="The latest one.")
    services.add_internal_note(sam, ticket, body="Known bug, do not promise a date.")
    services.log_time(sam, ticket, minutes=20, note="Reproduced on staging")
    services.set_tags(sam, ticket, ["vip", "churn-risk"])
    services.add_watcher(sam, ticket, wendy)
    services.change_priority(sam, ticket, "high")
    ticket.refresh_from_db()
    assert services.mark_sla_breached(ticket, now=timezone.now() + timedelta(days=30))
    ticket.refresh_from_db()
    return {"ticket": ticket, "alice": alice, "bob": bob, "sam": sam, "wendy": wendy}


def token_client(user, token_for):
    return Gql(Client(), token_for(user))


def session_client(user):
    client = Client()
    client.force_login(user)
    return Gql(client)


def graphql_view(gql, ticket):
    data = gql(QUERY, {"r": ticket.reference})["ticket"]
    return {
        "tags": data["tags"],
        "watchers": [w["displayName"] for w in data["watchers"]],
        "events": [
            (e["kind"], e["actor"]["displayName"] if e["actor"] else "System")
            for e in data["events"]
        ],
        # the page shows the description as the requester's first message
        "authors": [data["requester"]["displayName"]]
        + [c["author"]["displayName"] for c in data["comments"]],
        "assignee": data["assignee"]["displayName"] if data["assignee"] else None,
        "addresses": sorted(
            {
                person["email"]
                for person in [
                    data["requester"],
                    data["assignee"],
                    *data["watchers"],
                    *(c["author"] for c in data["comments"]),
                    *(e["actor"] for e in data["events"] if e["actor"]),
                ]
                if person and person["email"]
            }
        ),
        "raw": str(data),
    }


EVENT = re.compile(
    r'<li data-event-kind="(?P<kind>\w+)"><time[^>]*>[^<]*</time> · (?P<actor>[^·<]*?) · '
)


def portal_view(client, ticket):
    response = client.get(f"/portal/tickets/{ticket.reference}/")
    assert response.status_code == 200
    page = response.content.decode()
    handled_by = re.search(r"Handled by</dt><dd>([^<]*)</dd>", page)
    return {
        "tags": re.findall(r'<span class="tag">([^<]*)</span>', page),
        "watchers": re.findall(r'<dd class="ticket-watchers">([^<]*)</dd>', page),
        "events": [
            (m["kind"], html.unescape(m["actor"])) for m in EVENT.finditer(page)
        ],
        "authors": [
            html.unescape(name)
            for name in re.findall(r'<div class="message-meta"><strong>([^<]*)', page)
        ],
        "assignee": html.unescape(handled_by[1]) if handled_by else None,
        "raw": page,
    }


CUSTOMER_EVENTS = [
    ("created", "Alice"),
    ("status_changed", "sam.staff"),
    ("commented", "sam.staff"),
    ("commented", "Alice"),
    ("priority_changed", "sam.staff"),
]


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_a_customer_sees_the_same_ticket_on_the_portal_and_through_graphql(
    scene, token_for, who
):
    """Requester and organization colleague: no tags, no watchers, only the
    customer's kinds of events, people by name and never a staff address, alike on
    the portal page, GraphQL with the session and GraphQL with a token."""
    customer, ticket = scene[who], scene["ticket"]
    portal_client = Client()
    portal_client.force_login(customer)
    portal = portal_view(portal_client, ticket)
    by_session = graphql_view(session_client(customer), ticket)
    by_token = graphql_view(token_client(customer, token_for), ticket)

    expected = {
        "tags": [],
        "watchers": [],
        "events": CUSTOMER_EVENTS,
        "authors": ["Alice", "sam.staff", "Alice"],
        "assignee": "sam.staff",
    }
    for view in (portal, by_session, by_token):
        assert {key: view[key] for key in expected} == expected
        for address in STAFF_ADDRESSES:
            assert address not in view["raw"]
        for staff_only in ("vip", "churn-risk", "Wendy", "sla_breached", "assigned"):
            assert staff_only not in view["raw"]
    # a customer reads their own address only
    own = [customer.email] if customer.email in by_token["addresses"] else []
    assert by_session["addresses"] == by_token["addresses"] == own
    assert own == (["alice@acme.example"] if who == "alice" else [])


def test_the_support_team_sees_tags_watchers_and_its_events_on_the_desk_and_graphql(
    scene, token_for
):
    """The allowed twin: the queue's agent reads tags, watchers, the staff-only kinds
    (assignment, tags, watchers, SLA, notes, time) and addresses, on both surfaces."""
    sam, ticket = scene["sam"], scene["ticket"]
    staff_kinds = {
        "assigned",
        "tags_changed",
        "watcher_added",
        "sla_breached",
        "note_added",
        "time_logged",
    }
    desk = Client()
    desk.force_login(sam)
    page = desk.get(f"/admin/helpdesk/tickets/{ticket.reference}/").content.decode()
    desk_kinds = re.findall(r'data-event-kind="(\w+)"', page)
    assert staff_kinds <= set(desk_kinds)
    assert re.findall(r'<span class="desk-tag">([^<]*)</span>', page) == [
        "churn-risk",
        "vip",
    ]
    assert "Wendy" in page

    for gql in (session_client(sam), token_client(sam, token_for)):
        view = graphql_view(gql, ticket)
        assert view["tags"] == ["churn-risk", "vip"]
        assert view["watchers"] == ["Wendy"]
        assert [kind for kind, _ in view["events"]] == desk_kinds
        assert view["assignee"] == "sam.staff@example.com"
        assert view["addresses"] == [
            "alice@acme.example",
            "sam.staff@example.com",
            "wendy.watch@example.com",
        ]


def test_a_customer_reads_no_staff_address_through_the_ticket_list(scene, token_for):
    """Every way to a person on a ticket (a page of tickets, not only one) hides the
    support team's addresses from customers; the agent reads them."""
    query = """{ tickets(first: 10) { edges { node {
      assignee { email displayName } watchers { email }
      comments { author { email } } events { actor { email } } } } } }"""
    alice_data = token_client(scene["alice"], token_for)(query)
    node = alice_data["tickets"]["edges"][0]["node"]
    assert node["assignee"] == {"email": None, "displayName": "sam.staff"}
    assert node["watchers"] == []
    assert {c["author"]["email"] for c in node["comments"]} == {
        None,
        "alice@acme.example",
    }
    for address in STAFF_ADDRESSES:
        assert address not in str(alice_data)
    sam_data = token_client(scene["sam"], token_for)(query)
    node = sam_data["tickets"]["edges"][0]["node"]
    assert node["assignee"]["email"] == "sam.staff@example.com"
    assert node["watchers"] == [{"email": "wendy.watch@example.com"}]


def test_an_agent_who_sees_the_ticket_through_sharing_reads_no_internal_events(
    scene, token_for
):
    """Organization sharing gives an agent of another queue ``view`` without internal
    notes: the desk's history and GraphQL's events alike leave out the note and the
    logged time (and the desk its work log), which the queue's agent reads on both."""
    from accounts.models import Organization
    from accounts.services import setup_member

    ticket = scene["ticket"]
    insider = make_agent(
        QueueFactory(slug="billing", name="Billing"), email="insider@example.com"
    )
    setup_member(Organization.objects.get(slug="acme"), insider)

    def desk_and_graphql(user):
        desk = Client()
        desk.force_login(user)
        page = desk.get(f"/admin/helpdesk/tickets/{ticket.reference}/")
        assert page.status_code == 200
        html_kinds = re.findall(r'data-event-kind="(\w+)"', page.content.decode())
        view = graphql_view(token_client(user, token_for), ticket)
        assert [kind for kind, _ in view["events"]] == html_kinds
        return html_kinds, page.content.decode()

    team_kinds, team_page = desk_and_graphql(scene["sam"])
    insider_kinds, insider_page = desk_and_graphql(insider)
    assert {"note_added", "time_logged"} <= set(team_kinds)
    assert insider_kinds == [
        kind for kind in team_kinds if kind not in ("note_added", "time_logged")
    ]
    assert "Reproduced on staging" in team_page
    assert "Reproduced on staging" not in insider_page
