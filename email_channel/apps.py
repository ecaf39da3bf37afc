from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmailChannelConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "email_channel"
    verbose_name = _("Email channel")
