"""Account rules that apply on every request.

- A locked account's existing sessions end at its next request.
- With ``MFA_REQUIRED_FOR_STAFF`` (read per request), staff without a second factor
  are sent to set one up before they reach an admin.
- A signed-in user's profile language and time zone apply to their pages.
"""

import zoneinfo

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.utils import timezone, translation
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


def _zone(name: str):
    """The zone for a stored name, or None for an empty or unknown one (the profile
    form validates, but the admin or an old row may hold anything)."""
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


class UserPreferencesMiddleware:
    """Apply the signed-in user's ``locale`` and ``time_zone`` for this request.

    Runs after ``LocaleMiddleware`` (which chose a language from the browser) and
    ``AuthenticationMiddleware``; an empty or unknown preference leaves the site's
    choice. The time zone is restored after the response so that it never leaks into
    the next request served by the same thread; the language stays active until
    ``LocaleMiddleware`` has set ``Content-Language`` and re-chooses it next request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        language = getattr(user, "locale", "")
        if language and language in dict(settings.LANGUAGES):
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        zone = _zone(getattr(user, "time_zone", ""))
        if zone is None:
            return self.get_response(request)
        with timezone.override(zone):
            return self.get_response(request)
