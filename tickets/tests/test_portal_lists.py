"""Portal dashboard and ticket list: what each caller sees, filters, query counts."""

import pytest

from accounts.models import TicketSharing
from tickets import services
from tickets.models import Status

from .factories import OrganizationFactory, TicketFactory, make_customer
from .portal_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


def refs_in(response):
    return [t.reference for t in response.context["tickets"]]


@pytest.mark.parametrize(
    "url", ["/portal/", "/portal/tickets/", "/portal/tickets/new/"]
)
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_dashboard_shows_my_open_and_shared_tickets(
    client, alice, bob, acme, queue, carol
):
    mine = TicketFactory(
        requester=alice, queue=queue, organization=acme, subject="Mine"
    )
    done = TicketFactory(requester=alice, queue=queue, organization=acme)
    services.change_status(alice, done, Status.CLOSED)
    shared = TicketFactory(
        requester=bob, queue=queue, organization=acme, subject="Bob's"
    )
    TicketFactory(requester=carol, queue=queue, subject="Globex secret")
    client.force_login(alice)
    response = client.get("/portal/")
    assert response.status_code == 200
    assert [t.reference for t in response.context["my_tickets"]] == [mine.reference]
    assert response.context["my_open_count"] == 1
    assert [t.reference for t in response.context["shared_tickets"]] == [
        shared.reference
    ]
    body = response.content.decode()
    assert "Globex secret" not in body
    assert 'action="/kb/search/"' in body


def test_dashboard_lists_popular_and_recent_articles(client, alice, make_article):
    from django.core.cache import cache

    from kb.counters import flush_counters, record_article_view

    cache.clear()

    read = make_article("Reset your password")
    make_article("Staff only", audience="agents")
    record_article_view(read)
    flush_counters()
    client.force_login(alice)
    response = client.get("/portal/")
    assert [a.title for a in response.context["popular_articles"]] == [
        "Reset your password"
    ]
    assert [a.title for a in response.context["recent_articles"]] == [
        "Reset your password"
    ]


def test_dashboard_query_count_is_fixed(
    client, alice, bob, acme, queue, django_assert_max_num_queries
):
    for _ in range(3):
        TicketFactory(requester=alice, queue=queue, organization=acme)
        TicketFactory(requester=bob, queue=queue, organization=acme)
    client.force_login(alice)
    with django_assert_max_num_queries(14):
        assert client.get("/portal/").status_code == 200


def test_list_shows_mine_and_shared_never_other_organizations(
    client, alice, bob, acme, queue, carol
):
    mine = TicketFactory(requester=alice, queue=queue, organization=acme)
    bobs = TicketFactory(requester=bob, queue=queue, organization=acme)
    TicketFactory(requester=carol, queue=queue)
    client.force_login(alice)
    response = client.get("/portal/tickets/")
    assert sorted(refs_in(response)) == sorted([mine.reference, bobs.reference])
    assert refs_in(client.get("/portal/tickets/?scope=mine")) == [mine.reference]
    assert refs_in(client.get("/portal/tickets/?scope=organization")) == [
        bobs.reference
    ]


def test_sharing_none_hides_colleagues_tickets(client, carol, dave, queue, globex):
    TicketFactory(requester=dave, queue=queue, organization=globex)
    client.force_login(carol)
    response = client.get("/portal/tickets/?scope=organization&status=all")
    assert refs_in(response) == []
    assert client.get("/portal/").context["shared_tickets"] == []


def test_status_filter(client, alice, queue):
    open_ticket = TicketFactory(requester=alice, queue=queue)
    closed = TicketFactory(requester=alice, queue=queue)
    services.change_status(alice, closed, Status.CLOSED)
    withdrawn = TicketFactory(requester=alice, queue=queue)
    services.change_status(alice, withdrawn, Status.WITHDRAWN)
    client.force_login(alice)
    assert refs_in(client.get("/portal/tickets/")) == [open_ticket.reference]
    assert sorted(refs_in(client.get("/portal/tickets/?status=closed"))) == sorted(
        [closed.reference, withdrawn.reference]
    )
    assert len(refs_in(client.get("/portal/tickets/?status=all"))) == 3


