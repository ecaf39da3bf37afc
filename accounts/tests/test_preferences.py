"""The profile's language and time zone apply to the signed-in user's pages."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from accounts.models import ApiToken
from accounts.tokens import create_token

LAST_USED = datetime(2026, 1, 15, 23, 30, tzinfo=UTC)  # 00:30 next day in Warsaw


def profile_page(client, user):
    token = create_token(user, name="ci", scopes="read").token
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=LAST_USED)
    client.force_login(user)
    response = client.get("/account/profile/")
    assert response.status_code == 200
    return response


@pytest.mark.django_db
def test_polish_user_gets_polish_pages_in_their_time_zone(client, make_user):
    user = make_user("ola@example.pl", locale="pl", time_zone="Europe/Warsaw")

    response = profile_page(client, user)

    body = response.content.decode()
    assert '<html lang="pl"' in body
    assert response["Content-Language"] == "pl"
    # SHORT_DATETIME_FORMAT (portal/formats/pl), Warsaw time
    assert "16.01.2026 00:30" in body
    # nothing leaks into the next request served by this thread
    assert timezone.get_current_timezone_name() == "UTC"
    client.logout()
    assert '<html lang="en"' in client.get("/accounts/login/").content.decode()


@pytest.mark.django_db
def test_without_preferences_the_site_defaults_apply(client, make_user):
    response = profile_page(client, make_user("me@example.com"))
    body = response.content.decode()
    assert '<html lang="en"' in body
    assert "2026-01-15 23:30" in body  # SHORT_DATETIME_FORMAT (portal/formats/en)


@pytest.mark.django_db
def test_an_unknown_stored_time_zone_is_ignored(client, make_user):
    """The form refuses one, but the admin or an old row may still hold it."""
    user = make_user("me@example.com", locale="pl", time_zone="Mars/Olympus")
    body = profile_page(client, user).content.decode()
    assert '<html lang="pl"' in body
    assert "15.01.2026 23:30" in body  # UTC, the site's zone


@pytest.mark.django_db
def test_browser_language_applies_when_the_profile_has_none(client, make_user):
    client.force_login(make_user("me@example.com"))
    response = client.get("/account/profile/", headers={"Accept-Language": "pl"})
    assert '<html lang="pl"' in response.content.decode()
    # ... and the profile's choice wins over the browser's
    user = make_user("en@example.com", locale="en")
    client.force_login(user)
    response = client.get("/account/profile/", headers={"Accept-Language": "pl"})
    assert '<html lang="en"' in response.content.decode()


@pytest.mark.django_db
def test_profile_form_refuses_an_unknown_time_zone(client, make_user):
    user = make_user("me@example.com", display_name="Me")
    client.force_login(user)
    response = client.post(
        "/account/profile/",
        {"display_name": "X", "locale": "en", "time_zone": "Europe/Atlantis"},
    )
    assert response.status_code == 400
    assert "Unknown time zone." in response.content.decode()
    user.refresh_from_db()
    assert (user.display_name, user.time_zone) == ("Me", "")
