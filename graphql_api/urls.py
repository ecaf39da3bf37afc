from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from .schema import schema
from .views import PortalGraphQLView

app_name = "graphql_api"

urlpatterns = [
    # CSRF is checked inside the view, for session callers only (see views.py).
    path("", csrf_exempt(PortalGraphQLView.as_view(schema=schema)), name="graphql"),
]
