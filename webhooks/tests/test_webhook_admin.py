"""The Wagtail admin screens for webhooks and their deliveries."""

import pytest
from django.db import transaction
from django.urls import reverse

from webhooks.models import Webhook, WebhookDelivery
from webhooks.outbox import enqueue

from .helpers import everyone


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user("admin@example.com", is_superuser=True, is_staff=True))
    return client


@pytest.fixture
def staff_client(client, make_user):
    from django.contrib.auth.models import Permission

    user = make_user("editor@example.com", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_admin_creates_a_webhook_through_the_form(admin_client):
    response = admin_client.post(
        reverse("webhooks:add"),
        {
            "name": "CRM",
            "url": "https://crm.example/hooks",
            "events": ["ticket.created", "comment.created"],
            "secret": "",
            "active": "on",
        },
    )
    assert response.status_code == 302
    webhook = Webhook.objects.get()
    assert webhook.events == ["ticket.created", "comment.created"]
    assert webhook.owner.email == "admin@example.com"
    assert webhook.secret


@pytest.mark.django_db
def test_admin_form_shows_an_error_for_a_non_http_url(admin_client):
    response = admin_client.post(
        reverse("webhooks:add"),
        {"name": "CRM", "url": "ftp://crm.example/", "events": ["ticket.created"]},
    )
    assert response.status_code == 200
    assert "http" in str(response.context["form"].errors["url"])
    assert Webhook.objects.count() == 0


@pytest.mark.django_db
def test_edit_with_a_blank_secret_keeps_it(admin_client, make_webhook):
    webhook = make_webhook(secret="keep-me")
    response = admin_client.post(
        reverse("webhooks:edit", args=[webhook.pk]),
        {
            "name": "Renamed",
            "url": webhook.url,
            "events": ["ticket.assigned"],
            "secret": "",
        },
    )
    assert response.status_code == 302
    webhook.refresh_from_db()
    assert (webhook.name, webhook.events, webhook.secret, webhook.active) == (
        "Renamed",
        ["ticket.assigned"],
        "keep-me",
        False,
    )


@pytest.mark.django_db
def test_deliveries_list_shows_codes_and_errors_in_constant_queries(
    admin_client, make_webhook, django_assert_max_num_queries
):
    for i in range(3):
        make_webhook(name=f"hook {i}")
    with transaction.atomic():
        for n in range(5):
            enqueue("ticket.created", everyone({"n": n}))
    WebhookDelivery.objects.update(last_status_code=503, last_error="HTTP 503")
    with django_assert_max_num_queries(20):
        response = admin_client.get(reverse("webhook_deliveries:index"))
    assert response.status_code == 200
    assert response.content.count(b"HTTP 503") == 15


@pytest.mark.django_db
def test_redeliver_from_the_admin(admin_client, make_webhook):
    make_webhook()
    with transaction.atomic():
        [delivery] = enqueue("ticket.created", everyone({"n": 1}))
    inspect = admin_client.get(
        reverse("webhook_deliveries:inspect", args=[delivery.pk])
    )
    redeliver_url = reverse("webhook_deliveries:redeliver", args=[delivery.pk])
    assert redeliver_url.encode() in inspect.content
    assert admin_client.get(redeliver_url).status_code == 405
    response = admin_client.post(redeliver_url)
    assert response.status_code == 302
    assert WebhookDelivery.objects.filter(event_id=delivery.event_id).count() == 2


@pytest.mark.django_db
def test_staff_who_are_not_superusers_see_nothing(staff_client, make_webhook):
    webhook = make_webhook()
    with transaction.atomic():
        [delivery] = enqueue("ticket.created", everyone({"n": 1}))
    assert staff_client.get(reverse("webhooks:index")).status_code == 302
    assert (
        staff_client.get(reverse("webhooks:edit", args=[webhook.pk])).status_code == 302
    )
    assert staff_client.get(reverse("webhook_deliveries:index")).status_code == 302
    response = staff_client.post(
        reverse("webhook_deliveries:redeliver", args=[delivery.pk])
    )
    assert response.status_code == 404
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.django_db
def test_the_admin_cannot_add_or_edit_deliveries(admin_client, make_webhook):
    make_webhook()
    with transaction.atomic():
        [delivery] = enqueue("ticket.created", everyone({"n": 1}))
    assert admin_client.get(reverse("webhook_deliveries:add")).status_code == 302
    edit = admin_client.get(reverse("webhook_deliveries:edit", args=[delivery.pk]))
    assert edit.status_code == 302
