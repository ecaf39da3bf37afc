"""Degrade, do not die: with Redis unreachable (a closed port) or silent (a socket that
accepts and never answers), pages, sessions, GraphQL and rate limits keep working, each
request stays fast, and ``/healthz`` names the cache as the failing dependency."""

import json
import logging
import time

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import caches
from wagtail.models import Locale

from kb.models import ArticlePage, CategoryPage, KnowledgeBasePage
from portal import counters
from portal.cache import FailOpenRedisCache
from tickets.models import Ticket
from tickets.tests.factories import QueueFactory, make_customer


@pytest.fixture(params=["closed", "silent"])
def redis_down(request, settings):
    """Settings as in production with ``REDIS_URL`` at a Redis that is not there."""
    port = request.getfixturevalue(f"{request.param}_port")
    url = f"redis://127.0.0.1:{port}/0"
    settings.CACHE_TIMEOUT_SECONDS = 0.2
    settings.CACHE_RETRY_SECONDS = 5
    settings.CACHES = {
        "default": {"BACKEND": "portal.cache.FailOpenRedisCache", "LOCATION": url}
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    settings.KB_PAGE_CACHE_SECONDS = 300
    settings.GRAPHQL_RATE_LIMIT = "120/m"
    settings.PORTAL_RATE_LIMITS = {"ticket_create": "20/h"}
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "orm": "default"}
    assert isinstance(caches["default"], FailOpenRedisCache)
    return request.param


@pytest.fixture
def article(db):
    index = KnowledgeBasePage.objects.get(locale=Locale.get_default())
    category = CategoryPage(title="Sync", slug="sync")
    index.add_child(instance=category)
    category.save_revision().publish()
    page = ArticlePage(
        title="Files do not sync",
        slug="files-do-not-sync",
        summary="What to check when files stop syncing.",
        audience="public",
        body=[("paragraph", "<p>Lumen keeps your team's files in sync.</p>")],
    )
    category.add_child(instance=page)
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def timed_get(client, path, **extra):
    started = time.monotonic()
    response = client.get(path, **extra)
    return response, time.monotonic() - started


@pytest.mark.django_db
def test_public_pages_answer_200_without_redis(client, redis_down, article):
    for path in ("/", "/kb/", article.url, "/kb/search/?q=sync"):
        response, seconds = timed_get(client, path)
        assert response.status_code == 200, path
        assert seconds < 2, (path, seconds)
    assert "Files do not sync" in client.get(article.url).content.decode()


@pytest.mark.django_db
def test_signed_in_pages_read_the_session_from_the_database(client, redis_down):
    customer = make_customer(email="dora@example.com")
    client.force_login(customer)
    assert Session.objects.count() == 1  # written through to the database

    response = client.get("/portal/")
    assert response.status_code == 200
    assert response.context["user"] == customer  # the session was found
    assert client.get("/portal/tickets/").status_code == 200


@pytest.mark.django_db
def test_filing_a_ticket_is_rate_limited_open_without_redis(client, redis_down):
    """Rate limits fail open: the attempt is allowed (and logged as a cache outage)
    rather than refused or answered with an error."""
    QueueFactory(slug="support")
    customer = make_customer(email="dora@example.com")
    client.force_login(customer)
    response = client.post(
        "/portal/tickets/new/",
        {
            "subject": "Sync stopped",
            "description": "Since this morning.",
            "category": "account",
            "priority": "medium",
        },
    )
    assert response.status_code == 302, response.content.decode()[:500]
    assert Ticket.objects.filter(requester=customer).count() == 1
    assert counters.add_to("ratelimit:probe", timeout=60) == 1


@pytest.mark.django_db
def test_graphql_answers_200_without_redis(client, redis_down, article):
    customer = make_customer(email="dora@example.com")
    client.force_login(customer)
    query = (
        '{ me { email } searchArticles(query: "sync") { edges { node { title } } } }'
    )
    response, seconds = timed_get(client, "/graphql/", data={"query": query})
    assert response.status_code == 200
    body = json.loads(response.content)
    assert "errors" not in body
    assert body["data"]["me"] == {"email": "dora@example.com"}
    assert [e["node"]["title"] for e in body["data"]["searchArticles"]["edges"]] == [
        "Files do not sync"
    ]
    assert seconds < 2


@pytest.mark.django_db
def test_healthz_names_the_cache_as_down_and_stays_200(client, redis_down):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["cache"]["ok"] is False
    assert body["checks"]["cache"]["detail"] in {"ConnectionError", "TimeoutError"}
    assert {name: c["ok"] for name, c in body["checks"].items()} == {
        "database": True,
        "cache": False,
        "broker": True,
        "storage": True,
    }


