"""List queries cost the same whatever the page size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import roles
from tickets import permissions

from .factories import TicketFactory, make_agent, make_customer


def _page(user, size):
    """What a ticket list does: one visible page, then per-row permission answers."""
    page = list(
        permissions.visible_tickets(user)
        .select_related("requester", "assignee", "queue", "organization")
        .order_by("-created_at", "-pk")[:size]
    )
    permissions.prefetch_permissions(user, page)
    return [
        (
            t.reference,
            permissions.can(user, "reply", t),
            permissions.can(user, "assign", t),
        )
        for t in page
    ]


def _count(user, size):
    with CaptureQueriesContext(connection) as ctx:
        rows = _page(user, size)
    return len(ctx.captured_queries), rows


@pytest.fixture
def many(queue, acme, alice, bob):
    for n in range(55):
        TicketFactory(requester=alice if n % 2 else bob, queue=queue, organization=acme)


def _fresh(user):
    return type(user).objects.get(pk=user.pk)


@pytest.mark.parametrize("who", ["alice", "agent", "supervisor"])
def test_visible_page_costs_a_fixed_number_of_queries(
    many, who, alice, agent, supervisor, django_assert_max_num_queries
):
    user = {"alice": alice, "agent": agent, "supervisor": supervisor}[who]
    _page(_fresh(user), 1)  # warm the process-wide ContentType cache, as in production
    small, rows_small = _count(_fresh(user), 5)
    large, rows_large = _count(_fresh(user), 50)
    assert len(rows_small) == 5
    assert len(rows_large) == 50
    assert small == large
    user = _fresh(user)
    # roles, the page, user grants, group grants
    with django_assert_max_num_queries(4):
        _page(user, 50)


def test_visible_tickets_is_one_query(many, alice, django_assert_num_queries):
    user = _fresh(alice)
    roles.group_names(user)  # the role lookup is cached per request; not counted here
    with django_assert_num_queries(1):
        assert len(list(permissions.visible_tickets(user)[:50])) == 50


def test_customer_page_answers_per_row(many, alice, bob):
    rows = _page(_fresh(alice), 50)
    assert {reply for _, reply, _ in rows} == {True}
    assert {assign for _, _, assign in rows} == {False}
    stranger = make_customer()
    assert _page(stranger, 50) == []
    assert _page(make_agent(), 50) == []
