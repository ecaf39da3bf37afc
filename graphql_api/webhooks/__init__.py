"""Webhooks for integrators: an outbox written inside the caller's transaction
(``outbox.enqueue``), signed delivery with retries (``delivery.deliver_due``), service
functions to manage webhooks (``services``) and the Wagtail admin screens (``admin_views``).
"""
