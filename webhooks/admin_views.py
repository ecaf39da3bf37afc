"""Wagtail admin screens for webhooks: manage them, see their deliveries with response
codes and errors, redeliver. Administrators only. The views are thin: every change goes
through ``webhooks.services``."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.permission_policies.base import BasePermissionPolicy

from . import services
from .models import WEBHOOK_EVENTS, Webhook, WebhookDelivery


class SuperuserPermissionPolicy(BasePermissionPolicy):
    """Only active superusers, and only for the listed actions."""

    def __init__(self, model, actions=("add", "change", "delete", "view")):
        super().__init__(model)
        self.actions = set(actions)

    def user_has_permission(self, user, action):
        return bool(user.is_active and user.is_superuser and action in self.actions)

    def users_with_any_permission(self, actions):
        from django.contrib.auth import get_user_model

        if not self.actions.intersection(actions):
            return get_user_model().objects.none()
        return get_user_model().objects.filter(is_active=True, is_superuser=True)


class WebhookForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=list(WEBHOOK_EVENTS.items()),
        widget=forms.CheckboxSelectMultiple,
    )
    secret = forms.CharField(
        label=_("Signing secret"),
        required=False,
        max_length=128,
        help_text=_(
            "Leave blank to generate one. Receivers check X-Signature: sha256=<HMAC-"
            "SHA256 of the raw body with this secret>."
        ),
    )

    class Meta:
        model = Webhook
        fields = ["name", "url", "events", "secret", "include_internal_notes", "active"]


def _form_error(view, form, error: ValidationError):
    """A rule the service enforces beyond the form: shown on the form, nothing saved."""
    form.add_error(None, error)
    view.produced_error_code = "validation_error"
    view.produced_error_message = view.get_error_message()
    return view.form_invalid(form)


class WebhookCreateView(generic.CreateView):
    def form_valid(self, form):
        self.form = form
        try:
            self.object = services.create_webhook(
                self.request.user, **form.cleaned_data
            )
        except ValidationError as error:
            return _form_error(self, form, error)
        return self.save_action()


class WebhookEditView(generic.EditView):
    def form_valid(self, form):
        self.form = form
        changes = dict(form.cleaned_data)
        if not changes.get("secret"):
            changes.pop("secret")  # blank keeps the current secret
        try:
            self.object = services.update_webhook(
                Webhook.objects.get(pk=self.object.pk),
                user=self.request.user,
                **changes,
            )
        except ValidationError as error:
            return _form_error(self, form, error)
        return self.save_action()


class WebhookDeleteView(generic.DeleteView):
    def delete_action(self):
        services.delete_webhook(self.object, user=self.request.user)


class WebhookViewSet(ModelViewSet):
    model = Webhook
    icon = "link"
    menu_label = _("Webhooks")
    add_view_class = WebhookCreateView
    edit_view_class = WebhookEditView
    delete_view_class = WebhookDeleteView
    copy_view_enabled = False
    list_display = ["name", "url", "active", "include_internal_notes", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "url"]

    def get_form_class(self, for_update=False):
        return WebhookForm


class DeliveryIndexView(generic.IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("webhook")


class DeliveryInspectView(generic.InspectView):
    template_name = "webhooks/admin/delivery_inspect.html"
    redeliver_url_name = None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["redeliver_url"] = reverse(
            self.redeliver_url_name, args=[self.object.pk]
        )
        return context


class WebhookDeliveryViewSet(ModelViewSet):
    model = WebhookDelivery
    icon = "history"
    menu_label = _("Webhook deliveries")
    index_view_class = DeliveryIndexView
    inspect_view_class = DeliveryInspectView
    inspect_view_enabled = True
    copy_view_enabled = False
    form_fields = []  # read-only: no add or change permission is ever granted
    list_display = [
        "event",
        "webhook",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "created_at",
        "delivered_at",
    ]
    list_filter = ["status", "event", "webhook"]
    inspect_view_fields = [
        "webhook",
        "event",
        "event_id",
        "ordering_key",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "created_at",
        "delivered_at",
        "payload",
    ]

    def get_inspect_view_kwargs(self, **kwargs):
        return super().get_inspect_view_kwargs(
            redeliver_url_name=self.get_url_name("redeliver"), **kwargs
        )

    @property
    def redeliver_view(self):
        index_url_name = self.get_url_name("index")

        @require_POST
        def view(request, pk):
            if not request.user.is_superuser:
                raise Http404
            delivery = get_object_or_404(
                WebhookDelivery.objects.select_related("webhook"), pk=pk
            )
            try:
                services.redeliver(delivery, user=request.user)
            except PermissionDenied:
                raise Http404
            messages.success(request, _("The event was queued for delivery again."))
            return redirect(index_url_name)

        return view

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("redeliver/<int:pk>/", self.redeliver_view, name="redeliver"),
        ]


class IntegrationsGroup(ModelViewSetGroup):
    menu_label = _("Integrations")
    menu_icon = "link"
    menu_order = 900
    items = [WebhookViewSet("webhooks"), WebhookDeliveryViewSet("webhook_deliveries")]
