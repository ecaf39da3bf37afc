"""Webhook management for integrators (the webhooks themselves belong to
``webhooks``; this only translates)."""

from datetime import datetime

import strawberry
import strawberry_django
from strawberry import UNSET
from strawberry.types import Info

from webhooks.models import Webhook

from ..context import get_api_token


@strawberry_django.type(Webhook, name="Webhook")
class WebhookType:
    name: str
    url: str
    include_internal_notes: bool
    active: bool
    created_at: datetime

    @strawberry_django.field(only=["id"])
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.pk))

    @strawberry_django.field(only=["events"])
    def events(self) -> list[str]:
        return list(self.events or [])

    @strawberry_django.field(
        only=["secret"],
        description="The signing secret; null for a read-only token.",
    )
    def secret(self, info: Info) -> str | None:
        token = get_api_token(info)
        if token is not None and not token.has_scope("write"):
            return None
        return self.secret


@strawberry.input
class CreateWebhookInput:
    name: str
    url: str
    events: list[str] = strawberry.field(
        description="ticket.created, ticket.updated, ticket.status_changed, "
        "ticket.assigned, comment.created, article.published"
    )
    secret: str | None = strawberry.field(
        default=None, description="Generated when omitted."
    )
    include_internal_notes: bool = False
    active: bool = True


@strawberry.input(description="Only the fields given change.")
class UpdateWebhookInput:
    id: strawberry.ID
    name: str | None = UNSET
    url: str | None = UNSET
    events: list[str] | None = UNSET
    secret: str | None = strawberry.field(
        default=UNSET,
        description="A new signing secret of your choice. Null or absent keeps the "
        "current one; an empty string is refused.",
    )
    rotate_secret: bool | None = strawberry.field(
        default=UNSET,
        description="True generates a new signing secret, returned in the result's "
        "`secret`; receivers must switch to it. Not together with `secret`.",
    )
    include_internal_notes: bool | None = UNSET
    active: bool | None = UNSET


@strawberry.input
class DeleteWebhookInput:
    id: strawberry.ID


@strawberry.type
class DeletedWebhook:
    id: strawberry.ID
