"""The webhook models now belong to the ``webhooks`` app (its 0001 takes them over in
the migration state); the tables are untouched."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("graphql_api", "0003_encrypt_webhook_secrets"),
        ("webhooks", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="WebhookDelivery"),
                migrations.DeleteModel(name="Webhook"),
            ],
            database_operations=[],
        )
    ]
