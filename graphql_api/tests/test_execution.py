"""``graphql_api.execution``: the columns read without graphql-core's per-field path
answer exactly as that path does (data, errors, key order), for every kind of
caller; a person's address is shown and hidden by its owner's rule there too; and
``graphql_api.pagination`` signs only the cursors something reads."""

from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db.models import Prefetch
from graphql import parse
from strawberry_django.optimizer import mark_optimized_by_prefetching

from accounts.models import TicketSharing
from graphql_api import execution
from graphql_api.cursors import CursorCodec
from graphql_api.schema import schema
from tickets import services
from tickets.models import Comment, Ticket
from tickets.tests.factories import TicketFactory

from .test_tickets import client_for, share, world  # noqa: F401

BENCH_LIST = (Path(settings.BASE_DIR) / "bench/graphql/tickets.graphql").read_text()

WHOLE = """query W($first: Int, $after: String) {
  tickets(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node {
      id reference subject description status priority category createdAt
      updatedAt firstResponseDueAt resolutionDueAt resolvedAt closedAt
      satisfactionRating queue { name slug } organization { name slug }
      requester { email displayName } assignee { email }
      comments { body isInternal createdAt author { email displayName }
                 attachments { filename size contentType createdAt } }
      events { kind oldValue newValue createdAt actor { email } }
      tags watchers { email } __typename
    } }
  }
}"""

ALIASES = """{ tickets(first: 3) {
  edges { node { ...T s: subject r: requester { e: email } subject } }
} }
fragment T on Ticket { reference subject ... on Ticket { status priority } }"""

ONE = """query O($r: String!) { ticket(reference: $r) {
  reference subject status requester { email } comments { body author { email } }
} }"""

CALLERS = [
    "anonymous",
    "requester",
    "colleague",
    "other_org_customer",
    "queue_agent",
    "other_queue_agent",
    "supervisor",
    "viewer",
]


@pytest.fixture
def busy(world):  # noqa: F811
    """The world with an agent's public reply, sharing on and a colleague's reply."""
    ticket = world["ticket"]
    services.reply(world["agent"], ticket, body="Agent reply")
    share(world, TicketSharing.READ_WRITE)
    services.reply(world["users"]["colleague"], ticket, body="Colleague reply")
    return world


def _graphql_cores_path(monkeypatch):
    monkeypatch.setattr(execution.Executor, "reading", False)


def _responses(place, token_for, caller):
    gql = client_for(place["users"][caller], token_for)
    reference = place["ticket"].reference
    out = []
    for document, variables in (
        (BENCH_LIST, {"first": 100}),
        (WHOLE, {"first": 10}),
        (WHOLE, {"first": 1}),
        (ALIASES, {}),
        (ONE, {"r": reference}),
        (ONE, {"r": "NOPE-1"}),
    ):
        response = gql.post(document, variables)
        out.append((response.status_code, response.content))
    first = gql.post(WHOLE, {"first": 1}).json()
    end = ((first.get("data") or {}).get("tickets") or {}).get("pageInfo", {})
    if end.get("endCursor"):
        response = gql.post(WHOLE, {"first": 5, "after": end["endCursor"]})
        out.append((response.status_code, response.content))
    return out


@pytest.mark.parametrize("caller", CALLERS)
def test_read_fields_answer_byte_for_byte_as_graphql_core(
    busy, token_for, monkeypatch, caller
):
    read = _responses(busy, token_for, caller)
    with monkeypatch.context() as patched:
        _graphql_cores_path(patched)
        assert _responses(busy, token_for, caller) == read


def test_the_oracle_sees_a_difference(busy, token_for, monkeypatch):
    """The comparison above fails when a read field answers otherwise."""
    read = _responses(busy, token_for, "queue_agent")
    with monkeypatch.context() as patched:
        patched.setattr(
            execution, "_column_reader", lambda field: lambda row, caller: "x"
        )
        assert _responses(busy, token_for, "queue_agent") != read


