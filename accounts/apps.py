from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import (
            kept_organizations,
            receivers,
            sso,  # noqa: F401 (sso registers its start-up check)
        )

        receivers.connect()
        if apps.is_installed("wagtail.users"):
            from django.contrib.auth import get_user_model

            from . import user_profile

            # the admin's every page reads the user's profile: a kept statement
            user_profile.install(get_user_model())
        # The kept organizations of filers follow every edit (kept_organizations).
        kept_organizations.connect()
        # Wagtail 8 reads the user viewset from the wagtail.users app config when the
        # admin URLs are built; point it at ours (display name, email-only login)
        # without replacing "wagtail.users" in INSTALLED_APPS.
        if apps.is_installed("wagtail.users"):
            apps.get_app_config(
                "wagtailusers"
            ).user_viewset = "accounts.viewsets.UserViewSet"
