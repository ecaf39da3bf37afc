"""Who may manage webhooks: administrators all of them; integrators holding the
``webhooks.add_webhook`` permission their own. One policy for the admin screens and
the GraphQL mutations."""

from .models import Webhook


def can_manage_webhooks(user) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.has_perm("webhooks.add_webhook"))
    )


def can_change_webhook(user, webhook: Webhook) -> bool:
    return can_manage_webhooks(user) and (
        user.is_superuser or webhook.owner_id == user.pk
    )


def webhooks_visible_to(user):
    if not can_manage_webhooks(user):
        return Webhook.objects.none()
    if user.is_superuser:
        return Webhook.objects.all()
    return Webhook.objects.filter(owner=user)


def owner_may_receive(owner) -> bool:
    """Whether a webhook owned by ``owner`` may still be sent events: the owner exists,
    is active, not locked, and may still manage webhooks. What each event carries is
    then decided by the owning domain's policy for that owner (``ticket_events``,
    ``kb_events``)."""
    return bool(
        owner is not None
        and getattr(owner, "locked_at", None) is None
        and can_manage_webhooks(owner)
    )
