import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError

from accounts.roles import ALL_ROLES


def test_custom_user_model_is_active():
    User = get_user_model()
    assert User._meta.label == "accounts.User"
    assert User.USERNAME_FIELD == "email"
    assert not hasattr(User, "username") or User.username is None


@pytest.mark.django_db
def test_email_is_the_login_and_normalised():
    User = get_user_model()
    user = User.objects.create_user("Alice@Example.COM", password="s3cret-pass-word")
    assert user.email == "alice@example.com"
    assert authenticate(email="alice@example.com", password="s3cret-pass-word") == user
    assert authenticate(email="alice@example.com", password="wrong") is None


@pytest.mark.django_db
def test_email_is_unique():
    User = get_user_model()
    User.objects.create_user("bob@example.com", password="x")
    with pytest.raises(IntegrityError):
        User.objects.create_user("bob@example.com", password="y")


@pytest.mark.django_db
def test_display_name_falls_back_to_email():
    User = get_user_model()
    user = User.objects.create_user("carol@example.com", password="x")
    assert user.get_display_name() == "carol@example.com"
    user.display_name = "Carol C."
    assert str(user) == "Carol C."


@pytest.mark.django_db
def test_role_groups_exist_after_migrate():
    assert sorted(
        Group.objects.filter(name__in=ALL_ROLES).values_list("name", flat=True)
    ) == sorted(ALL_ROLES)
