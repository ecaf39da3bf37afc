"""Whether a customer works a queue, decided before their visible tickets' query is
built (``permissions.works_a_queue``, bench FINDINGS P-6): a customer in no queue's
agent group gets a statement with no worked-queue branch; one in an agent group sees
its queue's tickets on every surface (the portal list past its kept pages, its
search, GraphQL's pages and counts), and no longer once they leave it; the denied
twin (a colleague in no agent group) never does. The agent groups' names follow every
save of a queue or a group, once it commits; undecided, the worked queues are stated
in SQL as before."""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts import roles
from accounts.tokens import create_token
from tickets import permissions
from tickets.models import Ticket
from tickets.portal import queries

from .factories import GroupFactory, QueueFactory, TicketFactory
from .portal_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

PER_PAGE = 2
SUPPORT_TICKETS = 14  # 7 pages of 2: page 6 is past the kept pages


@pytest.fixture(autouse=True)
def kept(settings):
    settings.AGENT_GROUPS_CACHE = True  # as with Redis (one process here)
    cache.clear()
    permissions._kept_agent_groups.forget()
    yield
    cache.clear()
    permissions._kept_agent_groups.forget()


def committed():
    """What the commit of the test's changes does: the agent groups' generation
    renewed (the tests run in one transaction, which never commits)."""
    permissions._agent_groups.renew()


@pytest.fixture
def town(alice, queue, other_queue, carol, dave):
    support = [
        TicketFactory(requester=alice, queue=queue, subject=f"Printer {n}")
        for n in range(SUPPORT_TICKETS)
    ]
    own = TicketFactory(requester=carol, queue=other_queue, subject="Globex printer")
    TicketFactory(requester=alice, queue=other_queue, subject="Billing printer")
    committed()
    return {"support": support, "own": own}


def fresh(user):
    """The user as a request reads them: their group names read with them
    (``accounts.session_user``)."""
    return roles.with_role_names(get_user_model().objects.filter(pk=user.pk))[0]


def expected(user) -> list[int]:
    """The rule, from first principles: the user's own tickets and, while they are in
    its agent group, the support queue's; newest first."""
    user = fresh(user)
    worked = Ticket.objects.filter(queue__agent_group__user=user)
    ids = set(worked.values_list("pk", flat=True))
    ids |= set(Ticket.objects.filter(requester=user).values_list("pk", flat=True))
    return list(
        Ticket.objects.filter(pk__in=ids)
        .order_by("-updated_at", "-pk")
        .values_list("pk", flat=True)
    )


COUNTED = """query($f: TicketFilter, $a: String) {
  tickets(first: 5, filters: $f, after: $a) { totalCount
    pageInfo { hasNextPage endCursor } edges { node { reference } } } }"""


@pytest.fixture
def token_for():
    return lambda user: create_token(user, name="test", scopes="read").secret


