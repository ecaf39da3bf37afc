"""Account rules that apply on every request.

- A locked account's existing sessions end at its next request.
- With ``MFA_REQUIRED_FOR_STAFF`` (read per request), staff without a second factor
  are sent to set one up before they reach an admin.
"""

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from . import permissions

ADMIN_PREFIXES = ("/admin/", "/django-admin/")
EXEMPT_PATHS = ("/admin/logout/", "/django-admin/logout/")


class AccountSecurityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if getattr(user, "locked_at", None) is not None:
                logout(request)
                messages.error(request, _("Your account is locked."))
                return redirect(settings.LOGIN_URL)
            if (
                request.path.startswith(ADMIN_PREFIXES)
                and request.path not in EXEMPT_PATHS
                and getattr(settings, "MFA_REQUIRED_FOR_STAFF", False)
                and permissions.is_staff_account(user)
                and not is_mfa_enabled(user)
            ):
                messages.warning(
                    request,
                    _("Set up two-factor authentication to use the admin."),
                )
                return redirect("mfa_activate_totp")
        return self.get_response(request)
