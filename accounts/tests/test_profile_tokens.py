from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import ApiToken, SecurityEvent
from accounts.services import create_organization, setup_member
from accounts.tokens import authenticate_bearer, create_token


@pytest.fixture
def user(make_user):
    return make_user("me@example.com", display_name="Me")


@pytest.mark.django_db
def test_profile_lists_tokens_and_organizations_in_few_queries(
    client, user, django_assert_max_num_queries
):
    for i in range(5):
        create_token(user, name=f"t{i}", scopes="read")
        setup_member(create_organization(name=f"Org {i}"), user)
    client.force_login(user)
    with django_assert_max_num_queries(12):
        response = client.get("/account/profile/")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('data-label="Prefix"') == 5
    assert "Org 4" in body
    assert "/accounts/2fa/" in body


@pytest.mark.django_db
def test_profile_requires_sign_in(client):
    response = client.get("/account/profile/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/account/profile/"


@pytest.mark.django_db
def test_profile_update(client, user):
    client.force_login(user)
    response = client.post(
        "/account/profile/",
        {
            "display_name": "New Name",
            "locale": "pl",
            "time_zone": "Europe/Warsaw",
            "notify_on_reply": "on",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.display_name, user.locale, user.time_zone) == (
        "New Name",
        "pl",
        "Europe/Warsaw",
    )
    assert (user.notify_on_reply, user.notify_on_status) == (True, False)


@pytest.mark.django_db
def test_profile_rejects_a_bad_time_zone_and_changes_nothing(client, user):
    client.force_login(user)
    response = client.post(
        "/account/profile/",
        {"display_name": "X", "locale": "en", "time_zone": "Mars/Olympus"},
    )
    assert response.status_code == 400
    user.refresh_from_db()
    assert (user.display_name, user.time_zone) == ("Me", "")


@pytest.mark.django_db
def test_token_created_on_the_profile_shows_the_secret_once_and_stores_a_hash(
    client, user
):
    client.force_login(user)
    response = client.post(
        "/account/tokens/",
        {"name": "CI", "scopes": ["read", "write"], "expires_days": "30"},
        HTTP_USER_AGENT="pytest-browser",
    )

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    secret = response.context["secret"]
    assert secret in response.content.decode()
    token = ApiToken.objects.get()
    assert token.scopes == ["read", "write"] and token.expires_at is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        assert secret.split(".", 1)[1] not in repr(cursor.fetchall())
    assert secret not in client.get("/account/profile/").content.decode()
    assert authenticate_bearer(secret).pk == token.pk
    event = SecurityEvent.objects.get(kind="token_created")
    assert (event.user, event.ip, event.user_agent) == (
        user,
        "127.0.0.1",
        "pytest-browser",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "scopes": ["read"]},
        {"name": "x", "scopes": []},
        {"name": "x", "scopes": ["admin"]},
        {"name": "x", "scopes": ["read"], "expires_days": "0"},
    ],
)
def test_bad_token_requests_are_form_errors(client, user, data):
    client.force_login(user)
    response = client.post("/account/tokens/", data)
    assert response.status_code == 400
    assert ApiToken.objects.count() == 0


@pytest.mark.django_db
def test_revoke_own_token_but_not_someone_elses(client, user, make_user):
    mine = create_token(user, name="mine", scopes="read")
    other = make_user("other@example.com")
    theirs = create_token(other, name="theirs", scopes="read")
    client.force_login(user)

    assert client.post(f"/account/tokens/{theirs.token.pk}/revoke/").status_code == 404
    assert authenticate_bearer(theirs.secret) is not None

    response = client.post(f"/account/tokens/{mine.token.pk}/revoke/")
    assert response.status_code == 302
    assert authenticate_bearer(mine.secret) is None
    assert SecurityEvent.objects.filter(kind="token_revoked", user=user).count() == 1


@pytest.mark.django_db
def test_locked_owners_tokens_are_refused(user):
    from django.utils import timezone

    new = create_token(user, name="CI", scopes="read")
    user.locked_at = timezone.now()
    user.save()
    assert authenticate_bearer(new.secret) is None


@pytest.mark.django_db
def test_create_api_token_command_prints_the_secret_last(user):
    out = StringIO()
    call_command(
        "create_api_token",
        "ME@example.com",
        "--scopes",
        "read,write",
        "--name",
        "deploy",
        "--expires-days",
        "7",
        stdout=out,
    )
    secret = out.getvalue().strip().splitlines()[-1]
    token = authenticate_bearer(secret)
    assert token.owner == user
    assert (token.name, token.scopes) == ("deploy", ["read", "write"])
    assert token.expires_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody@example.com", "--scopes", "read"], "No user with the email"),
        (["me@example.com", "--scopes", "read,admin"], "Scopes must be among"),
        (["me@example.com", "--expires-days", "-1"], "positive number of days"),
    ],
)
def test_create_api_token_command_errors(user, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_api_token", *args, stdout=StringIO())
    assert ApiToken.objects.count() == 0
