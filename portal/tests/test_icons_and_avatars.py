"""The site's own favicon (no 404 on every page) and no avatar requests to gravatar."""

import re

import pytest
from django.contrib.staticfiles import finders
from wagtail.admin.templatetags.wagtailadmin_tags import avatar_url
from wagtail.users.utils import get_gravatar_url

pytestmark = pytest.mark.django_db


def test_favicon_ico_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response["Cache-Control"] == "public, max-age=86400"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # ICO header
    assert client.post("/favicon.ico").status_code == 405


def test_pages_link_an_icon_that_exists(client):
    html = client.get("/accounts/login/").content.decode()
    link = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html)
    assert link, "no <link rel=icon>"
    assert link.group(1).startswith("/static/img/favicon")
    assert finders.find("img/favicon.svg")


def test_admin_never_asks_gravatar_for_avatars(client, django_user_model):
    admin = django_user_model.objects.create_superuser(
        email="ada@example.com", password="x-very-long-password"
    )
    assert get_gravatar_url(admin.email) is None
    assert "gravatar" not in avatar_url(admin)
    client.force_login(admin)
    html = client.get("/admin/").content.decode()
    assert "gravatar" not in html
    assert "default-user-avatar" in html