@pytest.mark.django_db
def test_an_outage_costs_one_timeout_and_is_logged_once(redis_down, caplog):
    """After the first failure the breaker skips Redis: a hundred cache calls cost
    no more than one socket timeout, and the outage is one log line, not a traceback
    per call."""
    cache = caches["default"]
    with caplog.at_level(logging.WARNING, logger="portal.cache"):
        started = time.monotonic()
        for n in range(100):
            assert cache.get(f"key-{n}", "miss") == "miss"
            cache.set(f"key-{n}", n)
            assert cache.add(f"key-{n}", n) is False
        elapsed = time.monotonic() - started
    assert elapsed < 1.0
    lines = [r for r in caplog.records if r.name == "portal.cache"]
    assert len(lines) == 1
    assert lines[0].exc_info is None
    assert "unreachable" in lines[0].getMessage()


@pytest.mark.django_db
def test_django_redis_cache_alone_would_fail(settings, closed_port):
    """The reason for ``FailOpenRedisCache``: Django's backend raises on the same
    outage (so this suite's settings must not fall back to it)."""
    import redis

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port}/0",
        }
    }
    with pytest.raises(redis.ConnectionError):
        caches["default"].get("anything")


def real_redis_cache(settings, prefix):
    """The default cache at the local Redis (database 14, keys under ``prefix``); the
    test is skipped without one."""
    import redis

    url = "redis://127.0.0.1:6379/14"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings.CACHES = {
        "default": {
            "BACKEND": "portal.cache.FailOpenRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
        }
    }
    return url, caches["default"]


def test_a_working_redis_is_used_and_recovery_is_logged(settings, caplog):
    """With Redis back, values are stored again and the recovery is logged once."""
    import redis

    url, cache = real_redis_cache(settings, "operate-test")
    cache.breaker.trip(redis.ConnectionError("simulated earlier outage"))
    cache.breaker.down_until = 0  # the retry delay has passed
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="portal.cache"):
        cache.set("answer", 42, 30)
        assert cache.get("answer") == 42
    assert [r.getMessage().split(" after ")[0] for r in caplog.records] == [
        f"Cache {url} reachable again"
    ]
    assert counters.add_to("counter", timeout=30) == 1
    assert counters.add_to("counter", timeout=30) == 2
    cache.delete_many(["answer", "counter"])


def test_one_redis_client_serves_every_call(settings):
    """Django's client made a new ``redis.Redis`` per call (most of a GET's CPU); the
    process keeps one per connection pool and thread (``test_cache_clients``)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "portal.cache.FailOpenRedisCache",
            "LOCATION": "redis://127.0.0.1:6379/14",
        }
    }
    backend = caches["default"]._cache
    client = backend.get_client("a")
    assert backend.get_client("b", write=True) is client
    assert client.connection_pool is backend._get_connection_pool(True)


def test_a_client_that_cannot_connect_answers_as_redis_down(settings, closed_port):
    """The client takes its connection when it is made: a refused one raises the
    command's error there, inside ``fail_open`` (the default answered), and nothing
    is kept, so the next call after the outage connects."""
    settings.CACHE_RETRY_SECONDS = 0
    settings.CACHES = {
        "default": {
            "BACKEND": "portal.cache.FailOpenRedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port}/0",
        }
    }
    cache = caches["default"]
    assert cache.get("k", "fallback") == "fallback"
    assert cache._cache._clients == {}


def test_a_renewal_lost_to_an_outage_is_made_up_when_redis_is_back(settings):
    """A change that commits while Redis is down cannot renew its generation (the
    write fails open), so the other processes would keep what they built before it.
    The first successful call after the outage renews every generation the process
    knows; without an outage nothing is renewed."""
    import redis

    from portal import cache as shared_cache

    url, cache = real_redis_cache(settings, "renewal-test")
    cache.delete_many(["gen-a", "gen-b"])
    before_a = shared_cache.generation("gen-a")
    before_b = shared_cache.generation("gen-b")
    assert shared_cache.generation("gen-a") == before_a  # steady without an outage
    assert shared_cache.generation("gen-b") == before_b

    cache.breaker.trip(redis.ConnectionError("simulated outage"))
    assert shared_cache.generation("gen-a") is None  # nothing may be kept meanwhile
    shared_cache.new_generation("gen-a")  # lost: the breaker skips Redis
    assert cache.breaker.is_open()
    cache.breaker.down_until = 0  # the retry delay has passed

    assert cache.get("anything") is None  # the first call that reaches Redis again
    after_a = shared_cache.generation("gen-a")
    after_b = shared_cache.generation("gen-b")
    assert after_a is not None and after_a != before_a
    assert after_b is not None and after_b != before_b
    assert shared_cache.generation("gen-a") == after_a  # and steady again
    cache.delete_many(["gen-a", "gen-b"])
