from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import receivers, webhook_events

        receivers.connect()
        # Ticket changes → webhook outbox, in the service's transaction (tickets.hooks).
        webhook_events.register()
