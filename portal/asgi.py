import os

from django.core.asgi import get_asgi_application

# A server entry point: production settings unless told otherwise, so that a
# deployment that forgets DJANGO_SETTINGS_MODULE refuses to start without its
# secrets instead of serving with DEBUG on and the development key.
# manage.py (runserver, make run) keeps the development default.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")
django_application = get_asgi_application()

from portal.websockets import with_websockets  # noqa: E402 - after Django's setup

# HTTP to Django; WebSocket (GraphQL subscriptions on /graphql/) by path.
application = with_websockets(django_application)
