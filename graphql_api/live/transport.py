"""GraphQL subscriptions over WebSocket: the ``graphql-transport-ws`` protocol on
``/graphql/`` (the path of the HTTP endpoint; a WebSocket upgrade there is routed here
by ``portal.websockets``, see ``settings.ASGI_WEBSOCKET_ROUTES``).

strawberry's protocol handler runs the messages; this module is the small ASGI
adapter around it (strawberry's own ASGI app needs Starlette, its consumer Django
Channels: neither is worth a dependency for one endpoint) and the policy:

- Bearer tokens only, as in the HTTP API: ``connection_init`` carries
  ``{"Authorization": "Bearer <token>"}`` (or the upgrade request carries the
  header). The token needs the ``read`` scope. Sessions are not accepted, so no
  browser cookie can open a subscription from another site.
- A missing, bad, expired or revoked token, or one without ``read``, closes the
  socket with 4403 (the protocol's "Forbidden"); ``subscribe`` before that is 4401.
- One connection takes one of the user's live slots (``live.limits``, shared with
  the server-sent events); over the limit the socket closes with 1013 ("try again
  later"). At most ``MAX_SUBSCRIPTIONS_PER_CONNECTION`` operations at a time.
- Every ``LIVE_HEARTBEAT_SECONDS`` the server re-checks the token, refreshes the slot
  and sends a ``ping``: a revoked or expired token ends every subscription of the
  connection with an ``error`` (``UNAUTHENTICATED``) and the socket closes with 4403.
- Only subscriptions run here; queries and mutations go over HTTP.
"""

import asyncio
import json
import logging
from contextlib import suppress
from datetime import timedelta

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest
from django.http.request import split_domain_port, validate_host
from django.utils.translation import gettext as _
from graphql import GraphQLError, OperationType, get_operation_ast, parse
from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.http.exceptions import (
    NonJsonMessageReceived,
    NonTextMessageReceived,
    WebSocketDisconnected,
)
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)

from accounts.tokens import TokenError, authenticate_authorization, still_valid
from live import limits

from .. import ratelimit
from ..context import PortalContext

logger = logging.getLogger(__name__)

MAX_SUBSCRIPTIONS_PER_CONNECTION = 10
CONNECTION_INIT_TIMEOUT = timedelta(seconds=10)
FORBIDDEN = 4403
TRY_AGAIN_LATER = 1013


class _Socket(AsyncWebSocketAdapter):
    """One accepted ASGI WebSocket connection, as strawberry's handler reads it."""

    def __init__(self, receive, send):
        super().__init__(view=None)
        self._receive = receive
        self._send = send
        self.closed = False

    async def iter_json(self, *, ignore_parsing_errors: bool = False):
        while not self.closed:
            message = await self._receive()
            if message["type"] == "websocket.disconnect":
                self.closed = True
                return
            if message["type"] != "websocket.receive":
                continue
            text = message.get("text")
            if text is None:
                raise NonTextMessageReceived
            try:
                yield json.loads(text)
            except ValueError as exc:
                if not ignore_parsing_errors:
                    raise NonJsonMessageReceived from exc

    async def send_json(self, message) -> None:
        if self.closed:
            raise WebSocketDisconnected
        try:
            await self._send({"type": "websocket.send", "text": json.dumps(message)})
        except OSError as exc:  # the client went away
            self.closed = True
            raise WebSocketDisconnected from exc

    async def close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        with suppress(OSError):
            await self._send(
                {"type": "websocket.close", "code": code, "reason": reason}
            )


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _host_allowed(scope) -> bool:
    host = _header(scope, b"host") or ""
    domain, _port = split_domain_port(host)
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return bool(domain) and validate_host(domain, allowed)


def _authorization(payload: dict, scope) -> str | None:
    for key in ("Authorization", "authorization"):
        value = payload.get(key)
        if isinstance(value, str):
            return value
    return _header(scope, b"authorization")


def _authenticate(header: str | None, client_ip: str):
    """(token, refusal reason). The same check as the HTTP endpoint, and the same
    rate limit on failures (per IP address)."""
    if header is None:
        return None, _("Send 'Authorization: Bearer <token>' in connection_init.")
    try:
        token = authenticate_authorization(header)
    except TokenError as exc:
        ratelimit.hit(f"ip:{client_ip}")
        return None, str(exc)
    if not token.has_scope("read"):
        return None, _("This API token lacks the 'read' scope.")
    return token, ""


def _subscription_only(query) -> bool:
    try:
        operation = get_operation_ast(parse(query))
    except GraphQLError:
        return True  # strawberry answers syntax errors per protocol (4400)
    return operation is None or operation.operation == OperationType.SUBSCRIPTION


