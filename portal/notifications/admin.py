from django.contrib import admin

from .models import SentNotification


@admin.register(SentNotification)
class SentNotificationAdmin(admin.ModelAdmin):
    """Read-only: the ledger is written by the sending code only."""

    list_display = ["kind", "to_email", "subject", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind"]
    search_fields = ["to_email", "idempotency_key", "subject"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
