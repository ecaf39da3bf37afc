"""Writing webhook events to the outbox, in the transaction of the change they report.

Call ``enqueue`` from a service function, inside its ``transaction.atomic()`` block:
the deliveries commit or roll back with the change, so an event is never lost (the
change committed but the post was never queued) nor invented (the post went out but
the change rolled back).

Who receives an event is decided here too, at the same moment: a webhook acts for its
owner, so it gets an event only if its owner may see it, and only the fields its owner
may see (the caller's ``payload_for(owner)`` asks the domain's policy). A change of
rights later affects later events, never the rows already written.
"""

import json
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from portal import cache as shared_cache
from portal.sql import KeptStatement

from .models import WEBHOOK_EVENTS, Webhook, WebhookDelivery
from .permissions import owner_may_receive

#: Builds an event's data for one webhook owner, or None: not for this owner.
PayloadFor = Callable[[Any], dict | None]


class OutboxError(RuntimeError):
    pass


def _subscribable():
    return (
        Webhook.objects.filter(
            active=True, owner__is_active=True, owner__locked_at__isnull=True
        )
        .select_related("owner")
        .order_by("id")
    )


#: The active webhooks of active owners with their owners: every change that reports
#: an event reads it, compiled once per process.
_SUBSCRIBABLE = KeptStatement(_subscribable, ())

# --- the subscribable webhooks, kept per process for a generation ----------------------
# Every filing (and every other reported change) asks for them; they change when an
# integrator edits a webhook or an owner's account changes. Their rows as the database
# returns them (the secret still encrypted) are kept per process for one generation of
# ``GENERATION_KEY``, renewed when a change commits by every save or deletion of a
# ``Webhook`` (active, events, ``include_internal_notes``, owner) and of a user (an
# owner's active and locked state and the fields its events' payloads read; a deleted
# owner's webhooks lose their owner by SQL, without a signal of theirs). The owner's
# right to receive (``owner_may_receive``: the ``webhooks.add_webhook`` permission) and
# what each owner may see are asked at every event, of new instances, as before.

GENERATION_KEY = "webhooks:subscribable:generation"

# per database alias: one value each
_kept_subscribable = shared_cache.Generation(GENERATION_KEY, "WEBHOOKS_CACHE", 4)

#: ``WEBHOOKS_CACHE`` (bool) overrides; by default on only when the cache is shared by
#: every process (``portal.cache.shared_or``).
kept_enabled = _kept_subscribable.enabled

#: A webhook or a user changed: forget the rows in this process now and in every
#: process once the change commits.
forget_subscribable = _kept_subscribable.changed


def subscribable_webhooks(using: str = DEFAULT_DB_ALIAS) -> list[Webhook]:
    """The active webhooks of active, unlocked owners, by id, with their owners: new
    instances at each call (``KeptStatement.instances_of`` of the kept rows, as the
    read builds them), the rows read once per generation (``portal.cache.Generation``:
    read each time while switched off, a change of the current transaction waiting for
    its commit, the shared cache down)."""
    rows = _kept_subscribable.get(lambda: tuple(_SUBSCRIBABLE.rows(using)), using)
    return _SUBSCRIBABLE.instances_of(rows, using)


def _user_saved(update_fields=None, **kwargs) -> None:
    if shared_cache.user_save_counts(update_fields):
        forget_subscribable()


def connect() -> None:
    """The receivers that keep ``subscribable_webhooks``' copies current
    (``WebhooksConfig.ready``)."""
    User = get_user_model()
    receivers = (
        (post_save, Webhook, forget_subscribable),
        (post_delete, Webhook, forget_subscribable),
        (post_save, User, _user_saved),
        (post_delete, User, forget_subscribable),
    )
    for number, (signal, sender, receiver) in enumerate(receivers):
        signal.connect(
            receiver, sender=sender, dispatch_uid=f"webhooks.subscribable.{number}"
        )


def enqueue(
    event: str,
    payload_for: PayloadFor,
    *,
    ordering_key: str | None = None,
    include_internal: bool = False,
) -> list[WebhookDelivery]:
    """Write one pending delivery per active webhook subscribed to ``event`` whose
    owner may receive it.

    ``payload_for(owner)`` builds the data for one webhook owner from what that owner
    may see (the domain's permission policy, asked now, in this transaction), or
    returns None when the owner may not see the event at all; it is called once per
    owner. Webhooks without an owner, or whose owner is inactive, locked or no longer
    allowed webhooks (``permissions.owner_may_receive``), get nothing.
    ``ordering_key`` (e.g. ``"ticket:HD-000123"``) keeps deliveries with the same key in
    order for each webhook. ``include_internal`` marks an event about internal content
    (an internal note): on top of the owner's right to see it, the webhook must have
    opted into internal notes. Returns the deliveries written.
    """
    if event not in WEBHOOK_EVENTS:
        raise OutboxError(f"Unknown webhook event {event!r}.")
    if not transaction.get_connection().in_atomic_block:
        raise OutboxError(
            "enqueue() must be called inside the transaction of the change it reports."
        )
    webhooks = [
        webhook
        for webhook in subscribable_webhooks()
        if webhook.subscribes_to(event)
        and (webhook.include_internal_notes or not include_internal)
    ]
    if not webhooks:
        return []
    payloads: dict[int, dict | None] = {}
    rows = []
    now = timezone.now()
    event_id = uuid.uuid4()
    for webhook in webhooks:
        owner = webhook.owner
        if owner.pk not in payloads:
            data = payload_for(owner) if owner_may_receive(owner) else None
            # Round-trip through JSON so that dates, UUIDs and decimals are stored as
            # the strings the receiver will see, whatever the database's JSON support.
            payloads[owner.pk] = (
                None
                if data is None
                else json.loads(json.dumps(data, cls=DjangoJSONEncoder))
            )
        if payloads[owner.pk] is None:
            continue
        rows.append(
            WebhookDelivery(
                webhook=webhook,
                event=event,
                event_id=event_id,
                ordering_key=ordering_key or "",
                payload=payloads[owner.pk],
                created_at=now,
                next_attempt_at=now,
            )
        )
    return WebhookDelivery.objects.bulk_create(rows) if rows else []
