"""Account rules that apply on every request.

- A locked account's existing sessions end at its next request.
- With ``MFA_REQUIRED_FOR_STAFF`` (read per request), staff without a second factor
  (an authenticator app or a passkey) are sent to set one up before they reach an
  admin.
- A signed-in user's profile language and time zone apply to their pages.
"""

import zoneinfo

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponseRedirect
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.shortcuts import redirect
from django.urls import is_valid_path
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from . import permissions, sso

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
                and not sso.provider_mfa_satisfied(request, user)
            ):
                messages.warning(
                    request,
                    _(
                        "Set up two-factor authentication (an authenticator app or "
                        "a passkey) to use the admin."
                    ),
                )
                # any second factor counts: the overview offers each kind
                return redirect("mfa_index")
        return self.get_response(request)


def language_from_path(request):
    """``translation.get_language_from_path(request.path_info)``, worked out once per
    request by ``LocaleMiddleware`` (a regular expression and the supported-variant
    lookup, ~17 Python calls, asked three times a request before)."""
    kept = request.__dict__.get("_language_from_path")
    if kept is not None and kept[0] == request.path_info:
        return kept[1]
    return translation.get_language_from_path(request.path_info)


def language_from_request(request):
    """``translation.get_language_from_request(request)`` (the cookie, else
    ``Accept-Language``, else the default), as ``LocaleMiddleware`` worked it out
    for this request when it did (~13 Python calls: the header parsed, the variant
    looked up); ``UserPreferencesMiddleware`` asks again for a user without a
    profile language. The cookie and the header do not change in between."""
    kept = request.__dict__.get("_language_from_request")
    if kept is not None:
        return kept
    return translation.get_language_from_request(request)


class LocaleMiddleware(DjangoLocaleMiddleware):
    """Django's ``LocaleMiddleware``, the same choice and headers, with the path's
    language read once (``language_from_path``) for its request step, its response
    step and ``UserPreferencesMiddleware``, and the cookie's or browser's choice
    (``language_from_request``) once for it and ``UserPreferencesMiddleware``. A 404 answer goes through Django's own
    response step (the redirect to the prefixed path)."""

    def process_request(self, request):
        urlconf = getattr(request, "urlconf", settings.ROOT_URLCONF)
        i18n_patterns_used, prefixed_default_language = (
            is_language_prefix_patterns_used(urlconf)
        )
        from_path = translation.get_language_from_path(request.path_info)
        request._language_from_path = (request.path_info, from_path)
        if i18n_patterns_used and from_path is not None:
            # what ``get_language_from_request(check_path=True)`` answers first
            language = from_path
        else:
            language = translation.get_language_from_request(request)
            request._language_from_request = language
        if not from_path and i18n_patterns_used and not prefixed_default_language:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request, response):
        if response.status_code == 404:
            return super().process_response(request, response)
        language = translation.get_language()
        urlconf = getattr(request, "urlconf", settings.ROOT_URLCONF)
        i18n_patterns_used, _prefixed = is_language_prefix_patterns_used(urlconf)
        if not (i18n_patterns_used and language_from_path(request)):
            patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", language)
        return response


def _zone(name: str):
    """The zone for a stored name, or None for an empty or unknown one (the profile
    form validates, but the admin or an old row may hold anything)."""
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def supported_language(code) -> str:
    """``code`` when it is one of ``settings.LANGUAGES``, else "" (a bad cookie or
    profile value is ignored silently: the caller falls back to English)."""
    if isinstance(code, str) and code in dict(settings.LANGUAGES):
        return code
    return ""


def _resolves_in(request, path: str, language: str) -> bool:
    with translation.override(language):
        return is_valid_path(path, getattr(request, "urlconf", None))


class UserPreferencesMiddleware:
    """Apply the signed-in user's ``locale`` and ``time_zone`` for this request.

    Runs after ``LocaleMiddleware`` and ``AuthenticationMiddleware``. A language prefix
    in the path (``/pl/…``, ``/ru/…``) always wins: it names the page's language. On an
    unprefixed path ``LocaleMiddleware`` chose English; for a signed-in user the
    profile language replaces it, else the language cookie the header switcher set (so
    a visitor who switched before signing in keeps the language), else the browser's
    ``Accept-Language``. An empty or unknown value falls through silently, to English
    at the end. An unprefixed public page (``/kb/…``) is English by its URL: a GET is
    redirected to the same page under the user's language prefix, anything else is
    answered in English. The time zone is restored after the response so that it
    never leaks into the next request served by the same thread; the language stays
    active until ``LocaleMiddleware`` has set ``Content-Language`` and re-chooses it
    next request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        if not language_from_path(request):
            # the profile, else the switcher's cookie, else the browser's
            # Accept-Language (Django skips a bad cookie value), else English
            language = supported_language(
                getattr(user, "locale", "")
            ) or language_from_request(request)
            if language != settings.LANGUAGE_CODE and not _resolves_in(
                request, request.path_info, language
            ):
                # a public page (KB, sign-in): its URLs in this language carry the
                # prefix, and the unprefixed one only resolves in English
                prefixed = f"/{language}{request.path_info}"
                if request.method in ("GET", "HEAD") and _resolves_in(
                    request, prefixed, language
                ):
                    return HttpResponseRedirect(f"/{language}{request.get_full_path()}")
                language = settings.LANGUAGE_CODE
            active = translation.get_language()
            if active != language:
                translation.activate(language)
                active = translation.get_language()
            # else already active (``LocaleMiddleware`` chose the same): activating
            # it again would set the same translation object
            request.LANGUAGE_CODE = active
        zone = _zone(getattr(user, "time_zone", ""))
        if zone is None:
            return self.get_response(request)
        with timezone.override(zone):
            return self.get_response(request)
