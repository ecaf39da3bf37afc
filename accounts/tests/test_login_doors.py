"""Wagtail's own doors to an account lead to allauth's: its front-end password login
(``/_util/login/``), its admin password reset (``/admin/password_reset/``) and the
email and password forms of its account page. None of them signs anyone in, sends
mail or changes a credential any more."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import override_settings
from wagtail.models import PageViewRestriction, Site

from accounts import roles
from accounts.models import User

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-Strong-pass-1"  # noqa: S105


@pytest.fixture
def supervisor(make_user, enable_totp):
    user = make_user(
        "supervisor@example.com", groups=[roles.SUPERVISORS], is_staff=True
    )
    enable_totp(user)
    return user


# --- /_util/login/ ----------------------------------------------------------------------


def test_a_totp_users_password_at_util_login_opens_no_session(
    client, supervisor, password
):
    response = client.post(
        "/_util/login/",
        {"username": supervisor.email, "password": password, "next": "/admin/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"
    assert SESSION_KEY not in client.session
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


def test_an_unverified_sign_up_gets_no_session_through_util_login(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "new@example.com",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert response["Location"] == "/accounts/confirm-email/"
    assert SESSION_KEY not in client.session
    assert not EmailAddress.objects.get(email="new@example.com").verified

    response = client.post(
        "/_util/login/", {"username": "new@example.com", "password": NEW_PASSWORD}
    )

    assert response["Location"] == "/accounts/login/?next=%2F"
    assert SESSION_KEY not in client.session
    assert client.get("/portal/tickets/new/")["Location"].startswith("/accounts/login/")


def test_util_login_sends_a_signed_in_user_on_and_refuses_foreign_next(
    client, make_user
):
    client.force_login(make_user("c@example.com", groups=[roles.CUSTOMERS]))
    assert client.get("/_util/login/?next=/portal/")["Location"] == "/portal/"
    assert client.get("/_util/login/?next=https://evil.example/")["Location"] == "/"


def test_a_page_that_requires_a_login_sends_readers_to_allauth(client):
    page = Site.objects.get(is_default_site=True).root_page
    PageViewRestriction.objects.create(
        page=page, restriction_type=PageViewRestriction.LOGIN
    )

    response = client.get(page.url)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={page.url}"


# --- /admin/password_reset/ -------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/admin/password_reset/",
        "/admin/password_reset/done/",
        "/admin/password_reset/confirm/MQ/set-password/",
        "/admin/password_reset/complete/",
    ],
)
def test_wagtails_password_reset_leads_to_allauths_and_sends_nothing(
    client, make_user, path
):
    make_user("target@example.com")

    response = client.post(path, {"email": "target@example.com"})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/"
    assert mail.outbox == []


def test_reset_requests_stop_at_the_limit_whichever_door_they_knock_on(
    client, make_user
):
    """With the production limit (5 an hour per address), allauth sends five emails,
    refuses the sixth, and Wagtail's old reset page sends none of its own."""
    from portal.settings import base

    make_user("target@example.com")
    with override_settings(ACCOUNT_RATE_LIMITS=base.ACCOUNT_RATE_LIMITS):
        limit = int(base.ACCOUNT_RATE_LIMITS["reset_password"].split("/")[0])
        for _ in range(limit):
            response = client.post(
                "/accounts/password/reset/", {"email": "target@example.com"}
            )
            assert response.status_code == 302
        for _ in range(3):
            client.post("/admin/password_reset/", {"email": "target@example.com"})

        refused = client.post(
            "/accounts/password/reset/", {"email": "target@example.com"}
        )

    assert refused.status_code == 429
    assert len(mail.outbox) == limit


# --- the Wagtail account page -----------------------------------------------------------


def test_wagtails_account_page_changes_neither_email_nor_password(
    client, make_user, password
):
    agent = make_user(
        "agent@example.com", groups=[roles.AGENTS], is_staff=True, first_name="A"
    )
    client.force_login(agent)

    page = client.get("/admin/account/").content.decode()
    response = client.post(
        "/admin/account/",
        {
            "name_email-first_name": "Ada",
            "name_email-last_name": "Agent",
            "name_email-email": "someone.else@example.com",
            "password-old_password": password,
            "password-new_password1": NEW_PASSWORD,
            "password-new_password2": NEW_PASSWORD,
            "theme-theme": "system",
            "theme-contrast": "system",
            "theme-density": "default",
        },
    )

    assert response.status_code == 302
    agent = User.objects.get(pk=agent.pk)
    assert agent.first_name == "Ada"  # the rest of the page still works
    assert agent.email == "agent@example.com"
    assert agent.check_password(password)
    assert 'href="/accounts/password/change/"' in page
    assert 'href="/accounts/email/"' in page
    assert 'href="/accounts/2fa/"' in page
