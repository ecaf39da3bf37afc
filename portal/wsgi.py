import gc
import os

from django.core.wsgi import get_wsgi_application

# A server entry point: production settings unless told otherwise, so that a
# deployment that forgets DJANGO_SETTINGS_MODULE refuses to start without its
# secrets instead of serving with DEBUG on and the development key.
# manage.py (runserver, make run) keeps the development default.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")
application = get_wsgi_application()

# The objects loaded so far (Django, Wagtail, the GraphQL schema, URL patterns) live as
# long as the process: move them out of the collector's sight, and let the youngest
# generation grow larger before a collection. A GraphQL page of 100 tickets allocates
# a few hundred thousand short-lived objects; with the defaults (700) the collector ran
# hundreds of times per request and walked the whole heap in its full passes (bench
# FINDINGS G-1, GC).
gc.freeze()
gc.set_threshold(50_000, 20, 100)
