"""allauth's OpenID Connect URLs (same paths and names) served by our views, which
send a nonce and verify the ID token (``accounts.oidc_tokens``)."""

from allauth.socialaccount import app_settings
from django.urls import include, path, re_path

from accounts import oidc_tokens

urlpatterns = [
    re_path(
        r"^(?P<provider_id>[^/]+)/",
        include(
            [
                path("login/", oidc_tokens.login, name="openid_connect_login"),
                path(
                    "login/callback/",
                    oidc_tokens.callback,
                    name="openid_connect_callback",
                ),
            ]
        ),
    )
]

if app_settings.OPENID_CONNECT_URL_PREFIX:
    urlpatterns = [
        path(f"{app_settings.OPENID_CONNECT_URL_PREFIX}/", include(urlpatterns))
    ]
