"""Site-wide response rules that belong to no domain.

- ``PrivateCacheMiddleware``: what one visitor sees is never kept by a cache.
- ``CSPMiddleware``: django-csp's, with the site's policy header built once.
- ``MessageMiddleware``: Django's, the messages cookie's signer made once.
- ``QueryCountMiddleware``: benchmark-only instrumentation, installed only when the
  environment asks for it (see the ``# --- portal ---`` settings section).
"""

import http.client
from dataclasses import asdict

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as LibraryCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.contrib.messages.middleware import (
    MessageMiddleware as DjangoMessageMiddleware,
)
from django.contrib.messages.storage.base import BaseStorage
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.messages.storage.session import SessionStorage
from django.core import signing
from django.core.signals import setting_changed
from django.db import connections
from django.dispatch import receiver
from django.utils.cache import has_vary_header, patch_cache_control
from django.utils.module_loading import import_string


class PrivateCacheMiddleware:
    """Marks every answer that belongs to one visitor ``Cache-Control: private,
    no-store``, so that no browser history, shared proxy or CDN keeps a signed-in page,
    its CSRF-protected forms or an API answer.

    An answer belongs to one visitor when the request is signed in (a session user or
    an ``Authorization`` header, as for API tokens), when the answer sets or deletes
    the session cookie (signing in and out), or when it varies on a session the request
    carries (an allauth sign-in halfway through its second step, a reader's messages).
    Anonymous answers keep their headers: the knowledge base's anonymous page cache
    (``kb.page_cache``) and static files (served by WhiteNoise before the session is
    read) are untouched. Directives a view set itself are kept; ``public`` goes.

    Sits outside ``SessionMiddleware`` so that it sees the session cookie being set,
    and inside ``DatabaseUnavailableMiddleware``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if is_personal(request, response):
            if response.get("Cache-Control"):
                patch_cache_control(response, private=True, no_store=True)
            else:  # what ``patch_cache_control`` writes when there is none
                response.headers["Cache-Control"] = PRIVATE
        return response


#: ``patch_cache_control(response, private=True, no_store=True)`` of an answer
#: without ``Cache-Control`` (or an empty one).
PRIVATE = "private, no-store"


def is_personal(request, response) -> bool:
    """Whether ``response`` shows or changes what only this visitor may see."""
    if "HTTP_AUTHORIZATION" in request.META:
        return True
    if settings.SESSION_COOKIE_NAME in response.cookies:
        return True
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return True
    return settings.SESSION_COOKIE_NAME in request.COOKIES and has_vary_header(
        response, "Cookie"
    )


QUERY_COUNT_HEADER = "X-SQL-Queries"


class QueryCountMiddleware:
    """Counts the SQL statements a request runs (on every database connection) and
    reports them in the ``X-SQL-Queries`` response header.

    The benchmark harness reads the header from one request per scenario. It sits first
    in ``MIDDLEWARE`` so that the session, authentication and any caching middleware are
    counted too. ``execute_wrapper`` keeps working with DEBUG off, unlike
    ``connection.queries``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        # each connection's ``execute_wrapper(counter)`` without its context
        # manager and an ``ExitStack`` (~25 Python calls a request)
        counted = connections.all()
        for connection in counted:
            connection.execute_wrappers.append(counter)
        try:
            response = self.get_response(request)
        finally:
            for connection in counted:
                connection.execute_wrappers.remove(counter)
        response[QUERY_COUNT_HEADER] = str(count)
        return response


# --- the Content-Security-Policy header ---------------------------------------------

_POLICY_SETTINGS = ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY")
_EXEMPT_IN_DEBUG = (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND)
# report_only -> the header django-csp builds from the settings alone
_site_policies: dict[bool, str] = {}


@receiver(setting_changed)
def _policy_setting_changed(setting, **kwargs):
    if setting in _POLICY_SETTINGS:
        _site_policies.clear()


def _policy(parts, report_only: bool) -> str:
    """``build_policy(**asdict(parts), report_only=report_only)``: kept per process
    when the answer has no policy of its own (``csp_update``, ``csp_replace``, the
    ``csp`` decorator) and no nonce was asked for, i.e. when it is the settings'
    policy (~240 Python calls a response: the directives merged, copied and joined,
    and ``asdict``'s deep copies). Renewed when a test changes the settings."""
    if (
        parts.config is None
        and parts.update is None
        and parts.replace is None
        and parts.nonce is None
    ):
        kept = _site_policies.get(report_only)
        if kept is None:
            kept = _site_policies[report_only] = build_policy(report_only=report_only)
        return kept
    return build_policy(**asdict(parts), report_only=report_only)