def test_search_by_subject_or_reference(client, alice, queue):
    printer = TicketFactory(requester=alice, queue=queue, subject="Printer on fire")
    other = TicketFactory(requester=alice, queue=queue, subject="Sync is slow")
    client.force_login(alice)
    assert refs_in(client.get("/portal/tickets/?q=PRINTER")) == [printer.reference]
    ref = other.reference.lower()
    assert refs_in(client.get(f"/portal/tickets/?q={ref}")) == [other.reference]
    response = client.get("/portal/tickets/?q=nothing-like-this")
    assert refs_in(response) == []
    assert "No tickets match" in response.content.decode()


def test_ordering(client, alice, queue):
    low = TicketFactory(requester=alice, queue=queue, priority="low")
    critical = TicketFactory(requester=alice, queue=queue, priority="critical")
    high = TicketFactory(requester=alice, queue=queue, priority="high")
    client.force_login(alice)
    assert refs_in(client.get("/portal/tickets/?order=priority")) == [
        critical.reference,
        high.reference,
        low.reference,
    ]
    assert refs_in(client.get("/portal/tickets/?order=created")) == [
        low.reference,
        critical.reference,
        high.reference,
    ]
    assert refs_in(client.get("/portal/tickets/?order=-created")) == [
        high.reference,
        critical.reference,
        low.reference,
    ]


def test_tampered_filters_fall_back_to_defaults(client, alice, queue):
    ticket = TicketFactory(requester=alice, queue=queue)
    client.force_login(alice)
    response = client.get(
        "/portal/tickets/?status=evil&scope=%00&order=password&page=zzz&q=" + "x" * 500
    )
    assert response.status_code == 200
    assert response.context["filters"]["status"] == "open"
    assert response.context["filters"]["order"] == "-updated"
    assert refs_in(client.get("/portal/tickets/?status=evil&order=bad")) == [
        ticket.reference
    ]


def test_pagination_keeps_filters(client, alice, queue, settings):
    made = [TicketFactory(requester=alice, queue=queue) for _ in range(23)]
    client.force_login(alice)
    first = client.get("/portal/tickets/?scope=mine&order=created")
    assert len(refs_in(first)) == 20
    assert 'href="?scope=mine&amp;order=created&amp;page=2"' in first.content.decode()
    second = client.get("/portal/tickets/?scope=mine&order=created&page=2")
    assert refs_in(second) == [t.reference for t in made[20:]]
    last = client.get("/portal/tickets/?scope=mine&order=created&page=99")
    assert refs_in(last) == refs_in(second)


def test_list_query_count_does_not_grow_with_rows(
    client, alice, bob, acme, queue, django_assert_max_num_queries
):
    client.force_login(alice)
    for _ in range(25):
        TicketFactory(requester=alice, queue=queue, organization=acme)
        TicketFactory(requester=bob, queue=queue, organization=acme)
    with django_assert_max_num_queries(8):
        response = client.get("/portal/tickets/?status=all&order=priority")
    assert len(refs_in(response)) == 20


def test_sharing_read_shows_but_other_organization_never(client, queue):
    initech = OrganizationFactory(slug="initech", ticket_sharing=TicketSharing.READ)
    peter = make_customer(initech)
    michael = make_customer(initech)
    shared = TicketFactory(requester=michael, queue=queue, organization=initech)
    client.force_login(peter)
    assert refs_in(client.get("/portal/tickets/?scope=organization")) == [
        shared.reference
    ]


