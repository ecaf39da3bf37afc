"""Writing webhook events to the outbox, in the transaction of the change they report.

Call ``enqueue`` from a service function, inside its ``transaction.atomic()`` block:
the deliveries commit or roll back with the change, so an event is never lost (the
change committed but the post was never queued) nor invented (the post went out but
the change rolled back).
"""

import json
import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from graphql_api.models import WEBHOOK_EVENTS, Webhook, WebhookDelivery


class OutboxError(RuntimeError):
    pass


def enqueue(
    event: str,
    data: dict,
    *,
    ordering_key: str | None = None,
    include_internal: bool = False,
) -> list[WebhookDelivery]:
    """Write one pending delivery per active webhook subscribed to ``event``.

    ``ordering_key`` (e.g. ``"ticket:HD-000123"``) keeps deliveries with the same key in
    order for each webhook. ``include_internal`` marks an event about internal content
    (an internal note): only webhooks that opted into internal notes receive it.
    Returns the deliveries written (none when nobody subscribes).
    """
    if event not in WEBHOOK_EVENTS:
        raise OutboxError(f"Unknown webhook event {event!r}.")
    if not transaction.get_connection().in_atomic_block:
        raise OutboxError(
            "enqueue() must be called inside the transaction of the change it reports."
        )
    webhooks = [
        webhook
        for webhook in Webhook.objects.filter(active=True).order_by("id")
        if webhook.subscribes_to(event)
        and (webhook.include_internal_notes or not include_internal)
    ]
    if not webhooks:
        return []
    # Round-trip through JSON so that dates, UUIDs and decimals are stored as the
    # strings the receiver will see, whatever the database's JSON support.
    payload = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    now = timezone.now()
    event_id = uuid.uuid4()
    return WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                webhook=webhook,
                event=event,
                event_id=event_id,
                ordering_key=ordering_key or "",
                payload=payload,
                created_at=now,
                next_attempt_at=now,
            )
            for webhook in webhooks
        ]
    )
