from django.apps import AppConfig


class GraphqlApiConfig(AppConfig):
    name = "graphql_api"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from wagtail.signals import page_published

        from .webhooks.kb_events import on_page_published

        page_published.connect(
            on_page_published, dispatch_uid="graphql_api.webhooks.article_published"
        )
