"""Webhooks for integrators.

* ``outbox.enqueue(event, payload_for, ordering_key=..., include_internal=...)`` — call
  inside the transaction of the change; writes one pending delivery per subscribed
  webhook whose owner may see the event (``payload_for(owner)`` asks the domain policy).
* ``addresses`` — where webhooks may post (public addresses, ``WEBHOOKS_ALLOWED_HOSTS``).
* ``delivery.deliver_due()`` — run every minute (``manage.py process_webhooks``, schedule
  ``webhooks-process``); signs, posts, retries with backoff, keeps order per key.
* ``services`` — create / update / delete / redeliver, for the admin and GraphQL.
* ``admin_views`` — the Wagtail admin screens (Integrations menu, superusers only).

Who writes events: each domain, from its own ``AppConfig.ready()`` —
``tickets.webhook_events`` (registered with ``tickets.hooks`` in ``TicketsConfig``) and
``kb.webhook_events`` (Wagtail's ``page_published`` in ``KbConfig``). This app imports
no domain app and not ``graphql_api``, which only translates ``services`` to GraphQL.

For receivers: each POST carries ``{event, id, occurredAt, data}`` with
``X-Signature: sha256=<hex HMAC-SHA256 of the raw body with the secret>``,
``X-Webhook-Timestamp`` (Unix seconds of the attempt), ``X-Webhook-Event`` and
``X-Webhook-Id``. Answer 2xx within the timeout (5 s by default). Delivery is at least
once: deduplicate on ``id``, which is the same on every retry and redelivery.
"""
