"""The state changes of webhooks, one function each: validated, permission-checked,
logged in Wagtail's audit log. The Wagtail admin and the GraphQL mutations call these."""

import secrets as _secrets
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from . import addresses
from .models import WEBHOOK_EVENTS, Webhook, WebhookDelivery
from .permissions import can_change_webhook, can_manage_webhooks

_UNSET = object()


def generate_secret() -> str:
    return _secrets.token_urlsafe(32)


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    if urlsplit(url).scheme not in {"http", "https"}:
        raise ValidationError({"url": _("Use an http:// or https:// address.")})
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationError({"url": _("Enter a valid URL.")})
    if len(url) > Webhook._meta.get_field("url").max_length:
        raise ValidationError({"url": _("The URL is too long.")})
    try:
        addresses.check_url(url)
    except addresses.ForbiddenAddress as refused:
        raise ValidationError({"url": str(refused)})
    return url


def _clean_secret(secret: str) -> str:
    """A secret the caller chose: not blank, and fitting the column."""
    secret = (secret or "").strip()
    if not secret:
        raise ValidationError(
            {"secret": _("Give a secret, or ask for a new one to be generated.")}
        )
    if len(secret) > Webhook._meta.get_field("secret").max_length:
        raise ValidationError({"secret": _("The secret is too long.")})
    return secret


def _clean_events(events) -> list[str]:
    events = list(dict.fromkeys(events or []))
    unknown = [event for event in events if event not in WEBHOOK_EVENTS]
    if unknown:
        raise ValidationError(
            {
                "events": _("Unknown events: %(events)s. Known: %(known)s.")
                % {"events": ", ".join(unknown), "known": ", ".join(WEBHOOK_EVENTS)}
            }
        )
    if not events:
        raise ValidationError({"events": _("Choose at least one event.")})
    return events


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("A name is required.")})
    if len(name) > Webhook._meta.get_field("name").max_length:
        raise ValidationError({"name": _("The name is too long.")})
    return name


def create_webhook(
    owner,
    *,
    name: str,
    url: str,
    events: list[str],
    secret: str | None = None,
    include_internal_notes: bool = False,
    active: bool = True,
) -> Webhook:
    """A new webhook owned by ``owner``; a secret is generated when none is given."""
    if not can_manage_webhooks(owner):
        raise PermissionDenied(_("You may not manage webhooks."))
    webhook = Webhook(
        name=_clean_name(name),
        url=_clean_url(url),
        events=_clean_events(events),
        secret=_clean_secret(secret) if secret else generate_secret(),
        include_internal_notes=include_internal_notes,
        active=active,
        owner=owner,
    )
    with transaction.atomic():
        webhook.save()
        log(webhook, "wagtail.create", user=owner)
    return webhook


def update_webhook(
    webhook: Webhook,
    *,
    user,
    name=_UNSET,
    url=_UNSET,
    events=_UNSET,
    secret=_UNSET,
    rotate_secret: bool = False,
    include_internal_notes=_UNSET,
    active=_UNSET,
) -> Webhook:
    """Change the given fields only. The secret changes only when asked: ``secret``
    sets the caller's own, ``rotate_secret=True`` generates a new one (never both);
    ``secret=None`` is no request at all and keeps it, so that an integrator who sends
    every field back with ``secret: null`` does not break its receiver's signature
    checks."""
    if not can_change_webhook(user, webhook):
        raise PermissionDenied(_("You may not change this webhook."))
    if name is not _UNSET:
        webhook.name = _clean_name(name)
    if url is not _UNSET:
        webhook.url = _clean_url(url)
    if events is not _UNSET:
        webhook.events = _clean_events(events)
    if secret is not _UNSET and secret is not None:
        if rotate_secret:
            raise ValidationError(
                {"secret": _("Give a secret or ask for a new one, not both.")}
            )
        webhook.secret = _clean_secret(secret)
    elif rotate_secret:
        webhook.secret = generate_secret()
    if include_internal_notes is not _UNSET:
        webhook.include_internal_notes = bool(include_internal_notes)
    if active is not _UNSET:
        webhook.active = bool(active)
    with transaction.atomic():
        webhook.save()
        log(webhook, "wagtail.edit", user=user)
    return webhook


def delete_webhook(webhook: Webhook, *, user) -> None:
    """Delete the webhook and its deliveries (pending ones are dropped)."""
    if not can_change_webhook(user, webhook):
        raise PermissionDenied(_("You may not delete this webhook."))
    with transaction.atomic():
        log(webhook, "wagtail.delete", user=user)
        webhook.delete()


def redeliver(delivery: WebhookDelivery, *, user) -> WebhookDelivery:
    """Queue the same event (same ``id``, so receivers can deduplicate) once more.

    The copy has no ordering key: a manual redelivery is out of order by nature and
    must not hold back newer events of the same ticket.
    """
    if not can_change_webhook(user, delivery.webhook):
        raise PermissionDenied(_("You may not redeliver this webhook's events."))
    now = timezone.now()
    with transaction.atomic():
        copy = WebhookDelivery.objects.create(
            webhook=delivery.webhook,
            event=delivery.event,
            event_id=delivery.event_id,
            ordering_key="",
            payload=delivery.payload,
            created_at=now,
            next_attempt_at=now,
        )
        log(
            delivery.webhook,
            "graphql_api.redeliver",
            user=user,
            data={"delivery": delivery.pk},
        )
    return copy
