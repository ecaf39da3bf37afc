"""A backup taken before the webhook models moved from ``graphql_api`` to ``webhooks``
(tables unchanged) names them, and their content types, by the old label: restoring it
brings the webhooks back under the new one."""

import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import serializers

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


@pytest.mark.django_db
def test_an_old_backup_names_the_webhooks_by_their_new_app(tmp_path):
    """The rewritten data deserializes into today's models (what ``loaddata`` does
    before saving), content types included, and the manifest's counts follow."""
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
    counts, _ = backup._dump_snapshot(data)
    _as_before_the_move(data)
    manifest = {
        "counts": {
            key.replace("webhooks.", "graphql_api."): value
            for key, value in counts.items()
        }
    }
    with pytest.raises(serializers.base.DeserializationError):
        list(serializers.deserialize("json", data.read_text()))

    rewritten = backup._rewrite_moved_models(manifest, data)

    objects = [o.object for o in serializers.deserialize("json", rewritten.read_text())]
    hooks = [o for o in objects if isinstance(o, Webhook)]
    assert [(h.pk, h.name, h.secret) for h in hooks] == [(hook.pk, "CRM", SECRET)]
    assert [d.payload for d in objects if isinstance(d, WebhookDelivery)] == [{"n": 1}]
    types = [
        (o.pk, o.app_label, o.model)
        for o in objects
        if isinstance(o, ContentType) and o.model in ("webhook", "webhookdelivery")
    ]
    assert (content_type.pk, "webhooks", "webhook") in types
    assert all(app_label == "webhooks" for _, app_label, _ in types)
    assert manifest["counts"]["webhooks.webhook"] == 1
    assert "graphql_api.webhook" not in manifest["counts"]


def test_a_current_backup_is_loaded_as_it_is(tmp_path):
    data = tmp_path / "data.json"
    data.write_text(json.dumps([{"model": "tickets.queue", "pk": 1, "fields": {}}]))
    manifest = {"counts": {"tickets.queue": 1}}
    assert backup._rewrite_moved_models(manifest, data) == data
    assert manifest["counts"] == {"tickets.queue": 1}
