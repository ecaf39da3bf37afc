"""A backup taken before the webhook models moved from ``graphql_api`` to ``webhooks``
(tables unchanged) names them, and their content types, by the old label: restoring it
brings the webhooks back under the new one."""

import json

import pytest
from django.contrib.contenttypes.models import ContentType

from portal import backup
from webhooks.models import Webhook, WebhookDelivery

SECRET = "whsec-from-an-old-backup"


def _as_before_the_move(path):
    rows = json.loads(path.read_text())
    for row in rows:
        if row["model"] in ("webhooks.webhook", "webhooks.webhookdelivery"):
            row["model"] = row["model"].replace("webhooks.", "graphql_api.")
        if (
            row["model"] == "contenttypes.contenttype"
            and row["fields"]["app_label"] == "webhooks"
        ):
            row["fields"]["app_label"] = "graphql_api"
    path.write_text(json.dumps(rows))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_old_backup_restores_the_webhooks_under_their_new_app(tmp_path):
    hook = Webhook.objects.create(
        name="CRM",
        url="https://crm.example/hook",
        events=["ticket.created"],
        secret=SECRET,
    )
    WebhookDelivery.objects.create(
        webhook=hook,
        event="ticket.created",
        payload={"n": 1},
        created_at="2026-12-01T10:00:00Z",
        next_attempt_at="2026-12-01T10:00:00Z",
    )
    content_type = ContentType.objects.get_for_model(Webhook)
    data = tmp_path / "data.json"
    counts, migrations = backup._dump_snapshot(data)
    _as_before_the_move(data)
    manifest = {
        "format": backup.FORMAT,
        "counts": {
            key.replace("webhooks.", "graphql_api."): value
            for key, value in counts.items()
        },
        "migrations": migrations,
    }
    assert "graphql_api.webhook" in data.read_text()

    Webhook.objects.all().delete()
    backup.load_database(manifest, data)

    ContentType.objects.clear_cache()
    restored = Webhook.objects.get(pk=hook.pk)
    assert (restored.name, restored.secret) == ("CRM", SECRET)
    assert list(restored.deliveries.values_list("payload", flat=True)) == [{"n": 1}]
    assert ContentType.objects.get_for_model(Webhook).pk == content_type.pk
    assert not ContentType.objects.filter(app_label="graphql_api").exists()


def test_a_current_backup_is_loaded_as_it_is(tmp_path):
    data = tmp_path / "data.json"
    data.write_text(json.dumps([{"model": "tickets.queue", "pk": 1, "fields": {}}]))
    manifest = {"counts": {"tickets.queue": 1}}
    assert backup._rewrite_moved_models(manifest, data) == data
    assert manifest["counts"] == {"tickets.queue": 1}
