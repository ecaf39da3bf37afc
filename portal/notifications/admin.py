from django.contrib import admin

from .models import SentNotification


@admin.register(SentNotification)
class SentNotificationAdmin(admin.ModelAdmin):
    """Read-only: the outbox is written by the services and the workers. Failed rows
    (given up after their attempts or age) are listed here with their last error."""

    list_display = [
        "kind",
        "to_email",
        "subject",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "created_at",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["to_email", "idempotency_key", "subject"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
