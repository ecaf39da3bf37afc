from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.contrib.sitemaps.views import sitemap
from wagtail.documents import urls as wagtaildocs_urls

from accounts.views import (
    admin_login_redirect,
    login_redirect,
    password_reset_redirect,
    set_language,
)
from kb import page_cache

from . import metrics, views
from .sitemaps import MultilingualSitemap

urlpatterns = [
    # Tried in this order for every request: the portal's and the API's paths first,
    # the paths filed and read most (each pattern tried before the one that matches
    # costs ~5 Python calls). No other pattern starts with "portal/" or "graphql/"
    # (portal/tests/test_url_order), so their place decides nothing else.
    path("portal/", include("tickets.urls")),
    path("graphql/", include("graphql_api.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("ping", views.ping, name="ping"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("metrics", metrics.metrics_view, name="metrics"),
    # Sign-in is allauth's alone (its second factor, rate limits and email
    # verification): the admins' login views and Wagtail's password reset, which would
    # skip them, are shadowed here, before the includes. portal/tests/test_login_routes
    # walks every route and fails when any other view can sign a user in.
    path("admin/login/", admin_login_redirect),
    path(
        "django-admin/login/", admin_login_redirect, {"default_next": "/django-admin/"}
    ),
    re_path(r"^admin/password_reset/", password_reset_redirect),
    # The webhook models moved from graphql_api to the webhooks app (same tables):
    # bookmarks of their Django admin pages follow them.
    re_path(
        r"^django-admin/graphql_api/(?P<rest>webhook(delivery)?/.*)$",
        RedirectView.as_view(
            url="/django-admin/webhooks/%(rest)s", permanent=True, query_string=True
        ),
    ),
    path("django-admin/", admin.site.urls),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    # The header's language switcher (Django's set_language, see accounts.views).
    path("i18n/setlang/", set_language, name="set_language"),
    path("account/", include("accounts.urls")),
    path("live/", include("live.urls")),
    path("email/", include("email_channel.urls")),
    path(
        "sitemap.xml",
        sitemap,
        {"sitemaps": {"pages": MultilingualSitemap}},
        name="sitemap",
    ),
]

# Public pages exist once per language: English unprefixed, the others under /pl/,
# /ru/ (settings.LANGUAGES). An unknown prefix (/xx/) is no language, so it reaches
# Wagtail as a page path and is a 404. Signed-in pages (portal, desk, account, admin)
# stay unprefixed and follow the user's profile language (UserPreferencesMiddleware).
public_patterns = [
    path("accounts/", include("allauth.urls")),
    # /kb/search/, /kb/suggest/; pages fall through to Wagtail
    path("kb/", include("kb.urls")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Wagtail serves every other path (home page, /kb/ tree); keep it last. Its page view
# goes through the knowledge base's anonymous page cache (kb.page_cache). Its front-end
# password login (``/_util/login/``) is replaced by a redirect to allauth under the same
# name (Wagtail reverses it for pages that require a login).
# The page view is inside the language prefixes: Wagtail routes /pl/… through the Polish
# translation of the site's root page (WAGTAIL_I18N_ENABLED), and a page missing in that
# language falls back to the English one with a note (kb.fallback).
WAGTAIL_REPLACED = {"wagtail_serve", "wagtailcore_login"}
urlpatterns += [
    *(p for p in wagtail_urls.urlpatterns if p.name not in WAGTAIL_REPLACED),
    path("_util/login/", login_redirect, name="wagtailcore_login"),
]
urlpatterns += i18n_patterns(
    *public_patterns,
    re_path(wagtail_urls.serve_pattern, page_cache.serve, name="wagtail_serve"),
    prefix_default_language=False,
)

# A database outage raised in a middleware still gets the friendly 503.
handler500 = "portal.errors.server_error"
