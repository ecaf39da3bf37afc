"""A bounded schemathesis run against the live endpoint: whatever it sends, as a
customer or as an agent, the server never answers 5xx.

Small by default so that ``make test`` stays quick; ``make fuzz`` sets
FUZZ_MAX_EXAMPLES (e.g. 500) for a longer run."""

import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db(transaction=True)]

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "5"))


def _fuzz_operations(base_url: str, secret: str) -> list[str]:
    """Fuzz every root field; returns a list of failures (empty when all is well)."""
    schema = schemathesis.graphql.from_dict({"data": _introspection_result()})
    failures: list[str] = []
    session = requests.Session()
    headers = {"Authorization": f"Bearer {secret}"}
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case):
            response = case.call(
                base_url=base_url, session=session, headers=headers, timeout=30
            )
            if response.status_code >= 500:
                failures.append(
                    f"{case.operation.label}: {response.status_code} for {case.body!r}"
                )

        run()
    return failures


def _introspection_result() -> dict:
    from graphql import introspection_from_schema

    from graphql_api.schema import schema

    return introspection_from_schema(schema._schema)


@pytest.fixture
def fuzz_settings(settings):
    settings.GRAPHQL_RATE_LIMIT = ""  # the fuzzer is faster than any integrator


@pytest.mark.parametrize("role", ["customer", "agent"])
def test_no_server_error_under_fuzzing(live_server, fuzz_settings, fuzz_caller, role):
    failures = _fuzz_operations(f"{live_server.url}/graphql/", fuzz_caller(role))
    assert failures == []
