"""A vacuous assertion cannot pass: every GraphQL document written in a test module is
valid against the schema, so its resolvers run.

A document that fails validation (a misspelt field, a wrong type name) is answered with
an error before any resolver runs: a test asserting "an error", "no internal error" or
"null" passes on it without testing anything (``tests/reliability/test_graphql_hostile``
once did, on a selection its connection did not have). Documents that are invalid on
purpose (tests of the validation itself) are listed in ``INVALID_ON_PURPOSE``, each with
the test that needs it; a listed document that became valid, or was removed, fails too.
"""

import ast
import re
from pathlib import Path

import pytest
from graphql import GraphQLSyntaxError, parse, validate

ROOT = Path(__file__).resolve().parents[2]
LOOKS_LIKE_AN_OPERATION = re.compile(
    r"^(query|mutation|subscription)\b.*\{|^\{\s*\w", re.S
)

# (module, document) -> why it must fail validation.
INVALID_ON_PURPOSE = {
    ("graphql_api/tests/test_runner.py", "{ fails }"): (
        "a field of the test's own schema (the runner against strawberry's)"
    ),
    ("graphql_api/tests/test_runner.py", "mutation { ping }"): (
        "the runner answers a validation error as strawberry's does"
    ),
    ("graphql_api/tests/test_runner.py", "{ nope }"): (
        "the runner's hooks around a validation error, as strawberry's"
    ),
    ("graphql_api/tests/test_runner.py", "{ pingg }"): (
        "the portal schema's suggestion policy through the runner"
    ),
    ("graphql_api/tests/test_endpoint.py", "mutation { x }"): (
        "GET must refuse any mutation, before validation"
    ),
    ("graphql_api/tests/test_safety.py", "{ nope }"): "validation errors are unmasked",
    ("graphql_api/tests/test_safety.py", "{ tickes { totalCount } }"): (
        "the 'Did you mean' suggestions"
    ),
    ("graphql_api/tests/test_safety.py", "{ tickets(frist: 1) { totalCount } }"): (
        "the 'Did you mean' suggestions"
    ),
    (
        "graphql_api/tests/test_safety.py",
        "query($f: TicketFiltr) { tickets(filters: $f) { totalCount } }",
    ): "the 'Did you mean' suggestions",
    (
        "graphql_api/tests/test_safety.py",
        "{ tickets(ordering: {field: PRIORITI}) { totalCount } }",
    ): "the 'Did you mean' suggestions",
    (
        "graphql_api/tests/test_safety.py",
        'query { searchArticles(query: "x") { title } }',
    ): "gql.errors refuses a document that fails validation (its twin)",
    (
        "tests/reliability/test_graphql_hostile.py",
        'query { searchArticles(query: "x") { title } }',
    ): "the validity check finds a misspelt selection (its twin)",
    (
        "webhooks/tests/test_webhook_secret.py",
        "{ __typename ... on Webhook { id name secret } "
        "... on OperationInfo { messages { kind field message } } }",
    ): "not an operation: the selection the module's mutations share",
    (
        "graphql_api/tests/test_limits_together.py",
        "mutation { createTicket(input: {}) { nope } }",
    ): "a request naming createTicket that never reaches its count (taken back)",
    ("tests/reliability/test_hostile_search.py", "{reset}"): (
        "not GraphQL: a search text"
    ),
    ("portal/notifications/tests/test_skeletons.py", "{name}"): (
        "not GraphQL: a recipient's name that looks like a format field"
    ),
}


def _test_modules():
    for folder in ("tests", *[p.name for p in ROOT.iterdir() if p.is_dir()]):
        base = ROOT / folder
        if not (base / "__init__.py").exists() and folder != "tests":
            continue
        for path in sorted(base.rglob("test*.py")):
            # This module quotes the invalid documents it lists.
            if ".venv" not in path.parts and path != Path(__file__).resolve():
                yield path


def documents():
    """Every string literal of a test module that parses as a GraphQL document."""
    seen = set()
    for path in _test_modules():
        module = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            text = node.value.strip()
            if not LOOKS_LIKE_AN_OPERATION.match(text) or (module, text) in seen:
                continue
            try:
                document = parse(text)
            except (GraphQLSyntaxError, RecursionError):
                continue
            seen.add((module, text))
            yield module, text, document


def test_every_document_in_the_tests_reaches_its_resolvers():
    from graphql_api.schema import schema

    invalid = {}
    checked = 0
    for module, text, document in documents():
        errors = [error.message for error in validate(schema._schema, document)]
        checked += 1
        if errors:
            invalid[module, text] = errors
    assert checked > 100  # the scan finds the tests' documents at all
    unexpected = dict(invalid)
    for key in INVALID_ON_PURPOSE:
        unexpected.pop(key, None)
    assert unexpected == {}
    assert set(INVALID_ON_PURPOSE) <= set(invalid), (
        "a document listed as invalid on purpose is valid now or gone: "
        f"{set(INVALID_ON_PURPOSE) - set(invalid)}"
    )


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ('query { searchArticles(query: "x") { totalCount } }', True),
        ('query { searchArticles(query: "x") { title } }', False),
    ],
)
def test_the_scan_tells_a_misspelt_selection_from_a_valid_one(text, valid):
    """The twin: validation is what tells them apart."""
    from graphql_api.schema import schema

    assert (validate(schema._schema, parse(text)) == []) is valid
