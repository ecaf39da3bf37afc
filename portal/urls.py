from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.contrib.sitemaps.views import sitemap
from wagtail.documents import urls as wagtaildocs_urls

from accounts.views import admin_login_redirect, login_redirect, password_reset_redirect
from kb import page_cache

from . import metrics, views

urlpatterns = [
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
    path("django-admin/", admin.site.urls),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("accounts/", include("allauth.urls")),
    path("account/", include("accounts.urls")),
    path("graphql/", include("graphql_api.urls")),
    path("portal/", include("tickets.urls")),
    path("email/", include("email_channel.urls")),
    path(
        "kb/", include("kb.urls")
    ),  # /kb/search/, /kb/suggest/; pages fall through to Wagtail
    path("sitemap.xml", sitemap, name="sitemap"),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Wagtail serves every other path (home page, /kb/ tree); keep it last. Its page view
# goes through the knowledge base's anonymous page cache (kb.page_cache). Its front-end
# password login (``/_util/login/``) is replaced by a redirect to allauth under the same
# name (Wagtail reverses it for pages that require a login).
WAGTAIL_REPLACED = {"wagtail_serve", "wagtailcore_login"}
urlpatterns += [
    *(p for p in wagtail_urls.urlpatterns if p.name not in WAGTAIL_REPLACED),
    path("_util/login/", login_redirect, name="wagtailcore_login"),
    re_path(wagtail_urls.serve_pattern, page_cache.serve, name="wagtail_serve"),
]

# A database outage raised in a middleware still gets the friendly 503.
handler500 = "portal.errors.server_error"
