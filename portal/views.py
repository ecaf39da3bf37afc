from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import health


@never_cache
@require_GET
def healthz(request):
    """Each dependency's state (``portal.health``): 200 while the site can answer
    (``ok`` or ``degraded``), 503 when it cannot. ``?deep=1`` for deployment checks."""
    body = health.report(deep=request.GET.get("deep") in {"1", "true", "yes"})
    return JsonResponse(body, status=503 if body["status"] == "unavailable" else 200)


@require_GET
def ping(request):
    """The cheapest view on this stack: the benchmarks' ceiling."""
    return HttpResponse(b"pong", content_type="text/plain")


def debug_settings_summary() -> dict:
    return {"debug": settings.DEBUG}
