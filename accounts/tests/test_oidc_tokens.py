"""The ID token checks of ``accounts.oidc_tokens`` against the real provider (npm
``oidc-provider``): the nonce we send comes back and is verified, and a token with a
bad nonce, a signature by a key the provider does not publish, a wrong audience,
issuer or expiry is refused with a ``login_failed`` event and links nobody.

Tokens are altered on the wire: the portal's token endpoint is pointed (allauth's
``openid_configuration_overrides``) at ``TokenProxy``, a small HTTP server that
forwards the request to the provider and rewrites the ``id_token`` of its answer."""

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from cryptography.hazmat.primitives.asymmetric import rsa

from accounts import oidc_tokens
from accounts.models import SecurityEvent

from .oidc_provider import TestProvider
from .test_oidc import callback, providers_setting, signed_in_user_id, start


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    """The real provider (its own process for this module)."""
    provider = TestProvider(tmp_path_factory.mktemp("oidc-tokens"), ["corp"])
    yield provider
    provider.stop()


@pytest.fixture
def sso(settings, idp):
    settings.SOCIALACCOUNT_PROVIDERS = providers_setting(idp.app())
    settings.OIDC_ROLE_MAP = {}
    return settings


class TokenProxy:
    """Forwards ``POST /token`` to the provider's token endpoint and returns its answer
    with ``id_token`` passed through ``rewrite``; ``GET /jwks`` serves ``jwks``."""

    __test__ = False

    def __init__(self, upstream: str, rewrite, jwks: dict | None = None):
        proxy = self
        self.upstream, self.rewrite, self.jwks = upstream, rewrite, jwks or {"keys": []}
        self.seen: list[dict] = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: bytes, content_type: str):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._answer(200, json.dumps(proxy.jwks).encode(), "application/json")

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                upstream = requests.post(
                    proxy.upstream,
                    data=body,
                    headers={"Content-Type": self.headers["Content-Type"]},
                    timeout=10,
                )
                data = upstream.json()
                if "id_token" in data:
                    proxy.seen.append(
                        jwt.decode(
                            data["id_token"], options={"verify_signature": False}
                        )
                    )
                    data["id_token"] = proxy.rewrite(data["id_token"])
                self._answer(
                    upstream.status_code, json.dumps(data).encode(), "application/json"
                )

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


ROGUE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def rogue_jwks(kid: str = "rogue") -> dict:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(ROGUE_KEY.public_key()))
    return {"keys": [{**jwk, "kid": kid, "use": "sig", "alg": "RS256"}]}


def resign(token: str, kid: str, **claims) -> str:
    """``token``'s claims (with ``claims`` changed) signed by the rogue key."""
    payload = jwt.decode(token, options={"verify_signature": False})
    payload.update(claims)
    return jwt.encode(payload, ROGUE_KEY, algorithm="RS256", headers={"kid": kid})


def provider_kid(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


@pytest.fixture
def proxied(sso, idp):
    """``proxied(rewrite, own_jwks=False)``: the portal fetches its tokens through a
    ``TokenProxy``; with ``own_jwks`` it also trusts the proxy's (rogue) key set, so a
    re-signed token passes the signature check and meets the claim checks."""
    proxies = []
    upstream = requests.get(idp.discovery_url, timeout=10).json()

    def make(rewrite, own_jwks=False):
        proxy = TokenProxy(upstream["token_endpoint"], rewrite, rogue_jwks())
        proxies.append(proxy)
        overrides = {"token_endpoint": f"{proxy.url}/token"}
        if own_jwks:
            overrides["jwks_uri"] = f"{proxy.url}/jwks"
        sso.SOCIALACCOUNT_PROVIDERS = providers_setting(
            idp.app(openid_configuration_overrides=overrides)
        )
        return proxy

    yield make
    for proxy in proxies:
        proxy.stop()


def refused_with(client, response, reason: str, django_user_model):
    assert response.status_code == 401
    assert "An error occurred while attempting to login" in response.content.decode()
    assert signed_in_user_id(client) is None
    assert not SocialAccount.objects.exists()
    assert django_user_model.objects.count() == 0
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.LOGIN_FAILED)
    assert event.data["method"] == "oidc"
    assert event.data["provider"] == "corp"
    assert event.data["reason"] == reason
    assert event.ip == "127.0.0.1"
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGIN).exists()


@pytest.fixture
def alice(idp):
    idp.set_account("alice", email="alice@corp.example", email_verified=True)
    return "alice"


# --- nonce -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_sign_in_sends_a_fresh_nonce_that_the_token_carries_back(
    client, proxied, idp, alice
):
    proxy = proxied(lambda token: token)  # passes the provider's token unchanged
    first = parse_qs(urlsplit(start(client)).query)["nonce"][0]
    authorize = start(client)
    nonce = parse_qs(urlsplit(authorize).query)["nonce"][0]
    assert nonce != first

    response = callback(client, idp.sign_in(authorize, alice))

    assert response.status_code == 302
    assert proxy.seen[0]["nonce"] == nonce
    assert proxy.seen[0]["aud"] == "portal"
    assert SocialAccount.objects.get(uid="alice").extra_data["id_token"]["nonce"] == (
        nonce
    )
    assert signed_in_user_id(client) is not None


