from django.apps import AppConfig


class LiveConfig(AppConfig):
    """Live updates: the event stream (``live.stream``), server-sent events and agent
    presence. Listens to the ticket services' after-commit hook; tickets never imports
    live."""

    name = "live"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from tickets import hooks

        from . import publisher

        hooks.register(hooks.ALL, publisher.on_ticket_event)
