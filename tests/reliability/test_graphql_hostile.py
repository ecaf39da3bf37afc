"""Hostile requests to /graphql/: broken bodies, wrong types, empty and huge
references, huge pages, 10 MB fields, NUL bytes, and filing past the rate limit.

Each gets a 4xx or a typed GraphQL error / ``OperationInfo`` message, never a 500 or an
"Internal error.", and writes nothing. Run on PostgreSQL as well, which refuses NUL
characters in text.

Over 400 lines on purpose: a table of hostile inputs, each row with its exact refusal.
"""

import json

import pytest
from django.test import Client, override_settings

from accounts.tokens import create_token
from kb.models import ArticleFeedback
from tickets.models import Comment, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

TEN_MB = "x" * (10 * 1024 * 1024)
HUGE = "999999999999999999999"

CREATE = """mutation($i: CreateTicketInput!) { createTicket(input: $i) {
  __typename
  ... on Ticket { reference subject description }
  ... on OperationInfo { messages { kind field message } }
} }"""
COMMENT = """mutation($i: AddCommentInput!) { addComment(input: $i) {
  __typename
  ... on Comment { body }
  ... on OperationInfo { messages { kind field message } }
} }"""
TICKET = "query($r: String!) { ticket(reference: $r) { reference } }"
TICKETS = "query($n: Int, $s: String) { tickets(first: $n, filters: {search: $s}) { totalCount edges { node { reference } } } }"


def counts():
    return {
        "tickets": Ticket.objects.count(),
        "comments": Comment.objects.count(),
        "events": TicketEvent.objects.count(),
        "feedback": ArticleFeedback.objects.count(),
    }


@pytest.fixture
def api(alice):
    secret = create_token(alice, name="hostile", scopes="read,write").secret
    client = Client()

    def _post(body, *, raw=False, content_type="application/json"):
        data = body if raw else json.dumps(body)
        return client.post(
            "/graphql/",
            data=data,
            content_type=content_type,
            headers={"Authorization": f"Bearer {secret}"},
        )

    return _post


def no_internal_errors(body):
    for error in body.get("errors", []):
        assert error["message"] != "Internal error.", error


def resolver_error(body) -> dict:
    """The one error of a response whose resolver ran: it has a ``path`` and our
    ``extensions.code``. A document that fails validation (a misspelt field) or a
    variable that fails coercion gets neither, so a test of a resolver's refusal cannot
    pass on such an error."""
    [error] = body["errors"]
    assert "path" in error and "code" in error.get("extensions", {}), error
    return {
        "path": error["path"],
        "code": error["extensions"]["code"],
        "message": error["message"],
    }


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
        (b"", "application/json"),
        (b"42", "application/json"),
        (b'"query"', "application/json"),
        (b"null", "application/json"),
        (b'{"query": 42}', "application/json"),
        (b'{"query": "{ me { email } }", "variables": "nope"}', "application/json"),
        (b"[]", "application/json"),
        (b"query=%7B+me+%7D", "text/plain"),
    ],
)
def test_broken_bodies_are_a_400_with_a_json_message(api, stored, body, content_type):
    before = stored()
    response = api(body, raw=True, content_type=content_type)
    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["errors"][0]["message"]
    assert stored() == before


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (
            {"i": {"subject": 123, "description": "d"}},
            "Variable '$i' has invalid value at .subject: String cannot represent a "
            "non string value: 123",
        ),
        (
            {"i": {"subject": "s", "description": ["d"]}},
            "Variable '$i' has invalid value at .description: String cannot "
            "represent a non string value: ['d']",
        ),
        (
            {"i": {"subject": "s", "description": "d", "priority": "EXTREME"}},
            "Variable '$i' has invalid value at .priority: Value 'EXTREME' does not "
            "exist in 'TicketPriority' enum.",
        ),
        (
            {"i": {"subject": None, "description": "d"}},
            "Variable '$i' has invalid value at .subject: Expected value of non-null "
            "type 'String!' not to be None.",
        ),
        (
            {"i": "not an object"},
            "Variable '$i' has invalid value: Expected value of type "
            "'CreateTicketInput' to be an object, found: 'not an object'.",
        ),
        (
            {},
            "Variable '$i' has invalid value: Expected a value of non-null type "
            "'CreateTicketInput!' to be provided.",
        ),
    ],
)
def test_wrong_types_are_graphql_errors_and_file_nothing(
    api, queue, variables, message
):
    """Refused while coercing the variables (the intended path: the schema's types),
    each with the message naming the wrong value."""
    before = counts()
    response = api({"query": CREATE, "variables": variables})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert [e["message"] for e in body["errors"]] == [message]
    assert counts() == before


