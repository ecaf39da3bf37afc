"""Single sign-on against a real OpenID Connect provider (npm ``oidc-provider``, run
with Node.js by the ``oidc_provider`` fixture): sign-in, role mapping, linking by a
verified email only, the staff second factor, refused callbacks.

Over 400 lines on purpose: one provider fixture drives every SSO journey; split by
journey, each file would repeat the sign-in helpers."""

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.core.checks import run_checks

from accounts import roles, sso
from accounts.models import SecurityEvent

from .conftest import current_totp_code
from .oidc_provider import TestProvider

ROLE_MAP = {
    "helpdesk-agents": roles.AGENTS,
    "helpdesk-supervisors": roles.SUPERVISORS,
    "helpdesk-viewers": roles.VIEWERS,
}


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    provider = TestProvider(tmp_path_factory.mktemp("oidc"), ["corp", "other"])
    yield provider
    provider.stop()


def providers_setting(*apps) -> dict:
    """The project's ``SOCIALACCOUNT_PROVIDERS`` (provider class, PKCE) with these apps."""
    from django.conf import settings

    base = settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]
    return {"openid_connect": {**base, "APPS": list(apps)}}


@pytest.fixture
def sso_settings(settings, oidc_provider):
    settings.SOCIALACCOUNT_PROVIDERS = providers_setting(oidc_provider.app())
    settings.OIDC_ROLE_CLAIM = "groups"
    settings.OIDC_ROLE_MAP = ROLE_MAP
    settings.MFA_REQUIRED_FOR_STAFF = True
    return settings


def trust_provider_mfa(settings, oidc_provider):
    settings.SOCIALACCOUNT_PROVIDERS = providers_setting(
        oidc_provider.app(trust_mfa=True)
    )


def start(client, provider_id="corp") -> str:
    response = client.post(f"/accounts/oidc/{provider_id}/login/")
    assert response.status_code == 302
    return response["Location"]


def callback(client, url: str):
    parts = urlsplit(url)
    return client.get(f"{parts.path}?{parts.query}")


def sign_in(client, oidc_provider, login: str, provider_id="corp"):
    return callback(client, oidc_provider.sign_in(start(client, provider_id), login))


def signed_in_user_id(client):
    return client.session.get("_auth_user_id")


def role_names(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


@pytest.fixture
def agent(make_user):
    from django.contrib.auth.models import Permission

    user = make_user("agent@corp.example", groups=[roles.AGENTS], is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    return user


# --- sign-in ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_new_person_signs_in_through_the_provider(
    client, sso_settings, oidc_provider
):
    oidc_provider.set_account(
        "alice", email="alice@corp.example", email_verified=True, name="Alice Corp"
    )
    authorize = start(client)
    assert authorize.startswith(f"{oidc_provider.issuer}/auth?")
    query = parse_qs(urlsplit(authorize).query)
    assert query["client_id"] == ["portal"]
    assert "openid" in query["scope"][0].split()
    assert query["code_challenge_method"] == ["S256"]
    nonce = query["nonce"][0]
    assert len(nonce) >= 32

    response = callback(client, oidc_provider.sign_in(authorize, "alice"))

    assert response.status_code == 302
    account = SocialAccount.objects.get(provider="corp", uid="alice")
    user = account.user
    assert signed_in_user_id(client) == str(user.pk)
    assert user.email == "alice@corp.example"
    assert not user.has_usable_password()
    assert EmailAddress.objects.get(user=user).verified is True
    assert account.extra_data["id_token"]["nonce"] == nonce  # verified, then kept
    assert role_names(user) == {roles.CUSTOMERS}  # no mapped group: a customer
    event = SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.LOGIN).get()
    assert event.data == {"method": "oidc", "provider": "corp"}
    assert event.ip == "127.0.0.1"
    # the next sign-in finds the same account through its provider link
    client.logout()
    sign_in(client, oidc_provider, "alice")
    assert signed_in_user_id(client) == str(user.pk)
    assert SocialAccount.objects.count() == 1


