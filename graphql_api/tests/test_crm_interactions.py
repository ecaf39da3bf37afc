"""The ``interactions`` connection: what each caller sees (``crm.permissions``),
newest first, its filters, paging, and a query count that does not grow with the
page. The scene is ``test_crm``'s: Acme's ticket is in Support (``agent``), Globex's
in Billing (``billing``)."""

# ruff: noqa: F811 - fixtures imported from test_crm are used as arguments

from datetime import timedelta

import pytest

from crm.models import Interaction

from .test_crm import caller, now, world  # noqa: F401 - fixtures

INTERACTIONS = """query($f: InteractionFilter, $first: Int, $after: String) {
  interactions(filters: $f, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id kind subject summary happenedAt author { email }
      organization { slug } contact { email jobTitle } ticket { reference } } }
  }
}"""


def subjects(data) -> list[str]:
    return [edge["node"]["subject"] for edge in data["interactions"]["edges"]]


@pytest.fixture
def log(world, now):
    supervisor = world["users"]["supervisor"]

    def _log(subject, days_ago=0, **fields):
        fields.setdefault("kind", "call")
        fields.setdefault("author", supervisor)
        return Interaction.objects.create(
            subject=subject, happened_at=now - timedelta(days=days_ago), **fields
        )

    return _log


@pytest.fixture
def logged(world, log):
    """Acme: a call (3 days ago) with Alice about the ticket, a meeting (1 day ago);
    Globex: an email (2 days ago) about its ticket."""
    alice = world["users"]["alice"]
    log(
        "acme call",
        3,
        organization=world["acme"],
        contact=alice,
        ticket=world["acme_ticket"],
    )
    log("acme meeting", 1, kind="meeting", organization=world["acme"])
    log(
        "globex email",
        2,
        kind="email",
        organization=world["globex"],
        ticket=world["globex_ticket"],
    )


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("supervisor", ["acme meeting", "globex email", "acme call"]),
        ("viewer", ["acme meeting", "globex email", "acme call"]),
        ("agent", ["acme meeting", "acme call"]),
        ("billing", ["globex email"]),
        ("alice", []),
        ("anonymous", []),
    ],
)
def test_interactions_follow_the_policy_newest_first(logged, caller, role, expected):
    data = caller(role)(INTERACTIONS)
    assert subjects(data) == expected
    assert data["interactions"]["totalCount"] == len(expected)


def test_read_only_token_reads_interactions(logged, caller):
    data = caller("agent", scopes="read")(INTERACTIONS)
    assert subjects(data) == ["acme meeting", "acme call"]


def test_interaction_fields(world, logged, caller, now):
    node = caller("agent")(INTERACTIONS)["interactions"]["edges"][1]["node"]
    call = Interaction.objects.get(subject="acme call")
    assert node == {
        "id": node["id"],
        "kind": "CALL",
        "subject": "acme call",
        "summary": "",
        "happenedAt": call.happened_at.isoformat(),
        "author": {"email": "supervisor@example.com"},
        "organization": {"slug": "acme"},
        "contact": {"email": "alice@acme.example", "jobTitle": ""},
        "ticket": {"reference": world["acme_ticket"].reference},
    }


def test_an_agents_own_interaction_hides_a_ticket_of_another_queue(world, log, caller):
    """The agent logged it (so sees it); the ticket stays Billing's, and filtering by
    its reference finds nothing, like a missing ticket."""
    log(
        "about globex",
        author=world["users"]["agent"],
        organization=world["globex"],
        ticket=world["globex_ticket"],
    )
    gql = caller("agent")
    node = gql(INTERACTIONS)["interactions"]["edges"][0]["node"]
    assert (node["subject"], node["ticket"]) == ("about globex", None)
    reference = world["globex_ticket"].reference
    assert subjects(gql(INTERACTIONS, {"f": {"ticket": reference}})) == []
    billing = caller("billing")(INTERACTIONS, {"f": {"ticket": reference}})
    assert subjects(billing) == ["about globex"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"organization": "acme"}, ["acme meeting", "acme call"]),
        ({"organization": "globex"}, ["globex email"]),
        ({"organization": "nope"}, []),
        ({"contact": "ALICE@acme.example"}, ["acme call"]),
        ({"contact": "nobody@example.com"}, []),
        ({"ticket": "acme_ticket"}, ["acme call"]),
        ({"ticket": "HD-999999"}, []),
        ({"kind": ["MEETING", "EMAIL"]}, ["acme meeting", "globex email"]),
        ({"kind": ["NOTE"]}, []),
        ({"organization": "acme", "kind": ["CALL"]}, ["acme call"]),
    ],
)
def test_interaction_filters(world, logged, caller, filters, expected):
    if filters.get("ticket") == "acme_ticket":
        filters = {"ticket": world["acme_ticket"].reference.lower()}
    data = caller("supervisor")(INTERACTIONS, {"f": filters})
    assert subjects(data) == expected
    assert data["interactions"]["totalCount"] == len(expected)


def test_bad_filter_values_are_typed_errors(world, caller):
    errors = caller("supervisor").errors(
        INTERACTIONS, {"f": {"organization": "not a slug"}}
    )
    assert errors[0]["extensions"]["code"] == "INVALID_INPUT"


def test_interactions_page_newest_first(world, log, caller):
    for day in range(5):
        log(f"day {day}", day, organization=world["acme"])
    log("same time a", 2, organization=world["acme"])
    gql = caller("agent")
    seen, after = [], None
    while True:
        page = gql(INTERACTIONS, {"first": 2, "after": after})["interactions"]
        seen += [edge["node"]["subject"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == subjects(gql(INTERACTIONS))
    assert seen == ["day 0", "day 1", "same time a", "day 2", "day 3", "day 4"]


def test_interactions_page_size_is_capped_and_cursors_checked(world, caller):
    gql = caller("agent")
    assert gql.errors(INTERACTIONS, {"first": 101})[0]["extensions"]["code"] == (
        "PAGE_SIZE"
    )
    errors = gql.errors(INTERACTIONS, {"after": "bogus"})
    assert errors[0]["extensions"]["code"] == "BAD_CURSOR"


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_interactions_query_count_does_not_grow_with_the_page(
    world, log, caller, django_assert_max_num_queries, role
):
    def run():
        with django_assert_max_num_queries(12) as captured:
            data = caller(role)(INTERACTIONS, {"first": 50})
        return len(subjects(data)), len(captured)

    def log_one(i):
        log(
            f"i{i}",
            i,
            organization=world["acme"],
            contact=world["users"]["alice"],
            ticket=world["acme_ticket"],
            author=world["users"]["agent"],
        )

    log_one(0)
    one = run()
    for i in range(1, 30):
        log_one(i)
    thirty = run()
    assert (one[0], thirty[0]) == (1, 30)
    assert one[1] == thirty[1]
