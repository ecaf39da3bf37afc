"""Webhook secrets are encrypted at rest with the attachment key ring: the column
holds ciphertext, the model gives the secret back, the data migration encrypts old
rows (and reverses), and a key rotation re-encrypts them."""

import base64
import importlib
from io import StringIO
from types import SimpleNamespace

from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from webhooks.models import Webhook

OLD = "test1:dGVzdC1vbmx5LWF0dGFjaG1lbnQta2V5LTMyYnl0ZXM="
NEW = "new:" + base64.b64encode(b"n" * 32).decode()
SECRET = "whsec-TOP-SECRET-0123456789abcdef"
migration = importlib.import_module(
    "graphql_api.migrations.0003_encrypt_webhook_secrets"
)


def _old_apps():
    """The models as ``graphql_api`` 0003 saw them (the webhooks app came later)."""
    loader = MigrationLoader(connection)
    return loader.project_state(("graphql_api", "0003_encrypt_webhook_secrets")).apps


def _raw(webhook) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret FROM graphql_api_webhook WHERE id = %s", [webhook.pk]
        )
        return cursor.fetchone()[0]


def _set_raw(webhook, value):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE graphql_api_webhook SET secret = %s WHERE id = %s",
            [value, webhook.pk],
        )


def _webhook():
    return Webhook.objects.create(
        name="CRM",
        url="https://crm.example/hook",
        events=["ticket.created"],
        secret=SECRET,
    )


def test_the_column_holds_ciphertext_and_the_model_the_secret(db):
    webhook = _webhook()
    raw = _raw(webhook)
    assert raw.startswith("enc:v1:test1:")
    assert SECRET not in raw
    assert Webhook.objects.get(pk=webhook.pk).secret == SECRET
    webhook.secret = "rotated-secret"
    webhook.save()
    assert Webhook.objects.get(pk=webhook.pk).secret == "rotated-secret"
    assert "rotated-secret" not in _raw(webhook)


def test_the_data_migration_encrypts_old_rows_and_reverses(db):
    webhook = _webhook()
    _set_raw(webhook, SECRET)  # as stored before encryption
    assert Webhook.objects.get(pk=webhook.pk).secret == SECRET

    apps = _old_apps()
    migration.encrypt(apps, SimpleNamespace(connection=connection))
    assert _raw(webhook).startswith("enc:v1:test1:")
    assert Webhook.objects.get(pk=webhook.pk).secret == SECRET
    migration.encrypt(apps, SimpleNamespace(connection=connection))  # idempotent
    assert Webhook.objects.get(pk=webhook.pk).secret == SECRET

    migration.decrypt(apps, SimpleNamespace(connection=connection))
    assert _raw(webhook) == SECRET


def test_key_rotation_re_encrypts_webhook_secrets(db, settings):
    webhook = _webhook()
    settings.ATTACHMENT_ENCRYPTION_KEYS = f"{NEW},{OLD}"
    out = StringIO()
    call_command("rotate_attachment_keys", "--no-progress", stdout=out)
    assert out.getvalue().strip() == (
        "0 attachment keys re-wrapped under 'new', 1 stored secrets re-encrypted, "
        "0 failed."
    )
    assert _raw(webhook).startswith("enc:v1:new:")
    settings.ATTACHMENT_ENCRYPTION_KEYS = NEW
    assert Webhook.objects.get(pk=webhook.pk).secret == SECRET
