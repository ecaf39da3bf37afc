"""The portal list's kept first statement (``tickets.portal.queries.ticket_list_page``)
against the plain one (``paginate`` over ``filter_tickets``): the same page, count
and rows for every filter, order and page, for customers of each kind; changes to
grants and memberships seen at the next request; staff and searches never kept."""

import pytest

from accounts import roles
from accounts import services as accounts
from accounts.models import TicketSharing
from tickets import services
from tickets.models import Priority, Status
from tickets.portal import queries

from .factories import OrganizationFactory, TicketFactory, make_customer
from .portal_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

FILTERS = [
    {"status": status, "scope": scope, "order": order, "q": ""}
    for status in ("open", "closed", "all")
    for scope in ("all", "mine", "organization")
    for order in ("-updated", "-created", "created", "priority")
]


def _plain(user, filters, number, per_page):
    return queries.paginate(
        user,
        queries.filter_tickets(user, **filters),
        number,
        per_page,
        order=filters.get("order", "-updated"),
    )


def _seen(page):
    return (
        page.number,
        page.paginator.count,
        page.paginator.num_pages,
        [(t.pk, t.requester.pk, t.organization_id) for t in page.object_list],
    )


@pytest.fixture
def tickets(alice, bob, acme, queue, carol):
    made = []
    for i in range(9):
        ticket = TicketFactory(
            requester=alice if i % 3 else bob,
            queue=queue,
            organization=acme,
            priority=list(Priority)[i % 4],
        )
        if i % 4 == 0:
            services.change_status(ticket.requester, ticket, Status.CLOSED)
        made.append(ticket)
    made.append(TicketFactory(requester=carol, queue=queue, subject="Globex secret"))
    made.append(TicketFactory(requester=make_customer(), queue=queue))
    return made


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: "-".join(f.values()))
def test_each_filter_and_page_as_the_plain_statement(
    tickets, alice, carol, filters, django_assert_num_queries
):
    for user in (alice, carol):
        for number in (1, 2, 3, 4, 6, 7, "x", None, 10**9):
            plain = _plain(user, filters, number, 2)
            kept = queries.ticket_list_page(user, filters, number, 2)
            assert _seen(kept) == _seen(plain), (user, number)
    # the kept statement: one for the ids and the count, one for the rows (if any)
    first = _seen(_plain(alice, filters, 1, 2))
    with django_assert_num_queries(2 if first[3] else 1):
        assert _seen(queries.ticket_list_page(alice, filters, 1, 2)) == first


def test_a_customer_never_sees_another_organizations_ticket(tickets, alice, carol):
    everything = {"status": "all", "scope": "all", "order": "-updated", "q": ""}
    theirs = {t.pk for t in tickets if t.requester == carol}
    seen = set()
    for number in range(1, 6):
        seen |= {t.pk for t in queries.ticket_list_page(alice, everything, number, 2)}
    assert seen and not seen & theirs
    assert {t.pk for t in queries.ticket_list_page(carol, everything, 1, 20)} == theirs


def test_past_the_last_page_shows_the_last_one_with_the_plain_statements(
    tickets, alice, django_assert_num_queries
):
    filters = {"status": "all", "scope": "all", "order": "created", "q": ""}
    plain = _plain(alice, filters, 4, 5)
    assert plain.number == 2  # 9 tickets: 2 pages of 5
    # the kept ids (none), the count, the last page's ids, its rows: as the plain
    # path (its ids, the count, the last page's ids, its rows)
    with django_assert_num_queries(4):
        kept = queries.ticket_list_page(alice, filters, 4, 5)
    assert _seen(kept) == _seen(plain)
    assert kept.number == plain.paginator.num_pages


def test_a_customer_without_tickets_gets_an_empty_first_page(queue):
    lonely = make_customer()
    filters = {"status": "open", "scope": "all", "order": "-updated", "q": ""}
    page = queries.ticket_list_page(lonely, filters, 1, 20)
    assert (page.number, page.paginator.count, list(page)) == (1, 0, [])
    assert _seen(queries.ticket_list_page(lonely, filters, 3, 20)) == _seen(
        _plain(lonely, filters, 3, 20)
    )


