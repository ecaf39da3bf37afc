"""Rate limits on the doors that strangers can knock on: sign-in, sign-up and password
reset (allauth's limits, configured in ``ACCOUNT_RATE_LIMITS``; the test settings turn
them off, so each test switches them on). A refused attempt answers 429 with the site's
page, or a form error, and does nothing."""

import pytest
from django.core import mail
from django.test import override_settings

from accounts.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "a-Strong-pass-1"  # noqa: S105


@override_settings(ACCOUNT_RATE_LIMITS={"signup": "3/h/ip"})
def test_signups_past_the_limit_get_429_and_make_no_account(client):
    for number in range(3):
        response = client.post(
            "/accounts/signup/",
            {
                "email": f"new{number}@example.com",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )
        assert response.status_code == 302
    client.logout()

    response = client.post(
        "/accounts/signup/",
        {"email": "new9@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()
    assert not User.objects.filter(email="new9@example.com").exists()
    assert User.objects.filter(email__startswith="new").count() == 3


@override_settings(ACCOUNT_RATE_LIMITS={"reset_password": "2/h/ip,2/h/key"})
def test_password_resets_past_the_limit_send_no_more_email(client, make_user):
    make_user("target@example.com")
    for _ in range(2):
        client.post("/accounts/password/reset/", {"email": "target@example.com"})
    assert len(mail.outbox) == 2

    response = client.post("/accounts/password/reset/", {"email": "target@example.com"})

    assert response.status_code == 429
    assert len(mail.outbox) == 2


@override_settings(ACCOUNT_RATE_LIMITS={"login_failed": "3/5m/ip,3/5m/key"})
def test_guessing_passwords_is_stopped_even_for_the_right_one(client, make_user):
    make_user("target@example.com")
    for _ in range(3):
        client.post(
            "/accounts/login/", {"login": "target@example.com", "password": "guess"}
        )

    response = client.post(
        "/accounts/login/",
        {"login": "target@example.com", "password": "correct-horse-battery"},
    )

    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert client.session.get("_auth_user_id") is None


@override_settings(ACCOUNT_RATE_LIMITS={"login_failed": "3/5m/ip,3/5m/key"})
def test_the_limit_follows_the_account_across_addresses(make_user):
    """Rotating client addresses does not buy more guesses at one account."""
    from django.test import Client

    make_user("target@example.com")
    for number in range(3):
        Client(REMOTE_ADDR=f"10.0.0.{number + 1}").post(
            "/accounts/login/", {"login": "target@example.com", "password": "guess"}
        )

    fresh = Client(REMOTE_ADDR="10.0.0.99")
    response = fresh.post(
        "/accounts/login/",
        {"login": "target@example.com", "password": "correct-horse-battery"},
    )

    assert "Too many failed login attempts" in response.content.decode()
    assert fresh.session.get("_auth_user_id") is None


def test_production_settings_keep_the_limits_on():
    from portal.settings import base

    assert base.ACCOUNT_RATE_LIMITS == {
        "login_failed": "5/5m/ip,5/5m/key",
        "signup": "20/h/ip",
        "reset_password": "5/h/ip,5/h/key",
    }
    assert base.PORTAL_RATE_LIMITS == {
        "ticket_create": "20/h",
        "organization_invite": "30/h",
        "email_inbound": "30/h",
    }


# --- filing tickets (portal.ratelimits) ---------------------------------------------


def new_ticket(number):
    return {
        "subject": f"Cannot log in ({number})",
        "description": "The page says my password is wrong.",
        "category": "account",
        "priority": "high",
    }


@override_settings(PORTAL_RATE_LIMITS={"ticket_create": "3/h"})
def test_filing_past_the_limit_answers_429_and_files_nothing(client, alice, queue):
    from tickets.models import Ticket

    client.force_login(alice)
    for number in range(3):
        response = client.post("/portal/tickets/new/", new_ticket(number))
        assert response.status_code == 302

    response = client.post("/portal/tickets/new/", new_ticket(99))

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3601
    assert "too often in a short time" in response.content.decode()
    assert list(Ticket.objects.values_list("subject", flat=True).order_by("pk")) == [
        "Cannot log in (0)",
        "Cannot log in (1)",
        "Cannot log in (2)",
    ]
    assert client.get("/portal/tickets/new/").status_code == 200  # reading is free


@override_settings(PORTAL_RATE_LIMITS={"ticket_create": "1/h"})
def test_the_limit_is_per_customer(client, alice, bob, queue):
    from tickets.models import Ticket

    client.force_login(alice)
    assert client.post("/portal/tickets/new/", new_ticket(1)).status_code == 302
    assert client.post("/portal/tickets/new/", new_ticket(2)).status_code == 429
    client.force_login(bob)
    assert client.post("/portal/tickets/new/", new_ticket(3)).status_code == 302
    assert Ticket.objects.count() == 2


def test_rates_parse_and_unknown_scopes_are_unlimited(settings):
    from portal import ratelimits

    assert ratelimits.parse_rate("20/h") == (20, 3600)
    assert ratelimits.parse_rate("5/10m") == (5, 600)
    settings.PORTAL_RATE_LIMITS = {"ticket_create": "1/m"}
    ratelimits.consume("something_else", "user:1")
    ratelimits.consume("something_else", "user:1")
    ratelimits.consume("ticket_create", "user:1")
    with pytest.raises(ratelimits.RateLimited) as limited:
        ratelimits.consume("ticket_create", "user:1")
    assert 0 < limited.value.retry_after <= 61
    assert str(limited.value) == (
        "You have done this too often in a short time. Please try again in 1 minute."
    )


def test_parse_rate_accepts_every_documented_form():
    from portal import ratelimits

    assert ratelimits.parse_rate("120/m") == (120, 60)
    assert ratelimits.parse_rate("10/30") == (10, 30)
    for bad in ("0/m", "x/m", "5/0"):
        with pytest.raises(ValueError):
            ratelimits.parse_rate(bad)


def test_on_redis_a_window_is_counted_in_one_round_trip_and_expires(settings):
    """The shared-cache path (production): SET NX EX + INCR in one script."""
    import time

    import redis

    from portal import ratelimits

    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "ratelimit-test",
        }
    }
    from django.core.cache import caches

    backend = caches["default"]
    backend.clear()
    commands = []
    client = redis.Redis.from_url(url)
    client.script_flush()  # the first call loads the script
    with client.monitor() as monitor:
        assert [ratelimits.hit("filing:7", "2/h") for _ in range(2)] == [None, None]
        wait = ratelimits.hit("filing:7", "2/h")
        for command in monitor.listen():
            commands.append(command["command"].split()[0].upper())
            if len(commands) == 11:
                break
    assert 1 <= wait <= 3601
    assert commands == ["EVALSHA", "SCRIPT", *["EVALSHA", "SET", "INCRBY"] * 3]
    window = f"ratelimit:filing:7:{int(time.time() // 3600)}"
    assert 3590 <= client.ttl(backend.make_and_validate_key(window)) <= 3601
    assert backend.get(window) == 3
    backend.clear()
