"""Passkeys (allauth's WebAuthn) on the server side: where they are offered, that one
counts as the staff's second factor, and that forged or garbled credentials are
refused with a message and change nothing. The ceremonies themselves run in
Chromium: tests/browser/test_passkeys.py."""

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from accounts import roles
from accounts.models import SecurityEvent

FORGED = '{"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {}}'


def session_user_id(client):
    return client.session.get("_auth_user_id")


def add_passkey_row(user):
    """An authenticator row as allauth stores it: the middleware only asks whether
    one exists, so its (fake) key material is never parsed here."""
    return Authenticator.objects.create(
        user=user,
        type=Authenticator.Type.WEBAUTHN,
        data={"name": "Phone", "credential": {}, "passwordless": True},
    )


@pytest.fixture
def agent(make_user):
    from django.contrib.auth.models import Permission

    user = make_user("agent@example.com", groups=[roles.AGENTS], is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    return user


def test_passkeys_are_a_supported_second_factor_and_sign_in(settings):
    assert settings.MFA_SUPPORTED_TYPES == ["totp", "webauthn", "recovery_codes"]
    assert settings.MFA_PASSKEY_LOGIN_ENABLED is True
    assert settings.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN is False
    assert reverse("mfa_add_webauthn") == "/accounts/2fa/webauthn/add/"
    assert reverse("mfa_login_webauthn") == "/accounts/2fa/webauthn/login/"


@pytest.mark.django_db
def test_a_passkey_counts_as_the_staff_second_factor(client, agent, settings):
    settings.MFA_REQUIRED_FOR_STAFF = True
    client.force_login(agent)
    assert client.get("/admin/")["Location"] == "/accounts/2fa/"

    add_passkey_row(agent)

    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_staff_sent_to_set_up_a_factor_are_offered_passkeys(client, agent, settings):
    settings.MFA_REQUIRED_FOR_STAFF = True
    client.force_login(agent)
    page = client.get("/accounts/2fa/", follow=True).content.decode()
    assert 'href="/accounts/2fa/webauthn/add/"' in page
    assert 'href="/accounts/2fa/totp/activate/"' in page


@pytest.mark.django_db
@pytest.mark.parametrize("groups", [[roles.CUSTOMERS], [roles.AGENTS]])
def test_the_profile_links_to_passkeys(client, make_user, groups):
    user = make_user("someone@example.com", groups=groups)
    client.force_login(user)
    page = client.get("/account/profile/").content.decode()
    assert 'href="/accounts/2fa/webauthn/"' in page

    listing = client.get("/accounts/2fa/webauthn/").content.decode()
    assert "You have not added a passkey yet." in listing
    assert 'href="/accounts/2fa/webauthn/add/"' in listing


@pytest.mark.django_db
def test_the_second_step_offers_a_passkey_only_to_users_who_have_one(
    client, make_user, password, enable_totp
):
    user = make_user("totp@example.com")
    enable_totp(user)
    client.post("/accounts/login/", {"login": user.email, "password": password})

    page = client.get("/accounts/2fa/authenticate/").content.decode()

    assert 'name="code"' in page
    assert "Use a passkey or security key" not in page
    assert "webauthn.js" not in page


@pytest.mark.django_db
def test_a_forged_passkey_answer_does_not_complete_the_second_step(
    client, make_user, password, enable_totp
):
    user = make_user("totp@example.com")
    enable_totp(user)
    client.post("/accounts/login/", {"login": user.email, "password": password})

    response = client.post("/accounts/2fa/authenticate/", {"credential": FORGED})

    assert response.status_code == 200
    assert session_user_id(client) is None
    assert not SecurityEvent.objects.filter(user=user, kind="login").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("credential", [FORGED, "not json", ""])
def test_a_forged_passkey_does_not_sign_in(client, make_user, credential):
    make_user("someone@example.com")
    client.get("/accounts/login/")

    response = client.post("/accounts/2fa/webauthn/login/", {"credential": credential})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert session_user_id(client) is None
    assert not SecurityEvent.objects.filter(kind="login").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("credential", [FORGED, "not json", ""])
def test_a_garbled_registration_adds_no_passkey(
    client, make_user, password, credential
):
    user = make_user("someone@example.com")
    client.post("/accounts/login/", {"login": user.email, "password": password})
    client.post("/accounts/reauthenticate/", {"password": password})
    assert client.get("/accounts/2fa/webauthn/add/").status_code == 200

    response = client.post(
        "/accounts/2fa/webauthn/add/", {"name": "Mine", "credential": credential}
    )

    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert not Authenticator.objects.filter(user=user).exists()
    assert not SecurityEvent.objects.filter(user=user, kind="mfa_enabled").exists()


@pytest.mark.django_db
def test_passkey_pages_need_a_signed_in_user(client):
    for path in ["/accounts/2fa/webauthn/", "/accounts/2fa/webauthn/add/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/"), path


@pytest.mark.django_db
def test_another_users_passkey_cannot_be_removed(client, make_user, password):
    owner = make_user("owner@example.com")
    passkey = add_passkey_row(owner)
    other = make_user("other@example.com")
    client.post("/accounts/login/", {"login": other.email, "password": password})
    client.post("/accounts/reauthenticate/", {"password": password})

    response = client.post(f"/accounts/2fa/webauthn/keys/{passkey.pk}/remove/")

    assert response.status_code == 404
    assert Authenticator.objects.filter(pk=passkey.pk).exists()
    assert not SecurityEvent.objects.filter(kind="mfa_disabled").exists()