@pytest.mark.django_db
def test_roles_follow_the_claim_at_every_sign_in(client, sso_settings, oidc_provider):
    sso_settings.MFA_REQUIRED_FOR_STAFF = False
    oidc_provider.set_account(
        "carol",
        email="carol@corp.example",
        email_verified=True,
        groups=["helpdesk-agents", "helpdesk-supervisors", "unrelated"],
    )
    sign_in(client, oidc_provider, "carol")
    user = SocialAccount.objects.get(uid="carol").user
    assert role_names(user) == {roles.AGENTS, roles.SUPERVISORS}
    assert signed_in_user_id(client) == str(user.pk)

    # an administrator also made her an editor here: roles outside the map stay
    user.groups.add(roles_group(roles.EDITORS))
    client.logout()
    oidc_provider.set_account(
        "carol",
        email="carol@corp.example",
        email_verified=True,
        groups=["helpdesk-viewers"],
    )
    sign_in(client, oidc_provider, "carol")
    assert signed_in_user_id(client) == str(user.pk)
    assert role_names(user) == {roles.VIEWERS, roles.EDITORS}
    changes = SecurityEvent.objects.filter(
        user=user, kind=SecurityEvent.Kind.ROLE_CHANGED
    ).order_by("pk")
    assert [e.data for e in changes] == [
        {
            "method": "oidc",
            "provider": "corp",
            "added": [roles.AGENTS, roles.SUPERVISORS],
            "removed": [],
        },
        {
            "method": "oidc",
            "provider": "corp",
            "added": [roles.VIEWERS],
            "removed": [roles.AGENTS, roles.SUPERVISORS],
        },
    ]

    # the claim gone altogether: every mapped role goes
    client.logout()
    oidc_provider.set_account("carol", email="carol@corp.example", email_verified=True)
    sign_in(client, oidc_provider, "carol")
    assert role_names(user) == {roles.EDITORS}


def roles_group(name):
    from django.contrib.auth.models import Group

    return Group.objects.get(name=name)


# --- linking by email ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_verified_email_reaches_the_existing_account(
    client, sso_settings, oidc_provider, make_user, password
):
    bob = make_user("bob@corp.example", groups=[roles.CUSTOMERS])
    oidc_provider.set_account("bob-sub", email="bob@corp.example", email_verified=True)

    sign_in(client, oidc_provider, "bob-sub")

    assert signed_in_user_id(client) == str(bob.pk)
    assert SocialAccount.objects.get(uid="bob-sub").user == bob
    bob.refresh_from_db()
    assert bob.check_password(password)  # a verified address: the password stays


@pytest.mark.django_db
def test_an_unverified_email_never_reaches_the_existing_account(
    client,
    sso_settings,
    oidc_provider,
    make_user,
    password,
    django_user_model,
    mailoutbox,
):
    bob = make_user("bob@corp.example", groups=[roles.CUSTOMERS])
    oidc_provider.set_account("mallory", email="bob@corp.example", email_verified=False)

    response = sign_in(client, oidc_provider, "mallory")

    assert signed_in_user_id(client) is None
    assert not SocialAccount.objects.exists()
    assert django_user_model.objects.count() == 1
    # allauth answers as if it sent a confirmation (no account enumeration) and tells
    # the address's owner instead
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert [m.to for m in mailoutbox] == [["bob@corp.example"]]
    bob.refresh_from_db()
    assert bob.check_password(password)
    assert not EmailAddress.objects.filter(user=bob, verified=False).exists()
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.LOGIN_FAILED, user=bob)
    assert event.data == {
        "method": "oidc",
        "provider": "corp",
        "reason": "unverified_email",
    }


# --- second factor ---------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_through_sso_still_meet_our_second_factor(
    client, sso_settings, oidc_provider, agent, enable_totp
):
    enable_totp(agent)
    oidc_provider.set_account(
        "agent",
        email="agent@corp.example",
        email_verified=True,
        groups=["helpdesk-agents"],
        amr=["pwd", "otp"],  # the provider did MFA, but is not trusted to say so
    )
    response = sign_in(client, oidc_provider, "agent")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert signed_in_user_id(client) is None
    client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert signed_in_user_id(client) is None

    client.post("/accounts/2fa/authenticate/", {"code": current_totp_code()})
    assert signed_in_user_id(client) == str(agent.pk)
    event = SecurityEvent.objects.get(user=agent, kind=SecurityEvent.Kind.LOGIN)
    assert event.data == {"method": "oidc", "provider": "corp"}


