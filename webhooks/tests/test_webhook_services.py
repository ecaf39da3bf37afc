"""Managing webhooks through the service functions (used by the admin and GraphQL)."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from wagtail.models import ModelLogEntry

from webhooks import services
from webhooks.models import Webhook, WebhookDelivery
from webhooks.outbox import enqueue

from .helpers import everyone


@pytest.fixture
def admin_user(make_user):
    return make_user("admin@example.com", is_superuser=True, is_staff=True)


@pytest.fixture
def integrator(make_user):
    user = make_user("integrator@example.com")
    user.user_permissions.add(Permission.objects.get(codename="add_webhook"))
    return user


@pytest.mark.django_db
def test_create_webhook_generates_a_secret_and_logs(integrator):
    webhook = services.create_webhook(
        integrator,
        name=" CRM ",
        url="https://crm.example/hooks",
        events=["ticket.created", "ticket.created", "comment.created"],
    )
    webhook.refresh_from_db()
    assert (webhook.name, webhook.url, webhook.events, webhook.owner) == (
        "CRM",
        "https://crm.example/hooks",
        ["ticket.created", "comment.created"],
        integrator,
    )
    assert len(webhook.secret) >= 40
    assert webhook.active is True
    assert webhook.include_internal_notes is False
    assert ModelLogEntry.objects.filter(action="wagtail.create").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"url": "ftp://crm.example/hooks"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"events": ["ticket.exploded"]}, "events"),
        ({"events": []}, "events"),
        ({"name": "  "}, "name"),
    ],
)
def test_create_webhook_rejects_bad_input(integrator, changes, field):
    arguments = {
        "name": "CRM",
        "url": "https://crm.example/h",
        "events": ["ticket.created"],
    }
    with pytest.raises(ValidationError) as error:
        services.create_webhook(integrator, **{**arguments, **changes})
    assert list(error.value.message_dict) == [field]
    assert Webhook.objects.count() == 0


@pytest.mark.django_db
def test_a_user_without_the_permission_cannot_create(make_user):
    customer = make_user("alice@acme.example")
    with pytest.raises(PermissionDenied):
        services.create_webhook(
            customer, name="x", url="https://x.example", events=["ticket.created"]
        )
    assert Webhook.objects.count() == 0


@pytest.mark.django_db
def test_update_changes_only_the_given_fields(integrator):
    webhook = services.create_webhook(
        integrator, name="CRM", url="https://crm.example/h", events=["ticket.created"]
    )
    secret = webhook.secret
    services.update_webhook(
        webhook, user=integrator, active=False, events=["ticket.assigned"]
    )
    webhook.refresh_from_db()
    assert (
        webhook.name,
        webhook.url,
        webhook.events,
        webhook.active,
        webhook.secret,
    ) == (
        "CRM",
        "https://crm.example/h",
        ["ticket.assigned"],
        False,
        secret,
    )
    services.update_webhook(webhook, user=integrator, secret=None)
    webhook.refresh_from_db()
    assert webhook.secret == secret  # null is no request to change it


@pytest.mark.django_db
def test_the_secret_changes_only_when_asked(integrator):
    webhook = services.create_webhook(
        integrator, name="CRM", url="https://crm.example/h", events=["ticket.created"]
    )
    secret = webhook.secret
    for refused in ({"secret": ""}, {"secret": "  "}, {"secret": "x" * 129}):
        with pytest.raises(ValidationError) as error:
            services.update_webhook(webhook, user=integrator, **refused)
        assert list(error.value.message_dict) == ["secret"]
    with pytest.raises(ValidationError):
        services.update_webhook(
            webhook, user=integrator, secret="mine", rotate_secret=True
        )
    webhook.refresh_from_db()
    assert webhook.secret == secret

    services.update_webhook(webhook, user=integrator, rotate_secret=True)
    webhook.refresh_from_db()
    rotated = webhook.secret
    assert rotated != secret and len(rotated) >= 32

    services.update_webhook(webhook, user=integrator, secret=" chosen-secret ")
    webhook.refresh_from_db()
    assert webhook.secret == "chosen-secret"


@pytest.mark.django_db
def test_an_integrator_cannot_touch_someone_elses_webhook(
    integrator, admin_user, make_user
):
    webhook = services.create_webhook(
        admin_user, name="Ops", url="https://ops.example/h", events=["ticket.created"]
    )
    with pytest.raises(PermissionDenied):
        services.update_webhook(webhook, user=integrator, url="https://evil.example/")
    with pytest.raises(PermissionDenied):
        services.delete_webhook(webhook, user=integrator)
    webhook.refresh_from_db()
    assert webhook.url == "https://ops.example/h"


@pytest.mark.django_db
def test_an_invalid_update_changes_nothing(integrator):
    webhook = services.create_webhook(
        integrator, name="CRM", url="https://crm.example/h", events=["ticket.created"]
    )
    with pytest.raises(ValidationError):
        services.update_webhook(
            webhook, user=integrator, name="New", url="gopher://crm.example"
        )
    webhook.refresh_from_db()
    assert (webhook.name, webhook.url) == ("CRM", "https://crm.example/h")


@pytest.mark.django_db
def test_delete_removes_the_webhook_and_its_deliveries(integrator):
    webhook = services.create_webhook(
        integrator, name="CRM", url="https://crm.example/h", events=["ticket.created"]
    )
    with transaction.atomic():
        enqueue("ticket.created", everyone({"n": 1}))
    services.delete_webhook(webhook, user=integrator)
    assert Webhook.objects.count() == 0
    assert WebhookDelivery.objects.count() == 0


@pytest.mark.django_db
def test_redeliver_queues_the_same_event_id_without_ordering(admin_user):
    webhook = services.create_webhook(
        admin_user, name="CRM", url="https://crm.example/h", events=["ticket.created"]
    )
    with transaction.atomic():
        [original] = enqueue(
            "ticket.created", everyone({"n": 1}), ordering_key="ticket:HD-1"
        )
    WebhookDelivery.objects.filter(pk=original.pk).update(status="failed", attempts=30)
    copy = services.redeliver(original, user=admin_user)
    assert (copy.webhook, copy.event, copy.event_id, copy.payload) == (
        webhook,
        "ticket.created",
        original.event_id,
        {"n": 1},
    )
    assert (copy.status, copy.attempts, copy.ordering_key) == ("pending", 0, "")
