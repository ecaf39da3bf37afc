"""The webhook models, moved from ``graphql_api`` in the migration state only: the
tables (``graphql_api_webhook``, ``graphql_api_webhookdelivery``) were created by
``graphql_api`` 0001 and stay as they are."""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import portal.fields


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("graphql_api", "0003_encrypt_webhook_secrets"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    state_operations = [
        migrations.CreateModel(
            name="Webhook",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("name", models.CharField(max_length=100, verbose_name="name")),
                ("url", models.URLField(max_length=500, verbose_name="URL")),
                (
                    "secret",
                    portal.fields.EncryptedTextField(
                        help_text="Each delivery carries X-Signature: sha256=<HMAC-SHA256 of the body with this secret>.",  # noqa: E501
                        label="graphql_api.webhook.secret",
                        max_length=128,
                        verbose_name="signing secret",
                    ),
                ),
                (
                    "events",
                    models.JSONField(
                        default=list,
                        help_text='The events this webhook receives, e.g. ["ticket.created"].',  # noqa: E501
                        verbose_name="events",
                    ),
                ),
                (
                    "include_internal_notes",
                    models.BooleanField(
                        default=False,
                        help_text="Also send comment.created for internal notes.",
                        verbose_name="include internal notes",
                    ),
                ),
                ("active", models.BooleanField(default=True, verbose_name="active")),
                (
                    "created_at",
                    models.DateTimeField(auto_now_add=True, verbose_name="created at"),
                ),
                (
                    "owner",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="webhooks",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="owner",
                    ),
                ),
            ],
            options={
                "verbose_name": "webhook",
                "verbose_name_plural": "webhooks",
                "db_table": "graphql_api_webhook",
                "ordering": ["name", "id"],
            },
        ),
        migrations.CreateModel(
            name="WebhookDelivery",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("event", models.CharField(max_length=50, verbose_name="event")),
                (
                    "event_id",
                    models.UUIDField(
                        db_index=True, default=uuid.uuid4, verbose_name="event id"
                    ),
                ),
                (
                    "ordering_key",
                    models.CharField(
                        blank=True,
                        default="",
                        help_text="Deliveries with the same key go to a webhook in the order they were made.",  # noqa: E501
                        max_length=100,
                        verbose_name="ordering key",
                    ),
                ),
                ("payload", models.JSONField(default=dict, verbose_name="data")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("delivered", "Delivered"),
                            ("failed", "Failed"),
                        ],
                        default="pending",
                        max_length=20,
                        verbose_name="status",
                    ),
                ),
                (
                    "attempts",
                    models.PositiveIntegerField(default=0, verbose_name="attempts"),
                ),
                (
                    "next_attempt_at",
                    models.DateTimeField(verbose_name="next attempt at"),
                ),
                (
                    "last_status_code",
                    models.PositiveSmallIntegerField(
                        blank=True, null=True, verbose_name="last response code"
                    ),
                ),
                (
                    "last_error",
                    models.TextField(blank=True, default="", verbose_name="last error"),
                ),
                ("created_at", models.DateTimeField(verbose_name="created at")),
                (
                    "delivered_at",
                    models.DateTimeField(
                        blank=True, null=True, verbose_name="delivered at"
                    ),
                ),
                (
                    "webhook",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="deliveries",
                        to="webhooks.webhook",
                        verbose_name="webhook",
                    ),
                ),
            ],
            options={
                "verbose_name": "webhook delivery",
                "verbose_name_plural": "webhook deliveries",
                "db_table": "graphql_api_webhookdelivery",
                "ordering": ["-created_at", "-id"],
                "indexes": [
                    models.Index(
                        fields=["status", "next_attempt_at"],
                        name="webhook_delivery_due",
                    ),
                    models.Index(
                        fields=["webhook", "ordering_key", "status", "id"],
                        name="webhook_delivery_order",
                    ),
                    models.Index(
                        fields=["status", "delivered_at"],
                        name="webhook_delivery_done",
                    ),
                ],
            },
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=state_operations, database_operations=[]
        )
    ]
