"""A rate-limited attempt counted and the caller's cache keys read in one round trip
(``portal.counters.add_to_and_read``, ``portal.ratelimits.consume(read=…)``): the count
as ``add_to`` makes it, the values as ``get_many`` answers them; the portal filing
reading its generations with its rate limit, refused past the limit as before."""

import time
import uuid

import pytest
from django.core.cache import cache, caches

from portal import cache as shared_cache
from portal import counters, ratelimits

from .test_degraded_cache import real_redis_cache


def _values():
    return {"int": 1733420000123456789, "text": "ÅÄÖ", "dict": {"a": [1, 2]}, "zero": 0}


def test_local_memory_counts_and_reads_as_add_to_and_get_many():
    cache.clear()
    cache.set_many(_values(), 60)
    names = ["int", "missing", "text", "dict", "zero"]
    assert counters.add_to_and_read("n", timeout=60, read=names) == (
        1,
        cache.get_many(names),
    )
    assert counters.add_to_and_read("n", 2, timeout=60) == (3, {})
    assert counters.add_to("n", timeout=60) == 4
    cache.clear()


def test_redis_counts_and_reads_in_one_script(settings):
    import redis

    url, backend = real_redis_cache(settings, f"read-ahead-{uuid.uuid4().hex}")
    backend.set_many(_values(), 60)
    names = ["int", "missing", "text", "dict", "zero"]
    expected = backend.get_many(names)
    assert set(expected) == {"int", "text", "dict", "zero"}
    assert counters.add_to_and_read("n", timeout=30, read=names) == (1, expected)
    assert counters.add_to_and_read("n", 5, timeout=30, read=[]) == (6, {})
    assert counters.add_to("n", timeout=30) == 7
    assert backend.get("n") == 7
    client = redis.Redis.from_url(url)
    assert 25 <= client.ttl(backend.make_and_validate_key("n")) <= 30
    client.script_flush()  # a server without the script: loaded, same answer
    assert counters.add_to_and_read("n", timeout=30, read=["int"]) == (
        8,
        {"int": _values()["int"]},
    )
    backend.delete_many([*names, "n"])


def test_redis_down_answers_the_delta_and_nothing_read(settings):
    import redis

    url, backend = real_redis_cache(settings, f"read-ahead-{uuid.uuid4().hex}")
    backend.breaker.trip(redis.ConnectionError("simulated outage"))
    try:
        assert counters.add_to_and_read("n", 3, timeout=30, read=["x"]) == (3, None)
        settings.PORTAL_RATE_LIMITS = {"ticket_create": "1/h"}
        # fails open: never refused, nothing read
        for _ in range(3):
            assert ratelimits.consume("ticket_create", "user:1", read=["x"]) is None
    finally:
        backend.breaker.down_until = 0
        backend.breaker.reset()


def test_consume_reads_only_when_limited_and_still_refuses(settings):
    cache.clear()
    cache.set("g", 42, 60)
    settings.PORTAL_RATE_LIMITS = {"ticket_create": "2/h"}
    assert ratelimits.consume("other", "user:1", read=["g"]) is None  # no limit
    assert ratelimits.consume("ticket_create", "user:1") is None  # nothing asked
    assert ratelimits.consume("ticket_create", "user:1", read=["g", "h"]) == {"g": 42}
    with pytest.raises(ratelimits.RateLimited) as limited:
        ratelimits.consume("ticket_create", "user:1", read=["g"])
    assert 0 < limited.value.retry_after <= 3601
    assert ratelimits.consume("ticket_create", "user:2", read=["g"]) == {"g": 42}
    cache.clear()


def test_values_found_by_the_caller_are_used_and_none_reads_them(monkeypatch):
    cache.clear()
    cache.set("a", 5, None)

    def refuse(*args, **kwargs):
        raise AssertionError("read again")

    with monkeypatch.context() as patched:
        patched.setattr(cache, "get_many", refuse)
        patched.setattr(cache, "get", refuse)
        with shared_cache.generations_read_together("a", "b", found={"a": 5}):
            assert shared_cache.generation("a") == 5
    # "b" was missing: made by ``generation`` as before
    with shared_cache.generations_read_together("a", "b", found={"a": 5}):
        made = shared_cache.generation("b")
    assert made == cache.get("b") and made > time.time_ns() - 60 * 10**9
    with shared_cache.generations_read_together("a", "b", found=None):
        assert shared_cache.generation("a") == 5
        assert shared_cache.generation("b") == made
    cache.clear()


def _filing_setup(settings, client):
    from accounts.models import User
    from tickets.tests.factories import QueueFactory, make_agent, make_customer

    settings.TICKET_DEFAULTS_CACHE = True
    settings.DESK_STAFF_CACHE = True
    settings.WEBHOOKS_CACHE = True
    settings.ORGANIZATIONS_CACHE = True
    settings.PORTAL_RATE_LIMITS = {"ticket_create": "3/h"}
    _forget_kept()
    queue = QueueFactory(slug="support", name="Support", is_default=True)
    make_agent(queue, email="ann@example.com")
    alice = make_customer(email="alice@example.com")
    client.force_login(User.objects.get(pk=alice.pk))


