import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, "ok"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return False, exc.__class__.__name__


def _check_storage() -> tuple[bool, str]:
    try:
        storage = storages["attachments"]
        name = storage.save(f"healthz/probe-{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
        storage.delete(name)
        return True, "ok"
    except Exception as exc:  # noqa: BLE001
        return False, exc.__class__.__name__


def _check_jobs() -> tuple[bool, str]:
    """The job queue is usable when its broker answers."""
    try:
        from django_q.brokers import get_broker

        broker = get_broker()
        ok = bool(broker.ping())
        return ok, "ok" if ok else "broker did not answer"
    except Exception as exc:  # noqa: BLE001
        return False, exc.__class__.__name__


@never_cache
@require_GET
def healthz(request):
    checks = {
        "database": _check_database(),
        "storage": _check_storage(),
        "jobs": _check_jobs(),
    }
    healthy = all(ok for ok, _ in checks.values())
    body = {
        "status": "ok" if healthy else "unavailable",
        "checks": {
            name: {"ok": ok, "detail": detail} for name, (ok, detail) in checks.items()
        },
    }
    return JsonResponse(body, status=200 if healthy else 503)


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
