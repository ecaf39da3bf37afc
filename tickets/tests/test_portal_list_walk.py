"""A customer's list read by a walk of their sharing organization's tickets
(``tickets.portal.walk``): the same pages as the plain statement, counted as the desk
counts ("1000+"), the guardian rows still deciding what is shown."""

import datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import kept_organizations
from accounts.models import TicketSharing
from tickets import permissions, services
from tickets.models import (
    Status,
    Ticket,
    TicketGroupObjectPermission,
    TicketUserObjectPermission,
)
from tickets.pagination import COUNT_CAP
from tickets.portal import queries, walk

from .factories import TicketFactory, make_customer
from .portal_fixtures import *  # noqa: F403
from .test_portal_list_kept import FILTERS, _plain, _seen

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, params=[1, walk.WALK_FROM], ids=["walked", "small"])
def walk_from(request, monkeypatch):
    """Both arms of the statement: the walk (from one ticket), and an organization
    below ``WALK_FROM`` tickets read as the plain statement reads it."""
    monkeypatch.setattr(walk, "WALK_FROM", request.param)
    return request.param


@pytest.fixture(autouse=True)
def kept(settings):
    settings.AGENT_GROUPS_CACHE = True  # as with Redis (one process here)
    settings.ORGANIZATIONS_CACHE = True
    cache.clear()
    permissions._kept_agent_groups.forget()
    kept_organizations.forget()
    queries.forget_kept_pages()
    yield
    cache.clear()
    permissions._kept_agent_groups.forget()
    kept_organizations.forget()


def committed():
    """What the commit of the test's changes does: the agent groups' and the
    organizations' generations renewed (the tests run in one transaction)."""
    permissions._agent_groups.renew()
    kept_organizations._kept.renew()


def _walked(sql):
    return "LIMIT" in sql and "WITH v AS" in sql


@pytest.fixture
def mixed(alice, bob, acme, queue, carol, globex):
    """Acme shares (read and write): Alice sees Bob's tickets too. Globex shares
    nothing. Times spread and some equal, to check the order's ties."""
    made = []
    base = timezone.now() - datetime.timedelta(days=3)
    for i in range(14):
        ticket = TicketFactory(
            requester=alice if i % 3 else bob, queue=queue, organization=acme
        )
        if i % 4 == 0:
            services.change_status(ticket.requester, ticket, Status.CLOSED)
        made.append(ticket)
    # Alice's own ticket outside Acme (filed without an organization)
    made.append(TicketFactory(requester=alice, queue=queue, organization=None))
    made.append(TicketFactory(requester=carol, queue=queue, organization=globex))
    made.append(TicketFactory(requester=make_customer(), queue=queue))
    for n, ticket in enumerate(made):
        moment = base + datetime.timedelta(minutes=n // 3)  # ties of three
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=moment, created_at=moment)
    committed()
    return made


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: "-".join(f.values()))
def test_each_filter_and_page_as_the_plain_statement(mixed, alice, carol, filters):
    for user in (alice, carol):
        for number in (1, 2, 3, 5, 7, "x", None, 10**9):
            with CaptureQueriesContext(connection) as queries_made:
                page = queries.ticket_list_page(user, filters, number, 2)
            assert _seen(page) == _seen(_plain(user, filters, number, 2))
            walked = any(_walked(q["sql"]) for q in queries_made.captured_queries)
            # only a customer of a sharing organization, without search or scope
            assert walked == (
                user == alice
                and filters["scope"] == "all"
                and filters["order"] != "priority"
            )


def test_one_statement_a_page_and_two_past_the_end(mixed, alice):
    filters = {"status": "all", "scope": "all", "order": "-updated", "q": ""}
    queries.ticket_list_page(alice, filters, 1, 2)  # organizations kept
    with CaptureQueriesContext(connection) as first:
        queries.ticket_list_page(alice, filters, 1, 2)
    with CaptureQueriesContext(connection) as past:
        page = queries.ticket_list_page(alice, filters, 10**9, 2)
    statements = [q["sql"] for q in first.captured_queries]
    assert len([s for s in statements if _walked(s)]) == 1
    assert len([s for s in past.captured_queries if _walked(s["sql"])]) == 2
    # the rows by id: the page's second statement, as before
    assert len(statements) == 2
    assert page.number == page.paginator.num_pages == 8  # 15 tickets, 2 a page


def test_the_denied_twins(mixed, alice, carol, acme, globex):
    everything = {"status": "all", "scope": "all", "order": "-updated", "q": ""}
    seen = set()
    for number in range(1, 10):
        seen |= {t.pk for t in queries.ticket_list_page(alice, everything, number, 2)}
    acme_tickets = set(
        Ticket.objects.filter(organization=acme).values_list("pk", flat=True)
    )
    outside = {mixed[14].pk}  # Alice's own, of no organization: granted, not walked
    assert seen == acme_tickets | outside
    assert mixed[15].pk not in seen  # Globex's
    assert mixed[16].pk not in seen  # nobody's organization, another requester
    # an Acme ticket whose grants are removed by hand is not shown: the rows decide
    hidden = mixed[1]
    TicketGroupObjectPermission.objects.filter(content_object=hidden).delete()
    TicketUserObjectPermission.objects.filter(content_object=hidden).delete()
    page = queries.ticket_list_page(alice, everything, 1, 100)
    assert hidden.pk not in {t.pk for t in page.object_list}
    assert page.paginator.count == len(seen) - 1


