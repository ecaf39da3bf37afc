from importlib import import_module
from importlib.util import find_spec

from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "portal.notifications"
    label = "notifications"
    verbose_name = _("Notifications")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        """Each app may keep its email rules in ``<app>/notifications_handlers.py`` with
        a ``register()`` function; call them all once the registry is ready."""
        for config in apps.get_app_configs():
            module_name = f"{config.name}.notifications_handlers"
            if find_spec(module_name) is not None:
                import_module(module_name).register()
