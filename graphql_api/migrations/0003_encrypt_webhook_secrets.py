"""Encrypt the webhook secrets stored before EncryptedTextField (portal.fields)."""

from django.db import migrations


def encrypt(apps, schema_editor):
    from portal.fields import encrypt_value, is_encrypted
    from portal.keyring import encryption_enabled

    if not encryption_enabled():
        return
    Webhook = apps.get_model("graphql_api", "Webhook")
    table = Webhook._meta.db_table
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT id, secret FROM {table}")  # noqa: S608
        rows = cursor.fetchall()
        for pk, secret in rows:
            if secret and not is_encrypted(secret):
                cursor.execute(
                    f"UPDATE {table} SET secret = %s WHERE id = %s",  # noqa: S608
                    [encrypt_value(secret, "graphql_api.webhook.secret"), pk],
                )


def decrypt(apps, schema_editor):
    from portal.fields import decrypt_value, is_encrypted

    Webhook = apps.get_model("graphql_api", "Webhook")
    table = Webhook._meta.db_table
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT id, secret FROM {table}")  # noqa: S608
        for pk, secret in cursor.fetchall():
            if is_encrypted(secret):
                cursor.execute(
                    f"UPDATE {table} SET secret = %s WHERE id = %s",  # noqa: S608
                    [decrypt_value(secret, "graphql_api.webhook.secret"), pk],
                )


class Migration(migrations.Migration):
    dependencies = [("graphql_api", "0002_webhook_secret_encrypted")]

    operations = [migrations.RunPython(encrypt, decrypt)]
