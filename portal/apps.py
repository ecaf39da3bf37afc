from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import admin_chrome, kept_nodes, timestamps
        from .csv import neutralise_spreadsheet_exports

        admin_chrome.install()
        kept_nodes.install()
        timestamps.install()
        admin_chrome.connect()

        neutralise_spreadsheet_exports()

        from django.contrib.auth.signals import user_login_failed

        from . import job_context, metrics

        job_context.connect()
        user_login_failed.connect(
            metrics.count_failed_login, dispatch_uid="portal-metrics-login-failed"
        )
