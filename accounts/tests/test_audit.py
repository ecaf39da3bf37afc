import pytest
from django.test import override_settings

from accounts.events import client_ip
from accounts.models import SecurityEvent

UA = "Mozilla/5.0 (pytest)"


def events(**filters):
    return list(
        SecurityEvent.objects.filter(**filters)
        .order_by("pk")
        .values_list("kind", "ip", "user_agent")
    )


@pytest.mark.django_db
def test_login_logout_and_failure_are_recorded_with_ip_and_user_agent(
    client, make_user, password
):
    user = make_user("audited@example.com")
    client.post(
        "/accounts/login/",
        {"login": "audited@example.com", "password": "nope-nope-nope"},
        HTTP_USER_AGENT=UA,
        REMOTE_ADDR="203.0.113.7",
    )
    client.post(
        "/accounts/login/",
        {"login": "audited@example.com", "password": password},
        HTTP_USER_AGENT=UA,
        REMOTE_ADDR="203.0.113.7",
    )
    client.post("/accounts/logout/", HTTP_USER_AGENT=UA, REMOTE_ADDR="203.0.113.7")

    assert events(user=user) == [
        ("login_failed", "203.0.113.7", UA),
        ("login", "203.0.113.7", UA),
        ("logout", "203.0.113.7", UA),
    ]
    assert SecurityEvent.objects.get(kind="login_failed").data == {
        "login": "audited@example.com"
    }


@pytest.mark.django_db
def test_failed_login_for_an_unknown_address_has_no_user(client):
    client.post(
        "/accounts/login/",
        {"login": "ghost@example.com", "password": "whatever-123"},
        HTTP_USER_AGENT=UA,
    )
    event = SecurityEvent.objects.get()
    assert (event.kind, event.user, event.data) == (
        "login_failed",
        None,
        {"login": "ghost@example.com"},
    )


@pytest.mark.django_db
def test_password_change_is_recorded(client, make_user, password):
    user = make_user("changer@example.com")
    client.post(
        "/accounts/login/", {"login": "changer@example.com", "password": password}
    )
    response = client.post(
        "/accounts/password/change/",
        {
            "oldpassword": password,
            "password1": "brand-New-pass-9",
            "password2": "brand-New-pass-9",
        },
        HTTP_USER_AGENT=UA,
    )
    assert response.status_code == 302
    assert events(user=user, kind="password_changed") == [
        ("password_changed", "127.0.0.1", UA)
    ]


@pytest.mark.django_db
def test_forwarded_for_is_ignored_unless_proxies_are_configured(rf, settings):
    request = rf.get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 9.9.9.9"
    )
    settings.ACCOUNTS_TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.1"
    settings.ACCOUNTS_TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "9.9.9.9"
    bad = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="not-an-ip")
    assert client_ip(bad) is None


@pytest.mark.django_db
@override_settings(ACCOUNTS_TRUSTED_PROXY_COUNT=0)
def test_spoofed_forwarded_for_does_not_reach_the_audit(client, make_user, password):
    user = make_user("spoof@example.com")
    client.post(
        "/accounts/login/",
        {"login": "spoof@example.com", "password": password},
        HTTP_X_FORWARDED_FOR="6.6.6.6",
    )
    assert events(user=user) == [("login", "127.0.0.1", "")]


@pytest.mark.django_db
def test_a_command_run_records_its_host_and_os_user_instead_of_a_request():
    import getpass
    import socket

    from accounts import events

    event = events.record_command(events.Kind.KEYS_ROTATED, key_id="k2", failed=0)

    event.refresh_from_db()
    assert event.kind == "keys_rotated"
    assert event.user is None
    assert event.ip is None
    assert event.user_agent == ""
    assert event.data == {
        "key_id": "k2",
        "failed": 0,
        "host": socket.gethostname(),
        "os_user": getpass.getuser(),
    }
