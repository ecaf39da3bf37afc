"""Limits, rate limiting, introspection policy, write scope and error masking."""

import pytest
from django.test import Client

from .conftest import Gql

INTROSPECTION = "{ __schema { queryType { name } } }"


def test_default_limits_are_the_documented_ones(settings):
    assert (
        settings.GRAPHQL_MAX_DEPTH,
        settings.GRAPHQL_MAX_ALIASES,
        settings.GRAPHQL_MAX_TOKENS,
    ) == (10, 15, 2000)
    assert settings.GRAPHQL_RATE_LIMIT == "120/m"


def test_depth_limit_refuses_deeper_queries(alice, as_user, settings):
    settings.GRAPHQL_MAX_DEPTH = 1
    gql = as_user(alice)
    errors = gql.errors("{ me { organizations { name } } }")
    assert errors[0]["message"] == "'anonymous' exceeds maximum operation depth of 1"
    settings.GRAPHQL_MAX_DEPTH = 2
    assert gql("{ me { organizations { name } } }") == {
        "me": {"organizations": [{"name": "Acme"}]}
    }


def test_cached_documents_are_still_checked_against_the_rules_of_each_call(
    alice, as_user, anon, settings
):
    """Parsing and validation are cached per document; the limits and the
    introspection policy still hold for every call, whoever makes it."""
    from graphql_api import extensions

    deep = "{ me { organizations { name } } }"
    settings.GRAPHQL_MAX_DEPTH = 1
    gql = as_user(alice)
    for _ in range(2):
        assert gql.errors(deep)[0]["message"] == (
            "'anonymous' exceeds maximum operation depth of 1"
        )
    settings.GRAPHQL_MAX_DEPTH = 2
    assert gql(deep) == {"me": {"organizations": [{"name": "Acme"}]}}
    assert gql(INTROSPECTION) == {"__schema": {"queryType": {"name": "Query"}}}
    assert "introspection" in anon.errors(INTROSPECTION)[0]["message"].lower()
    assert extensions._depth_rule(2) is extensions._depth_rule(2)


def test_alias_limit(anon):
    fifteen = "{ " + " ".join(f"a{i}: ping" for i in range(15)) + " }"
    assert len(anon(fifteen)) == 15
    sixteen = "{ " + " ".join(f"a{i}: ping" for i in range(16)) + " }"
    assert anon.errors(sixteen)[0]["message"] == "16 aliases found. Allowed: 15"


def test_token_limit(anon, settings):
    # Refused by the parser: no resolver is meant to run.
    errors = anon.errors("{ " + "ping " * 2001 + "}", invalid=True)
    assert errors[0]["message"] == (
        "Syntax Error: Document contains more than 2000 tokens. Parsing aborted."
    )
    settings.GRAPHQL_MAX_TOKENS = 7
    assert anon("{ me { email } ping }") == {"me": None, "ping": "pong"}
    assert anon.errors("{ me { email } ping ping }")[0]["message"] == (
        "Syntax Error: Document contains more than 7 tokens. Parsing aborted."
    )


def test_rate_limit_answers_429_with_retry_after(alice, as_user, settings):
    settings.GRAPHQL_RATE_LIMIT = "3/m"
    gql = as_user(alice)
    for _ in range(3):
        assert gql.post("{ ping }").status_code == 200
    response = gql.post("{ ping }")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["errors"][0]["extensions"] == {"code": "RATE_LIMITED"}
    # another token (even of the same user) has its own budget
    assert as_user(alice).post("{ ping }").status_code == 200


