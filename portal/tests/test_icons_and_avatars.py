"""The site's own favicon (no 404 on every page) and no avatar requests to gravatar."""

import re
from urllib.parse import unquote

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
    assert "default-user-avatar" not in html
    assert 'src="data:image/svg+xml,' in html


def _svg(url):
    assert url.startswith("data:image/svg+xml,")
    return unquote(url.removeprefix("data:image/svg+xml,"))


def test_admin_avatar_shows_the_users_initials(django_user_model):
    ada = django_user_model.objects.create_user(
        email="ada@example.com", first_name="ada", last_name="Lovelace"
    )
    svg = _svg(avatar_url(ada, size=25))
    assert '<svg xmlns="http://www.w3.org/2000/svg" width="25" height="25"' in svg
    assert re.search(r'<text [^>]*fill="#fff"[^>]*>AL</text>', svg)
    # the colour is the user's own, the same on every page
    assert avatar_url(ada, size=25) == avatar_url(ada, size=25)


def test_admin_avatar_without_a_name_uses_the_email_and_escapes_markup(
    django_user_model,
):
    nameless = django_user_model.objects.create_user(email="zed@example.com")
    assert ">Z</text>" in _svg(avatar_url(nameless))
    odd = django_user_model.objects.create_user(
        email="odd@example.com", first_name="<b", last_name="&c"
    )
    svg = _svg(avatar_url(odd))
    assert ">&lt;&amp;</text>" in svg
    assert "<b" not in svg


def test_an_uploaded_avatar_still_wins(django_user_model):
    from wagtail.users.models import UserProfile

    ada = django_user_model.objects.create_user(email="ada@example.com")
    profile = UserProfile.get_for_user(ada)
    profile.avatar.name = "avatar_images/ada.png"
    profile.save()
    ada.refresh_from_db()
    assert avatar_url(ada) == "/media/avatar_images/ada.png"


def test_an_absent_user_gets_wagtails_default_avatar_not_an_error():
    """A page revision whose author was deleted renders the history page (the hook used
    to fail on ``None.pk``, a 500 on /admin/pages/<id>/history/)."""
    from portal.avatars import avatar_url as hook

    assert hook(None, 50) is None
    assert "/default-user-avatar.png" in avatar_url(None)
