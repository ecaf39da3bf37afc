"""``tickets { totalCountUpTo(limit) }``: the visible tickets counted no further than
the limit (bench FINDINGS G-4), by the same rules as the exact ``totalCount``: exact
below the limit, capped above it, never a ticket the caller may not see."""

import pytest

from accounts.models import TicketSharing
from tickets import permissions
from tickets.models import Ticket

from .test_tickets import client_for, counted_world, share, world  # noqa: F401

UP_TO = """query($f: TicketFilter, $limit: Int!) {
  tickets(first: 100, filters: $f) { totalCount totalCountUpTo(limit: $limit)
    { count exact } edges { node { reference } } } }"""

ONLY_UP_TO = """query($limit: Int!) {
  tickets(first: 1) { totalCountUpTo(limit: $limit) { count exact } } }"""

NARROWINGS = [
    lambda: Ticket.objects.all(),
    lambda: Ticket.objects.filter(priority="low"),
    lambda: Ticket.objects.filter(queue__slug="billing"),
    lambda: Ticket.objects.filter(queue__slug="support"),
    lambda: Ticket.objects.filter(status="open"),
    lambda: Ticket.objects.none(),
]


def _oracle(world):  # noqa: F811
    for user in world["users"].values():
        for narrowing in NARROWINGS:
            total = permissions.visible_tickets(user, narrowing()).count()
            for n in range(total + 3):
                assert permissions.count_visible_up_to(user, narrowing(), n) == min(
                    total, n
                ), (user, n, narrowing().query)


def test_count_visible_up_to_is_the_exact_count_cut_at_n(counted_world):  # noqa: F811
    _oracle(counted_world)
    share(counted_world, TicketSharing.READ)  # the colleague sees the organization's
    _oracle(counted_world)
    agent = counted_world["agent"]
    agent.groups.remove(counted_world["queue"].agent_group)  # works no queue now
    assert permissions.count_visible_up_to(agent, None, 100) == (
        permissions.visible_tickets(agent).count()
    )
    with pytest.raises(ValueError):
        permissions.count_visible_up_to(agent, None, -1)


def test_the_grants_outside_the_queues_are_not_read_once_the_queue_reaches_n(
    counted_world,  # noqa: F811
    django_assert_num_queries,
):
    agent = counted_world["agent"]
    assert (
        permissions.visible_tickets(
            agent, Ticket.objects.filter(queue__slug="support")
        ).count()
        == 4
    )
    with django_assert_num_queries(2):  # the worked queues, their tickets up to 3
        assert permissions.count_visible_up_to(agent, None, 3) == 3
    with django_assert_num_queries(3):  # and the grants elsewhere
        assert permissions.count_visible_up_to(agent, None, 6) == 6


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
    "filters", [None, {"priority": ["LOW"]}, {"queue": "billing"}, {"search": "Sync"}]
)
def test_exact_below_the_limit_capped_above_it(counted_world, token_for, role, filters):  # noqa: F811
    gql = client_for(counted_world["users"][role], token_for)
    data = gql(UP_TO, {"f": filters, "limit": 1000})["tickets"]
    total = data["totalCount"]
    assert data["totalCountUpTo"] == {"count": total, "exact": True}
    assert total == len(data["edges"])
    for limit in range(1, total + 2):
        only = gql(ONLY_UP_TO, {"limit": limit})["tickets"] if filters is None else None
        both = gql(UP_TO, {"f": filters, "limit": limit})["tickets"]
        expected = {"count": min(total, limit), "exact": total <= limit}
        assert both["totalCountUpTo"] == expected
        if only is not None:  # counted alone, without the exact count first
            assert only["totalCountUpTo"] == expected


def test_another_organizations_tickets_are_never_counted(counted_world, token_for):  # noqa: F811
    """The denied twins: Globex's customer counts none of Acme's tickets, Acme's
    colleague none of the requester's until the organization shares them."""
    users = counted_world["users"]
    carol = client_for(users["other_org_customer"], token_for)
    assert carol(ONLY_UP_TO, {"limit": 1000})["tickets"]["totalCountUpTo"] == {
        "count": 0,
        "exact": True,
    }
    bob = client_for(users["colleague"], token_for)
    assert bob(ONLY_UP_TO, {"limit": 1000})["tickets"]["totalCountUpTo"] == {
        "count": 0,
        "exact": True,
    }
    share(counted_world, TicketSharing.READ)
    acme = set(
        permissions.visible_tickets(users["requester"])
        .filter(organization=counted_world["acme"])
        .values_list("pk", flat=True)
    )
    assert acme
    assert bob(ONLY_UP_TO, {"limit": 1000})["tickets"]["totalCountUpTo"] == {
        "count": len(acme),
        "exact": True,
    }
    assert carol(ONLY_UP_TO, {"limit": 1000})["tickets"]["totalCountUpTo"] == {
        "count": 0,
        "exact": True,
    }


@pytest.mark.parametrize("limit", [0, -1, 10_001])
def test_a_limit_out_of_range_is_refused(world, token_for, limit):  # noqa: F811
    gql = client_for(world["users"]["queue_agent"], token_for)
    errors = gql.errors(ONLY_UP_TO, {"limit": limit})
    assert [(e["message"], e["extensions"]) for e in errors] == [
        ("'limit' must be between 1 and 10000.", {"code": "INVALID_INPUT"})
    ]
