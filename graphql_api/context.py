"""The typed context every resolver receives, and the two helpers resolvers use.

Who the caller is has been settled by the view before execution (session or bearer
token), so resolvers never look at headers or sessions themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from strawberry.django.context import StrawberryDjangoContext

from .errors import AuthenticationRequired, ScopeRequired

if TYPE_CHECKING:
    from strawberry.types import Info

    from accounts.models import ApiToken


@dataclass
class PortalContext(StrawberryDjangoContext):
    user: Any
    api_token: ApiToken | None = None
    # "http" (the view) or "websocket" (subscriptions, graphql_api.live.transport)
    transport: str = "http"


def get_user(info: Info, required: bool = False):
    """The caller (a user or AnonymousUser); with ``required`` an anonymous caller is
    refused with an UNAUTHENTICATED error."""
    user = caller_of(info.context)
    if required and not user.is_authenticated:
        raise AuthenticationRequired()
    return user


def caller_of(context):
    """The caller a request's context carries (a user or AnonymousUser)."""
    user = getattr(context, "user", None)
    if user is None:
        user = context.request.user
    return user


def get_api_token(info: Info) -> ApiToken | None:
    return getattr(info.context, "api_token", None)


def require_scope(info: Info, scope: str) -> None:
    """Refuse a bearer token without ``scope``. Session callers act with every scope:
    their rights are the user's own."""
    token = get_api_token(info)
    if token is not None and not token.has_scope(scope):
        raise ScopeRequired(scope)