def _forget_kept():
    from accounts import kept_organizations
    from tickets import notifications_handlers
    from webhooks import outbox

    notifications_handlers._kept_agents.forget()
    outbox._kept_subscribable.forget()
    kept_organizations.forget()


def _filing_generations():
    """The generations a filing reads: the default queue's, the staff's, the
    subscribable webhooks' and the requester's organizations'."""
    from accounts import kept_organizations
    from tickets import defaults
    from tickets.desk.inbox import STAFF_GENERATION_KEY
    from webhooks import outbox

    return [
        defaults.GENERATION_KEY,
        STAFF_GENERATION_KEY,
        outbox.GENERATION_KEY,
        kept_organizations.GENERATION_KEY,
    ]


def _reads_counted(backend, monkeypatch):
    """The keys ``backend`` is asked for from now on: one by one (``get``, not the
    local-memory cache's ``get_many`` asking ``get``) and together (``get_many``)."""
    singles, manies, inside = [], [], []
    get, get_many = backend.get, backend.get_many

    def counting_get(key, *args, **kwargs):
        if not inside:
            singles.append(key)
        return get(key, *args, **kwargs)

    def counting_get_many(keys, *args, **kwargs):
        manies.append(list(keys))
        inside.append(True)
        try:
            return get_many(keys, *args, **kwargs)
        finally:
            inside.pop()

    monkeypatch.setattr(backend, "get", counting_get)
    monkeypatch.setattr(backend, "get_many", counting_get_many)
    return singles, manies


def _post(client, number):
    return client.post(
        "/portal/tickets/new/",
        {
            "subject": f"Help {number}",
            "description": "Please",
            "category": "technical",
            "priority": "medium",
        },
    )


@pytest.mark.parametrize("on_redis", [False, True])
@pytest.mark.django_db(transaction=True)
def test_the_portal_filing_reads_its_generations_with_its_rate_limit(
    settings, client, monkeypatch, on_redis
):
    from portal.notifications.models import SentNotification
    from tickets.models import Ticket

    if on_redis:
        real_redis_cache(settings, f"read-ahead-{uuid.uuid4().hex}")
    backend = caches["default"]
    generations = _filing_generations()
    backend.delete_many(generations)
    _filing_setup(settings, client)
    assert _post(client, 1).status_code == 302  # warm: the generations made
    singles, manies = _reads_counted(backend, monkeypatch)
    assert _post(client, 2).status_code == 302
    # on Redis in the rate limit's script; elsewhere its ``get_many``
    assert [sorted(keys) for keys in manies] == (
        [] if on_redis else [sorted(generations)]
    )
    # none read on its own: the form reads the organizations inside the block too
    assert not set(generations) & set(singles)
    alerts = SentNotification.objects.filter(kind="ticket_created_agent")
    assert alerts.count() == 2  # one per filing, the kept agent
    assert _post(client, 3).status_code == 302
    refused = _post(client, 4)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3601
    assert list(Ticket.objects.order_by("pk").values_list("subject", flat=True)) == [
        "Help 1",
        "Help 2",
        "Help 3",
    ]
    _forget_kept()
    backend.delete_many(generations)


_CREATE = (
    "mutation($i: CreateTicketInput!) { createTicket(input: $i) { __typename "
    "... on Ticket { subject } ... on OperationInfo { messages { code message } } } }"
)


@pytest.mark.parametrize("on_redis", [False, True])
@pytest.mark.django_db(transaction=True)
def test_graphql_filing_reads_its_generations_with_the_shared_rate_limit(
    settings, client, monkeypatch, on_redis
):
    """GraphQL ``createTicket`` counts the limit it shares with the portal and reads
    the filing's generations in the same round trip; past the limit it refuses with
    the typed error and files nothing."""
    from django.test import Client

    from accounts.models import User
    from accounts.tokens import create_token
    from tickets.models import Ticket

    if on_redis:
        real_redis_cache(settings, f"read-ahead-gql-{uuid.uuid4().hex}")
    backend = caches["default"]
    generations = _filing_generations()
    backend.delete_many(generations)
    _filing_setup(settings, client)
    alice = User.objects.get(email="alice@example.com")
    secret = create_token(alice, name="t", scopes="read,write").secret
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    def file(number):
        response = api.post(
            "/graphql/",
            {
                "query": _CREATE,
                "variables": {"i": {"subject": f"Help {number}", "description": "x"}},
            },
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
        return response.json()["data"]["createTicket"]

    assert file(1)["__typename"] == "Ticket"  # warm: the generations made
    singles, manies = _reads_counted(backend, monkeypatch)
    assert file(2) == {"__typename": "Ticket", "subject": "Help 2"}
    assert [sorted(keys) for keys in manies if set(keys) & set(generations)] == (
        [] if on_redis else [sorted(generations)]
    )
    assert not set(generations) & set(singles)
    assert file(3)["__typename"] == "Ticket"
    refused = file(4)
    assert refused["__typename"] == "OperationInfo"
    assert [m["code"] for m in refused["messages"]] == ["RATE_LIMITED"]
    assert list(Ticket.objects.order_by("pk").values_list("subject", flat=True)) == [
        "Help 1",
        "Help 2",
        "Help 3",
    ]
    _forget_kept()
    backend.delete_many(generations)
