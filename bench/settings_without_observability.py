"""Production settings without the request observability middleware: the baseline of
``bench/ceiling_observability.py``. Benchmark-only; nothing outside ``bench/`` imports it."""

from portal.settings.production import *  # noqa: F403
from portal.settings.production import MIDDLEWARE

MIDDLEWARE = [
    name
    for name in MIDDLEWARE
    if name != "portal.observability.RequestObservabilityMiddleware"
]