def test_addresses_follow_the_owners_rule_and_its_denied_twin(busy, token_for):
    """Read without strawberry's resolver, an address is still the caller's to see
    or not (``tickets.permissions.address_visible_to``): a customer reads their own,
    not the agent's or a colleague's; the queue's agent reads all."""
    reference = busy["ticket"].reference

    def authors(caller):
        gql = client_for(busy["users"][caller], token_for)
        data = gql(ONE, {"r": reference})["ticket"]
        return data["requester"]["email"], [
            (c["body"], c["author"]["email"]) for c in data["comments"]
        ]

    assert authors("requester") == (
        "alice@acme.example",
        [
            ("Public", "alice@acme.example"),
            ("Agent reply", None),
            ("Colleague reply", None),
        ],
    )
    assert authors("colleague") == (
        None,
        [
            ("Public", None),
            ("Agent reply", None),
            ("Colleague reply", "bob@acme.example"),
        ],
    )
    assert authors("queue_agent") == (
        "alice@acme.example",
        [
            ("Public", "alice@acme.example"),
            ("Secret", "agent@example.com"),
            ("Agent reply", "agent@example.com"),
            ("Colleague reply", "bob@acme.example"),
        ],
    )
    assert client_for(busy["users"]["other_org_customer"], token_for)(
        ONE, {"r": reference}
    ) == {"ticket": None}


def test_a_value_the_type_refuses_is_graphql_cores_error(busy, token_for, monkeypatch):
    Ticket.objects.filter(pk=busy["ticket"].pk).update(status="bogus")
    gql = client_for(busy["agent"], token_for)
    read = gql.post(BENCH_LIST, {"first": 100}).content
    with monkeypatch.context() as patched:
        _graphql_cores_path(patched)
        assert gql.post(BENCH_LIST, {"first": 100}).content == read
    errors = gql.post(BENCH_LIST, {"first": 100}).json()["errors"]
    assert [error["path"] for error in errors] == [
        ["tickets", "edges", 0, "node", "status"]
    ]


def _field(parent: str, name: str):
    node = parse(f"{{ {name} }}").definitions[0].selection_set.selections[0]
    return schema._schema.type_map[parent], [SimpleNamespace(node=node)]


def _reading(user):
    """An executor of the schema for ``user``, only for ``_read``."""
    executor = execution.Executor.__new__(execution.Executor)
    executor._readers, executor._caller = {}, execution._NOT_READ
    executor.context_value = SimpleNamespace(user=user)
    return executor


def test_a_column_not_loaded_or_null_where_it_may_not_be_takes_graphql_cores_path(
    busy,
):
    """Deferred columns and relations not joined are loaded by the field's own
    ``get_result``, and a null in a non-null field is graphql-core's error: none of
    them is read."""
    executor = _reading(busy["agent"])
    read = type(executor)._read
    ticket = Ticket.objects.get(pk=busy["ticket"].pk)
    assert read(executor, *_field("Ticket", "subject"), ticket) == "Sync stopped"
    assert read(executor, *_field("Ticket", "status"), ticket) == "OPEN"
    deferred = Ticket.objects.only("pk").get(pk=ticket.pk)
    assert read(executor, *_field("Ticket", "subject"), deferred) is execution._NOT_READ
    ticket.subject = None
    assert read(executor, *_field("Ticket", "subject"), ticket) is execution._NOT_READ
    ticket.resolved_at = None  # nullable: read as null
    assert read(executor, *_field("Ticket", "resolvedAt"), ticket) is None
    # not a ticket row, a relation, a resolver, a list: not read
    assert read(executor, *_field("Ticket", "subject"), object()) is execution._NOT_READ
    for name in ("requester", "tags", "comments", "id", "__typename"):
        assert read(executor, *_field("Ticket", name), ticket) is execution._NOT_READ
    # a relation is read where the row holds it (select_related)
    joined = Ticket.objects.select_related("requester").get(pk=ticket.pk)
    assert read(executor, *_field("Ticket", "requester"), joined) == joined.requester
    assert read(executor, *_field("Ticket", "assignee"), joined) is execution._NOT_READ