def test_rate_limit_for_anonymous_callers_is_per_ip(db, settings):
    settings.GRAPHQL_RATE_LIMIT = "2/m"
    first, second = Client(REMOTE_ADDR="10.0.0.1"), Client(REMOTE_ADDR="10.0.0.2")
    assert [Gql(first).post("{ ping }").status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    assert Gql(second).post("{ ping }").status_code == 200


def test_failed_token_attempts_are_rate_limited_per_ip(db, settings):
    settings.GRAPHQL_RATE_LIMIT = "2/m"
    bad = Gql(Client(), "hdp_000000000000.nope")
    assert [bad.post("{ ping }").status_code for _ in range(3)] == [401, 401, 429]


def test_rate_limit_can_be_switched_off(db, settings):
    settings.GRAPHQL_RATE_LIMIT = ""
    gql = Gql(Client())
    assert {gql.post("{ ping }").status_code for _ in range(5)} == {200}


@pytest.mark.parametrize(
    ("policy", "debug", "caller", "allowed"),
    [
        ("authenticated", False, "anonymous", False),
        ("authenticated", False, "token", True),
        ("authenticated", False, "session", True),
        ("authenticated", True, "anonymous", True),
        ("always", False, "anonymous", True),
        ("never", False, "token", False),
        ("never", True, "anonymous", False),
    ],
)
def test_introspection_policy(
    alice, token_for, password, settings, policy, debug, caller, allowed
):
    settings.GRAPHQL_INTROSPECTION = policy
    settings.DEBUG = debug
    client = Client()
    gql = Gql(client)
    if caller == "token":
        gql.secret = token_for(alice)
    elif caller == "session":
        client.login(email="alice@acme.example", password=password)
    body = gql.post(INTROSPECTION).json()
    if allowed:
        assert body == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    else:
        assert body["errors"][0]["message"] == (
            "GraphQL introspection has been disabled, but the requested query "
            "contained the field '__schema'."
        )


def test_typename_stays_available_without_introspection(anon):
    assert anon("{ __typename }") == {"__typename": "Query"}


def test_unexpected_errors_are_masked_outside_development(alice, as_user, monkeypatch):
    def explode(user):
        raise RuntimeError("secret detail at /srv/portal/settings.py")

    monkeypatch.setattr("graphql_api.accounts.schema.is_staff_member", explode)
    body = as_user(alice).post("{ organizations { name } }").json()
    assert body["data"] is None
    assert body["errors"] == [
        {
            "message": "Internal error.",
            "locations": [{"line": 1, "column": 3}],
            "path": ["organizations"],
        }
    ]
    assert "Traceback" not in str(body) and "secret" not in str(body)


def test_unexpected_errors_show_their_message_in_development(
    alice, as_user, monkeypatch, settings
):
    settings.GRAPHQL_DEBUG = True

    def explode(user):
        raise RuntimeError("boom")

    monkeypatch.setattr("graphql_api.accounts.schema.is_staff_member", explode)
    body = as_user(alice).post("{ organizations { name } }").json()
    assert body["errors"][0]["message"] == "boom"


def test_validation_errors_are_not_masked(anon):
    errors = anon.errors("{ nope }", invalid=True)
    assert errors[0]["message"] == "Cannot query field 'nope' on type 'Query'."


# Documents that graphql-core answers with a "Did you mean …?" naming schema members.
MISSPELT = [
    (
        "{ tickes { totalCount } }",
        None,
        "Cannot query field 'tickes' on type 'Query'.",
        " Did you mean 'ticket', 'tickets', 'articles', or 'tasks'?",
    ),
    (
        "{ tickets(frist: 1) { totalCount } }",
        None,
        "Unknown argument 'frist' on field 'Query.tickets'.",
        " Did you mean 'first' or 'last'?",
    ),
    (
        "query($f: TicketFiltr) { tickets(filters: $f) { totalCount } }",
        None,
        "Unknown type 'TicketFiltr'.",
        " Did you mean 'TicketFilter', 'TicketOrder', 'ArticleFilter', 'TaskFilter', or "
        "'Ticket'?",
    ),
    (
        "{ tickets(ordering: {field: PRIORITI}) { totalCount } }",
        None,
        "Value 'PRIORITI' does not exist in 'TicketOrderField' enum.",
        " Did you mean the enum value 'PRIORITY'?",
    ),
    (
        "query($o: TicketOrder) { tickets(ordering: $o) { totalCount } }",
        {"o": {"field": "PRIORITI"}},
        "Variable '$o' has invalid value at .field: Value 'PRIORITI' does not exist "
        "in 'TicketOrderField' enum.",
        " Did you mean the enum value 'PRIORITY'?",
    ),
]


@pytest.mark.parametrize(("query", "variables", "message", "suggestion"), MISSPELT)
@pytest.mark.parametrize(
    ("policy", "caller"),
    [("authenticated", "anonymous"), ("never", "anonymous"), ("never", "token")],
)
def test_callers_who_may_not_introspect_get_no_suggestions(
    alice, token_for, settings, policy, caller, query, variables, message, suggestion
):
    settings.GRAPHQL_INTROSPECTION = policy
    gql = Gql(Client(), token_for(alice) if caller == "token" else None)
    [error] = gql.errors(query, variables, invalid=True)
    assert error["message"] == message


@pytest.mark.parametrize(("query", "variables", "message", "suggestion"), MISSPELT)
@pytest.mark.parametrize(
    ("policy", "caller"), [("authenticated", "token"), ("always", "anonymous")]
)
def test_callers_who_may_introspect_keep_the_suggestions(
    alice, token_for, settings, policy, caller, query, variables, message, suggestion
):
    settings.GRAPHQL_INTROSPECTION = policy
    gql = Gql(Client(), token_for(alice) if caller == "token" else None)
    [error] = gql.errors(query, variables, invalid=True)
    assert error["message"] == message + suggestion


def test_errors_refuses_a_document_that_never_reaches_a_resolver(anon):
    """The twin of every ``gql.errors(...)`` call: a misspelt selection fails the test
    instead of passing on the validation error."""
    with pytest.raises(AssertionError, match="the document fails validation"):
        anon.errors('query { searchArticles(query: "x") { title } }')
    assert anon.errors(
        'query { searchArticles(query: "x") { title } }', invalid=True
    ) == [
        {
            "message": "Cannot query field 'title' on type 'ArticleConnection'.",
            "locations": [{"line": 1, "column": 38}],
        }
    ]
