from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from . import addresses
from .models import Webhook, WebhookDelivery


class WebhookAdminForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            addresses.check_url(url)
        except addresses.ForbiddenAddress as refused:
            raise forms.ValidationError(str(refused))
        return url


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    """Where webhooks may post is checked here too (``webhooks.addresses``)."""

    form = WebhookAdminForm
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
