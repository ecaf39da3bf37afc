"""``accounts.directory``: the one rule for "this account's password lives in LDAP"."""

import pytest
from django.contrib.auth import get_user_model

from accounts.directory import is_directory_account


@pytest.fixture
def users(db):
    User = get_user_model()
    without = User.objects.create_user(email="dir@example.com")
    without.set_unusable_password()
    without.save()
    local = User.objects.create_user(email="loc@example.com", password="local-Pass-123")
    return without, local


def test_without_ldap_no_account_is_a_directory_account(settings, users):
    settings.AUTH_LDAP_SERVER_URI = ""
    without, local = users
    assert (is_directory_account(without), is_directory_account(local)) == (
        False,
        False,
    )


def test_with_ldap_only_accounts_without_a_local_password_are(settings, users):
    settings.AUTH_LDAP_SERVER_URI = "ldap://127.0.0.1:1"
    without, local = users
    assert (is_directory_account(without), is_directory_account(local)) == (
        True,
        False,
    )