class CSPMiddleware(LibraryCSPMiddleware):
    """django-csp 4.0's ``CSPMiddleware``, its ``process_response`` step for step, the
    policy from ``_policy``. The header of an answer with a nonce or a view's own
    policy is built per answer, as before."""

    def process_response(self, request, response):
        if response.status_code in _EXEMPT_IN_DEBUG and settings.DEBUG:
            return response
        for report_only, header, exempt, policy_setting in (
            (False, HEADER, "_csp_exempt", "CONTENT_SECURITY_POLICY"),
            (
                True,
                HEADER_REPORT_ONLY,
                "_csp_exempt_ro",
                "CONTENT_SECURITY_POLICY_REPORT_ONLY",
            ),
        ):
            parts = self.get_policy_parts(
                request=request, response=response, report_only=report_only
            )
            csp = _policy(parts, report_only)
            if csp:
                is_not_exempt = getattr(response, exempt, False) is False
                no_header = header not in response
                policy = getattr(settings, policy_setting, None) or {}
                prefixes = policy.get("EXCLUDE_URL_PREFIXES", None) or ()
                is_not_excluded = not request.path_info.startswith(tuple(prefixes))
                if no_header and is_not_exempt and is_not_excluded:
                    response[header] = csp
        if getattr(request, "_csp_nonce", None) is None:
            request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response


# --- the messages' storage ----------------------------------------------------------

_FALLBACK = "django.contrib.messages.storage.fallback.FallbackStorage"
_COOKIE = "django.contrib.messages.storage.cookie.CookieStorage"
_SIGNER_SETTINGS = ("SECRET_KEY", "SECRET_KEY_FALLBACKS", "SIGNING_BACKEND")
# "signer": the messages cookie's signer; "storage": the storage class
_kept_messages: dict[str, object] = {}


@receiver(setting_changed)
def _messages_setting_changed(setting, **kwargs):
    if setting in _SIGNER_SETTINGS or setting == "MESSAGE_STORAGE":
        _kept_messages.clear()


def _cookie_signer():
    """``signing.get_cookie_signer(salt=CookieStorage.key_salt)``, made once per
    process (renewed when a test changes the key or the backend): Django makes it for
    every request (~35 Python calls: the backend's import, the key's derivation, the
    separator's check). A signer is read only once made (key, salt, algorithm):
    Django's own signer signs and reads every cookie."""
    signer = _kept_messages.get("signer")
    if signer is None:
        signer = _kept_messages["signer"] = signing.get_cookie_signer(
            salt=CookieStorage.key_salt
        )
    return signer


class KeptSignerCookieStorage(CookieStorage):
    """Django's ``CookieStorage`` with the process's signer (``_cookie_signer``): the
    same cookie, signed with the same key and salt."""

    def __init__(self, *args, **kwargs):
        BaseStorage.__init__(self, *args, **kwargs)
        self.signer = _cookie_signer()


class KeptSignerFallbackStorage(FallbackStorage):
    """Django's ``FallbackStorage`` (the cookie, then the session), its cookie storage
    ``KeptSignerCookieStorage``."""

    storage_classes = (KeptSignerCookieStorage, SessionStorage)


def _storage_class():
    """The class ``settings.MESSAGE_STORAGE`` names (imported once per process, not
    per request as ``default_storage`` does), Django's cookie and fallback storages
    replaced by their kept-signer twins; any other class as it is."""
    storage = _kept_messages.get("storage")
    if storage is None:
        path = settings.MESSAGE_STORAGE
        storage = _kept_messages["storage"] = (
            KeptSignerFallbackStorage
            if path == _FALLBACK
            else KeptSignerCookieStorage
            if path == _COOKIE
            else import_string(path)
        )
    return storage


class MessageMiddleware(DjangoMessageMiddleware):
    """Django's ``MessageMiddleware``, the request's storage of ``_storage_class``."""

    def process_request(self, request):
        request._messages = _storage_class()(request)
