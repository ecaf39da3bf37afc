import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from accounts import roles
from accounts.models import ApprovalStatus, Membership, SecurityEvent, User
from accounts.permissions import can_file_tickets
from accounts.services import create_organization

PASSWORD = "a-Strong-pass-1"


def sign_up(client, email, password=PASSWORD, **extra):
    return client.post(
        "/accounts/signup/",
        {"email": email, "password1": password, "password2": password, **extra},
    )


def confirmation_link(message) -> str:
    return re.search(r"http://testserver(/accounts/confirm-email/\S+/)", message.body)[
        1
    ]


def login(client, email, password=PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password})


def session_user_id(client):
    return client.session.get("_auth_user_id")


@pytest.mark.django_db
def test_signup_sends_verification_and_confirmation_signs_in(client):
    response = sign_up(client, "new@example.com")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    user = User.objects.get(email="new@example.com")
    assert session_user_id(client) is None
    assert list(user.groups.values_list("name", flat=True)) == [roles.CUSTOMERS]
    assert user.approval_status == ApprovalStatus.APPROVED
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@example.com"]

    link = confirmation_link(mail.outbox[0])
    assert client.get(link).status_code == 200  # the confirm page
    response = client.post(link)
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified is True
    assert session_user_id(client) == str(user.pk)

    client.logout()
    response = login(client, "NEW@example.com")
    assert response.status_code == 302
    assert response["Location"] == "/portal/"
    assert session_user_id(client) == str(user.pk)


@pytest.mark.django_db
def test_unverified_user_cannot_sign_in(client, make_user, password):
    make_user("unverified@example.com", verified=False)

    response = login(client, "unverified@example.com", password)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert session_user_id(client) is None
    assert len(mail.outbox) == 1  # a fresh verification email


@pytest.mark.django_db
def test_wrong_password_is_refused_with_a_form_error(client, make_user):
    make_user("someone@example.com")
    response = login(client, "someone@example.com", "wrong-password")
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert session_user_id(client) is None


@pytest.mark.django_db
def test_locked_user_cannot_sign_in_and_is_told_why(client, make_user, password):
    user = make_user("locked@example.com")
    User.objects.filter(pk=user.pk).update(
        locked_at=timezone.now(), lock_reason="Abusive messages"
    )

    response = login(client, "locked@example.com", password)

    assert response.status_code == 403
    body = response.content.decode()
    assert "This account is locked" in body
    assert "Abusive messages" in body
    assert session_user_id(client) is None
    event = SecurityEvent.objects.get(kind="login_failed")
    assert event.user == user and event.data == {"reason": "locked"}


@pytest.mark.django_db
def test_locking_ends_an_existing_session(client, make_user):
    user = make_user("soon-locked@example.com")
    client.force_login(user)
    User.objects.filter(pk=user.pk).update(locked_at=timezone.now(), lock_reason="x")

    response = client.get("/account/profile/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert session_user_id(client) is None


@pytest.mark.django_db
@override_settings(ACCOUNT_APPROVAL_REQUIRED=True)
def test_unapproved_customer_signs_in_but_cannot_file_tickets(client):
    sign_up(client, "pending@example.com")
    client.post(confirmation_link(mail.outbox[0]))
    user = User.objects.get(email="pending@example.com")
    assert user.approval_status == ApprovalStatus.PENDING

    client.logout()
    response = login(client, "pending@example.com")

    assert response.status_code == 302
    assert session_user_id(client) == str(user.pk)
    assert can_file_tickets(user) is False
    profile = client.get("/account/profile/").content.decode()
    assert "waiting for approval" in profile


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("required", "status", "locked", "expected"),
    [
        (False, ApprovalStatus.APPROVED, False, True),
        (False, ApprovalStatus.PENDING, False, True),
        (False, ApprovalStatus.REJECTED, False, False),
        (True, ApprovalStatus.PENDING, False, False),
        (True, ApprovalStatus.APPROVED, False, True),
        (True, ApprovalStatus.APPROVED, True, False),
    ],
)
def test_can_file_tickets(settings, make_user, required, status, locked, expected):
    settings.ACCOUNT_APPROVAL_REQUIRED = required
    user = make_user(
        "c@example.com",
        approval_status=status,
        locked_at=timezone.now() if locked else None,
    )
    assert can_file_tickets(user) is expected


def test_anonymous_cannot_file_tickets():
    from django.contrib.auth.models import AnonymousUser

    assert can_file_tickets(AnonymousUser()) is False


@pytest.mark.django_db
@override_settings(
    ACCOUNT_RATE_LIMITS={"login_failed": "3/5m/ip,3/5m/key"},
)
def test_failed_logins_are_rate_limited(client, make_user, password):
    make_user("target@example.com")
    for _ in range(3):
        response = login(client, "target@example.com", "wrong-password")
        assert "not correct" in response.content.decode()

    response = login(client, "target@example.com", password)  # even the right one

    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert session_user_id(client) is None


@pytest.mark.django_db
def test_organization_joined_by_domain_only_after_verification(client):
    acme = create_organization(name="Acme", email_domains=["acme.example"])
    create_organization(name="Other", email_domains=["other.example"])

    sign_up(client, "dora@acme.example")
    user = User.objects.get(email="dora@acme.example")
    assert Membership.objects.filter(user=user).count() == 0
    assert not user.groups.filter(pk=acme.group_id).exists()

    client.post(confirmation_link(mail.outbox[0]))

    membership = Membership.objects.get(user=user)
    assert membership.organization == acme
    assert membership.role == Membership.Role.MEMBER
    assert user.groups.filter(pk=acme.group_id).exists()


@pytest.mark.django_db
def test_signup_for_a_lookalike_domain_joins_nothing(client):
    create_organization(name="Acme", email_domains=["acme.example"])
    sign_up(client, "eve@notacme.example")
    client.post(confirmation_link(mail.outbox[0]))
    assert Membership.objects.count() == 0


@pytest.mark.django_db
def test_password_reset_flow(client, make_user):
    user = make_user("forgetful@example.com")
    response = client.post(
        "/accounts/password/reset/", {"email": "forgetful@example.com"}
    )
    assert response.status_code == 302
    link = re.search(
        r"http://testserver(/accounts/password/reset/key/\S+/)", mail.outbox[0].body
    )[1]
    response = client.get(link)
    assert response.status_code == 302  # allauth moves the key into the session
    response = client.post(
        response["Location"],
        {"password1": "another-Strong-2", "password2": "another-Strong-2"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("another-Strong-2")
    assert SecurityEvent.objects.filter(kind="password_reset", user=user).count() == 1


@pytest.mark.django_db
def test_new_signups_do_not_become_staff(client):
    sign_up(client, "plain@example.com")
    user = User.objects.get(email="plain@example.com")
    assert user.is_staff is False and user.is_superuser is False
    assert Group.objects.get(name=roles.CUSTOMERS).user_set.filter(pk=user.pk).exists()