def graphql(user, token_for, filters=None) -> tuple[int, list[str]]:
    client, secret = Client(), token_for(user)
    refs, after = [], None
    while True:
        response = client.post(
            "/graphql/",
            {"query": COUNTED, "variables": {"f": filters, "a": after}},
            content_type="application/json",
            headers={"Authorization": f"Bearer {secret}"},
        )
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        page = body["data"]["tickets"]
        refs += [edge["node"]["reference"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return page["totalCount"], refs
        after = page["pageInfo"]["endCursor"]


def references(ids) -> list[str]:
    by_id = dict(Ticket.objects.filter(pk__in=ids).values_list("pk", "reference"))
    return [by_id[pk] for pk in ids]


def surfaces(user, token_for, monkeypatch) -> dict:
    """What each surface shows ``user``: the portal list's sixth page (not kept), its
    search, GraphQL's pages whole and narrowed with their counts."""
    monkeypatch.setattr("tickets.portal.views.PER_PAGE", PER_PAGE)
    client = Client()
    client.force_login(user)
    page = client.get("/portal/tickets/", {"status": "all", "page": 6})
    found = client.get("/portal/tickets/", {"status": "all", "q": "printer", "page": 6})
    return {
        "page 6": (
            page.context["page_obj"].number,
            page.context["page_obj"].paginator.count,
            [t.pk for t in page.context["tickets"]],
        ),
        "search": (
            found.context["page_obj"].number,
            found.context["page_obj"].paginator.count,
            [t.pk for t in found.context["tickets"]],
        ),
        "graphql": graphql(user, token_for),
        "graphql billing": graphql(user, token_for, {"queue": "billing"}),
    }


def shown(user, tickets_in_support: bool) -> dict:
    """``surfaces`` as the rule says they must be."""
    ids = expected(user)
    pages = max(1, -(-len(ids) // PER_PAGE))
    number = min(6, pages)
    page_ids = ids[(number - 1) * PER_PAGE : number * PER_PAGE]
    billing = [pk for pk in ids if Ticket.objects.get(pk=pk).queue.slug == "billing"]
    assert tickets_in_support == (len(ids) > len(billing))
    return {
        "page 6": (number, len(ids), page_ids),
        "search": (number, len(ids), page_ids),  # every ticket says "printer"
        "graphql": (len(ids), references(ids)),
        "graphql billing": (len(billing), references(billing)),
    }


def test_a_customer_in_a_queues_agent_group_sees_it_everywhere_until_they_leave(
    town, carol, dave, queue, token_for, monkeypatch
):
    carol.groups.add(queue.agent_group)
    assert permissions.works_a_queue(fresh(carol)) is True
    in_group = surfaces(carol, token_for, monkeypatch)
    assert in_group == shown(carol, tickets_in_support=True)
    assert in_group["page 6"][1] == SUPPORT_TICKETS + 1
    assert len(in_group["page 6"][2]) == PER_PAGE  # a full page past the kept ones
    # The denied twin: Carol's colleague, in no agent group, sees only his own (none).
    assert permissions.works_a_queue(fresh(dave)) is False
    assert surfaces(dave, token_for, monkeypatch) == {
        "page 6": (1, 0, []),
        "search": (1, 0, []),
        "graphql": (0, []),
        "graphql billing": (0, []),
    }
    carol.groups.remove(queue.agent_group)  # no queue or group saved: no renewal
    assert permissions.works_a_queue(fresh(carol)) is False
    left = surfaces(carol, token_for, monkeypatch)
    assert left == shown(carol, tickets_in_support=False)
    assert left["page 6"] == (1, 1, [town["own"].pk])
    assert left["graphql billing"] == (1, [town["own"].reference])


def test_the_statement_has_a_worked_queue_branch_only_for_who_works_one(
    town, carol, dave, queue
):
    carol.groups.add(queue.agent_group)
    worked = 'FROM "tickets_queue"'
    assert worked in str(permissions.visible_tickets(fresh(carol)).query)
    assert worked not in str(permissions.visible_tickets(fresh(dave)).query)
    for user, works in ((carol, True), (dave, False)):
        user = fresh(user)
        ids = set(expected(user))
        narrowed = Ticket.objects.filter(subject__startswith="Printer")
        assert permissions.count_visible(user) == len(ids)
        assert permissions.count_visible_up_to(user, None, 100) == len(ids)
        assert permissions.count_visible_up_to(user, None, 3) == min(3, len(ids))
        assert permissions.count_visible(user, narrowed) == (
            SUPPORT_TICKETS if works else 0
        )
        kept = queries._kept_ids("all", "all", "-updated", 1, 20)
        assert kept._kind(user, "customer") == (
            "customer-queues" if works else "customer-rows"
        )
        assert [t.pk for t in kept.instances(user)] == expected(user)[:20]


def test_the_kept_first_pages_are_the_plain_pages_either_way(
    town, carol, dave, queue, settings
):
    carol.groups.add(queue.agent_group)
    filters = [
        {"status": status, "scope": scope, "order": order, "q": ""}
        for status in ("open", "all")
        for scope in ("all", "mine", "organization")
        for order in ("-updated", "priority")
    ]

    def pages(user):
        user = fresh(user)
        return [
            [t.pk for t in queries.ticket_list_page(user, f, n, 4).object_list]
            + [queries.ticket_list_page(user, f, n, 4).paginator.count]
            for f in filters
            for n in (1, 2, 5)
        ]

    gated = {name: pages(user) for name, user in (("carol", carol), ("dave", dave))}
    settings.AGENT_GROUPS_CACHE = False  # undecided: both arms, gated in SQL
    assert permissions.works_a_queue(fresh(carol)) is None
    assert gated == {"carol": pages(carol), "dave": pages(dave)}


def test_a_request_reads_the_agent_groups_once_per_generation(
    town, carol, dave, monkeypatch
):
    permissions.works_a_queue(fresh(dave))  # read and kept
    dave = fresh(dave)
    asked = []
    kept_names = permissions._agent_group_names
    monkeypatch.setattr(
        permissions, "_agent_group_names", lambda: asked.append(1) or kept_names()
    )
    with CaptureQueriesContext(connection) as read:
        assert permissions.works_a_queue(dave) is False
        permissions.count_visible(dave)
        permissions.count_visible_up_to(dave, Ticket.objects.filter(priority="low"), 5)
    assert len(read.captured_queries) == 2  # the counts only
    assert asked == [1]  # the generation read once for the instance
    roles.remember(dave, '["Customers"]')  # its groups read again: decided again
    assert permissions.works_a_queue(dave) is False
    assert asked == [1, 1]


def test_a_group_made_a_queues_agent_group_counts_once_committed(town, dave):
    reviewers = GroupFactory(name="Reviewers")
    dave.groups.add(reviewers)
    committed()
    assert permissions.works_a_queue(fresh(dave)) is False
    sales = QueueFactory(slug="sales", name="Sales", agent_group=reviewers)
    ticket = TicketFactory(requester=town["own"].requester, queue=sales)
    # Until the queue's transaction commits: undecided, the queues stated in SQL.
    assert permissions.works_a_queue(fresh(dave)) is None
    assert list(permissions.visible_tickets(fresh(dave))) == [ticket]
    committed()
    assert permissions.works_a_queue(fresh(dave)) is True
    assert list(permissions.visible_tickets(fresh(dave))) == [ticket]
    reviewers.name = "Sales agents"  # a rename: the kept names follow
    reviewers.save()
    committed()
    assert permissions.works_a_queue(fresh(dave)) is True
    assert permissions.count_visible(fresh(dave)) == 1
    sales.agent_group = GroupFactory(name="Sales team")  # the twin: no longer
    sales.save()
    committed()
    assert permissions.works_a_queue(fresh(dave)) is False
    assert permissions.count_visible(fresh(dave)) == 0


def test_undecided_without_a_shared_cache(town, carol, queue, settings):
    settings.AGENT_GROUPS_CACHE = None  # the default: only with a shared cache
    carol.groups.add(queue.agent_group)
    assert permissions.works_a_queue(fresh(carol)) is None
    assert permissions.count_visible(fresh(carol)) == SUPPORT_TICKETS + 1
    assert 'FROM "tickets_queue"' in str(permissions.visible_tickets(carol).query)
