from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Webhooks for integrators: the outbox, signing, delivery and their admin.

    The domains register their own listeners (``tickets.webhook_events`` in
    ``TicketsConfig.ready``, ``kb.webhook_events`` in ``KbConfig.ready``); this app
    imports no domain app and not the API layer."""

    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The kept subscribable webhooks follow every edit (webhooks.outbox).
        from . import outbox

        outbox.connect()
