from django.contrib import admin

from .models import Webhook, WebhookDelivery


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "active", "include_internal_notes", "owner"]
    list_filter = ["active"]
    search_fields = ["name", "url"]
    raw_id_fields = ["owner"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Read-only: deliveries are written by the outbox and the worker."""

    list_display = [
        "event",
        "webhook",
        "status",
        "attempts",
        "last_status_code",
        "created_at",
        "delivered_at",
    ]
    list_filter = ["status", "event"]
    search_fields = ["event_id", "ordering_key"]
    list_select_related = ["webhook"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
