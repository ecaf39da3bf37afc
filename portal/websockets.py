"""WebSocket routing for the ASGI entry point: HTTP goes to Django, a WebSocket
connection to the application that ``settings.ASGI_WEBSOCKET_ROUTES`` names for its
path (``{"/graphql/": "graphql_api.live.transport.application"}``), any other one is
refused. The routes are dotted paths read at connection time, as ``ROOT_URLCONF`` is,
so that this shared infrastructure imports no domain app."""

from django.conf import settings
from django.utils.module_loading import import_string


def with_websockets(http_application):
    async def application(scope, receive, send):
        if scope["type"] != "websocket":
            return await http_application(scope, receive, send)
        route = getattr(settings, "ASGI_WEBSOCKET_ROUTES", {}).get(scope.get("path"))
        if route is None:
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008})  # 403 handshake
            return None
        return await import_string(route)(scope, receive, send)

    return application