@pytest.mark.django_db
def test_a_token_for_another_nonce_is_refused(
    client, sso, idp, alice, django_user_model
):
    authorize = start(client)
    state_id = parse_qs(urlsplit(authorize).query)["state"][0]
    url = idp.sign_in(authorize, alice)
    # the nonce this session expects is no longer the one the provider put in the token
    session = client.session
    session["socialaccount_states"][state_id][0][oidc_tokens.NONCE_KEY] = "another"
    session.save()

    response = callback(client, url)

    refused_with(client, response, "bad_nonce", django_user_model)


@pytest.mark.django_db
def test_a_token_re_signed_with_another_nonce_is_refused(
    client, proxied, idp, alice, django_user_model
):
    proxied(lambda t: resign(t, "rogue", nonce="replayed"), own_jwks=True)
    response = callback(client, idp.sign_in(start(client), alice))
    refused_with(client, response, "bad_nonce", django_user_model)


# --- signature -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("same_kid", [True, False], ids=["same-kid", "unknown-kid"])
def test_a_token_signed_by_a_key_the_provider_does_not_publish_is_refused(
    client, proxied, idp, alice, django_user_model, same_kid
):
    proxied(lambda t: resign(t, provider_kid(t) if same_kid else "rogue"))
    response = callback(client, idp.sign_in(start(client), alice))
    refused_with(client, response, "bad_signature", django_user_model)


def _unsigned(token: str) -> str:
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=")
    return header.decode() + "." + token.split(".")[1] + "."


@pytest.mark.django_db
def test_an_unsigned_token_is_refused(client, proxied, idp, alice, django_user_model):
    proxied(_unsigned)
    response = callback(client, idp.sign_in(start(client), alice))
    refused_with(client, response, "bad_signature", django_user_model)


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db
def test_a_provider_whose_key_set_cannot_be_fetched_signs_nobody_in(
    client, sso, idp, alice, django_user_model
):
    """The JWKS endpoint is unreachable (nothing listens on its port): the genuine
    token cannot be verified, so the sign-in is refused (``jwks_unavailable``) rather
    than accepted unverified."""
    dead = f"http://127.0.0.1:{_closed_port()}/jwks"
    sso.SOCIALACCOUNT_PROVIDERS = providers_setting(
        idp.app(openid_configuration_overrides={"jwks_uri": dead})
    )
    response = callback(client, idp.sign_in(start(client), alice))
    refused_with(client, response, "jwks_unavailable", django_user_model)


# --- claims ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_re_signed_token_with_good_claims_passes(client, proxied, idp, alice):
    """The twin of the claim refusals below: with the proxy's key trusted and the
    provider's claims untouched, the sign-in goes through."""
    proxied(lambda t: resign(t, "rogue"), own_jwks=True)
    response = callback(client, idp.sign_in(start(client), alice))
    assert response.status_code == 302
    assert SocialAccount.objects.filter(uid="alice").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": "someone-else"}, "bad_audience"),
        ({"aud": ["someone-else", "portal"], "azp": "someone-else"}, "bad_audience"),
        ({"iss": "https://id.attacker.example"}, "bad_issuer"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "expired"),
        (
            {"iat": int(time.time()) + 3600, "exp": int(time.time()) + 7200},
            "not_yet_valid",
        ),
    ],
    ids=["audience", "azp", "issuer", "expired", "future"],
)
def test_a_token_with_wrong_claims_is_refused(
    client, proxied, idp, alice, django_user_model, claims, reason
):
    proxied(lambda t: resign(t, "rogue", **claims), own_jwks=True)
    response = callback(client, idp.sign_in(start(client), alice))
    refused_with(client, response, reason, django_user_model)


@pytest.mark.django_db
def test_an_id_token_for_another_person_than_userinfo_is_refused(
    client, proxied, idp, alice, django_user_model
):
    proxied(lambda t: resign(t, "rogue", sub="mallory"), own_jwks=True)
    response = callback(client, idp.sign_in(start(client), alice))
    refused_with(client, response, "bad_subject", django_user_model)


def test_the_provider_class_is_ours_and_checked_at_start_up(settings, monkeypatch):
    from allauth.socialaccount.providers import registry
    from allauth.socialaccount.providers.openid_connect.provider import (
        OpenIDConnectProvider,
    )

    from accounts import sso

    settings.OIDC_PROVIDERS = [
        {"id": "corp", "server_url": "https://id.example", "client_id": "a"}
    ]
    registry.load()
    assert registry.get_class("openid_connect") is oidc_tokens.Provider
    assert sso.check_providers() == []
    # allauth's own class (no nonce, no signature check) is a start-up error
    monkeypatch.setitem(registry.provider_map, "openid_connect", OpenIDConnectProvider)
    assert [e.id for e in sso.check_providers()] == ["accounts.E106"]