class PortalTransportWSHandler(BaseGraphQLTransportWSHandler):
    """strawberry's graphql-transport-ws handler, with the portal's authentication,
    per-user slot and heartbeat."""

    def __init__(self, *, socket: _Socket, context: PortalContext, schema, scope):
        super().__init__(
            view=None,
            websocket=socket,
            context=context,
            root_value=None,
            schema=schema,
            connection_init_wait_timeout=CONNECTION_INIT_TIMEOUT,
            max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_CONNECTION,
        )
        self.scope = scope
        self.token = None
        self.slot_taken = False
        self.heartbeat_task: asyncio.Task | None = None

    async def handle_connection_init(self, message) -> None:
        if self.connection_timed_out:
            return
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        if self.connection_init_received:
            await self.websocket.close(4429, "Too many initialisation requests")
            return
        self.connection_init_received = True
        payload = message.get("payload") or {}
        if not isinstance(payload, dict):
            await self.websocket.close(4400, "Invalid connection init payload")
            return
        client_ip = (self.scope.get("client") or ("unknown",))[0]
        token, reason = await sync_to_async(_authenticate)(
            _authorization(payload, self.scope), client_ip
        )
        if token is None:
            await self.websocket.close(FORBIDDEN, reason[:120])
            return
        if not await sync_to_async(limits.take_slot)(token.owner_id):
            await self.websocket.close(
                TRY_AGAIN_LATER, _("Too many live connections.")[:120]
            )
            return
        self.slot_taken = True
        self.token = token
        self.context.user = token.owner
        self.context.api_token = token
        self.context.request.user = token.owner
        self.context.request.api_token = token
        await self.send_message({"type": "connection_ack"})
        self.connection_acknowledged = True
        self.heartbeat_task = asyncio.create_task(self._heartbeat())
        self.heartbeat_task.add_done_callback(self._task_done)

    async def handle_subscribe(self, message) -> None:
        payload = message.get("payload") or {}
        if (
            self.connection_acknowledged
            and message.get("id") not in self.operations
            and not _subscription_only(payload.get("query") or "")
        ):
            error = GraphQLError(
                _(
                    "Only subscriptions are served over WebSocket: send queries and "
                    "mutations over HTTP."
                ),
                extensions={"code": "BAD_REQUEST"},
            )
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [error.formatted]}
            )
            return
        await super().handle_subscribe(message)

    async def _heartbeat(self) -> None:
        try:
            while not self.websocket.closed:
                await asyncio.sleep(limits.heartbeat_seconds())
                if not await sync_to_async(still_valid)(self.token.pk):
                    await self._end_for_revoked_token()
                    return
                await sync_to_async(limits.refresh_slot)(self.token.owner_id)
                await self.send_message({"type": "ping"})
        except WebSocketDisconnected:
            pass
        except Exception as error:  # noqa: BLE001 - logged, the socket then closes
            await self.handle_task_exception(error)
            await self.websocket.close(1011, "Internal error")

    async def _end_for_revoked_token(self) -> None:
        error = GraphQLError(
            _("The API token was revoked or has expired."),
            extensions={"code": "UNAUTHENTICATED"},
        )
        for operation in list(self.operations.values()):
            with suppress(WebSocketDisconnected):
                await operation.send_operation_message(
                    {"id": operation.id, "type": "error", "payload": [error.formatted]}
                )
            if operation.task:
                operation.task.cancel()
        await self.websocket.close(FORBIDDEN, "Token revoked or expired")

    async def shutdown(self) -> None:
        if self.heartbeat_task is not None:
            self.heartbeat_task.cancel()
            with suppress(asyncio.CancelledError):
                await self.heartbeat_task
        try:
            await super().shutdown()
        finally:
            if self.slot_taken:
                self.slot_taken = False
                await sync_to_async(limits.release_slot)(self.token.owner_id)


def _request_for(scope) -> HttpRequest:
    """A stand-in HttpRequest for resolvers that read ``info.context.request``
    (attachment URLs are built from its host and scheme)."""
    from django.contrib.auth.models import AnonymousUser

    request = HttpRequest()
    request.method = "GET"
    request.path = request.path_info = scope.get("path", "/graphql/")
    request.META["HTTP_HOST"] = _header(scope, b"host") or "localhost"
    request.META["REMOTE_ADDR"] = (scope.get("client") or ("",))[0]
    if scope.get("scheme") == "wss":
        request.META["wsgi.url_scheme"] = "https"
    request.user = AnonymousUser()
    request.api_token = None
    return request


async def application(scope, receive, send) -> None:
    """The ASGI application for WebSocket connections to ``/graphql/``."""
    from ..schema import schema

    assert scope["type"] == "websocket"
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    if not _host_allowed(scope):
        await send({"type": "websocket.close", "code": FORBIDDEN})
        return
    socket = _Socket(receive, send)
    if GRAPHQL_TRANSPORT_WS_PROTOCOL not in scope.get("subprotocols", ()):
        await send({"type": "websocket.accept"})
        await socket.close(4406, "Subprotocol not acceptable")
        return
    await send(
        {"type": "websocket.accept", "subprotocol": GRAPHQL_TRANSPORT_WS_PROTOCOL}
    )
    request = _request_for(scope)
    context = PortalContext(
        request=request, response=None, user=request.user, transport="websocket"
    )
    handler = PortalTransportWSHandler(
        socket=socket, context=context, schema=schema, scope=scope
    )
    await handler.handle()
    await socket.close(1000, "")
