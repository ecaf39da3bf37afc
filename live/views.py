"""Server-sent events over ``live.stream``, and the presence beat.

Why server-sent events rather than WebSocket: the browser only listens (replies and
status changes still go through the ordinary forms, which work without JavaScript);
``EventSource`` reconnects by itself and sends ``Last-Event-ID``, which is exactly the
resume point of the stream; it is plain HTTP through the same proxy, cookies, CSRF-free
GET and CSP ``connect-src 'self'``. Integrators get ``graphql-transport-ws`` over the
same stream.

The views are async and need an ASGI server (uvicorn, see docs/deploy.md): under WSGI
Django would buffer the endless response. A denied or missing ticket is a 404 alike.
"""

import json
import time

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.http import require_GET, require_POST

from tickets import permissions
from tickets.exceptions import TicketNotFound

from . import presence
from .limits import heartbeat_seconds as _heartbeat
from .limits import release_slot as _release_slot
from .limits import take_slot as _take_slot
from .sessions import session_still_valid
from .stream import LiveEvent, Presence, Resume, TicketStream, parse_resume
from .threads import run_sync


def _after(request) -> Resume | None:
    """The resume point: ``Last-Event-ID`` (the browser's reconnect) or ``?after=``
    (the id the page was rendered with); an event id or a ``resume_token``."""
    return parse_resume(
        request.headers.get("Last-Event-ID") or request.GET.get("after")
    )


def _sse(kind: str, data: dict, event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data)}\n\n".encode()


def _encode(item, resume_id: str) -> bytes:
    """One SSE message. A ticket event's ``id:`` is the stream's resume point
    (``TicketStream.resume_token``: the greatest event id delivered so far, and, while
    events with smaller ids may still commit, the low mark and the ids delivered above
    it), which the browser sends back as ``Last-Event-ID``."""
    if isinstance(item, LiveEvent):
        return _sse(
            "ticket",
            {
                "id": item.id,
                "ticket": item.ticket_id,
                "reference": item.reference,
                "kind": item.kind,
            },
            resume_id,
        )
    assert isinstance(item, Presence)
    return _sse(
        "presence",
        {"user": item.user_id, "name": item.name, "state": item.state},
    )


async def _events(stream: TicketStream, user, session_key, snapshot):
    heartbeat = _heartbeat()
    try:
        # The first bytes make proxies and the browser see the stream as open.
        yield f"retry: {int(getattr(settings, 'LIVE_RETRY_MS', 3000))}\n\n".encode()
        for entry in snapshot:
            yield _sse("presence", entry)
        checked = time.monotonic()
        while True:
            item = await stream.get(timeout=heartbeat)
            if item is not None:
                yield _encode(item, stream.resume_token)
            if time.monotonic() - checked >= heartbeat or item is None:
                checked = time.monotonic()
                # Batched with the other streams' checks (live.sessions); it also
                # refreshes the user's connection slot.
                if not await session_still_valid(session_key, user.pk):
                    yield _sse("end", {"reason": "session"})
                    return
                yield b": heartbeat\n\n"
    finally:
        await stream.close()
        await run_sync(_release_slot)(user.pk)


async def _open(request, *, ticket=None, want_presence=False):
    user = await request.auser()
    if not user.is_authenticated:
        raise Http404
    session_key = request.session.session_key
    if not await run_sync(_take_slot)(user.pk):
        return HttpResponse(
            "Too many live connections.", status=429, content_type="text/plain"
        )
    stream = TicketStream(
        user,
        ticket_id=ticket.pk if ticket is not None else None,
        after_id=_after(request),
        presence=want_presence,
    )
    try:
        await stream.open()
        snapshot = []
        if stream.presence and ticket is not None:
            snapshot = [
                entry
                for entry in await run_sync(presence.current)(ticket.pk)
                if entry["user"] != user.pk
            ]
    except BaseException:
        await stream.close()
        await run_sync(_release_slot)(user.pk)
        raise
    response = StreamingHttpResponse(
        _events(stream, user, session_key, snapshot),
        content_type="text/event-stream",
    )
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    # GZipMiddleware would hold events back in its compressor.
    response["Content-Encoding"] = "identity"
    return response


async def _ticket_for(request, reference: str):
    user = await request.auser()
    try:
        return user, await run_sync(permissions.get_ticket_for)(user, reference)
    except TicketNotFound:
        raise Http404 from None


@require_GET
async def ticket_events(request, reference: str):
    """One ticket's events (the portal ticket page, the desk workspace); with
    ``?presence=1`` the support team also gets who else is on it."""
    user, ticket = await _ticket_for(request, reference)
    return await _open(
        request, ticket=ticket, want_presence=request.GET.get("presence") == "1"
    )


@require_GET
async def inbox_events(request):
    """Events of every ticket the user may see (the desk inbox, the portal list)."""
    return await _open(request)


@require_POST
async def presence_beat(request, reference: str):
    """``state=viewing|typing|left`` from the desk workspace (CSRF-protected). Only
    the support team has presence; for anyone else the ticket does not exist."""
    user, ticket = await _ticket_for(request, reference)
    if not await run_sync(permissions.is_support_team)(user):
        raise Http404
    state = request.POST.get("state", "")
    if state not in presence.STATES:
        return JsonResponse({"error": "state"}, status=400)
    name = await run_sync(user.get_display_name)()
    await run_sync(presence.beat)(ticket.pk, user.pk, name, state)
    return JsonResponse({"ok": True, "ttl": presence._ttl()})