@pytest.mark.django_db
def test_staff_without_a_second_factor_are_sent_to_set_one_up(
    client, sso_settings, oidc_provider, agent
):
    oidc_provider.set_account(
        "agent",
        email="agent@corp.example",
        email_verified=True,
        groups=["helpdesk-agents"],
        amr=["pwd", "otp"],
    )
    sign_in(client, oidc_provider, "agent")
    assert signed_in_user_id(client) == str(agent.pk)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/"  # the overview: TOTP or a passkey


@pytest.mark.django_db
def test_a_trusted_provider_reporting_mfa_counts_as_our_second_factor(
    client, sso_settings, oidc_provider, agent, enable_totp
):
    trust_provider_mfa(sso_settings, oidc_provider)
    enable_totp(agent)
    oidc_provider.set_account(
        "agent",
        email="agent@corp.example",
        email_verified=True,
        groups=["helpdesk-agents"],
        amr=["pwd", "otp"],
    )
    response = sign_in(client, oidc_provider, "agent")

    assert signed_in_user_id(client) == str(agent.pk)
    assert response["Location"] == "/admin/"
    event = SecurityEvent.objects.get(user=agent, kind=SecurityEvent.Kind.LOGIN)
    assert event.data == {"method": "oidc", "provider": "corp", "mfa": "provider"}
    # no TOTP of ours needed for the admin either
    agent.authenticator_set.all().delete()
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_a_trusted_provider_acr_for_multi_factor_counts(
    client, sso_settings, oidc_provider, agent, enable_totp
):
    trust_provider_mfa(sso_settings, oidc_provider)
    enable_totp(agent)
    oidc_provider.set_account(
        "agent",
        email="agent@corp.example",
        email_verified=True,
        acr="http://schemas.openid.net/pape/policies/2007/06/multi-factor",
    )
    sign_in(client, oidc_provider, "agent")
    assert signed_in_user_id(client) == str(agent.pk)


@pytest.mark.django_db
def test_a_trusted_provider_without_mfa_in_amr_still_needs_ours(
    client, sso_settings, oidc_provider, agent, enable_totp
):
    trust_provider_mfa(sso_settings, oidc_provider)
    enable_totp(agent)
    oidc_provider.set_account(
        "agent",
        email="agent@corp.example",
        email_verified=True,
        groups=["helpdesk-agents"],
        amr=["pwd"],
        acr="urn:password-only",
    )
    response = sign_in(client, oidc_provider, "agent")

    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert signed_in_user_id(client) is None
    assert sso.SESSION_KEY not in client.session


@pytest.mark.django_db
def test_provider_mfa_does_not_carry_over_to_a_password_sign_in(
    client, sso_settings, oidc_provider, agent, enable_totp, password
):
    """A trusted SSO sign-in of another person, abandoned before it ends, leaves no
    note that would skip the second factor of a later password sign-in."""
    trust_provider_mfa(sso_settings, oidc_provider)
    enable_totp(agent)
    oidc_provider.set_account(
        "agent",
        email="agent@corp.example",
        email_verified=True,
        amr=["mfa"],
    )
    sign_in(client, oidc_provider, "agent")
    assert signed_in_user_id(client) == str(agent.pk)
    client.logout()

    response = client.post(
        "/accounts/login/", {"login": "agent@corp.example", "password": password}
    )
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert signed_in_user_id(client) is None


# --- refused callbacks -----------------------------------------------------------------


def _with_query(url: str, **params) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(params)
    return f"{parts.path}?{urlencode(query)}"


@pytest.mark.django_db
def test_a_callback_with_a_bad_state_is_refused(client, sso_settings, oidc_provider):
    oidc_provider.set_account("alice", email="alice@corp.example", email_verified=True)
    url = oidc_provider.sign_in(start(client), "alice")

    response = client.get(_with_query(url, state="forged-state"))

    assert response.status_code == 401
    assert "An error occurred while attempting to login" in response.content.decode()
    assert signed_in_user_id(client) is None
    assert not SocialAccount.objects.exists()
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.LOGIN_FAILED)
    assert event.data["reason"] == "bad_state"
    assert event.data["provider"] == "corp"
    assert event.ip == "127.0.0.1"


