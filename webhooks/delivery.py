"""Posting due deliveries: claim, send, record, retry with backoff.

Guarantees, and how:

* **At least once.** A row is claimed in a short transaction that increments
  ``attempts`` and pushes ``next_attempt_at`` forward by a lease
  (``WEBHOOKS_LEASE_SECONDS``); the HTTP call happens outside any transaction, and only
  its outcome marks the row delivered. A worker killed mid-delivery leaves the row
  pending; once the lease runs out the next run sends it again. Receivers deduplicate
  on the ``id`` in the body (the delivery's ``event_id``), which never changes.
* **No double sending by concurrent workers.** The claim is ``portal.outbox.claim``
  (shared with the notification outbox): on PostgreSQL ``SELECT … FOR UPDATE SKIP
  LOCKED``; on SQLite the write lock taken at ``BEGIN IMMEDIATE`` serialises claims and
  the UPDATE repeats the due condition. Either way a claimed row is no longer due.
* **Order per key.** A row is due only when no older row with the same webhook and
  ordering key is still pending (a claimed row stays pending until its outcome), so a
  ticket's events reach each receiver in the order they happened.
* **Retries.** A failure (connection error, timeout, non-2xx) is retried after
  ``WEBHOOKS_BACKOFF_BASE_SECONDS * 2**(attempts-1)`` seconds (30 s, 1 min, 2 min, …,
  capped at ``WEBHOOKS_BACKOFF_MAX_SECONDS``) until ``WEBHOOKS_MAX_AGE_HOURS`` after the
  event, then the row is marked failed (and stops blocking later rows).
* **Refusals.** A URL that resolves to a forbidden address (``addresses``), or a
  webhook whose owner may no longer receive events (deactivated, locked, lost the
  webhook permission), is not posted to: the row is marked failed at once with the
  reason, since retrying would change nothing.
"""

import http.client
import logging
import socket
import ssl
import time
from collections import Counter
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import outbox

from . import addresses, signing
from .models import WebhookDelivery
from .permissions import owner_may_receive

logger = logging.getLogger(__name__)

