"""Webhook queries and mutations for integrators: owners manage their own webhooks
(``webhooks.permissions``), through ``webhooks.services``."""

import strawberry
import strawberry_django
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from strawberry import UNSET
from strawberry.types import Info

from webhooks import services
from webhooks.models import Webhook
from webhooks.permissions import webhooks_visible_to

from ..context import get_user, require_scope
from ..validation import as_mutation_error
from .types import (
    CreateWebhookInput,
    DeletedWebhook,
    DeleteWebhookInput,
    UpdateWebhookInput,
    WebhookType,
)

ID_MAX_LENGTH = 18


def _webhook_for(info: Info, raw_id) -> Webhook:
    """The caller's webhook with this id; a malformed id is a validation error, an
    unknown or foreign one looks the same: "No such webhook."."""
    value = str(raw_id or "").strip()
    if not value.isdigit() or len(value) > ID_MAX_LENGTH:
        raise ValidationError({"id": _("Give the numeric id of a webhook.")})
    webhook = (
        webhooks_visible_to(get_user(info, required=True)).filter(pk=value).first()
    )
    if webhook is None:
        raise Webhook.DoesNotExist(_("No such webhook."))
    return webhook


def _given(**values):
    """The fields the caller sent; a null boolean or secret means "leave as is"."""
    return {
        name: value
        for name, value in values.items()
        if value is not UNSET and not (value is None and name in _NULL_KEEPS)
    }


_NULL_KEEPS = {"include_internal_notes", "active", "secret"}


@strawberry.type
class Query:
    @strawberry_django.field(
        description="The caller's webhooks (all of them for administrators)."
    )
    def webhooks(self, info: Info) -> list[WebhookType]:
        user = get_user(info)
        if not user.is_authenticated:
            return Webhook.objects.none()
        return webhooks_visible_to(user).order_by("name", "pk")


@strawberry.type
class Mutation:
    @strawberry_django.mutation(
        handle_django_errors=True,
        description="Subscribe an endpoint to events (needs the webhook permission).",
    )
    def create_webhook(self, info: Info, input: CreateWebhookInput) -> WebhookType:
        with as_mutation_error():
            require_scope(info, "write")
            return services.create_webhook(
                get_user(info, required=True),
                name=input.name,
                url=input.url,
                events=input.events,
                secret=input.secret,
                include_internal_notes=input.include_internal_notes,
                active=input.active,
            )

    @strawberry_django.mutation(
        handle_django_errors=True, description="Change one of the caller's webhooks."
    )
    def update_webhook(self, info: Info, input: UpdateWebhookInput) -> WebhookType:
        with as_mutation_error():
            require_scope(info, "write")
            webhook = _webhook_for(info, input.id)
            changes = _given(
                name=input.name,
                url=input.url,
                events=input.events,
                secret=input.secret,
                include_internal_notes=input.include_internal_notes,
                active=input.active,
            )
            return services.update_webhook(
                webhook,
                user=get_user(info),
                rotate_secret=bool(input.rotate_secret),
                **changes,
            )

    @strawberry_django.mutation(
        handle_django_errors=True,
        description="Delete one of the caller's webhooks and its pending deliveries.",
    )
    def delete_webhook(self, info: Info, input: DeleteWebhookInput) -> DeletedWebhook:
        with as_mutation_error():
            require_scope(info, "write")
            webhook = _webhook_for(info, input.id)
            webhook_id = webhook.pk
            services.delete_webhook(webhook, user=get_user(info))
            return DeletedWebhook(id=strawberry.ID(str(webhook_id)))
