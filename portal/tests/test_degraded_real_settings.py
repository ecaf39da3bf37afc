"""Degrade, do not die, with the settings the site really runs: ``portal/settings/base.py``
evaluated afresh with ``REDIS_URL`` at a closed port, so the cache, the session engine,
the rate limits and the job broker are exactly what ``REDIS_URL`` switches on in
production (not a copy of them written for the test). Redis is both cache and broker
there, so both are down."""

import logging
import runpy
import warnings

import pytest
from django.core.cache import caches

from portal import jobs
from portal.cache import FailOpenRedisCache
from portal.notifications.models import SentNotification
from portal.tests.test_degraded_cache import article  # noqa: F401 - fixture
from tickets.models import Ticket
from tickets.tests.factories import QueueFactory, make_agent, make_customer

REDIS_SETTINGS = (
    "CACHES",
    "SESSION_ENGINE",
    "Q_CLUSTER",
    "CACHE_TIMEOUT_SECONDS",
    "CACHE_RETRY_SECONDS",
    "GRAPHQL_RATE_LIMIT",
    "PORTAL_RATE_LIMITS",
    "ACCOUNT_RATE_LIMITS",
)


@pytest.fixture
def production_redis_down(settings, monkeypatch, closed_port):
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{closed_port}/0")
    with warnings.catch_warnings():  # runpy: the module is imported already
        warnings.simplefilter("ignore", RuntimeWarning)
        real = runpy.run_module("portal.settings.base")
    for name in REDIS_SETTINGS:
        setattr(settings, name, real[name])
    # django-q2 copies Q_CLUSTER into its Conf when first imported: follow it
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "REDIS", real["Q_CLUSTER"]["redis"])
    monkeypatch.setattr(jobs, "_broker", None)  # the Redis broker, made on first use
    assert isinstance(caches["default"], FailOpenRedisCache)
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"
    assert "orm" not in settings.Q_CLUSTER and not settings.Q_CLUSTER.get("sync")
    assert settings.Q_CLUSTER["redis"].startswith(f"redis://127.0.0.1:{closed_port}")
    return closed_port


@pytest.mark.django_db
def test_pages_portal_and_graphql_answer_200_and_healthz_names_cache_and_broker(
    client,
    production_redis_down,
    article,  # noqa: F811
):
    for path in ("/", article.url):
        assert client.get(path).status_code == 200, path
    customer = make_customer(email="dora@example.com")
    client.force_login(customer)
    response = client.get("/portal/")
    assert response.status_code == 200
    assert response.context["user"] == customer
    response = client.post(
        "/graphql/",
        {
            "query": '{ me { email } searchArticles(query: "sync") { edges { node { title } } } }'
        },
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body
    assert body["data"]["me"] == {"email": "dora@example.com"}
    assert [e["node"]["title"] for e in body["data"]["searchArticles"]["edges"]] == [
        "Files do not sync"
    ]

    health = client.get("/healthz")
    assert health.status_code == 200
    report = health.json()
    assert report["status"] == "degraded"
    assert {name: check["ok"] for name, check in report["checks"].items()} == {
        "database": True,
        "cache": False,
        "broker": False,
        "storage": True,
    }
    assert report["checks"]["cache"]["detail"] == "ConnectionError"
    assert report["checks"]["broker"]["detail"] == "ConnectionError"


@pytest.mark.django_db
def test_filing_a_ticket_while_the_broker_is_down_keeps_its_emails_in_the_outbox(
    client, production_redis_down, caplog, django_capture_on_commit_callbacks
):
    """The ticket is filed (rate limit fails open), its notification emails wait in
    the outbox for the reconciliation schedule, and the job that could not be queued
    is one log line, not a traceback."""
    queue = QueueFactory(slug="support")
    make_agent(queue, email="agent.x@example.com")
    customer = make_customer(email="dora@example.com")
    client.force_login(customer)
    with (
        caplog.at_level(logging.WARNING),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(
            "/portal/tickets/new/",
            {
                "subject": "Sync stopped",
                "description": "Since this morning.",
                "category": "account",
                "priority": "medium",
            },
        )
    assert response.status_code == 302
    ticket = Ticket.objects.get(requester=customer)
    assert SentNotification.objects.filter(status="pending").count() >= 1
    [line] = [r for r in caplog.records if r.name == "portal.notifications.dispatch"]
    assert line.getMessage().startswith("Could not queue the delivery of ")
    assert "(ConnectionError)" in line.getMessage()
    assert not line.exc_info  # no traceback
    assert ticket.subject == "Sync stopped"
