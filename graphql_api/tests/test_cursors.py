"""Connection cursors: keyset paging that holds while tickets are filed and changed,
and BAD_CURSOR (never exception text) for every cursor the list did not issue."""

import base64
from collections import Counter

import pytest
from django.core import signing
from django.test import Client

from tickets import services
from tickets.models import Ticket
from tickets.tests.factories import (
    OrganizationFactory,
    QueueFactory,
    TicketFactory,
    make_agent,
    make_customer,
)

from .conftest import Gql

PAGE = """query($a: String, $b: String, $o: TicketOrder, $f: TicketFilter, $n: Int,
  $l: Int) {
  tickets(first: $n, last: $l, after: $a, before: $b, ordering: $o, filters: $f) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { reference status } } } }"""
PRIORITIES = ["low", "high", "medium", "critical", "low", "high", "medium"]


@pytest.fixture
def desk(db, token_for):
    queue = QueueFactory(slug="support", is_default=True)
    requester = make_customer(OrganizationFactory(slug="acme"))
    agent = make_agent(queue)
    tickets = [
        TicketFactory(requester=requester, queue=queue, priority=priority)
        for priority in PRIORITIES
    ]
    return {
        "queue": queue,
        "requester": requester,
        "agent": agent,
        "tickets": tickets,
        "gql": Gql(Client(), token_for(agent)),
    }


def refs(page):
    return [edge["node"]["reference"] for edge in page["edges"]]


def touch(desk, reference):
    """A change that bumps ``updated_at`` and nothing the other orderings use."""
    ticket = Ticket.objects.get(reference=reference)
    before = ticket.updated_at
    services.change_status(desk["agent"], ticket, "open")
    ticket.refresh_from_db()
    assert ticket.updated_at > before


