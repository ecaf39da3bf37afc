"""GraphQL ``createTicket``'s two rate limits in one round trip: the view counts the
request limit and, for a request that names ``createTicket``, the filing's
(``ticket_create``) with it (``portal.ratelimits.hit_then_count``); the resolver
decides on that count (``consume(counted=…)``), and what no resolver used is taken
back. Every answer and counter must equal the separate counts' (the twin with counting
ahead switched off), at the edges of both limits, on local memory and on Redis, and
while Redis is down (both fail open)."""

import re
import time
import uuid

import pytest
from django.core.cache import caches
from django.test import Client

from graphql_api import ratelimit
from portal import counters

from .conftest import Gql
from .test_ticket_filing import CREATE, queue  # noqa: F401 - the default queue

pytestmark = pytest.mark.django_db

TWO = """mutation($i: CreateTicketInput!) {
  a: createTicket(input: $i) { __typename }
  b: createTicket(input: $i) { __typename }
}"""
FILING = {"i": {"subject": "Printer on fire", "description": "Since today."}}


@pytest.fixture(params=["locmem", "redis"])
def backend(request, settings):
    if request.param == "redis":
        from portal.tests.test_degraded_cache import real_redis_cache

        real_redis_cache(settings, f"together-{uuid.uuid4().hex}")
    backend = caches["default"]
    backend.clear()
    yield backend
    backend.clear()


@pytest.fixture
def calls(monkeypatch):
    """The Redis scripts run: one count (``add_to_and_read``) or two together."""
    seen = []
    one, both = counters._redis_add_to, counters._redis_add_to_both

    def counting_one(*args):
        seen.append("one")
        return one(*args)

    def counting_both(*args):
        seen.append("both")
        return both(*args)

    monkeypatch.setattr(counters, "_redis_add_to", counting_one)
    monkeypatch.setattr(counters, "_redis_add_to_both", counting_both)
    return seen