EMPTY_REFERENCE = "'reference' must not be empty."
LONG_REFERENCE = "'reference' must be at most 20 characters."


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("", EMPTY_REFERENCE),
        (" ", EMPTY_REFERENCE),
        ("\x00", EMPTY_REFERENCE),
        ("HD-" + HUGE, LONG_REFERENCE),
        ("x" * 100_000, LONG_REFERENCE),
        ("<script>", None),
        ("'; DROP TABLE x;--", None),
    ],
)
def test_empty_garbage_and_huge_references_find_nothing(
    api, ticket, reference, message
):
    """The resolver refuses empty and over-long references with a typed error, and
    looks up the others (finding nothing)."""
    response = api({"query": TICKET, "variables": {"r": reference}})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"ticket": None}
    if message is None:
        assert "errors" not in body
    else:
        assert resolver_error(body) == {
            "path": ["ticket"],
            "code": "INVALID_INPUT",
            "message": message,
        }


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("", EMPTY_REFERENCE),
        ("\x00", EMPTY_REFERENCE),
        ("HD-" + HUGE, LONG_REFERENCE),
        ("x" * 100_000, LONG_REFERENCE),
    ],
)
def test_commenting_on_a_garbage_reference_is_a_message_and_writes_nothing(
    api, ticket, reference, message
):
    before = counts()
    response = api(
        {
            "query": COMMENT.replace("kind field", "kind code field"),
            "variables": {"i": {"reference": reference, "body": "hi"}},
        }
    )
    body = response.json()
    assert "errors" not in body
    assert body["data"]["addComment"] == {
        "__typename": "OperationInfo",
        "messages": [
            {
                "kind": "VALIDATION",
                "code": "INVALID_INPUT",
                "field": "reference",
                "message": message,
            }
        ],
    }
    assert counts() == before


@pytest.mark.parametrize("first", [101, 1_000_000, -1])
def test_huge_or_negative_pages_are_refused_with_a_message(api, ticket, first):
    """The page cap refuses them (the resolver ran), not the query's validation."""
    response = api({"query": TICKETS, "variables": {"n": first}})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert resolver_error(body) == {
        "path": ["tickets"],
        "code": "PAGE_SIZE",
        "message": "'first' must be between 0 and 100.",
    }


@pytest.mark.parametrize(
    ("first", "reason"),
    [
        (2**31, "Int cannot represent non 32-bit signed integer value: 2147483648"),
        (HUGE, f"Int cannot represent non-integer value: '{HUGE}'"),
    ],
)
def test_pages_beyond_a_graphql_int_are_refused_by_the_types(
    api, ticket, first, reason
):
    response = api({"query": TICKETS, "variables": {"n": first}})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert [e["message"] for e in body["errors"]] == [
        f"Variable '$n' has invalid value: {reason}"
    ]


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("subject", "The subject is too long (at most 200 characters)."),
        ("description", "The description is too long (at most 50000 characters)."),
    ],
)
def test_a_10_mb_field_is_a_validation_message(api, queue, field, message):
    before = counts()
    variables = {"i": {"subject": "s", "description": "d", field: TEN_MB}}
    response = api({"query": CREATE, "variables": variables})
    assert response.status_code == 200
    payload = response.json()["data"]["createTicket"]
    assert payload["__typename"] == "OperationInfo"
    assert [m["kind"] for m in payload["messages"]] == ["VALIDATION"]
    assert payload["messages"][0]["field"] == field
    assert counts() == before


def test_a_10_mb_comment_is_a_validation_message(api, ticket):
    before = counts()
    response = api(
        {
            "query": COMMENT,
            "variables": {"i": {"reference": ticket.reference, "body": TEN_MB}},
        }
    )
    payload = response.json()["data"]["addComment"]
    assert payload["__typename"] == "OperationInfo"
    assert payload["messages"][0]["kind"] == "VALIDATION"
    assert counts() == before


def test_a_body_past_the_upload_limit_is_a_400(api, queue, settings):
    before = counts()
    big = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = api(
        {"query": CREATE, "variables": {"i": {"subject": "s", "description": big}}}
    )
    assert response.status_code == 400
    assert counts() == before


