"""Render and send one notification email, at most once per idempotency key."""

import html as html_lib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import SentNotification

logger = logging.getLogger(__name__)

#: A preference is a flag, the name of a boolean attribute of the user (e.g.
#: ``"notify_on_reply"``), or a callable taking the recipient.
Preference = bool | str | Callable[[object], bool] | None


class Outcome:
    SENT = "sent"
    FAILED = "failed"  # the job raises after the batch; a retry sends it
    DUPLICATE = "duplicate"  # already sent, or being sent right now by another run
    SKIPPED_ACTOR = "skipped_actor"
    SKIPPED_PREFERENCE = "skipped_preference"
    SKIPPED_NO_ADDRESS = "skipped_no_address"


@dataclass(frozen=True)
class Address:
    """A recipient who may have no account yet (an invitation): an address and the
    language to write in. It stands in for a user in ``send_notification``."""

    email: str
    locale: str = ""
    pk = None
    is_active = True


def idempotency_key(event_id, recipient_id, kind: str) -> str:
    return f"{event_id}:{recipient_id}:{kind}"


def wants(recipient, preference: Preference) -> bool:
    if preference is None:
        return True
    if isinstance(preference, bool):
        return preference
    if isinstance(preference, str):
        return bool(getattr(recipient, preference))
    return bool(preference(recipient))


def render_email(
    kind: str,
    context: dict,
    *,
    subject_template: str | None = None,
    text_template: str | None = None,
    html_template: str | None = None,
) -> tuple[str, str, str]:
    """(subject, text, html) from ``emails/<kind>_subject.txt``, ``emails/<kind>.txt``
    and ``emails/<kind>.html`` unless other templates are named."""
    context = {
        "site_name": settings.WAGTAIL_SITE_NAME,
        "base_url": settings.WAGTAILADMIN_BASE_URL.rstrip("/"),
        **context,
    }
    subject = render_to_string(
        subject_template or f"emails/{kind}_subject.txt", context
    )
    # Subjects are plain text: undo the HTML escaping of the template engine.
    subject = html_lib.unescape(" ".join(subject.split()))[:255]
    text = render_to_string(text_template or f"emails/{kind}.txt", context)
    html = render_to_string(html_template or f"emails/{kind}.html", context)
    return subject, text, html


@dataclass
class Outgoing:
    """One email to send: what ``send_notification`` takes, as a value, so that the
    emails of one event can be sent together (``send_notifications``)."""

    kind: str
    recipient: object
    context: dict
    idempotency_key: str
    subject_template: str | None = None
    text_template: str | None = None
    html_template: str | None = None
    actor: object = None
    preference: Preference = None


def _skip_reason(message: Outgoing) -> str | None:
    recipient, actor = message.recipient, message.actor
    if actor is not None and getattr(actor, "pk", actor) == recipient.pk:
        return Outcome.SKIPPED_ACTOR
    if not recipient.is_active or not recipient.email:
        return Outcome.SKIPPED_NO_ADDRESS
    if not wants(recipient, message.preference):
        return Outcome.SKIPPED_PREFERENCE
    return None


def _claim_all(messages: list[Outgoing], now) -> dict[str, SentNotification]:
    """Claim the ledger rows of ``messages`` in one transaction: insert the missing
    ones, take over failed or stale ones; returns the rows this run now owns, by key
    (not those sent already or being sent by another run right now)."""
    keys = [m.idempotency_key for m in messages]
    stale_before = now - timedelta(seconds=settings.NOTIFICATIONS_STALE_CLAIM_SECONDS)
    with transaction.atomic():
        SentNotification.objects.bulk_create(
            [
                SentNotification(
                    idempotency_key=m.idempotency_key,
                    kind=m.kind,
                    recipient=None if isinstance(m.recipient, Address) else m.recipient,
                    to_email=m.recipient.email,
                    claimed_at=now,
                )
                for m in messages
            ],
            ignore_conflicts=True,  # a concurrent or earlier run has the row
        )
        SentNotification.objects.filter(idempotency_key__in=keys).filter(
            Q(status=SentNotification.Status.FAILED)
            | Q(status=SentNotification.Status.PENDING, claimed_at__lt=stale_before)
        ).update(
            status=SentNotification.Status.PENDING,
            claimed_at=now,
            attempts=F("attempts") + 1,
        )
        owned = SentNotification.objects.filter(
            idempotency_key__in=keys,
            status=SentNotification.Status.PENDING,
            claimed_at=now,
        )
        return {row.idempotency_key: row for row in owned}


