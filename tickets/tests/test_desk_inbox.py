"""The inbox at /admin/helpdesk/tickets/: saved views, filters, search, ordering,
pagination in a constant number of queries, and bulk actions (one service call and one
event per ticket, failures reported per ticket)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tickets import services
from tickets.models import Status, Ticket, TicketEvent

from .factories import TicketFactory, make_agent

pytestmark = pytest.mark.django_db
INBOX = "/admin/helpdesk/tickets/"


def refs(response):
    return [t.reference for t, _ in response.context["rows"]]


def test_agent_sees_only_tickets_of_their_queues(
    client, agent, ticket, other_queue, alice
):
    hidden = TicketFactory(requester=alice, queue=other_queue)
    client.force_login(agent)
    response = client.get(INBOX, {"view": "all"})
    assert response.status_code == 200
    assert refs(response) == [ticket.reference]
    assert hidden.reference not in response.content.decode()


def test_supervisor_sees_everything(client, supervisor, ticket, other_queue, alice):
    other = TicketFactory(requester=alice, queue=other_queue)
    client.force_login(supervisor)
    response = client.get(INBOX, {"view": "queues", "order": "reference"})
    assert refs(response) == [ticket.reference, other.reference]


def test_saved_views(client, agent, queue, alice):
    mine = TicketFactory(requester=alice, queue=queue, subject="mine")
    services.assign(agent, mine, agent)
    unassigned = TicketFactory(requester=alice, queue=queue, subject="unassigned")
    waiting = TicketFactory(requester=alice, queue=queue, subject="waiting")
    services.assign(agent, waiting, agent)
    services.change_status(agent, waiting, Status.WAITING_ON_CUSTOMER)
    now = timezone.now()
    at_risk = TicketFactory(requester=alice, queue=queue, subject="at risk")
    Ticket.objects.filter(pk=at_risk.pk).update(
        first_response_due_at=now + timedelta(minutes=30)
    )
    breached = TicketFactory(requester=alice, queue=queue, subject="breached")
    Ticket.objects.filter(pk=breached.pk).update(
        first_response_due_at=now - timedelta(minutes=5)
    )
    client.force_login(agent)

    def view(name):
        return sorted(refs(client.get(INBOX, {"view": name})))

    assert view("mine") == sorted([mine.reference, waiting.reference])
    assert view("unassigned") == sorted(
        [unassigned.reference, at_risk.reference, breached.reference]
    )
    assert view("waiting") == [waiting.reference]
    assert view("at_risk") == [at_risk.reference]
    assert view("breached") == [breached.reference]
    assert len(view("queues")) == 5


def test_per_queue_view(client, supervisor, ticket, other_queue, alice):
    other = TicketFactory(requester=alice, queue=other_queue)
    client.force_login(supervisor)
    response = client.get(INBOX, {"view": "queues", "queue": "billing"})
    assert refs(response) == [other.reference]


def test_filters_search_and_ordering(client, agent, queue, alice, acme):
    low = TicketFactory(
        requester=alice, queue=queue, subject="Printer on fire", priority="low"
    )
    high = TicketFactory(
        requester=alice, queue=queue, subject="VPN down", priority="high"
    )
    services.set_tags(agent, high, ["network"])
    client.force_login(agent)
    assert refs(client.get(INBOX, {"q": "printer"})) == [low.reference]
    assert refs(client.get(INBOX, {"q": high.reference.lower()})) == [high.reference]
    assert refs(client.get(INBOX, {"priority": "high"})) == [high.reference]
    assert refs(client.get(INBOX, {"tag": "network"})) == [high.reference]
    assert refs(client.get(INBOX, {"assignee": "none", "order": "subject"})) == [
        low.reference,
        high.reference,
    ]
    assert refs(client.get(INBOX, {"order": "-subject"})) == [
        high.reference,
        low.reference,
    ]
    # unknown ordering and bad filters fall back instead of failing
    response = client.get(INBOX, {"order": "password", "assignee": "x'--"})
    assert response.status_code == 200


def test_pagination(client, agent, queue, alice):
    for _ in range(30):
        TicketFactory(requester=alice, queue=queue)
    client.force_login(agent)
    first = client.get(INBOX, {"per_page": 25})
    assert len(first.context["rows"]) == 25
    second = client.get(INBOX, {"per_page": 25, "page": 2})
    assert len(second.context["rows"]) == 5
    assert not set(refs(first)) & set(refs(second))


@pytest.mark.parametrize("user_fixture", ["agent", "supervisor"])
def test_inbox_query_count_does_not_grow_with_the_page(
    client, queue, alice, django_assert_max_num_queries, user_fixture, request
):
    user = request.getfixturevalue(user_fixture)
    for i in range(30):
        t = TicketFactory(requester=alice, queue=queue)
        services.set_tags(user, t, [f"tag{i}", "common"])
        if i % 2:
            services.assign(user, t, user)
    client.force_login(user)
    client.get(INBOX)  # warm per-process caches (site root, content types)
    with django_assert_max_num_queries(16) as small:
        response = client.get(INBOX, {"per_page": 25, "view": "queues"})
    assert len(response.context["rows"]) == 25
    with django_assert_max_num_queries(16) as large:
        response = client.get(INBOX, {"per_page": 100, "view": "queues"})
    assert len(response.context["rows"]) == 30
    assert len(small.captured_queries) == len(large.captured_queries)


def test_bulk_assign_writes_one_event_per_ticket(client, agent, queue, alice):
    tickets = [TicketFactory(requester=alice, queue=queue) for _ in range(3)]
    client.force_login(agent)
    response = client.post(
        f"{INBOX}bulk/",
        {
            "references": [t.reference for t in tickets],
            "action": "assign",
            "assignee": "me",
        },
    )
    assert response.status_code == 302
    for t in tickets:
        t.refresh_from_db()
        assert t.assignee == agent
        assert TicketEvent.objects.filter(ticket=t, kind="assigned").count() == 1


@pytest.mark.parametrize(
    ("action", "data", "kind"),
    [
        ("status", {"status": "in_progress"}, "status_changed"),
        ("priority", {"priority": "critical"}, "priority_changed"),
        ("tags", {"tags": "outage, Wifi"}, "tags_changed"),
    ],
)
def test_bulk_status_priority_tags(client, agent, queue, alice, action, data, kind):
    tickets = [TicketFactory(requester=alice, queue=queue) for _ in range(2)]
    services.set_tags(agent, tickets[0], ["existing"])
    client.force_login(agent)
    response = client.post(
        f"{INBOX}bulk/",
        {"references": [t.reference for t in tickets], "action": action, **data},
    )
    assert response.status_code == 302
    for t in tickets:
        t.refresh_from_db()
        assert TicketEvent.objects.filter(ticket=t, kind=kind).count() == (
            2 if (kind == "tags_changed" and t == tickets[0]) else 1
        )
    if action == "status":
        assert {t.status for t in tickets} == {"in_progress"}
    if action == "priority":
        assert {t.priority for t in tickets} == {"critical"}
    if action == "tags":
        assert sorted(tickets[0].tags.names()) == ["existing", "outage", "wifi"]
        assert sorted(tickets[1].tags.names()) == ["outage", "wifi"]


def test_bulk_reports_failures_per_ticket_and_keeps_the_rest(
    client, agent, queue, other_queue, alice
):
    good = TicketFactory(requester=alice, queue=queue)
    already = TicketFactory(requester=alice, queue=queue)
    services.change_status(agent, already, Status.IN_PROGRESS)
    hidden = TicketFactory(requester=alice, queue=other_queue)
    client.force_login(agent)
    response = client.post(
        f"{INBOX}bulk/",
        {
            "references": [good.reference, already.reference, hidden.reference],
            "action": "status",
            "status": "in_progress",
        },
        follow=True,
    )
    messages = [str(m) for m in response.context["messages"]]
    assert f"Updated 1 ticket(s): {good.reference}" in messages
    assert f"{hidden.reference}: No such ticket." in messages
    assert f"{already.reference}: The ticket is already In progress." in messages
    hidden.refresh_from_db()
    assert hidden.status == Status.NEW
    assert TicketEvent.objects.filter(ticket=hidden).count() == 1  # created only


def test_viewer_cannot_bulk_change(client, viewer, ticket):
    client.force_login(viewer)
    response = client.post(
        f"{INBOX}bulk/",
        {"references": [ticket.reference], "action": "priority", "priority": "low"},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == [
        "Read-only accounts cannot change tickets."
    ]
    ticket.refresh_from_db()
    assert ticket.priority == "medium"
    assert TicketEvent.objects.filter(ticket=ticket).count() == 1


def test_viewer_inbox_has_no_bulk_form(client, viewer, ticket):
    client.force_login(viewer)
    html = client.get(INBOX).content.decode()
    assert ticket.reference in html
    assert 'name="references"' not in html


def test_bulk_without_selection_is_an_error(client, agent, ticket):
    client.force_login(agent)
    response = client.post(
        f"{INBOX}bulk/", {"action": "priority", "priority": "low"}, follow=True
    )
    assert "Select at least one ticket." in [
        str(m) for m in response.context["messages"]
    ]


def test_other_agent_in_same_queue_is_assignable_in_bulk(client, agent, queue, alice):
    colleague = make_agent(queue, email="colleague@example.com")
    ticket = TicketFactory(requester=alice, queue=queue)
    client.force_login(agent)
    client.post(
        f"{INBOX}bulk/",
        {
            "references": [ticket.reference],
            "action": "assign",
            "assignee": "colleague@example.com",
        },
    )
    ticket.refresh_from_db()
    assert ticket.assignee == colleague


def test_organization_filter_is_a_text_box_not_every_organization(
    client, agent, ticket, acme, alice, queue
):
    from .factories import OrganizationFactory

    others = [OrganizationFactory(name=f"Company {n}") for n in range(5)]
    elsewhere = TicketFactory(requester=alice, queue=queue)
    client.force_login(agent)
    page = client.get(INBOX, {"view": "all"}).content.decode()
    assert 'name="organization"' in page
    for organization in [acme, *others]:
        assert f'value="{organization.slug}"' not in page
    filtered = client.get(INBOX, {"view": "all", "organization": acme.slug})
    assert refs(filtered) == [ticket.reference]
    assert f'value="{acme.slug}"' in filtered.content.decode()  # kept in the box
    unknown = client.get(INBOX, {"view": "all", "organization": "no-such-org"})
    assert unknown.status_code == 200
    assert sorted(refs(unknown)) == sorted([ticket.reference, elsewhere.reference])


def test_inbox_count_is_capped(client, agent, queue, alice, monkeypatch):
    from tickets.desk import inbox

    monkeypatch.setattr(inbox.CappedPaginator, "cap", 3)
    made = [TicketFactory(requester=alice, queue=queue) for _ in range(5)]
    client.force_login(agent)
    response = client.get(INBOX, {"view": "all", "order": "reference"})
    assert "3+ tickets" in response.content.decode()
    assert response.context["page"].paginator.count == 4  # counted up to cap + 1
    assert refs(response) == [t.reference for t in made]  # the page itself is whole
    monkeypatch.setattr(inbox.CappedPaginator, "cap", 5)
    exact = client.get(INBOX, {"view": "all"})
    assert "5 tickets" in exact.content.decode()
    assert "+ tickets" not in exact.content.decode()
