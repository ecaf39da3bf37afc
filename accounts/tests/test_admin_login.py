"""A signed-in user who may not open an admin meets a 403 page, not a redirect loop
(allauth sends signed-in users back to ``next``; the admins send them to login)."""

import pytest

from accounts import roles


def follow(client, url, hops=6):
    """The statuses and URLs met following redirects from ``url``."""
    seen = []
    for _ in range(hops):
        response = client.get(url)
        seen.append((response.status_code, url))
        if response.status_code != 302:
            return seen, response
        url = response["Location"]
    return seen, response


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/admin/", "/admin/helpdesk/tickets/", "/django-admin/"]
)
def test_customer_opening_an_admin_gets_a_403_page(client, make_user, url):
    customer = make_user("c@example.com", groups=[roles.CUSTOMERS])
    client.force_login(customer)

    seen, response = follow(client, url)

    assert response.status_code == 403
    assert len(seen) == 2  # the admin, then its login view refusing
    body = response.content.decode()
    assert "You are signed in as c@example.com" in body
    assert 'href="/portal/"' in body
    assert 'action="/accounts/logout/"' in body


@pytest.mark.django_db
def test_staff_without_wagtail_access_is_refused_wagtail_but_opens_django_admin(
    client, make_user
):
    staff = make_user("s@example.com", is_staff=True)
    client.force_login(staff)

    assert client.get("/admin/login/?next=/admin/").status_code == 403
    response = client.get("/django-admin/login/?next=/django-admin/")
    assert response.status_code == 302
    assert response["Location"] == "/django-admin/"


@pytest.mark.django_db
def test_signed_in_agent_at_admin_login_goes_to_next(client, make_user):
    agent = make_user("a@example.com", groups=[roles.AGENTS], is_staff=True)
    client.force_login(agent)

    response = client.get("/admin/login/?next=/admin/helpdesk/tickets/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/helpdesk/tickets/"
    assert client.get("/admin/helpdesk/tickets/").status_code == 200


@pytest.mark.django_db
def test_visitor_opening_the_admin_still_reaches_allauth_login(client):
    seen, response = follow(client, "/admin/pages/")

    assert [url for _, url in seen] == [
        "/admin/pages/",
        "/admin/login/?next=/admin/pages/",
        "/accounts/login/?next=%2Fadmin%2Fpages%2F",
    ]
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("groups", "is_staff", "landing"),
    [
        ([roles.AGENTS], True, "/admin/"),
        ([roles.VIEWERS], True, "/admin/"),
        ([roles.CUSTOMERS], False, "/portal/"),
    ],
)
def test_sign_in_lands_staff_in_the_admin_and_customers_in_the_portal(
    client, make_user, password, groups, is_staff, landing
):
    make_user("u@example.com", groups=groups, is_staff=is_staff)

    response = client.post(
        "/accounts/login/", {"login": "u@example.com", "password": password}
    )

    assert response.status_code == 302
    assert response["Location"] == landing


@pytest.mark.django_db
def test_sign_in_with_next_still_goes_to_next_for_staff(client, make_user, password):
    make_user("a@example.com", groups=[roles.AGENTS], is_staff=True)

    response = client.post(
        "/accounts/login/?next=/portal/tickets/",
        {"login": "a@example.com", "password": password},
    )

    assert response["Location"] == "/portal/tickets/"
