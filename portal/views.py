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


_FAVICON = settings.BASE_DIR / "static" / "img" / "favicon.ico"


@require_GET
def favicon(request):
    """``/favicon.ico`` (browsers ask for it on every site, whatever the HTML says): the
    icon itself, cached for a day. Pages also link ``img/favicon.svg``."""
    response = HttpResponse(_FAVICON.read_bytes(), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response
