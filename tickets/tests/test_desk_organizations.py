"""Organizations for staff: members, sharing mode, tickets, CSAT — counted over the
tickets the viewer of the page may see, in a constant number of queries."""

import pytest

from tickets.models import Ticket

from .factories import OrganizationFactory, TicketFactory, make_customer

pytestmark = pytest.mark.django_db
LIST = "/admin/helpdesk/organizations/"


def test_list_shows_members_sharing_tickets_and_csat(
    client, supervisor, acme, alice, bob, queue, other_queue
):
    rated = TicketFactory(requester=alice, queue=queue, organization=acme)
    Ticket.objects.filter(pk=rated.pk).update(satisfaction_rating=4, status="closed")
    TicketFactory(requester=bob, queue=other_queue, organization=acme)
    client.force_login(supervisor)
    response = client.get(LIST)
    assert response.status_code == 200
    ((org, numbers),) = response.context["rows"]
    assert org.member_count == 2
    assert (numbers["total"], numbers["open"], numbers["csat"], numbers["rated"]) == (
        2,
        1,
        4.0,
        1,
    )
    assert "Members can read and answer each other" in response.content.decode()


def test_agent_counts_only_tickets_they_may_see(
    client, agent, acme, alice, bob, queue, other_queue
):
    TicketFactory(requester=alice, queue=queue, organization=acme)
    hidden = TicketFactory(requester=bob, queue=other_queue, organization=acme)
    client.force_login(agent)
    ((_, numbers),) = client.get(LIST).context["rows"]
    assert numbers["total"] == 1
    detail = client.get(f"{LIST}acme/")
    assert detail.status_code == 200
    html = detail.content.decode()
    assert "alice@acme.example" in html and "bob@acme.example" in html
    assert hidden.reference not in html


def test_unknown_organization_is_404(client, supervisor):
    client.force_login(supervisor)
    assert client.get(f"{LIST}nope/").status_code == 404


def test_organization_pages_query_count_is_constant(
    client, supervisor, queue, django_assert_max_num_queries
):
    client.force_login(supervisor)
    org = OrganizationFactory(slug="big")
    TicketFactory(requester=make_customer(org), queue=queue, organization=org)
    client.get(LIST)
    # the detail page is crm's Organization 360 (details, open tickets, CSAT and SLA,
    # the three-source timeline, the forms): more queries, still constant
    with django_assert_max_num_queries(40) as few:
        client.get(LIST)
        client.get(f"{LIST}big/")
    for _ in range(8):
        other = OrganizationFactory()
        member = make_customer(other)
        make_customer(org)
        TicketFactory(requester=member, queue=queue, organization=other)
        TicketFactory(requester=member, queue=queue)
    for member in org.memberships.all():
        TicketFactory(requester=member.user, queue=queue, organization=org)
    with django_assert_max_num_queries(40) as many:
        response = client.get(LIST)
        detail = client.get(f"{LIST}big/")
    assert len(response.context["rows"]) == 9
    assert len(detail.context["page"].object_list) == 10
    assert len(few.captured_queries) == len(many.captured_queries)


def test_reports_query_count_is_constant(
    client, supervisor, queue, alice, django_assert_num_queries
):
    # the table (one query for the figures, one for its labels), the 12-month trend
    # (one query per month: reports.total_row, no labels), the weekly-email choice
    # and Wagtail's own: 21 (the user, their roles and their model permissions one
    # statement: accounts.session_user), the same with 1 and 11 tickets
    client.force_login(supervisor)
    TicketFactory(requester=alice, queue=queue)
    client.get("/admin/helpdesk/reports/")
    with django_assert_num_queries(21) as few:
        client.get("/admin/helpdesk/reports/")
    for _ in range(10):
        TicketFactory(requester=alice, queue=queue)
    with django_assert_num_queries(21) as many:
        response = client.get("/admin/helpdesk/reports/")
    assert response.context["rows"][-1].volume == 11
    assert len(few.captured_queries) == len(many.captured_queries)