USER_AGENT = "SupportPortal-Webhooks/1"


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to ``address`` (checked by ``addresses.resolve_for_delivery``) instead
    of resolving ``host`` again; ``host`` still makes the ``Host`` header."""

    def __init__(self, host, port, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.pinned_address = address

    def connect(self):
        self.sock = socket.create_connection(
            (self.pinned_address, self.port), self.timeout
        )
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above, over TLS: the certificate is verified for ``host``, which is also
    the SNI name, while the socket goes to the checked address."""

    def __init__(self, host, port, *, address: str, timeout: float):
        super().__init__(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
        self.pinned_address = address

    def connect(self):
        sock = socket.create_connection((self.pinned_address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST ``body`` and return the HTTP status code. Raises
    ``addresses.ForbiddenAddress`` when the URL or any address its host resolves to is
    forbidden (nothing is sent), ``OSError`` on network errors.

    The host is resolved once, every address checked, and the connection made to a
    checked address: a second DNS answer (rebinding) is never asked for. Redirects are
    not followed (a 3xx is an answer, recorded as a failure), and no proxy is used.
    """
    scheme, host, port, resolved = addresses.resolve_for_delivery(url)
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    connection_class = (
        _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    )
    last_error: OSError | None = None
    # Connecting to all of them together takes at most ``timeout``, so that a claim
    # is still sent within its lease however many addresses a name has.
    deadline = time.monotonic() + timeout
    for address in resolved:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        conn = connection_class(host, port, address=address, timeout=remaining)
        try:
            try:
                conn.connect()
            except OSError as error:  # try the next checked address
                last_error = error
                continue
            conn.sock.settimeout(timeout)
            conn.request("POST", target, body=body, headers=headers)
            response = conn.getresponse()
            response.read(1024)
            return response.status
        finally:
            conn.close()
    raise last_error or TimeoutError(f"Could not connect to {host} in time")


def backoff(attempts: int) -> timedelta:
    """Delay before the next attempt, after ``attempts`` attempts have failed."""
    return outbox.backoff(
        attempts,
        base=settings.WEBHOOKS_BACKOFF_BASE_SECONDS,
        cap=settings.WEBHOOKS_BACKOFF_MAX_SECONDS,
    )


def due_deliveries(now: datetime):
    """Pending rows whose time has come and that no older row of the same key blocks."""
    older_pending = WebhookDelivery.objects.filter(
        webhook=OuterRef("webhook"),
        ordering_key=OuterRef("ordering_key"),
        status=WebhookDelivery.Status.PENDING,
        id__lt=OuterRef("id"),
    )
    return (
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=now,
            webhook__active=True,
        )
        .filter(Q(ordering_key="") | ~Exists(older_pending))
        .order_by("next_attempt_at", "id")
    )


def claim_due(now: datetime, limit: int) -> list[WebhookDelivery]:
    """Take up to ``limit`` due rows for this worker: count the attempt and lease them."""
    lease_until = now + timedelta(seconds=settings.WEBHOOKS_LEASE_SECONDS)
    ids = outbox.claim(
        due_deliveries(now),
        limit=limit,
        attempts=F("attempts") + 1,
        next_attempt_at=lease_until,
    )
    if not ids:
        return []
    return list(
        WebhookDelivery.objects.filter(id__in=ids)
        .select_related("webhook__owner")
        .order_by("id")
    )


def send(delivery: WebhookDelivery, *, now: datetime | None = None) -> str:
    """Post one claimed delivery and record the outcome: ``delivered``, ``retry``,
    ``failed`` (too old to retry) or ``refused`` (forbidden address or owner: marked
    failed at once with the reason, never retried)."""
    webhook = delivery.webhook
    body = signing.encode_body(
        event=delivery.event,
        event_id=str(delivery.event_id),
        occurred_at=delivery.created_at.isoformat().replace("+00:00", "Z"),
        data=delivery.payload,
    )
    sent_at = now or timezone.now()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signing.SIGNATURE_HEADER: signing.sign(webhook.secret, body),
        signing.TIMESTAMP_HEADER: str(int(sent_at.timestamp())),
        signing.EVENT_HEADER: delivery.event,
        signing.ID_HEADER: str(delivery.event_id),
    }
    still_ours = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=WebhookDelivery.Status.PENDING
    )
    status_code, error, refusal = None, "", ""
    if not owner_may_receive(webhook.owner):
        refusal = _("The webhook's owner may no longer receive events.")
    else:
        try:
            status_code = post(
                webhook.url, body, headers, timeout=settings.WEBHOOKS_TIMEOUT_SECONDS
            )
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except addresses.ForbiddenAddress as refused:
            refusal = str(refused)
        except Exception as exc:  # any failure to get an answer is retried
            error = f"{type(exc).__name__}: {exc}"[:1000]
    if refusal:  # retrying would not change it
        still_ours.update(status=WebhookDelivery.Status.FAILED, last_error=refusal)
        logger.warning("Webhook delivery %s refused: %s", delivery.pk, refusal)
        return "refused"
    finished_at = now or timezone.now()
    if not error:
        still_ours.update(
            status=WebhookDelivery.Status.DELIVERED,
            delivered_at=finished_at,
            last_status_code=status_code,
            last_error="",
        )
        return "delivered"
    retry_at = finished_at + backoff(delivery.attempts)
    give_up_at = delivery.created_at + timedelta(hours=settings.WEBHOOKS_MAX_AGE_HOURS)
    if retry_at > give_up_at:
        still_ours.update(
            status=WebhookDelivery.Status.FAILED,
            last_status_code=status_code,
            last_error=error,
        )
        logger.warning("Webhook delivery %s failed for good: %s", delivery.pk, error)
        return "failed"
    still_ours.update(
        next_attempt_at=retry_at, last_status_code=status_code, last_error=error
    )
    return "retry"


def deliver_due(now: datetime | None = None, limit: int | None = None) -> Counter:
    """Deliver what is due, up to ``limit`` attempts; returns outcome counts.

    Claims in small batches until nothing is due, so that a ticket's next event goes
    out in the same run once the previous one is delivered; stops claiming after
    ``WEBHOOKS_RUN_SECONDS`` so that a run ends well within the django-q2 task timeout.
    """
    limit = limit or settings.WEBHOOKS_BATCH_SIZE
    deadline = time.monotonic() + settings.WEBHOOKS_RUN_SECONDS
    outcomes: Counter = Counter()
    attempted = 0
    while attempted < limit and time.monotonic() < deadline:
        # Small claims: every row of a claim must be sent before its lease runs out
        # (claim size × timeout < lease), or another worker could send it too.
        size = min(limit - attempted, settings.WEBHOOKS_CLAIM_SIZE)
        batch = claim_due(now or timezone.now(), size)
        if not batch:
            break
        for delivery in batch:
            outcomes[send(delivery, now=now)] += 1
        attempted += len(batch)
    return outcomes


def purge_old_deliveries(now: datetime | None = None) -> int:
    """Delete delivered and failed rows older than ``WEBHOOKS_RETENTION_DAYS``."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.WEBHOOKS_RETENTION_DAYS)
    deleted, _ = WebhookDelivery.objects.filter(
        Q(status=WebhookDelivery.Status.DELIVERED, delivered_at__lt=cutoff)
        | Q(status=WebhookDelivery.Status.FAILED, created_at__lt=cutoff)
    ).delete()
    return deleted
