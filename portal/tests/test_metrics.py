"""``/metrics``: hidden (404) without the bearer token, and with it every series the
operators' dashboard and alerts read, with values that follow what happened."""

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from tickets.tests.factories import QueueFactory, TicketFactory, make_customer

TOKEN = "metrics-secret-for-tests"


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client) -> dict:
    """{(sample name, frozenset(labels)): value}"""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer "],
)
def test_metrics_are_not_found_without_the_token(client, metrics_token, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = client.get("/metrics", **headers)
    assert response.status_code == 404
    assert b"portal_" not in response.content


@pytest.mark.django_db
def test_metrics_are_not_found_when_no_token_is_configured(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404
    assert client.get("/metrics").status_code == 404


@pytest.mark.django_db
def test_metrics_show_requests_queries_and_failed_logins(
    client, metrics_token, make_user, password
):
    before = scrape(client)
    for _ in range(3):
        assert client.get("/ping").status_code == 200
    assert client.get("/no/such/page/").status_code == 404
    make_user("eve@example.com")
    response = client.post(
        "/accounts/login/", {"login": "eve@example.com", "password": "wrong-password"}
    )
    assert response.status_code == 200  # the form again, with its error
    after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    ping = {"route": "ping", "method": "GET", "status": "200"}
    assert delta("portal_http_requests_total", **ping) == 3
    assert delta("portal_http_request_duration_seconds_count", **ping) == 3
    assert delta("portal_http_request_duration_seconds_bucket", le="+Inf", **ping) == 3
    assert delta("portal_db_queries_per_request_count", route="ping") == 3
    assert delta("portal_db_queries_per_request_sum", route="ping") == 0
    not_found = [
        key
        for key in after
        if key[0] == "portal_http_requests_total"
        and ("status", "404") in key[1]
        and after[key] > before.get(key, 0)
    ]
    assert len(not_found) == 1  # one route label for every unknown path
    assert delta("portal_logins_failed_total") == 1


@pytest.mark.django_db
def test_metrics_read_queue_outbox_and_domain_totals_from_the_database(
    client, metrics_token
):
    from django_q.models import OrmQ

    from kb.models import UnansweredSearch
    from webhooks.models import Webhook, WebhookDelivery

    queue = QueueFactory(slug="support")
    customer = make_customer(email="dora@example.com")
    tickets = [TicketFactory(requester=customer, queue=queue) for _ in range(3)]
    tickets[0].__class__.objects.filter(pk=tickets[0].pk).update(
        sla_breached_at=timezone.now()
    )
    UnansweredSearch.objects.create(
        query_string="teleport", hits=4, last_searched_at=timezone.now()
    )
    UnansweredSearch.objects.create(
        query_string="warp drive", hits=1, last_searched_at=timezone.now()
    )
    webhook = Webhook.objects.create(
        name="CRM", url="https://crm.example.com/hook", secret="s", events=["*"]
    )
    WebhookDelivery.objects.all().delete()
    for status in ("pending", "pending", "failed", "delivered"):
        WebhookDelivery.objects.create(
            webhook=webhook,
            event="ticket.created",
            status=status,
            next_attempt_at=timezone.now(),
            created_at=timezone.now(),
        )
    OrmQ.objects.all().delete()
    OrmQ.objects.create(
        key="portal",
        payload="x",
        lock=timezone.now() - timezone.timedelta(seconds=90),
    )

    samples = scrape(client)
    assert value(samples, "portal_tickets_created_total") == max(t.pk for t in tickets)
    assert value(samples, "portal_sla_breaches_total") == 1
    assert value(samples, "portal_kb_searches_without_result_total") == 5
    assert (
        value(samples, "portal_outbox_rows", outbox="webhooks", status="pending") == 2
    )
    assert value(samples, "portal_outbox_rows", outbox="webhooks", status="failed") == 1
    assert (
        value(samples, "portal_outbox_rows", outbox="webhooks", status="delivered") == 1
    )
    assert (
        "portal_outbox_rows",
        frozenset({("outbox", "emails"), ("status", "pending")}),
    ) in samples
    assert (
        value(samples, "portal_outbox_oldest_pending_age_seconds", outbox="webhooks")
        >= 0
    )
    assert value(samples, "portal_jobs_queued") == 1
    assert 89 <= value(samples, "portal_jobs_oldest_age_seconds") < 120


@pytest.mark.parametrize(
    ("seconds", "queries"),
    [(0.0, 0), (0.005, 1), (0.0051, 2), (0.3, 7), (10, 200), (11.5, 201)],
)
def test_observe_request_counts_what_inc_and_observe_count(seconds, queries):
    from prometheus_client import REGISTRY

    from portal import metrics

    def samples(route):
        labels = {"route": route, "method": "GET", "status": "200"}
        wanted = {}
        for sample in (
            s
            for family in REGISTRY.collect()
            if family.name
            in ("portal_http_requests", "portal_http_request_duration_seconds")
            or family.name == "portal_db_queries_per_request"
            for s in family.samples
            if s.labels.get("route") == route and not s.name.endswith("_created")
        ):
            key = {k: v for k, v in sample.labels.items() if k not in labels}
            wanted[(sample.name, tuple(sorted(key.items())))] = sample.value
        return wanted

    fast, public = f"fast-{seconds}-{queries}", f"public-{seconds}-{queries}"
    for _ in range(2):
        metrics.observe_request(fast, "GET", 200, seconds, queries)
        metrics.REQUESTS.labels(public, "GET", "200").inc()
        metrics.LATENCY.labels(public, "GET", "200").observe(seconds)
        metrics.QUERIES.labels(public).observe(queries)
    got, expected = samples(fast), samples(public)
    assert got == expected
    assert got[("portal_http_requests_total", ())] == 2
    assert got[("portal_http_request_duration_seconds_count", ())] == 2
