import os

from django.core.asgi import get_asgi_application
from django.core.handlers.asgi import ASGIHandler

# A server entry point: production settings unless told otherwise, so that a
# deployment that forgets DJANGO_SETTINGS_MODULE refuses to start without its
# secrets instead of serving with DEBUG on and the development key.
# manage.py (runserver, make run) keeps the development default.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")

# Responses under this prefix stay open for as long as a page does (server-sent
# events, app live); portal/urls.py mounts live.urls there.
LONG_LIVED_PREFIX = "/live/"


class SharedThreadASGIHandler(ASGIHandler):
    """Django's ASGI handler without a thread of its own per request.

    ``ASGIHandler`` runs each request inside an asgiref ``ThreadSensitiveContext``:
    the request's sync code (middleware, signals, ``sync_to_async`` calls) gets a
    thread of its own, kept until the response ends, with its own database
    connection. For a response that stays open for hours that is one idle thread
    and one idle database connection per open page (measured: 50 streams, 50 threads,
    50 PostgreSQL connections; bench/results/live-before-fix-50.md). Without the
    context, asgiref runs that sync code on its one process-wide thread, as Django
    did before 3.1: every long-lived request of the process shares one thread and
    one database connection, and the event loop holds the idle connections.
    """

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(
                f"Django can only handle ASGI/HTTP connections, not {scope['type']}."
            )
        await self.handle(scope, receive, send)


def build_application():
    """Django's ASGI application, with the long-lived responses on a shared thread
    (``SharedThreadASGIHandler``) and everything else per request as usual."""
    django_application = get_asgi_application()
    long_lived = SharedThreadASGIHandler()

    async def application(scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith(LONG_LIVED_PREFIX):
            await long_lived(scope, receive, send)
        else:
            await django_application(scope, receive, send)

    return application


from portal.websockets import with_websockets  # noqa: E402

# HTTP to Django; WebSocket (GraphQL subscriptions on /graphql/) by path.
application = with_websockets(build_application())