@pytest.mark.django_db
def test_a_callback_from_another_browser_is_refused(
    client, sso_settings, oidc_provider, django_user_model
):
    """The state belongs to the session that started the sign-in: a link with a valid
    code and state, opened in another session (login CSRF), signs nobody in."""
    from django.test import Client

    oidc_provider.set_account("alice", email="alice@corp.example", email_verified=True)
    url = oidc_provider.sign_in(start(client), "alice")

    victim = Client()
    response = callback(victim, url)
    assert response.status_code == 401
    assert signed_in_user_id(victim) is None
    assert django_user_model.objects.count() == 0
    assert SecurityEvent.objects.get().data["reason"] == "bad_state"


@pytest.mark.django_db
def test_a_replayed_callback_is_refused(client, sso_settings, oidc_provider):
    oidc_provider.set_account("alice", email="alice@corp.example", email_verified=True)
    url = oidc_provider.sign_in(start(client), "alice")
    assert callback(client, url).status_code == 302
    client.logout()

    response = callback(client, url)
    assert response.status_code == 401
    assert signed_in_user_id(client) is None
    refused = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGIN_FAILED)
    assert [e.data["reason"] for e in refused] == ["bad_state"]


@pytest.mark.django_db
def test_a_callback_with_a_bad_code_is_refused(client, sso_settings, oidc_provider):
    oidc_provider.set_account("alice", email="alice@corp.example", email_verified=True)
    url = oidc_provider.sign_in(start(client), "alice")

    response = client.get(_with_query(url, code="not-a-code"))

    assert response.status_code == 401
    assert signed_in_user_id(client) is None
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.LOGIN_FAILED)
    assert event.data["reason"] == "invalid_response"


@pytest.mark.django_db
def test_a_provider_error_is_refused(client, sso_settings, oidc_provider):
    url = start(client)
    state = parse_qs(urlsplit(url).query)["state"][0]
    response = client.get(
        "/accounts/oidc/corp/login/callback/?"
        + urlencode({"error": "server_error", "state": state})
    )
    assert response.status_code == 401
    assert SecurityEvent.objects.get().data["reason"] == "unknown"


@pytest.mark.django_db
def test_an_unknown_provider_is_a_404(client, sso_settings):
    assert client.post("/accounts/oidc/nope/login/").status_code == 404
    assert client.get("/accounts/oidc/nope/login/callback/?state=x").status_code == 404


# --- sign-in page and configuration ----------------------------------------------------


@pytest.mark.django_db
def test_the_sign_in_page_shows_one_button_per_provider(
    client, settings, oidc_provider
):
    settings.SOCIALACCOUNT_PROVIDERS = providers_setting(
        oidc_provider.app("corp", "Corp SSO"), oidc_provider.app("other", "Partner ID")
    )
    page = client.get("/accounts/login/").content.decode()
    assert 'action="/accounts/oidc/corp/login/?process=login"' in page
    assert 'action="/accounts/oidc/other/login/?process=login"' in page
    assert "Sign in with Corp SSO" in page
    assert "Sign in with Partner ID" in page
    assert page.count('name="csrfmiddlewaretoken"') >= 3  # the password form too
    # the button starts the sign-in at once
    response = client.post("/accounts/oidc/other/login/?process=login")
    assert response.status_code == 302
    assert response["Location"].startswith(f"{oidc_provider.issuer}/auth?")


@pytest.mark.django_db
def test_without_providers_the_sign_in_page_has_no_sso(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = providers_setting()
    page = client.get("/accounts/login/").content.decode()
    assert "/accounts/oidc/" not in page
    assert client.post("/accounts/oidc/corp/login/").status_code == 404


def test_the_start_up_check_names_bad_provider_entries(settings):
    settings.OIDC_PROVIDERS = [
        {"id": "corp", "server_url": "https://id.example", "client_id": "a"},
        {"id": "corp", "server_url": "", "client_id": "b"},
        "nope",
    ]
    settings.OIDC_ROLE_MAP = {"admins": "Administrators"}
    ids = sorted(e.id for e in sso.check_providers())
    assert ids == ["accounts.E102", "accounts.E103", "accounts.E104", "accounts.E105"]

    settings.OIDC_PROVIDERS = [
        {"id": "corp", "server_url": "https://id.example", "client_id": "a"}
    ]
    settings.OIDC_ROLE_MAP = ROLE_MAP
    assert sso.check_providers() == []
    assert not [e for e in run_checks() if e.id.startswith("accounts.E1")]