def _deliver(message: Outgoing) -> str:
    """Render and send one email; returns its subject."""
    recipient = message.recipient
    with translation.override(recipient.locale or settings.LANGUAGE_CODE):
        subject, text, html = render_email(
            message.kind,
            {
                "recipient": None if isinstance(recipient, Address) else recipient,
                **message.context,
            },
            subject_template=message.subject_template,
            text_template=message.text_template,
            html_template=message.html_template,
        )
    email = EmailMultiAlternatives(subject=subject, body=text, to=[recipient.email])
    email.attach_alternative(html, "text/html")
    email.send()
    return subject


def send_notifications(messages: list[Outgoing]) -> list[str]:
    """Send several emails, each at most once per idempotency key; returns an
    ``Outcome`` value per message, in order.

    Call it from a job that runs after the change committed (see
    ``portal.notifications.dispatch``), not inside the change's transaction: an email
    cannot be rolled back. A recipient is skipped when they are the ``actor`` (nobody
    is told about their own action), when ``preference`` says no, or when they have no
    usable address.

    The ledger is written in two transactions for the whole batch (claim, then sent)
    rather than two per email: an event's eleven emails used to cost twenty-two
    commits, each waiting for the disk, which capped ticket creation on one host. An
    email that fails is marked failed and the others still go out; the first error is
    raised at the end, so the job is retried and sends only what is not sent yet. If
    the worker dies between sending and the final mark, the batch's emails are
    claimed-but-unmarked and are sent again once the claim is stale (at least once).
    """
    outcomes = [_skip_reason(message) for message in messages]
    candidates = [m for m, skip in zip(messages, outcomes, strict=True) if skip is None]
    if not candidates:
        return outcomes
    now = timezone.now()
    owned = _claim_all(candidates, now)
    sent, error = [], None
    for index, message in enumerate(messages):
        if outcomes[index] is not None:
            continue
        row = owned.pop(message.idempotency_key, None)  # a key is sent once a batch
        if row is None:
            outcomes[index] = Outcome.DUPLICATE
            continue
        try:
            row.subject = _deliver(message)
        except Exception as exc:
            SentNotification.objects.filter(pk=row.pk, claimed_at=now).update(
                status=SentNotification.Status.FAILED, last_error=repr(exc)[:2000]
            )
            logger.exception(
                "Notification %s to %s failed", message.kind, message.recipient.email
            )
            error = error or exc
            outcomes[index] = Outcome.FAILED
            continue
        row.status, row.sent_at, row.last_error = (
            SentNotification.Status.SENT,
            timezone.now(),
            "",
        )
        sent.append(row)
        outcomes[index] = Outcome.SENT
    if sent:
        with transaction.atomic():
            SentNotification.objects.bulk_update(
                sent, ["status", "sent_at", "subject", "last_error"]
            )
    if error is not None:
        raise error
    return outcomes


def send_notification(
    kind: str,
    recipient,
    *,
    context: dict,
    idempotency_key: str,
    subject_template: str | None = None,
    text_template: str | None = None,
    html_template: str | None = None,
    actor=None,
    preference: Preference = None,
) -> str:
    """Email ``recipient`` (a user, or an ``Address``) about something, once. Returns
    an ``Outcome`` value. One message of ``send_notifications``, whose rules apply."""
    [outcome] = send_notifications(
        [
            Outgoing(
                kind=kind,
                recipient=recipient,
                context=context,
                idempotency_key=idempotency_key,
                subject_template=subject_template,
                text_template=text_template,
                html_template=html_template,
                actor=actor,
                preference=preference,
            )
        ]
    )
    return outcome