def test_leaving_the_organization_is_seen_at_the_next_request(
    tickets, alice, bob, acme
):
    filters = {"status": "all", "scope": "all", "order": "-updated", "q": ""}
    before = queries.ticket_list_page(bob, filters, 1, 20)
    assert {t.requester for t in before} == {alice, bob}
    manager = make_customer(acme, role="manager")
    accounts.remove_member(acme, bob, by=manager)
    bob.refresh_from_db()
    after = queries.ticket_list_page(bob, filters, 1, 20)
    assert _seen(after) == _seen(_plain(bob, filters, 1, 20))
    assert {t.requester for t in after} == {bob}


def test_sharing_switched_off_is_seen_at_the_next_request(tickets, alice, bob, acme):
    filters = {"status": "all", "scope": "organization", "order": "-updated", "q": ""}
    assert list(queries.ticket_list_page(bob, filters, 1, 20))
    manager = make_customer(acme, role="manager")
    accounts.change_ticket_sharing(acme, TicketSharing.NONE, by=manager)
    kept = queries.ticket_list_page(bob, filters, 1, 20)
    assert _seen(kept) == _seen(_plain(bob, filters, 1, 20))
    assert list(kept) == []


def test_a_customer_in_a_queues_agent_group_is_listed_with_the_queue(
    tickets, carol, queue, django_assert_num_queries
):
    """The kept statement's second arm (``permissions._customer_arms``): a customer
    who works a queue sees its tickets, as the plain statement shows them, in one
    statement still; the twin, out of the group again, only their own."""
    every = {"status": "all", "scope": "all", "order": "-updated", "q": ""}
    assert queries.ticket_list_page(carol, every, 1, 20).paginator.count == 1
    carol.groups.add(queue.agent_group)
    for filters in FILTERS:
        for number in (1, 2, 6):
            plain = _plain(carol, filters, number, 2)
            assert _seen(queries.ticket_list_page(carol, filters, number, 2)) == (
                _seen(plain)
            ), (filters, number)
    with django_assert_num_queries(2):
        page = queries.ticket_list_page(carol, every, 1, 20)
    assert page.paginator.count == len(tickets) == len({t.pk for t in page})
    carol.groups.remove(queue.agent_group)
    page = queries.ticket_list_page(carol, every, 1, 20)
    assert _seen(page) == _seen(_plain(carol, every, 1, 20))
    assert [t.subject for t in page] == ["Globex secret"]


def test_staff_and_searches_are_built_each_time(tickets, alice, agent, monkeypatch):
    built = []
    original = queries.filter_tickets

    def counting(user, **filters):
        built.append(user)
        return original(user, **filters)

    monkeypatch.setattr(queries, "filter_tickets", counting)
    plain = {"status": "all", "scope": "all", "order": "-updated", "q": ""}
    queries.ticket_list_page(alice, plain, 1, 2)
    assert built == []  # kept
    queries.ticket_list_page(alice, {**plain, "q": "laptop"}, 1, 2)
    queries.ticket_list_page(alice, plain, queries.KEPT_PAGES + 1, 2)
    queries.ticket_list_page(agent, plain, 1, 2)
    assert built == [alice, alice, agent]


def test_a_customer_who_becomes_staff_is_listed_as_staff(tickets, alice, queue):
    filters = {"status": "all", "scope": "all", "order": "-updated", "q": ""}
    queries.ticket_list_page(alice, filters, 1, 2)
    accounts.assign_role(alice, roles.AGENTS)
    alice.groups.add(queue.agent_group)
    alice = type(alice).objects.get(pk=alice.pk)
    kept = queries.ticket_list_page(alice, filters, 1, 2)
    assert _seen(kept) == _seen(_plain(alice, filters, 1, 2))
    assert kept.paginator.count == len(tickets)  # the queue's every ticket


def test_an_organization_of_many_shares_its_rows_with_each_member(queue):
    org = OrganizationFactory(ticket_sharing=TicketSharing.READ)
    members = [make_customer(org) for _ in range(3)]
    for member in members:
        TicketFactory(requester=member, queue=queue, organization=org)
    filters = {"status": "open", "scope": "mine", "order": "-updated", "q": ""}
    for member in members:
        page = queries.ticket_list_page(member, filters, 1, 20)
        assert [t.requester for t in page] == [member]
        assert _seen(page) == _seen(_plain(member, filters, 1, 20))