def test_nul_bytes_are_removed_not_fatal(api, ticket, queue):
    response = api(
        {
            "query": CREATE,
            "variables": {"i": {"subject": "Nul\x00 here", "description": "a\x00b"}},
        }
    )
    body = response.json()
    no_internal_errors(body)
    assert body["data"]["createTicket"] == {
        "__typename": "Ticket",
        "reference": "HD-000002",
        "subject": "Nul here",
        "description": "ab",
    }
    response = api(
        {
            "query": COMMENT,
            "variables": {"i": {"reference": ticket.reference, "body": "b\x00c"}},
        }
    )
    assert response.json()["data"]["addComment"] == {
        "__typename": "Comment",
        "body": "bc",
    }


@pytest.mark.parametrize(
    ("search", "message"),
    [
        ("\x00", "'search' must not be empty."),
        ("x" * 100_000, "'search' must be at most 200 characters."),
    ],
)
def test_nul_only_and_huge_search_filters_are_refused_by_the_resolver(
    api, ticket, search, message
):
    response = api({"query": TICKETS, "variables": {"n": 10, "s": search}})
    body = response.json()
    assert body["data"] is None
    assert resolver_error(body) == {
        "path": ["tickets"],
        "code": "INVALID_INPUT",
        "message": message,
    }


def test_a_nul_inside_a_search_filter_is_removed(api, ticket):
    """``lap\\x00top`` searches for "laptop" and finds the ticket."""
    response = api({"query": TICKETS, "variables": {"n": 10, "s": "lap\x00top"}})
    body = response.json()
    assert "errors" not in body
    assert body["data"]["tickets"] == {
        "totalCount": 1,
        "edges": [{"node": {"reference": ticket.reference}}],
    }


KB_SEARCH = """query($q: String!) { searchArticles(query: $q) {
  totalCount edges { node { title } } } }"""


def test_nul_in_a_kb_search_is_removed(api, make_article):
    """The search runs on the text without the NUL and finds the article (this test
    once selected a field the connection does not have, so its resolver never ran)."""
    make_article("Sync files")
    response = api({"query": KB_SEARCH, "variables": {"q": "sync\x00 files"}})
    body = response.json()
    assert "errors" not in body
    assert body["data"]["searchArticles"] == {
        "totalCount": 1,
        "edges": [{"node": {"title": "Sync files"}}],
    }


