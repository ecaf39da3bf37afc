from django.conf import settings
from django.urls import path
from strawberry.django.views import GraphQLView

from .schema import schema

app_name = "graphql_api"

urlpatterns = [
    path(
        "",
        GraphQLView.as_view(
            schema=schema, graphql_ide="graphiql" if settings.DEBUG else None
        ),
        name="graphql",
    ),
]
