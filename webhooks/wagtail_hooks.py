from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.permissions import register_permission_policy

from .admin_views import IntegrationsGroup, SuperuserPermissionPolicy
from .models import Webhook, WebhookDelivery

# Registered before any viewset asks, as Wagtail requires.
register_permission_policy(Webhook, SuperuserPermissionPolicy(Webhook))
register_permission_policy(
    WebhookDelivery, SuperuserPermissionPolicy(WebhookDelivery, actions=("view",))
)


@hooks.register("register_admin_viewset")
def register_integrations():
    return IntegrationsGroup()


@hooks.register("register_log_actions")
def register_webhook_log_actions(actions):
    actions.register_action("graphql_api.redeliver", _("Redeliver"), _("Redelivered"))