@override_settings(PORTAL_RATE_LIMITS={"ticket_create": "2/h"})
def test_filing_through_graphql_past_the_limit_is_rate_limited_with_the_delay(
    api, queue, alice
):
    from django.test import Client as PortalClient

    portal = PortalClient()
    portal.force_login(alice)
    assert (
        portal.post(
            "/portal/tickets/new/",
            {
                "subject": "From the portal",
                "description": "d",
                "category": "other",
                "priority": "low",
            },
        ).status_code
        == 302
    )
    first = api(
        {"query": CREATE, "variables": {"i": {"subject": "1", "description": "d"}}}
    )
    assert first.json()["data"]["createTicket"]["__typename"] == "Ticket"
    assert "extensions" not in first.json()

    refused = api(
        {
            "query": CREATE.replace("kind field", "kind code field"),
            "variables": {"i": {"subject": "2", "description": "d"}},
        }
    )

    assert refused.status_code == 200
    body = refused.json()
    payload = body["data"]["createTicket"]
    assert payload["__typename"] == "OperationInfo"
    [message] = payload["messages"]
    assert message["kind"] == "VALIDATION"
    assert message["code"] == "RATE_LIMITED"
    assert message["field"] is None
    retry_after = body["extensions"]["retryAfter"]
    assert isinstance(retry_after, int) and 0 < retry_after <= 3601
    minutes = -(-retry_after // 60)
    assert message["message"] == (
        "You have done this too often in a short time. Please try again in "
        f"{minutes} minute{'s' if minutes != 1 else ''}."
    )
    # the portal answers the same limit with 429 and Retry-After
    page = portal.post(
        "/portal/tickets/new/",
        {"subject": "3", "description": "d", "category": "other", "priority": "low"},
    )
    assert page.status_code == 429
    assert 0 < int(page["Retry-After"]) <= 3601
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == [
        "1",
        "From the portal",
    ]


# --- text that is not Unicode: unpaired surrogates ------------------------------------

LONE = "\ud800"
SEARCH = "query($q: String!) { searchArticles(query: $q) { totalCount } }"
FILTERED = """query($f: TicketFilter) { tickets(filters: $f) {
  totalCount edges { node { reference } } } }"""


def invalid_unicode(where):
    return (
        f"Text must be valid Unicode: {where} holds an unpaired surrogate code point "
        "(U+D800 to U+DFFF)."
    )


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"query": TICKET, "variables": {"r": LONE}}, "variable '$r'"),
        ({"query": TICKET, "variables": {"r": "HD-" + "\udfff"}}, "variable '$r'"),
        ({"query": SEARCH, "variables": {"q": "sync " + LONE}}, "variable '$q'"),
        (
            {"query": FILTERED, "variables": {"f": {"search": LONE}}},
            "variable '$f.search'",
        ),
        (
            {
                "query": FILTERED,
                "variables": {"f": {"queue": "support", "status": ["OPEN", LONE]}},
            },
            "variable '$f.status[1]'",
        ),
        (
            {
                "query": CREATE,
                "variables": {"i": {"subject": "Hi", "description": LONE}},
            },
            "variable '$i.description'",
        ),
        (
            {
                "query": CREATE,
                "variables": {"i": {"subject": "Hi", "description": "d", LONE: 1}},
            },
            "variable '$i'",
        ),
        (
            {
                "query": COMMENT,
                "variables": {
                    "i": {"reference": "HD-000001", "body": "a" + LONE + "b"}
                },
            },
            "variable '$i.body'",
        ),
        (
            {"query": '{ ticket(reference: "HD-\ud800") { reference } }'},
            "the query document",
        ),
        (
            {
                "query": 'mutation { createTicket(input: {subject: "'
                + LONE
                + '", description: "d"}) { __typename } }'
            },
            "the query document",
        ),
        (
            {"query": '{ searchArticles(query: """' + LONE + '""") { totalCount } }'},
            "the query document",
        ),
        (
            {"query": "query Q { ping }", "operationName": "Q" + LONE},
            "the operation name",
        ),
    ],
)
def test_an_unpaired_surrogate_anywhere_is_invalid_input_and_writes_nothing(
    api, ticket, queue, body, where
):
    before = counts()
    response = api(body)
    assert response.status_code == 200
    assert response.json() == {
        "data": None,
        "errors": [
            {
                "message": invalid_unicode(where),
                "extensions": {"code": "INVALID_INPUT"},
            }
        ],
    }
    assert counts() == before


@pytest.mark.parametrize(
    "query",
    [
        '{ ticket(reference: "\\ud800") { reference } }',
        '{ searchArticles(query: "x\\uDC00y") { totalCount } }',
        'mutation { createTicket(input: {subject: "\\uD83D", description: "d"}) '
        "{ __typename } }",
    ],
)
def test_an_escaped_lone_surrogate_in_a_literal_is_invalid_input(api, queue, query):
    before = counts()
    body = api({"query": query}).json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"].startswith("Syntax Error: Invalid Unicode escape sequence")
    assert error["extensions"] == {"code": "INVALID_INPUT"}
    assert counts() == before


def test_a_surrogate_pair_is_valid_text(api, queue):
    """The twin: an emoji (a surrogate pair in JSON) files a ticket as written."""
    response = api(
        {
            "query": CREATE,
            "variables": {"i": {"subject": "Printer \ud83d\udd25", "description": "d"}},
        }
    )
    payload = response.json()["data"]["createTicket"]
    assert payload["subject"] == "Printer \U0001f525"
    assert Ticket.objects.get(reference=payload["reference"]).subject == (
        "Printer \U0001f525"
    )


# --- the documents above reach their resolvers ----------------------------------------


def validation_errors(document: str) -> list[str]:
    from graphql import parse, validate

    from graphql_api.schema import schema

    return [error.message for error in validate(schema._schema, parse(document))]


@pytest.mark.parametrize(
    "document",
    [
        CREATE,
        CREATE.replace("kind field", "kind code field"),
        COMMENT,
        COMMENT.replace("kind field", "kind code field"),
        TICKET,
        TICKETS,
        SEARCH,
        FILTERED,
        KB_SEARCH,
    ],
)
def test_every_document_of_this_module_is_valid_against_the_schema(document):
    """A document that fails validation never runs a resolver: a test asserting only
    "no internal error" or "some error" would pass on it without testing anything."""
    assert validation_errors(document) == []


def test_the_validity_check_finds_a_misspelt_selection():
    """The twin: the document an earlier version of the KB NUL test sent."""
    assert validation_errors('query { searchArticles(query: "x") { title } }') == [
        "Cannot query field 'title' on type 'ArticleConnection'."
    ]
