from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .csv import neutralise_spreadsheet_exports

        neutralise_spreadsheet_exports()
