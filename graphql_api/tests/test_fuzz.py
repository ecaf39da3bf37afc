"""A bounded schemathesis run against the live endpoint: whatever it sends, as a
customer or as an agent, the server never answers 5xx.

Small by default so that ``make test`` stays quick; ``make fuzz`` sets
FUZZ_MAX_EXAMPLES (e.g. 500) for a longer run."""

import os

import pytest
import requests
import schemathesis
from graphql import introspection_from_schema
from hypothesis import HealthCheck, given, settings

from graphql_api.schema import schema as portal_schema

pytestmark = [
    pytest.mark.fuzz,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "5"))


def fuzz_operations(base_url: str, secret: str) -> list[str]:
    """Fuzz every query and mutation field; returns the failures (empty when fine)."""
    schema = schemathesis.graphql.from_dict(
        {"data": introspection_from_schema(portal_schema._schema)}
    )
    failures: list[str] = []
    # "Connection: close": no keep-alive request thread outlives the live server
    headers = {"Authorization": f"Bearer {secret}", "Connection": "close"}
    with requests.Session() as session:
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
                        f"{case.operation.label}: {response.status_code} "
                        f"for {case.body!r}"
                    )

            run()
    return failures


@pytest.fixture
def fuzz_settings(settings):
    settings.GRAPHQL_RATE_LIMIT = ""  # the fuzzer is faster than any integrator


@pytest.mark.parametrize("role", ["customer", "agent"])
def test_no_server_error_under_fuzzing(live_server, fuzz_settings, fuzz_caller, role):
    failures = fuzz_operations(f"{live_server.url}/graphql/", fuzz_caller(role))
    assert failures == []
