"""The visible tickets and their counts (bench FINDINGS V-1): ``visible_tickets``,
``count_visible`` and ``count_visible_up_to`` give exactly what the rule gives, stated
here from first principles (the grants and the worked queues), for every kind of
user and narrowing, and so do the surfaces that count them (GraphQL's list and
``totalCount``, the portal list's exact total). Then the denied twin of every
allowed path: an agent who loses the queue, a grant revoked, a ticket moved to
another queue, organization sharing switched off, an account deactivated; each
change is seen at the next count.

Over 400 lines on purpose: one rule, its surfaces and their denied twins belong together."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from guardian.shortcuts import assign_perm, remove_perm

from accounts import roles
from accounts.models import TicketSharing
from tickets import permissions, services
from tickets.models import (
    Queue,
    Ticket,
    TicketGroupObjectPermission,
    TicketUserObjectPermission,
)
from tickets.tests.factories import (
    OrganizationFactory,
    QueueFactory,
    TicketFactory,
    make_agent,
    make_customer,
    make_supervisor,
    make_viewer,
)

from .conftest import Gql

NARROWINGS = {
    "all": lambda: Ticket.objects.all(),
    "low": lambda: Ticket.objects.filter(priority="low"),
    "support": lambda: Ticket.objects.filter(queue__slug="support"),
    "billing": lambda: Ticket.objects.filter(queue__slug="billing"),
    "open": lambda: Ticket.objects.filter(status="open"),
    "acme": lambda: Ticket.objects.filter(organization__slug="acme"),
    "none": lambda: Ticket.objects.none(),
}


def rule(user) -> set[int]:
    """Who sees what, without ``tickets.permissions``' SQL: nobody inactive sees
    anything; supervisors and viewers see every ticket; the support team sees the
    tickets of the queues whose agent group they are in; and everyone sees the
    tickets they or one of their groups hold ``view_ticket`` on (for the support
    team, a queue's agent group counts through its queue only)."""
    user = get_user_model().objects.get(pk=user.pk)  # no cached roles
    if not user.is_active:
        return set()
    if permissions.sees_all(user):
        return set(Ticket.objects.values_list("pk", flat=True))
    groups = set(user.groups.values_list("pk", flat=True))
    staff = roles.is_staff_member(user)
    agent_groups = set(Queue.objects.values_list("agent_group_id", flat=True))
    granted = set(
        TicketUserObjectPermission.objects.filter(
            user_id=user.pk, permission__codename="view_ticket"
        ).values_list("content_object_id", flat=True)
    )
    for group_id, ticket_id in TicketGroupObjectPermission.objects.filter(
        permission__codename="view_ticket"
    ).values_list("group_id", "content_object_id"):
        if group_id in groups and not (staff and group_id in agent_groups):
            granted.add(ticket_id)
    # the queue group's grants (rows until V-3), from the rule's owner
    for ticket in Ticket.objects.select_related("queue"):
        if any(
            group_id in groups and codename == "view_ticket"
            for group_id, codename in permissions.queue_group_grants(ticket)
        ):
            granted.add(ticket.pk)
    if staff:
        worked = Queue.objects.filter(agent_group_id__in=groups)
        granted |= set(
            Ticket.objects.filter(queue__in=worked).values_list("pk", flat=True)
        )
    return granted


def check(users) -> dict[str, int]:
    """Every user × narrowing: the listed set is the rule's, the counts its size."""
    sizes = {}
    for name, user in users.items():
        user = get_user_model().objects.get(pk=user.pk)
        expected = rule(user)
        for label, narrowing in NARROWINGS.items():
            within = set(narrowing().values_list("pk", flat=True))
            want = expected & within
            listed = set(
                permissions.visible_tickets(user, narrowing()).values_list(
                    "pk", flat=True
                )
            )
            assert listed == want, (name, label)
            assert permissions.count_visible(user, narrowing()) == len(want), (
                name,
                label,
            )
            for n in sorted({0, 1, len(want) - 1, len(want), len(want) + 1} - {-1}):
                assert permissions.count_visible_up_to(user, narrowing(), n) == min(
                    n, len(want)
                ), (name, label, n)
        sizes[name] = len(expected)
    return sizes


@pytest.fixture
def town(db):
    """Three queues, three organizations (read-write, read, private sharing), a
    customer of no organization; each customer files a ticket in each queue. Agents
    of one queue, of two, of none; one with direct grants inside and outside their
    queue and a group grant (a group that is no queue's agent group) inside, outside
    and on a ticket granted to them directly as well; a supervisor, a viewer, an
    outsider, an agent who is deactivated, an agent who is also an organization
    member; a ticket assigned in one queue and moved to another."""
    support = QueueFactory(slug="support", name="Support")
    billing = QueueFactory(slug="billing", name="Billing")
    sales = QueueFactory(slug="sales", name="Sales")
    acme = OrganizationFactory(slug="acme", ticket_sharing=TicketSharing.READ_WRITE)
    globex = OrganizationFactory(slug="globex", ticket_sharing=TicketSharing.READ)
    private = OrganizationFactory(slug="private", ticket_sharing=TicketSharing.NONE)
    people = {
        "acme1": make_customer(acme),
        "acme2": make_customer(acme),
        "globex1": make_customer(globex),
        "globex2": make_customer(globex),
        "private1": make_customer(private),
        "private2": make_customer(private),
        "loner": make_customer(),
    }
    orgs = {"acme": acme, "globex": globex, "private": private}
    tickets = {}
    for name, person in people.items():
        org = orgs.get(name.rstrip("12"))
        for queue in (support, billing, sales):
            tickets[name, queue.slug] = TicketFactory(
                requester=person, queue=queue, organization=org, priority="low"
            )
    supervisor = make_supervisor()
    agent_support = make_agent(support)
    agent_two = make_agent(billing, sales)
    granted = make_agent(support)
    reviewers = Group.objects.create(name="Reviewers")
    granted.groups.add(reviewers)
    assign_perm("tickets.view_ticket", granted, tickets["acme1", "support"])  # inside
    assign_perm("tickets.view_ticket", granted, tickets["acme1", "billing"])
    assign_perm("tickets.view_ticket", reviewers, tickets["globex1", "support"])
    assign_perm("tickets.view_ticket", reviewers, tickets["globex1", "sales"])
    assign_perm("tickets.view_ticket", reviewers, tickets["acme1", "billing"])  # twice
    assigned = tickets["loner", "support"]
    services.assign(supervisor, assigned, agent_support)
    services.move_queue(supervisor, assigned, sales)
    own = TicketFactory(requester=agent_two, queue=support, priority="low")
    in_org = make_agent(support)
    from accounts.services import setup_member

    setup_member(globex, in_org, "member")
    deactivated = make_agent(support)
    deactivated.is_active = False
    deactivated.save()
    users = {
        **people,
        "supervisor": supervisor,
        "viewer": make_viewer(),
        "agent_support": agent_support,
        "agent_two": agent_two,
        "agent_none": make_agent(),
        "granted": granted,
        "in_org": in_org,
        "deactivated": deactivated,
        "outsider": make_customer(),
    }
    return {
        "users": users,
        "tickets": tickets,
        "queues": {"support": support, "billing": billing, "sales": sales},
        "orgs": orgs,
        "reviewers": reviewers,
        "assigned": assigned,
        "own": own,
        "supervisor": supervisor,
    }


def test_every_user_and_narrowing_sees_and_counts_the_rule(town):
    sizes = check(town["users"])
    total = Ticket.objects.count()
    assert total == 22
    assert sizes["supervisor"] == sizes["viewer"] == total
    assert sizes["acme2"] == 6  # the organization's, read-write
    assert sizes["globex2"] == 6  # the organization's, read
    assert sizes["private2"] == 3  # own only
    assert sizes["outsider"] == sizes["deactivated"] == 0
    # support (7 filed + the agent's own - the moved one) and the moved assigned one
    assert sizes["agent_support"] == 8
    # billing 7 + sales 8 (the moved one) and their own ticket filed into support
    assert sizes["agent_two"] == 16
    # support 7: the grant inside once; outside: acme1's billing (direct and through
    # the group: once) and globex1's sales
    assert sizes["granted"] == 7 + 2
    assert sizes["in_org"] == 7 + 4  # support + globex's outside support
    assert sizes["agent_none"] == 0


def test_denied_twins_are_seen_at_the_next_count(town):
    users, tickets = town["users"], town["tickets"]
    supervisor = town["supervisor"]
    before = check(users)

    # An agent who loses the queue keeps only their own grant (the moved one).
    agent = users["agent_support"]
    agent.groups.remove(town["queues"]["support"].agent_group)
    after = check(users)
    assert after["agent_support"] == 1 < before["agent_support"]

    # A direct grant outside the queue revoked: the group's grant on it remains.
    granted = users["granted"]
    remove_perm("tickets.view_ticket", granted, tickets["acme1", "billing"])
    assert check(users)["granted"] == before["granted"]
    remove_perm("tickets.view_ticket", town["reviewers"], tickets["acme1", "billing"])
    assert check(users)["granted"] == before["granted"] - 1
    # A direct grant inside the queue revoked: the queue still shows it.
    remove_perm("tickets.view_ticket", granted, tickets["acme1", "support"])
    assert check(users)["granted"] == before["granted"] - 1

    # A ticket moved to another queue: the old queue's agents lose it, the new
    # queue's gain it.
    moved = tickets["private1", "support"]
    services.move_queue(supervisor, moved, town["queues"]["billing"])
    sizes = check(users)
    assert sizes["granted"] == before["granted"] - 2
    assert sizes["agent_two"] == before["agent_two"] + 1

    # Sharing switched off: colleagues see their own tickets only.
    acme = town["orgs"]["acme"]
    acme.ticket_sharing = TicketSharing.NONE
    acme.save()
    services.apply_organization_sharing(acme)
    sizes = check(users)
    assert sizes["acme2"] == 3 and sizes["acme1"] == 3

    # Deactivated: nothing.
    in_org = users["in_org"]
    assert sizes["in_org"] > 0
    in_org.is_active = False
    in_org.save()
    assert check(users)["in_org"] == 0


COUNTED = """query($f: TicketFilter, $a: String) {
  tickets(first: 100, filters: $f, after: $a) { totalCount
    pageInfo { hasNextPage endCursor } edges { node { reference } } } }"""


def _graphql(user, token_for, filters=None):
    gql = Gql(Client(), token_for(user, "read"))
    refs, after, total = [], None, None
    while True:
        page = gql(COUNTED, {"f": filters, "a": after})["tickets"]
        total = page["totalCount"]
        refs += [edge["node"]["reference"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return total, refs
        after = page["pageInfo"]["endCursor"]


def _references(ids) -> set[str]:
    return set(Ticket.objects.filter(pk__in=ids).values_list("reference", flat=True))


def _surfaces_agree(users, token_for):
    for name, user in users.items():
        user = get_user_model().objects.get(pk=user.pk)
        expected = rule(user)
        if user.is_active:
            for filters, narrowed in (
                (None, expected),
                ({"queue": "billing"}, expected & _ids(queue__slug="billing")),
                ({"organization": "acme"}, expected & _ids(organization__slug="acme")),
            ):
                total, refs = _graphql(user, token_for, filters)
                assert total == len(narrowed) == len(refs), (name, filters)
                assert set(refs) == _references(narrowed), (name, filters)
        if user.is_active and not roles.is_staff_member(user):
            client = Client()
            client.force_login(user)
            response = client.get("/portal/tickets/", {"status": "all"})
            page = response.context["page_obj"]
            assert page.paginator.count == len(expected), name
            assert {t.pk for t in page.object_list} == expected, name


def _ids(**filters) -> set[int]:
    return set(Ticket.objects.filter(**filters).values_list("pk", flat=True))


def test_the_surfaces_count_and_list_the_rule_and_its_denied_twins(town, token_for):
    users, tickets = town["users"], town["tickets"]
    users = {name: users[name] for name in users if name != "deactivated"}
    _surfaces_agree(users, token_for)
    users["agent_support"].groups.remove(town["queues"]["support"].agent_group)
    remove_perm("tickets.view_ticket", users["granted"], tickets["acme1", "billing"])
    remove_perm("tickets.view_ticket", town["reviewers"], tickets["globex1", "sales"])
    services.move_queue(
        town["supervisor"], tickets["private1", "support"], town["queues"]["billing"]
    )
    acme = town["orgs"]["acme"]
    acme.ticket_sharing = TicketSharing.NONE
    acme.save()
    services.apply_organization_sharing(acme)
    _surfaces_agree(users, token_for)
    assert rule(users["acme2"]) == {
        t.pk for (n, _q), t in tickets.items() if n == "acme2"
    }


PAGED = """query($f: TicketFilter, $o: TicketOrder, $n: Int, $l: Int, $a: String,
  $b: String) { tickets(first: $n, last: $l, after: $a, before: $b, filters: $f,
  ordering: $o) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor
  endCursor } edges { cursor node { reference subject status requester { email }
  comments { body } } } } }"""

ORDERS = [
    None,
    {"field": "UPDATED_AT", "direction": "ASC"},
    {"field": "PRIORITY", "direction": "DESC"},
]


def _walk(gql, filters, order, size):
    """Every page forward, then back from the end, as the responses' JSON."""
    pages, after = [], None
    while True:
        page = gql(PAGED, {"f": filters, "o": order, "n": size, "a": after})
        pages.append(page)
        info = page["tickets"]["pageInfo"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    before = None
    while True:
        page = gql(PAGED, {"f": filters, "o": order, "l": size, "b": before})
        pages.append(page)
        info = page["tickets"]["pageInfo"]
        if not info["hasPreviousPage"]:
            break
        before = info["startCursor"]
    return pages


def test_a_customers_pages_read_ids_first_answer_as_the_plain_slice(
    town, token_for, monkeypatch
):
    """The ids-first slice (``_IdsFirst``) against Django's own slicing of the same
    query: every page of every ordering, forward and back, for customers of each
    kind of organization; and the denied twin (sharing off) on both."""
    from django.db.models import QuerySet

    from graphql_api.tickets import schema

    tickets = town["tickets"]
    services.change_status(town["supervisor"], tickets["acme1", "billing"], "open")
    services.reply(town["users"]["acme1"], tickets["acme1", "sales"], body="Hello")
    callers = ("acme2", "globex1", "loner", "outsider")

    def responses():
        found = {}
        for name in callers:
            gql = Gql(Client(), token_for(town["users"][name], "read"))
            for filters in (None, {"status": ["OPEN"]}, {"search": "laptop"}):
                for order in ORDERS:
                    for size in (1, 4):
                        key = (name, str(filters), str(order), size)
                        found[key] = _walk(gql, filters, order, size)
        return found

    def twice():
        fast = responses()
        with monkeypatch.context() as patched:
            patched.setattr(schema._IdsFirst, "__getitem__", QuerySet.__getitem__)
            plain = responses()
        assert fast == plain
        return fast

    before = twice()
    assert len(before[("acme2", "None", "None", 1)]) == 2 * 6  # six pages each way
    acme = town["orgs"]["acme"]
    acme.ticket_sharing = TicketSharing.NONE
    acme.save()
    services.apply_organization_sharing(acme)
    after = twice()
    assert len(after[("acme2", "None", "None", 1)]) == 2 * 3  # their own only


def test_ids_first_slices_are_the_plain_slices(town):
    from graphql_api.tickets import schema

    user = town["users"]["acme2"]
    plain = permissions.visible_tickets(user).order_by("-created_at", "-pk")
    fast = schema._IdsFirst(model=Ticket, query=plain.query.chain())
    n = plain.count()
    assert n == 6
    for start in range(n + 2):
        for stop in range(start, n + 3):
            assert list(fast[start:stop]) == list(plain[start:stop]), (start, stop)
            assert list(fast.reverse()[start:stop]) == list(plain.reverse()[start:stop])
        assert list(fast[start:]) == list(plain[start:])
    assert fast[2] == plain[2]