def _counts(backend, user):
    """The request limit's count (the caller's token) and the filing limit's."""
    hour = int(time.time() // 3600)
    request_keys = [
        f"ratelimit:graphql:token:{pk}:{hour}"
        for pk in user.portal_api_tokens.values_list("pk", flat=True)
    ]
    return (
        sum(backend.get(key, 0) for key in request_keys),
        backend.get(f"ratelimit:ticket_create:user:{user.pk}:{hour}", 0),
    )


def _masked(response):
    """Status, the headers a client reads, the body with references and waits masked."""
    body = response.content.decode()
    body = re.sub(r"[A-Z]+-\d+", "REF", body)
    body = re.sub(r'"retryAfter": ?\d+', '"retryAfter": N', body)
    body = re.sub(r"in \d+ (minute|second)", r"in N \1", body)
    return (
        response.status_code,
        response.get("Content-Type"),
        "Retry-After" in response,
        body,
    )


def _run(settings, gql, user, backend, documents):
    out = []
    for document, variables in documents:
        response = gql.post(document, variables)
        out.append((_masked(response), _counts(backend, user)))
    return out


def _scenario(settings, make_user, token_for, backend, monkeypatch, ahead: bool):
    """Filings at the edges of both limits, as ``ahead`` counts them."""
    if not ahead:
        monkeypatch.setattr(ratelimit, "likely_filing", lambda request: False)
    backend.clear()
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    user = make_user(email)
    gql = Gql(Client(), token_for(user))
    settings.PORTAL_RATE_LIMITS = {"ticket_create": "2/h"}
    settings.GRAPHQL_RATE_LIMIT = "5/h"
    documents = [
        (CREATE, FILING),  # filing 1
        ("{ ping }", None),  # no filing: nothing counted at the filing limit
        ("query { ping } # createTicket", None),  # named, not filed: taken back
        (CREATE, FILING),  # filing 2: the last allowed
        (CREATE, FILING),  # filing 3: RATE_LIMITED (request 5: the last allowed)
        (CREATE, FILING),  # request 6: 429, the filing not counted
    ]
    return _run(settings, gql, user, backend, documents)


def test_both_limits_at_their_edges_answer_and_count_as_separately(
    settings,
    make_user,
    token_for,
    backend,
    monkeypatch,
    calls,
    queue,  # noqa: F811
):
    ahead = _scenario(settings, make_user, token_for, backend, monkeypatch, True)
    separately = _scenario(settings, make_user, token_for, backend, monkeypatch, False)
    assert ahead == separately
    statuses = [status for (status, *_rest), _counts in ahead]
    assert statuses == [200, 200, 200, 200, 200, 429]
    assert [counts for _answer, counts in ahead] == [
        (1, 1),
        (2, 1),
        (3, 1),
        (4, 2),
        (5, 3),
        (6, 3),
    ]
    refused = ahead[4][0][3]
    assert "too often" in refused and '"retryAfter": N' in refused
    assert ahead[5][0][2]  # Retry-After on the 429
    if backend.__class__.__name__ == "FailOpenRedisCache":
        # ahead: each filing (and the named query) one script, its take-back one
        # more; separately: the request's count then the filing's
        assert calls[:6] == ["both", "one", "both", "one", "both", "both"]


def test_a_filing_costs_one_round_trip_on_redis(
    settings,
    make_user,
    token_for,
    monkeypatch,
    calls,
    queue,  # noqa: F811
):
    from portal.tests.test_degraded_cache import real_redis_cache

    real_redis_cache(settings, f"together-{uuid.uuid4().hex}")
    settings.PORTAL_RATE_LIMITS = {"ticket_create": "20/h"}
    user = make_user("one@example.com")
    gql = Gql(Client(), token_for(user))
    assert gql(CREATE, FILING)["createTicket"]["__typename"] == "Ticket"
    assert calls == ["both"]
    caches["default"].clear()


def test_two_filings_in_one_request_count_twice_and_refuse_the_second(
    settings,
    make_user,
    token_for,
    backend,
    monkeypatch,
    queue,  # noqa: F811
):
    settings.PORTAL_RATE_LIMITS = {"ticket_create": "1/h"}
    settings.GRAPHQL_RATE_LIMIT = "100/h"
    user = make_user("two@example.com")
    gql = Gql(Client(), token_for(user))
    data = gql(TWO, FILING)
    assert data["a"]["__typename"] == "Ticket"
    assert data["b"]["__typename"] == "OperationInfo"
    assert _counts(backend, user) == (1, 2)


def test_what_no_resolver_decided_on_is_taken_back(
    settings,
    make_user,
    token_for,
    backend,
    queue,  # noqa: F811
):
    settings.PORTAL_RATE_LIMITS = {"ticket_create": "1/h"}
    settings.GRAPHQL_RATE_LIMIT = "100/h"
    user = make_user("back@example.com")
    gql = Gql(Client(), token_for(user))
    # a syntax error, an unknown field and a bad enum never reach the resolver
    gql.post("mutation { createTicket(", None)
    gql.post("mutation { createTicket(input: {}) { nope } }", None)
    bad = {"i": {**FILING["i"], "priority": "NOPE"}}
    gql.post(CREATE, bad)
    assert _counts(backend, user) == (3, 0)
    # a read-only token is refused before the count, and never counted ahead
    reader = Gql(Client(), token_for(user, "read"))
    assert reader.post(CREATE, FILING).status_code == 200
    assert _counts(backend, user)[1] == 0
    # the one filing allowed is still there
    assert gql(CREATE, FILING)["createTicket"]["__typename"] == "Ticket"
    second = gql(CREATE, FILING)["createTicket"]
    assert second["__typename"] == "OperationInfo"


def test_a_session_caller_refused_by_csrf_is_not_counted_at_the_filing_limit(
    settings,
    make_user,
    queue,  # noqa: F811
):
    settings.PORTAL_RATE_LIMITS = {"ticket_create": "1/h"}
    user = make_user("csrf@example.com")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert Gql(client).post(CREATE, FILING).status_code == 403
    hour = int(time.time() // 3600)
    assert (
        caches["default"].get(f"ratelimit:ticket_create:user:{user.pk}:{hour}", 0) == 0
    )


def test_redis_down_fails_open_for_both_limits(
    settings,
    make_user,
    token_for,
    queue,  # noqa: F811
):
    import redis

    from portal.tests.test_degraded_cache import real_redis_cache

    _url, backend = real_redis_cache(settings, f"together-{uuid.uuid4().hex}")
    settings.PORTAL_RATE_LIMITS = {"ticket_create": "1/h"}
    settings.GRAPHQL_RATE_LIMIT = "1/h"
    user = make_user("down@example.com")
    gql = Gql(Client(), token_for(user))
    backend.breaker.trip(redis.ConnectionError("simulated outage"))
    try:
        for _ in range(3):
            assert gql(CREATE, FILING)["createTicket"]["__typename"] == "Ticket"
    finally:
        backend.breaker.down_until = 0
        backend.breaker.reset()
    # back up: counted again, the edges as before
    assert gql(CREATE, FILING)["createTicket"]["__typename"] == "Ticket"
    assert gql.post(CREATE, FILING).status_code == 429
    backend.clear()