def test_cursors_are_signed_only_when_read(busy, token_for, monkeypatch):
    for n in range(3):
        services.reply(busy["agent"], busy["ticket"], body=f"more {n}")
    for _ in range(4):
        TicketFactory(requester=busy["users"]["requester"], queue=busy["queue"])
    signed = []
    encode = CursorCodec.encode

    def counting(self, row):
        signed.append(row.pk)
        return encode(self, row)

    monkeypatch.setattr(CursorCodec, "encode", counting)
    gql = client_for(busy["agent"], token_for)
    gql("{ tickets(first: 5) { edges { node { reference } } } }")
    assert len(signed) == 2  # pageInfo's start and end, built with the page
    signed.clear()
    data = gql(
        "{ tickets(first: 5) { pageInfo { startCursor endCursor } edges { cursor } } }"
    )["tickets"]
    cursors = [edge["cursor"] for edge in data["edges"]]
    assert len(signed) == 5 and len(set(cursors)) == 5  # each signed once
    assert (data["pageInfo"]["startCursor"], data["pageInfo"]["endCursor"]) == (
        cursors[0],
        cursors[-1],
    )


def test_the_reference_path_reads_nothing(busy, token_for, monkeypatch):
    """With ``reading`` off (the reference of the comparisons above) no field is read
    and every object goes through graphql-core's ``complete_value`` dispatch (its
    ``complete_object_value``); with it on, fields are read and objects go straight
    to their sub-selection."""
    seen = {"read": 0, "dispatched": 0}
    read_with = execution.Executor._read_with
    complete_object = execution.Executor.complete_object_value

    def counting_read(self, *args):
        seen["read"] += 1
        return read_with(self, *args)

    def counting_object(self, *args):
        seen["dispatched"] += 1
        return complete_object(self, *args)

    monkeypatch.setattr(execution.Executor, "_read_with", counting_read)
    monkeypatch.setattr(execution.Executor, "complete_object_value", counting_object)
    gql = client_for(busy["agent"], token_for)
    gql(BENCH_LIST, {"first": 100})
    assert seen["read"] > 0 and seen["dispatched"] == 0
    with monkeypatch.context() as patched:
        _graphql_cores_path(patched)
        seen["read"] = 0
        gql(BENCH_LIST, {"first": 100})
        assert seen["read"] == 0 and seen["dispatched"] > 0


def test_a_list_is_read_only_from_the_optimizers_prefetch(busy):
    """``comments`` is read where the optimizer prefetched it (a queryset marked
    optimized by prefetching and evaluated: its type's ``get_queryset`` already
    applied); a plain prefetch, an unevaluated one or none takes the field's own
    path, which applies the visibility filter."""
    executor = _reading(busy["agent"])
    read = type(executor)._read
    pk = busy["ticket"].pk
    plain = Ticket.objects.prefetch_related("comments").get(pk=pk)
    assert read(executor, *_field("Ticket", "comments"), plain) is execution._NOT_READ
    public = mark_optimized_by_prefetching(Comment.objects.filter(is_internal=False))
    optimized = Ticket.objects.prefetch_related(
        Prefetch("comments", queryset=public)
    ).get(pk=pk)
    rows = read(executor, *_field("Ticket", "comments"), optimized)
    assert rows and rows == list(optimized.comments.all())
    assert [row.is_internal for row in rows] == [False] * len(rows)
    assert Comment.objects.filter(ticket_id=pk, is_internal=True).exists()
    optimized._prefetched_objects_cache["comments"]._result_cache = None
    assert read(executor, *_field("Ticket", "comments"), optimized) is (
        execution._NOT_READ
    )
    assert read(executor, *_field("Ticket", "tags"), optimized) is execution._NOT_READ
