from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import defaults, receivers, webhook_events

        receivers.connect()
        # The remembered default queue and policy follow every edit (tickets.defaults).
        defaults.connect()
        # A customer's visibility is decided by the agent groups' names (permissions).
        from . import permissions

        permissions.connect()
        # Ticket changes → webhook outbox, in the service's transaction (tickets.hooks).
        webhook_events.register()
        # A new ticket reads its requester's organizations, kept under a generation.
        from accounts import kept_organizations

        from . import hooks
        from .models import EventKind

        hooks.reads_generation(
            EventKind.CREATED,
            kept_organizations.GENERATION_KEY,
            kept_organizations.enabled,
        )
        # The desk's remembered staff list follows users and groups (tickets.desk.inbox).
        # The workspace's kept queue <select> follows the queues (tickets.desk.kept_fields).
        from .desk import inbox, kept_fields

        inbox.connect()
        kept_fields.connect()
