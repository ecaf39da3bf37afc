"""OpenID Connect ID tokens checked in full: a ``nonce`` per sign-in and the token's
signature against the provider's published keys.

allauth's ``openid_connect`` provider sends no ``nonce`` and skips the signature of an
ID token that came from the token endpoint. These subclasses close that gap:

- ``Provider.redirect`` adds a random ``nonce`` to the authorization request and keeps
  it in allauth's single-use, session-bound state for this sign-in;
- ``CallbackView`` hands that state's nonce to the adapter;
- ``Adapter.complete_login`` verifies the ID token (signature against the JWKS from the
  discovery document's ``jwks_uri``, ``iss``, ``aud``/``azp``, ``exp``/``iat``, ``nonce``,
  and the userinfo ``sub``) before allauth sees any claim. A refusal raises
  ``IDTokenRefused``; allauth's callback view answers with its "sign-in failed" page
  and ``accounts.sso.SocialAccountAdapter.on_authentication_error`` records the reason.

Installed through ``SOCIALACCOUNT_PROVIDERS["openid_connect"]["provider_class"]``;
allauth then mounts ``accounts/oidc/urls.py`` (the same URLs and names as its own).
"""

import hmac
import secrets
import threading

import jwt
from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import (
    OAuth2CallbackView,
    OAuth2LoginView,
)
from allauth.socialaccount.providers.openid_connect.provider import (
    OpenIDConnectProvider,
)
from allauth.socialaccount.providers.openid_connect.views import (
    OpenIDConnectOAuth2Adapter,
)
from django.http import Http404

NONCE_KEY = "oidc_nonce"
LEEWAY_SECONDS = 60
JWKS_LIFESPAN_SECONDS = 300
JWKS_TIMEOUT_SECONDS = 10
# Asymmetric algorithms only: never "none", never HS* (a secret shared with the client).
ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)

_jwks_clients: dict[str, jwt.PyJWKClient] = {}
_jwks_lock = threading.Lock()


class IDTokenRefused(OAuth2Error):
    """An ID token that fails a check; ``reason`` goes to the security event."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def new_nonce() -> str:
    return secrets.token_urlsafe(32)


def jwks_client(jwks_uri: str) -> jwt.PyJWKClient:
    """One key client per ``jwks_uri`` for the process: keys are cached for
    ``JWKS_LIFESPAN_SECONDS``, and an unknown ``kid`` fetches the set again once (key
    rotation at the provider)."""
    with _jwks_lock:
        client = _jwks_clients.get(jwks_uri)
        if client is None:
            client = jwt.PyJWKClient(
                jwks_uri,
                cache_keys=True,
                lifespan=JWKS_LIFESPAN_SECONDS,
                timeout=JWKS_TIMEOUT_SECONDS,
            )
            _jwks_clients[jwks_uri] = client
        return client


def verify_id_token(
    token: str,
    *,
    jwks_uri: str,
    issuer: str,
    client_id: str,
    nonce: str | None,
    algorithms=ALGORITHMS,
) -> dict:
    """The claims of ``token`` once every check passed; else ``IDTokenRefused`` with
    ``bad_signature``, ``bad_issuer``, ``bad_audience``, ``expired``,
    ``not_yet_valid``, ``bad_claims``, ``bad_nonce`` or ``jwks_unavailable``."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError as exc:
        raise IDTokenRefused("bad_signature", str(exc)) from exc
    alg = header.get("alg")
    if alg not in algorithms:
        raise IDTokenRefused("bad_signature", f"algorithm {alg!r} not accepted")
    try:
        key = jwks_client(jwks_uri).get_signing_key_from_jwt(token)
    except jwt.PyJWKClientConnectionError as exc:
        raise IDTokenRefused("jwks_unavailable", str(exc)) from exc
    except (jwt.PyJWKClientError, jwt.DecodeError) as exc:
        # no key of the set matches the token's kid
        raise IDTokenRefused("bad_signature", str(exc)) from exc
    try:
        claims = jwt.decode(
            token,
            key=key.key,
            algorithms=[alg],
            audience=client_id,
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "sub", "aud", "exp", "iat"]},
        )
    except jwt.InvalidSignatureError as exc:
        raise IDTokenRefused("bad_signature", str(exc)) from exc
    except jwt.ExpiredSignatureError as exc:
        raise IDTokenRefused("expired", str(exc)) from exc
    except (jwt.ImmatureSignatureError, jwt.InvalidIssuedAtError) as exc:
        raise IDTokenRefused("not_yet_valid", str(exc)) from exc
    except jwt.InvalidIssuerError as exc:
        raise IDTokenRefused("bad_issuer", str(exc)) from exc
    except jwt.InvalidAudienceError as exc:
        raise IDTokenRefused("bad_audience", str(exc)) from exc
    except jwt.MissingRequiredClaimError as exc:
        raise IDTokenRefused("bad_claims", str(exc)) from exc
    except jwt.InvalidTokenError as exc:
        raise IDTokenRefused("bad_signature", str(exc)) from exc
    # OpenID Connect Core 3.1.3.7: with several audiences, azp names us.
    azp = claims.get("azp")
    if azp is not None and azp != client_id:
        raise IDTokenRefused("bad_audience", f"azp {azp!r}")
    token_nonce = claims.get("nonce")
    if (
        not nonce
        or not isinstance(token_nonce, str)
        or not hmac.compare_digest(token_nonce.encode(), nonce.encode())
    ):
        raise IDTokenRefused("bad_nonce")
    return claims


