from django.apps import AppConfig


class GraphqlApiConfig(AppConfig):
    name = "graphql_api"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from wagtail.signals import page_published

        from .webhooks import ticket_events
        from .webhooks.kb_events import on_page_published

        # Ticket changes → outbox, in the service's transaction (tickets.hooks).
        ticket_events.register()
        # Wagtail has no other publishing hook than this signal.
        page_published.connect(
            on_page_published, dispatch_uid="graphql_api.webhooks.article_published"
        )
