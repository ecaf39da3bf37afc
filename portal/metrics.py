"""Prometheus metrics, served at ``/metrics`` to holders of ``METRICS_TOKEN``.

Two kinds of series:

* **counted in the process** as things happen: requests (count and latency by route,
  method and status), SQL statements per request, failed sign-ins. Under gunicorn set
  ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder (emptied at each start) so that
  every worker's counts are added up at scrape time (``prometheus_client``'s
  multiprocess mode; ``docs/deploy.md`` has the gunicorn hook).
* **read from the database at scrape time** with one cheap query each, so they agree
  across app servers and job workers: the job queue's depth and oldest job's age, the
  outbox backlog and failures (emails, webhooks), tickets created, SLA breaches and
  knowledge-base searches that found nothing. Models are named by label, so this
  module (shared infrastructure) imports no domain app.
"""

import hmac
import logging
import os
import time
from bisect import bisect_left

from django.apps import apps
from django.conf import settings
from django.db.models import Count, Max, Min, Sum
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

logger = logging.getLogger(__name__)

REQUESTS = Counter(
    "portal_http_requests",
    "HTTP requests answered, by route pattern, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "portal_http_request_duration_seconds",
    "Time to answer a request, by route pattern, method and status.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
QUERIES = Histogram(
    "portal_db_queries_per_request",
    "SQL statements run while answering one request, by route pattern.",
    ["route"],
    buckets=(0, 1, 2, 5, 10, 20, 50, 100, 200),
)
LOGINS_FAILED = Counter(
    "portal_logins_failed", "Sign-in attempts refused (wrong password or code)."
)


_children: dict = {}  # (route, method, status) → the bound updates of its series


def _histogram_updates(child):
    """(add to the sum, upper bounds, add one to bucket i) of a labelled histogram:
    what ``child.observe()`` does, without its checks and its walk over the bounds.
    ``None`` if ``prometheus_client`` keeps its values elsewhere than 0.26 does."""
    try:
        bounds = tuple(child._upper_bounds)
        buckets = tuple(bucket.inc for bucket in child._buckets)
        add = child._sum.inc
    except AttributeError:  # pragma: no cover (another prometheus_client)
        return None
    if len(bounds) != len(buckets) or bounds[-1] != float("inf"):
        return None  # pragma: no cover
    return add, bounds, buckets


def _observe(updates, child, amount) -> None:
    if updates is None:  # pragma: no cover (another prometheus_client)
        child.observe(amount)
        return
    add, bounds, buckets = updates
    add(amount)
    # the first bound >= amount, as observe() finds it (the last one is +Inf)
    buckets[bisect_left(bounds, amount)](1)


def observe_request(route, method, status, seconds, queries) -> None:
    """Count one answered request. The labelled series are looked up once per label
    set (``labels()`` costs more than the observation itself), and updated through
    their values' own ``inc`` (in multiprocess mode the shared files'), which is what
    ``inc()`` and ``observe()`` end in; tests compare both."""
    key = (route, method, status)
    children = _children.get(key)
    if children is None:
        status = str(status)
        requests = REQUESTS.labels(route, method, status)
        latency = LATENCY.labels(route, method, status)
        queries_child = QUERIES.labels(route)
        value = getattr(requests, "_value", None)
        children = _children[key] = (
            value.inc if value is not None else requests.inc,
            latency,
            _histogram_updates(latency),
            queries_child,
            _histogram_updates(queries_child),
        )
    children[0](1)
    _observe(children[2], children[1], seconds)
    if queries is not None:
        _observe(children[4], children[3], queries)


def count_failed_login(sender=None, **kwargs) -> None:
    """``user_login_failed`` receiver (wired in ``portal.apps``)."""
    LOGINS_FAILED.inc()


# --- read at scrape time -----------------------------------------------------------
# (outbox name, model label): rows by status; "pending" is the backlog.
OUTBOXES = (
    ("emails", "notifications.SentNotification"),
    ("webhooks", "webhooks.WebhookDelivery"),
)


def _model(label):
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def _age_seconds(moment, now) -> float:
    return max((now - moment).total_seconds(), 0.0) if moment else 0.0


def _job_queue(now):
    """(depth, age in seconds of the oldest queued job) of django-q2's queue."""
    conf = settings.Q_CLUSTER
    if conf.get("orm"):
        from django_q.models import OrmQ

        row = OrmQ.objects.filter(lock__lte=now).aggregate(n=Count("id"), m=Min("lock"))
        return row["n"], _age_seconds(row["m"], now)
    from django_q.signing import SignedPackage

    from .jobs import broker

    queue = broker()
    depth = queue.queue_size()
    oldest = 0.0
    if depth:
        head = queue.connection.lindex(queue.list_key, 0)
        if head:
            oldest = _age_seconds(SignedPackage.loads(head).get("started"), now)
    return depth, oldest


class DatabaseCollector:
    """Gauges and totals read with one query each when Prometheus scrapes."""

    def collect(self):
        now = timezone.now()
        yield from self._jobs(now)
        yield from self._outboxes(now)
        yield from self._domain()
        yield from self._backups()

    def _safely(self, name, reader):
        try:
            return reader()
        except Exception as error:  # noqa: BLE001 - a scrape never fails as a whole
            logger.warning(
                "Metric %s not read: %s",
                name,
                error.__class__.__name__,
                extra={"event": "metric_unreadable", "metric": name},
            )
            return None

    def _jobs(self, now):
        result = self._safely("jobs", lambda: _job_queue(now))
        if result is None:
            return
        depth = GaugeMetricFamily(
            "portal_jobs_queued", "Jobs waiting in the queue for a worker."
        )
        depth.add_metric([], result[0])
        age = GaugeMetricFamily(
            "portal_jobs_oldest_age_seconds",
            "How long the oldest queued job has waited (0 when none waits).",
        )
        age.add_metric([], result[1])
        yield depth
        yield age

    def _outboxes(self, now):
        rows = GaugeMetricFamily(
            "portal_outbox_rows",
            "Outbox rows by status: pending is the backlog, failed the failures.",
            labels=["outbox", "status"],
        )
        oldest = GaugeMetricFamily(
            "portal_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending outbox row (0 when none is pending).",
            labels=["outbox"],
        )
        for name, label in OUTBOXES:
            model = _model(label)
            if model is None:
                continue

            def read(model=model):
                counts = dict(
                    model.objects.order_by()
                    .values_list("status")
                    .annotate(n=Count("pk"))
                )
                first = model.objects.filter(status="pending").aggregate(
                    m=Min("created_at")
                )["m"]
                return counts, first

            result = self._safely(f"outbox:{name}", read)
            if result is None:
                continue
            counts, first = result
            for status in (
                "pending",
                "failed",
                *sorted(set(counts) - {"pending", "failed"}),
            ):
                rows.add_metric([name, status], counts.get(status, 0))
            oldest.add_metric([name], _age_seconds(first, now))
        yield rows
        yield oldest

    def _backups(self):
        from .backup import last_status

        status = self._safely("backups", last_status)
        if not status:
            return
        for key, name, text in (
            (
                "last_backup_at",
                "portal_backup_last_success_timestamp_seconds",
                "When the scheduled backup last succeeded (Unix time).",
            ),
            (
                "verify_ok",
                "portal_backup_verify_ok",
                "1 when the last weekly restore check passed, 0 when it failed.",
            ),
            (
                "last_verify_at",
                "portal_backup_last_verify_timestamp_seconds",
                "When the restore check last ran (Unix time).",
            ),
        ):
            if key in status:
                family = GaugeMetricFamily(name, text)
                family.add_metric([], status[key])
                yield family

    def _domain(self):
        ticket = _model("tickets.Ticket")
        if ticket is not None:
            # ids are never reused: the highest is the number ever created (an index
            # lookup, not a count over the table)
            created = self._safely(
                "tickets_created",
                lambda: ticket.objects.aggregate(m=Max("pk"))["m"] or 0,
            )
            if created is not None:
                family = CounterMetricFamily(
                    "portal_tickets_created", "Tickets created since installation."
                )
                family.add_metric([], created)
                yield family
            breached = self._safely(
                "sla_breaches",
                lambda: ticket.objects.filter(sla_breached_at__isnull=False).count(),
            )
            if breached is not None:
                family = CounterMetricFamily(
                    "portal_sla_breaches", "Tickets that have breached their SLA."
                )
                family.add_metric([], breached)
                yield family
        unanswered = _model("kb.UnansweredSearch")
        if unanswered is not None:
            total = self._safely(
                "kb_unanswered",
                lambda: unanswered.objects.aggregate(s=Sum("hits"))["s"] or 0,
            )
            if total is not None:
                family = CounterMetricFamily(
                    "portal_kb_searches_without_result",
                    "Knowledge-base searches that found nothing (recorded each "
                    "minute by the counters job).",
                )
                family.add_metric([], total)
                yield family


def scrape_registry() -> CollectorRegistry:
    """The registry one scrape reads: every process's counts (multiprocess mode) or
    this process's, plus the database readings."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        registry.register(_Forward(REGISTRY))
    registry.register(DatabaseCollector())
    return registry


class _Forward:
    """This process's default registry as a collector of another registry."""

    def __init__(self, source):
        self.source = source

    def collect(self):
        yield from self.source.collect()


def _authorized(request) -> bool:
    token = getattr(settings, "METRICS_TOKEN", "") or ""
    if not token:
        return False
    header = request.headers.get("Authorization", "")
    scheme, _space, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


@never_cache
def metrics_view(request):
    """Prometheus text format. 404 without ``Authorization: Bearer $METRICS_TOKEN``
    (or with no token configured), so the endpoint's existence does not leak."""
    if request.method != "GET" or not _authorized(request):
        raise Http404
    started = time.monotonic()
    body = generate_latest(scrape_registry())
    response = HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
    response["X-Scrape-Seconds"] = f"{time.monotonic() - started:.3f}"
    return response