# Between two pages an agent files a ticket that sorts before the cursor (the first
# priority of the ordering) and changes tickets already returned ("seen") and not
# yet returned ("unseen"): by UPDATED_AT a changed ticket moves, so only the side
# it moves away from is changed (see the next test for the other side).
@pytest.mark.parametrize(
    ("field", "direction", "new_priority", "changed"),
    [
        ("CREATED_AT", "DESC", "medium", {"seen", "unseen"}),
        ("UPDATED_AT", "DESC", "medium", {"seen"}),
        ("PRIORITY", "DESC", "critical", {"seen", "unseen"}),
        ("PRIORITY", "ASC", "low", {"seen", "unseen"}),
        ("REFERENCE", "DESC", "medium", {"seen", "unseen"}),
    ],
)
def test_paging_while_tickets_are_filed_and_changed_returns_each_ticket_once(
    desk, field, direction, new_priority, changed
):
    gql = desk["gql"]
    originals = [t.reference for t in desk["tickets"]]
    ordering = {"field": field, "direction": direction}
    seen, touched, filed, after = [], set(), [], None
    while True:
        page = gql(PAGE, {"a": after, "o": ordering, "n": 2})["tickets"]
        seen += refs(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        filed.append(
            TicketFactory(
                requester=desk["requester"], queue=desk["queue"], priority=new_priority
            ).reference
        )
        for side in sorted(changed):
            pool = [
                r
                for r in originals
                if (r in seen) == (side == "seen") and r not in touched
            ]
            if pool:
                touched.add(pool[0])
                touch(desk, pool[0])

    counts = Counter(seen)
    assert {r: counts[r] for r in originals} == dict.fromkeys(originals, 1)
    assert set(counts) - set(originals) <= set(filed)
    assert max(counts.values()) == 1
    assert touched  # the changes did happen while paging


def test_by_updated_at_ascending_a_ticket_changed_after_it_was_seen_comes_again(
    desk,
):
    """Ascending by UPDATED_AT, a change moves a ticket to the end of the list: it
    is returned there again, with its new state, and no other ticket repeats or is
    skipped (an offset would skip the ticket that slid into its place)."""
    gql = desk["gql"]
    ordering = {"field": "UPDATED_AT", "direction": "ASC"}
    first = gql(PAGE, {"o": ordering, "n": 3})["tickets"]
    changed = refs(first)[0]
    touch(desk, changed)
    rest, after = [], first["pageInfo"]["endCursor"]
    while after:
        page = gql(PAGE, {"a": after, "o": ordering, "n": 3})["tickets"]
        rest += [(e["node"]["reference"], e["node"]["status"]) for e in page["edges"]]
        after = page["pageInfo"]["hasNextPage"] and page["pageInfo"]["endCursor"]

    originals = [t.reference for t in desk["tickets"]]
    assert refs(first) + [r for r, _ in rest[:-1]] == originals
    assert rest[-1] == (changed, "OPEN")


def test_backward_paging_walks_the_same_list_in_reverse(desk):
    gql = desk["gql"]
    ordering = {"field": "PRIORITY", "direction": "DESC"}
    forward = refs(gql(PAGE, {"o": ordering, "n": 100})["tickets"])
    assert len(forward) == 7

    backward, before = [], None
    while True:
        page = gql(PAGE, {"b": before, "o": ordering, "l": 3})["tickets"]
        backward = refs(page) + backward
        assert page["pageInfo"]["hasNextPage"] is (before is not None)
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert backward == forward


def test_a_cursor_pages_on_with_any_page_size_and_total_count_stays_whole(desk):
    gql = desk["gql"]
    first = gql(PAGE, {"n": 2})["tickets"]
    rest = gql(PAGE, {"n": 100, "a": first["pageInfo"]["endCursor"]})["tickets"]
    assert first["totalCount"] == rest["totalCount"] == 7
    assert len(refs(rest)) == 5
    assert rest["pageInfo"]["hasPreviousPage"] is True
    assert rest["pageInfo"]["hasNextPage"] is False
    # every edge's cursor continues after that edge
    first_edge = first["edges"][0]["cursor"]
    assert refs(gql(PAGE, {"n": 1, "a": first_edge})["tickets"]) == refs(first)[1:2]


# --- bad cursors ---------------------------------------------------------------------


def legacy(text: str) -> str:
    """A cursor as the API issued them before: base64 of a prefix and an offset."""
    return base64.b64encode(text.encode()).decode()


def tampered(cursor: str) -> str:
    payload, signature = cursor.rsplit(":", 1)
    data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    forged = data.replace(b'"p":[', b'"p":[1,', 1)
    return base64.urlsafe_b64encode(forged).decode().rstrip("=") + ":" + signature


NOT_A_CURSOR = "'{arg}' is not a valid cursor: use a cursor this list returned."
OTHER_LIST = (
    "'{arg}' is a cursor of another list: it belongs to other filters or another "
    "ordering. Page with the arguments that returned it, or start again from the "
    "first page."
)
OLD_VERSION = (
    "'{arg}' is a cursor from an earlier version of the API: start again from the "
    "first page."
)


def cursor_of(gql, **variables):
    return gql(PAGE, {"n": 1, **variables})["tickets"]["pageInfo"]["endCursor"]


@pytest.mark.parametrize(
    ("arg", "make", "message"),
    [
        ("after", lambda gql: "abc", NOT_A_CURSOR),  # was "Incorrect padding"
        ("after", lambda gql: legacy("arrayconnection:abc"), NOT_A_CURSOR),  # int()
        ("after", lambda gql: legacy("arrayconnection:" + "9" * 30), NOT_A_CURSOR),
        ("after", lambda gql: legacy("arrayconnection:2"), NOT_A_CURSOR),
        ("after", lambda gql: cursor_of(gql) * 60, NOT_A_CURSOR),
        ("before", lambda gql: legacy("arrayconnection:-5"), NOT_A_CURSOR),
        ("after", lambda gql: tampered(cursor_of(gql)), NOT_A_CURSOR),
        ("after", lambda gql: cursor_of(gql) + "x", NOT_A_CURSOR),
        (
            "after",
            lambda gql: cursor_of(gql, o={"field": "PRIORITY", "direction": "DESC"}),
            OTHER_LIST,
        ),
        ("after", lambda gql: cursor_of(gql, f={"priority": ["LOW"]}), OTHER_LIST),
        ("before", lambda gql: cursor_of(gql, f={"search": "Sync"}), OTHER_LIST),
        (
            "after",
            lambda gql: signing.Signer(salt="graphql_api.cursor").sign_object(
                {"v": 0, "p": [1]}
            ),
            OLD_VERSION,
        ),
    ],
    ids=[
        "garbage",
        "offset-not-a-number",
        "offset-oversized",
        "offset-cursor-of-the-old-api",
        "oversized",
        "negative-offset-before",
        "tampered-payload",
        "tampered-signature",
        "other-ordering",
        "other-filters",
        "other-search",
        "earlier-version",
    ],
)
def test_a_cursor_the_list_did_not_issue_is_bad_cursor(desk, arg, make, message):
    gql = desk["gql"]
    cursor = make(gql)
    response = gql.post(PAGE, {arg[0]: cursor, "n": 2})
    assert response.status_code == 200
    assert response.json() == {
        "data": None,
        "errors": [
            {
                "message": message.format(arg=arg),
                "locations": [{"line": 3, "column": 3}],
                "path": ["tickets"],
                "extensions": {"code": "BAD_CURSOR"},
            }
        ],
    }


def test_a_cursor_is_bound_to_its_connection(desk, make_article, anon):
    for title in ("Alpha", "Beta", "Gamma"):
        make_article(title)
    articles = anon("{ articles(first: 1) { pageInfo { endCursor } } }")
    article_cursor = articles["articles"]["pageInfo"]["endCursor"]
    gql = desk["gql"]
    [error] = gql.errors(PAGE, {"a": article_cursor})
    assert error["extensions"] == {"code": "BAD_CURSOR"}
    assert error["message"] == OTHER_LIST.format(arg="after")

    [error] = anon.errors(
        "query($a: String) { articles(after: $a) { totalCount } }",
        {"a": cursor_of(gql)},
    )
    assert error["extensions"] == {"code": "BAD_CURSOR"}

    search = """query($q: String!, $a: String) { searchArticles(query: $q, first: 1,
      after: $a) { pageInfo { endCursor } edges { node { title } } } }"""
    found = anon(search, {"q": "explained"})["searchArticles"]
    nxt = anon(search, {"q": "explained", "a": found["pageInfo"]["endCursor"]})
    assert nxt["searchArticles"]["edges"] != found["edges"]
    [error] = anon.errors(search, {"q": "alpha", "a": found["pageInfo"]["endCursor"]})
    assert error["extensions"] == {"code": "BAD_CURSOR"}


def test_articles_page_on_by_keyset(make_article, anon):
    for title in ("Delta", "Alpha", "Charlie"):
        make_article(title)
    query = """query($a: String) { articles(first: 2, after: $a) {
      pageInfo { hasNextPage endCursor } edges { node { title } } } }"""
    page = anon(query)["articles"]
    make_article("Bravo")  # sorts before the cursor: not returned, nothing repeats
    rest = anon(query, {"a": page["pageInfo"]["endCursor"]})["articles"]
    titles = [e["node"]["title"] for e in page["edges"] + rest["edges"]]
    assert titles == ["Alpha", "Charlie", "Delta"]


def test_a_cursor_holds_the_longest_non_ascii_title(make_article, anon):
    # JSON escapes each of these characters as six, the emoji as twelve
    long = "Ж" * 200 + "🔥" * 53
    for suffix in ("a", "b"):
        make_article(long + suffix, slug=f"long-{suffix}")
    query = """query($a: String) { articles(first: 1, after: $a) {
      pageInfo { endCursor } edges { node { title } } } }"""
    first = anon(query)["articles"]
    rest = anon(query, {"a": first["pageInfo"]["endCursor"]})["articles"]
    assert [e["node"]["title"] for e in first["edges"] + rest["edges"]] == [
        long + "a",
        long + "b",
    ]