def count_queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "url", ["/portal/", "/portal/tickets/?status=all", "/portal/tickets/?scope=mine"]
)
def test_list_pages_cost_the_same_for_one_or_many_tickets(
    client, alice, bob, acme, queue, url
):
    client.force_login(alice)
    TicketFactory(requester=alice, queue=queue, organization=acme)
    TicketFactory(requester=bob, queue=queue, organization=acme)
    few = count_queries(client, url)
    for _ in range(8):
        TicketFactory(requester=alice, queue=queue, organization=acme)
        TicketFactory(requester=bob, queue=queue, organization=acme)
    assert count_queries(client, url) == few


def test_customer_list_counts_exactly_in_the_page_query(
    client, alice, bob, acme, queue, monkeypatch, django_assert_num_queries
):
    from tickets.portal import views

    monkeypatch.setattr(views, "PER_PAGE", 2)
    made = [
        TicketFactory(requester=alice if n % 2 else bob, queue=queue, organization=acme)
        for n in range(5)
    ]
    TicketFactory(queue=queue)  # another customer's: neither listed nor counted
    client.force_login(alice)
    client.get("/portal/tickets/?order=created")
    # session, user with their role names, page ids with the total, the page's rows
    with django_assert_num_queries(4):
        first = client.get("/portal/tickets/?order=created")
    body = first.content.decode()
    assert "5 tickets" in body
    assert first.context["page_obj"].paginator.count == 5
    assert refs_in(first) == [t.reference for t in made[:2]]
    assert 'href="?order=created&amp;page=2"' in body
    assert "Page 1 of 3" in body
    last = client.get("/portal/tickets/?order=created&page=3")
    assert refs_in(last) == [made[4].reference]
    assert "Page 3 of 3" in last.content.decode()
    assert 'rel="next"' not in last.content.decode()
    assert refs_in(client.get("/portal/tickets/?order=created&page=9")) == refs_in(last)
    assert refs_in(client.get("/portal/tickets/?order=created&page=x")) == refs_in(
        first
    )
    empty = client.get("/portal/tickets/?q=no-such-ticket&page=2")
    assert refs_in(empty) == []
    assert "0 tickets" in empty.content.decode()


def test_staff_list_count_is_capped_and_pages_stay_whole(
    client, agent, alice, queue, monkeypatch
):
    from tickets.pagination import CappedPaginator
    from tickets.portal import views

    monkeypatch.setattr(CappedPaginator, "cap", 3)
    monkeypatch.setattr(views, "PER_PAGE", 2)
    made = [TicketFactory(requester=alice, queue=queue) for _ in range(5)]
    client.force_login(agent)
    first = client.get("/portal/tickets/?order=created")
    body = first.content.decode()
    assert "3+ tickets" in body
    assert first.context["page_obj"].paginator.count == 4  # counted up to cap + 1
    assert refs_in(first) == [t.reference for t in made[:2]]
    assert 'href="?order=created&amp;page=2"' in body
    assert "Page 1 of 2" in body
    second = client.get("/portal/tickets/?order=created&page=2")
    assert refs_in(second) == [t.reference for t in made[2:4]]
    assert "page=3" not in second.content.decode()
    monkeypatch.setattr(CappedPaginator, "cap", 5)
    exact = client.get("/portal/tickets/?order=created").content.decode()
    assert "5 tickets" in exact
    assert "+ tickets" not in exact


@pytest.mark.parametrize("order", ["-updated", "-created", "created", "priority"])
def test_page_rows_match_the_sliced_list(alice, bob, acme, queue, order):
    from tickets.models import Priority
    from tickets.portal import queries

    for i in range(7):
        TicketFactory(
            requester=alice if i % 2 else bob,
            queue=queue,
            organization=acme,
            priority=list(Priority)[i % 4],
        )
    TicketFactory(queue=queue)  # someone else's: never listed
    tickets = queries.filter_tickets(alice, status="all", order=order)
    for bottom in (0, 3, 6):
        page = tickets[bottom : bottom + 3]
        assert queries.page_rows(page, order=order) == list(page)
