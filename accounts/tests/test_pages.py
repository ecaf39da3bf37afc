"""allauth's pages wear the site's layout; Wagtail's user admin works with email login."""

import pytest

from accounts.models import User


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"],
)
def test_allauth_pages_use_the_site_layout(client, path):
    response = client.get(path)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="site-header"' in body
    assert 'class="allauth-page"' in body
    assert 'class="field' in body
    assert 'class="button' in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/accounts/2fa/", "/accounts/password/change/", "/accounts/email/"]
)
def test_signed_in_allauth_pages_use_the_site_layout(client, make_user, path):
    client.force_login(make_user("me@example.com"))
    response = client.get(path)
    assert response.status_code == 200
    assert 'class="site-header"' in response.content.decode()


@pytest.fixture
def superuser(make_user):
    return make_user("root@example.com", is_staff=True, is_superuser=True)


@pytest.mark.django_db
def test_wagtail_user_list_edit_and_create(
    client, superuser, make_user, django_assert_max_num_queries
):
    for i in range(5):
        make_user(f"u{i}@example.com")
    client.force_login(superuser)
    with django_assert_max_num_queries(40):
        response = client.get("/admin/users/")
    assert response.status_code == 200
    assert "u4@example.com" in response.content.decode()

    target = User.objects.get(email="u1@example.com")
    assert client.get("/admin/users/new/").status_code == 200
    response = client.get(f"/admin/users/edit/{target.pk}/")
    assert response.status_code == 200
    assert 'name="display_name"' in response.content.decode()

    response = client.post(
        "/admin/users/new/",
        {
            "email": "made@example.com",
            "display_name": "Made In Wagtail",
            "password1": "wagtail-Made-pass-1",
            "password2": "wagtail-Made-pass-1",
        },
    )
    assert response.status_code == 302
    made = User.objects.get(email="made@example.com")
    assert made.display_name == "Made In Wagtail"
    assert made.check_password("wagtail-Made-pass-1")

    response = client.post(
        f"/admin/users/edit/{target.pk}/",
        {"email": "u1@example.com", "display_name": "Renamed", "is_active": "on"},
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.display_name == "Renamed"
