"""Render and send one notification email, at most once per idempotency key."""

import html as html_lib
import logging
from collections.abc import Callable
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
    DUPLICATE = "duplicate"  # already sent, or being sent right now by another run
    SKIPPED_ACTOR = "skipped_actor"
    SKIPPED_PREFERENCE = "skipped_preference"
    SKIPPED_NO_ADDRESS = "skipped_no_address"


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


def _claim(key: str, *, kind: str, recipient, now) -> SentNotification | None:
    """Insert the pending row, or take over a failed or stale one; None if it is sent
    or another run is sending it."""
    with transaction.atomic():
        row, created = SentNotification.objects.get_or_create(
            idempotency_key=key,
            defaults={
                "kind": kind,
                "recipient": recipient,
                "to_email": recipient.email,
                "claimed_at": now,
            },
        )
    if created:
        return row
    if row.status == SentNotification.Status.SENT:
        return None
    stale_before = now - timedelta(seconds=settings.NOTIFICATIONS_STALE_CLAIM_SECONDS)
    taken = (
        SentNotification.objects.filter(pk=row.pk, claimed_at=row.claimed_at)
        .filter(
            Q(status=SentNotification.Status.FAILED)
            | Q(status=SentNotification.Status.PENDING, claimed_at__lt=stale_before)
        )
        .update(
            status=SentNotification.Status.PENDING,
            claimed_at=now,
            attempts=F("attempts") + 1,
        )
    )
    if not taken:
        return None
    row.claimed_at = now
    return row


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
    """Email ``recipient`` about something, once. Returns an ``Outcome`` value.

    Call it from a job that runs after the change committed (see
    ``portal.notifications.dispatch``), not inside the change's transaction: an email
    cannot be rolled back. The recipient is skipped when they are the ``actor`` (nobody
    is told about their own action), when ``preference`` says no, or when they have no
    usable address.
    """
    if actor is not None and getattr(actor, "pk", actor) == recipient.pk:
        return Outcome.SKIPPED_ACTOR
    if not recipient.is_active or not recipient.email:
        return Outcome.SKIPPED_NO_ADDRESS
    if not wants(recipient, preference):
        return Outcome.SKIPPED_PREFERENCE
    now = timezone.now()
    row = _claim(idempotency_key, kind=kind, recipient=recipient, now=now)
    if row is None:
        return Outcome.DUPLICATE
    try:
        with translation.override(recipient.locale or settings.LANGUAGE_CODE):
            subject, text, html = render_email(
                kind,
                {"recipient": recipient, **context},
                subject_template=subject_template,
                text_template=text_template,
                html_template=html_template,
            )
        message = EmailMultiAlternatives(
            subject=subject, body=text, to=[recipient.email]
        )
        message.attach_alternative(html, "text/html")
        message.send()
    except Exception as exc:
        SentNotification.objects.filter(pk=row.pk, claimed_at=row.claimed_at).update(
            status=SentNotification.Status.FAILED, last_error=repr(exc)[:2000]
        )
        logger.exception("Notification %s to %s failed", kind, recipient.email)
        raise
    SentNotification.objects.filter(pk=row.pk).update(
        status=SentNotification.Status.SENT,
        sent_at=timezone.now(),
        subject=subject,
        last_error="",
    )
    return Outcome.SENT
