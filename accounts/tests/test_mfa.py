"""MFA for staff, and the admin logins that must not let a password alone in."""

import pytest
from allauth.mfa.models import Authenticator

from accounts import roles
from accounts.models import SecurityEvent

from .conftest import current_totp_code


def session_user_id(client):
    return client.session.get("_auth_user_id")


@pytest.fixture
def agent(make_user):
    from django.contrib.auth.models import Permission

    user = make_user("agent@example.com", groups=[roles.AGENTS], is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    return user


@pytest.mark.django_db
def test_staff_without_mfa_are_sent_to_set_it_up(client, agent, settings):
    settings.MFA_REQUIRED_FOR_STAFF = True
    client.force_login(agent)

    for path in ["/admin/", "/admin/pages/", "/django-admin/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == "/accounts/2fa/"

    assert client.get("/account/profile/").status_code == 200  # the site still works
    client.post("/admin/logout/")
    assert session_user_id(client) is None  # and they can sign out


@pytest.mark.django_db
def test_staff_reach_the_admin_when_mfa_is_not_required(client, agent, settings):
    settings.MFA_REQUIRED_FOR_STAFF = False
    client.force_login(agent)
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_staff_with_mfa_reach_the_admin(client, agent, settings, enable_totp):
    settings.MFA_REQUIRED_FOR_STAFF = True
    enable_totp(agent)
    client.force_login(agent)
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_customers_are_not_asked_for_mfa(client, make_user, settings):
    settings.MFA_REQUIRED_FOR_STAFF = True
    customer = make_user("c@example.com", groups=[roles.CUSTOMERS])
    client.force_login(customer)
    response = client.get("/admin/")
    assert response["Location"] != "/accounts/2fa/"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("login_url", "next_url"),
    [("/admin/login/", "/admin/"), ("/django-admin/login/", "/django-admin/")],
)
def test_admin_login_views_cannot_sign_in_a_totp_user(
    client, make_user, password, enable_totp, login_url, next_url
):
    admin = make_user("boss@example.com", is_staff=True, is_superuser=True)
    enable_totp(admin)

    response = client.post(
        login_url,
        {"username": "boss@example.com", "password": password, "next": next_url},
    )

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert session_user_id(client) is None
    response = client.get(next_url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/") or response[
        "Location"
    ].startswith(login_url)
    assert session_user_id(client) is None


@pytest.mark.django_db
def test_admin_login_redirect_keeps_next_and_refuses_foreign_next(client):
    response = client.get("/admin/login/?next=/admin/pages/")
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2Fpages%2F"
    response = client.get("/django-admin/login/?next=https://evil.example/")
    assert response["Location"] == "/accounts/login/?next=%2Fdjango-admin%2F"


@pytest.mark.django_db
def test_password_alone_does_not_sign_in_a_totp_user(
    client, make_user, password, enable_totp
):
    admin = make_user("boss@example.com", is_staff=True, is_superuser=True)
    secret = enable_totp(admin)

    response = client.post(
        "/accounts/login/?next=/admin/",
        {"login": "boss@example.com", "password": password},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert session_user_id(client) is None
    assert client.get("/admin/")["Location"].startswith("/admin/login/?next=")

    response = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert session_user_id(client) is None
    assert SecurityEvent.objects.filter(
        kind="login_failed", user=admin, data={"stage": "mfa"}
    ).exists()

    response = client.post(
        "/accounts/2fa/authenticate/", {"code": current_totp_code(secret)}
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert session_user_id(client) == str(admin.pk)
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_activating_totp_is_audited(
    client, make_user, password, django_capture_on_commit_callbacks
):
    user = make_user("careful@example.com")
    client.post(
        "/accounts/login/", {"login": "careful@example.com", "password": password}
    )
    client.post("/accounts/reauthenticate/", {"password": password})
    response = client.get("/accounts/2fa/totp/activate/")
    assert response.status_code == 200
    secret = client.session["mfa.totp.secret"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/2fa/totp/activate/", {"code": current_totp_code(secret)}
        )

    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user, type="totp").exists()
    added = SecurityEvent.objects.filter(user=user, kind="mfa_enabled")
    assert sorted(e.data["type"] for e in added) == ["recovery_codes", "totp"]
    assert all(e.ip == "127.0.0.1" for e in added)