def test_a_row_of_the_organization_group_on_another_ticket_is_shown(mixed, alice, acme):
    """Against the invariant (written by hand): Acme's group holds a row on Globex's
    ticket. Not found by the walk of Acme; shown all the same, as the rows say."""
    stray = mixed[15]
    view = permissions._permission_id("view_ticket")
    with connection.cursor() as cursor:
        cursor.execute(view.sql, view.params)
        view_id = cursor.fetchone()[0]
    TicketGroupObjectPermission.objects.create(
        content_object=stray, group_id=acme.group_id, permission_id=view_id
    )
    everything = {"status": "all", "scope": "all", "order": "-updated", "q": ""}
    page = queries.ticket_list_page(alice, everything, 1, 100)
    assert stray.pk in {t.pk for t in page.object_list}
    assert _seen(page) == _seen(_plain(alice, everything, 1, 100))


def test_past_the_kept_organizations_the_grants_are_compiled_each_time(
    mixed, alice, acme, monkeypatch
):
    """A user of more sharing organizations than a kept statement holds: B's ids
    compiled for the request, the same page (the stray row included)."""
    monkeypatch.setattr(walk, "_KEPT_UP_TO", 0)
    stray = mixed[15]
    TicketGroupObjectPermission.objects.create(
        content_object=stray,
        group_id=acme.group_id,
        permission_id=TicketUserObjectPermission.objects.filter(
            permission__codename="view_ticket"
        )
        .values_list("permission_id", flat=True)
        .first(),
    )
    monkeypatch.setattr(walk, "_kept_outside", lambda n: pytest.fail("kept"))
    for status in ("open", "all"):
        filters = {"status": status, "scope": "all", "order": "-updated", "q": ""}
        page = queries.ticket_list_page(alice, filters, 1, 100)
        assert _seen(page) == _seen(_plain(alice, filters, 1, 100))
    assert stray.pk in {t.pk for t in page.object_list}  # status "all"


def test_sharing_off_then_the_plain_statement(mixed, alice, bob, acme):
    acme.ticket_sharing = TicketSharing.NONE
    acme.save()
    services.apply_organization_sharing(acme)
    committed()
    filters = {"status": "all", "scope": "all", "order": "-updated", "q": ""}
    with CaptureQueriesContext(connection) as made:
        page = queries.ticket_list_page(alice, filters, 1, 100)
    assert not any(_walked(q["sql"]) for q in made.captured_queries)
    assert {t.requester_id for t in page.object_list} == {alice.pk}


def _many(organization, requester, queue, n):
    """``n`` more open tickets of ``organization``, rows made directly (cheap), each
    with its organization group's ``view_ticket`` row as the grants write it."""
    model = TicketFactory(requester=requester, queue=queue, organization=organization)
    fields = {
        f.attname: getattr(model, f.attname)
        for f in Ticket._meta.concrete_fields
        if not f.primary_key
    }
    made = Ticket.objects.bulk_create(
        [Ticket(**{**fields, "reference": f"BULK-{i}"}) for i in range(n)]
    )
    view = TicketGroupObjectPermission.objects.filter(content_object=model).values_list(
        "permission_id", flat=True
    )
    TicketGroupObjectPermission.objects.bulk_create(
        [
            TicketGroupObjectPermission(
                content_object=ticket, group_id=organization.group_id, permission_id=p
            )
            for ticket in made
            for p in view
        ]
    )
    committed()
    return model


def test_over_a_thousand_counts_as_the_desk(alice, bob, acme, queue, client):
    _many(acme, bob, queue, COUNT_CAP + 10)
    filters = {"status": "open", "scope": "all", "order": "-updated", "q": ""}
    page = queries.ticket_list_page(alice, filters, 1, 20)
    assert page.paginator.count == COUNT_CAP + 1
    assert page.paginator.capped
    assert page.paginator.num_pages == 51  # no page beyond the cap
    assert _seen(page)[3] == _seen(_plain(alice, filters, 1, 20))[3]
    last = queries.ticket_list_page(alice, filters, 60, 20)
    assert last.number == 51
    assert [t.pk for t in last.object_list] == [
        t.pk for t in _plain(alice, filters, 51, 20).object_list
    ]
    client.force_login(alice)
    response = client.get(reverse("tickets:portal_ticket_list"))
    assert "1000+" in response.content.decode()


def test_below_the_cap_the_count_is_exact(alice, bob, acme, queue):
    _many(acme, bob, queue, COUNT_CAP - 2)
    filters = {"status": "open", "scope": "all", "order": "-updated", "q": ""}
    page = queries.ticket_list_page(alice, filters, 1, 20)
    assert page.paginator.count == COUNT_CAP - 1
    assert not page.paginator.capped
