from django.apps import AppConfig


class GraphqlApiConfig(AppConfig):
    name = "graphql_api"
    default_auto_field = "django.db.models.BigAutoField"
