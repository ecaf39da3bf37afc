import os

from django.core.asgi import get_asgi_application

# A server entry point: production settings unless told otherwise, so that a
# deployment that forgets DJANGO_SETTINGS_MODULE refuses to start without its
# secrets instead of serving with DEBUG on and the development key.
# manage.py (runserver, make run) keeps the development default.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")
application = get_asgi_application()