# --- allauth subclasses ----------------------------------------------------------------


class Adapter(OpenIDConnectOAuth2Adapter):
    """Verifies the ID token in full before any claim is used."""

    expected_nonce: str | None = None

    def complete_login(self, request, app, token, **kwargs):
        id_token = (kwargs.get("response") or {}).get("id_token")
        if not id_token:
            raise IDTokenRefused("missing_id_token")
        config = self.openid_config
        claims = verify_id_token(
            id_token,
            jwks_uri=config["jwks_uri"],
            issuer=config["issuer"],
            client_id=app.client_id,
            nonce=self.expected_nonce,
        )
        data = {"id_token": claims}
        if app.settings.get("fetch_userinfo", True):
            userinfo = self._fetch_user_info(token.token)
            # OpenID Connect Core 5.3.2: the userinfo answer is about the same person
            if not isinstance(userinfo, dict) or userinfo.get("sub") != claims["sub"]:
                raise IDTokenRefused("bad_subject")
            data["userinfo"] = userinfo
        return self.get_provider().sociallogin_from_response(request, data)


class CallbackView(OAuth2CallbackView):
    """allauth's callback; the nonce kept in this sign-in's state goes to the adapter."""

    def _get_state(self, request, provider):
        state, response = super()._get_state(request, provider)
        self.adapter.expected_nonce = (state or {}).get(NONCE_KEY)
        return state, response


class Provider(OpenIDConnectProvider):
    """allauth's ``openid_connect`` provider sending a fresh ``nonce`` per sign-in."""

    package = "accounts.oidc"
    oauth2_adapter_class = Adapter

    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        auth_params = kwargs.pop("auth_params", None)
        if auth_params is None:
            auth_params = self.get_auth_params()
        nonce = new_nonce()
        kwargs[NONCE_KEY] = nonce
        return super().redirect(
            request,
            process,
            next_url,
            data,
            auth_params={**auth_params, "nonce": nonce},
            **kwargs,
        )


@login_not_required
def login(request, provider_id):
    try:
        view = OAuth2LoginView.adapter_view(Adapter(request, provider_id))
        return view(request)
    except SocialApp.DoesNotExist as exc:
        raise Http404 from exc


@login_not_required
def callback(request, provider_id):
    try:
        view = CallbackView.adapter_view(Adapter(request, provider_id))
        return view(request)
    except SocialApp.DoesNotExist as exc:
        raise Http404 from exc
