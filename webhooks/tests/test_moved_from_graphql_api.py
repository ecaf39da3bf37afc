"""The webhook models moved from ``graphql_api`` to this app without touching the
database: a database migrated by the old code keeps its rows, secrets, permissions and
schedules after the upgrade, and jobs queued under the old dotted paths still run."""

import os
import subprocess
import sys

import pytest
from django.apps import apps as global_apps
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils.module_loading import import_string
from django_q.models import Schedule
from django_q.tasks import async_task, result

from webhooks import tasks
from webhooks.models import Webhook, WebhookDelivery
from webhooks.permissions import can_manage_webhooks

SECRET = "whsec-kept-across-the-move"
#: Where main stood before the move: the models in graphql_api, no webhooks app.
BEFORE = [("graphql_api", "0003_encrypt_webhook_secrets"), ("webhooks", None)]
OLD_PROCESS = "graphql_api.webhooks.tasks.process_webhooks"
OLD_PURGE = "graphql_api.webhooks.tasks.purge_old_deliveries"


def _migrate(targets):
    """Migrate to ``targets`` (backwards too); the models as they are there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor._create_project_state(with_applied_migrations=True).apps


def _raw_secret(pk) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM graphql_api_webhook WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_the_state_moved_and_the_tables_did_not():
    assert Webhook._meta.db_table == "graphql_api_webhook"
    assert WebhookDelivery._meta.db_table == "graphql_api_webhookdelivery"
    assert list(global_apps.get_app_config("graphql_api").get_models()) == []
    assert Webhook._meta.get_field("secret")._label() == "graphql_api.webhook.secret"


ISOLATED = "WEBHOOKS_UPGRADE_TEST_ISOLATED"


def test_a_database_migrated_by_the_old_code_keeps_everything(tmp_path):
    """Run in a pytest of its own on its own SQLite database: migrating the test
    database backwards and forwards leaves rows (content types) that the serialized
    rollback of later transactional tests in the same process then collides with."""
    env = {**os.environ, ISOLATED: "1"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'upgrade.sqlite3'}"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:xdist",
            f"{__file__}::test_upgrade_in_isolation",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout


@pytest.mark.skipif(
    ISOLATED not in os.environ, reason="run by the test above in its own process"
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_upgrade_in_isolation(password):
    old = _migrate(BEFORE)  # the reverse of the move, run on this database
    old_ct = ContentType.objects.get(app_label="graphql_api", model="webhook")
    assert not ContentType.objects.filter(app_label="webhooks").exists()
    OldWebhook = old.get_model("graphql_api", "Webhook")
    OldDelivery = old.get_model("graphql_api", "WebhookDelivery")
    OldPermission = old.get_model("auth", "Permission")
    User = get_user_model()
    integrator = User.objects.create_user(
        email="integrator@example.com", password=password
    )
    permission = OldPermission.objects.get(
        content_type_id=old_ct.pk, codename="add_webhook"
    )
    integrator.user_permissions.add(permission.pk)
    hook = OldWebhook.objects.create(
        name="CRM",
        url="https://crm.example/hook",
        events=["ticket.created"],
        secret=SECRET,
        owner_id=integrator.pk,
    )
    assert _raw_secret(hook.pk).startswith("enc:v1:")
    delivery = OldDelivery.objects.create(
        webhook_id=hook.pk,
        event="ticket.created",
        payload={"n": 1},
        created_at="2026-12-01T10:00:00Z",
        next_attempt_at="2026-12-01T10:00:00Z",
    )
    Schedule.objects.filter(name__startswith="webhooks-").delete()
    Schedule.objects.create(name="webhooks-process", func=OLD_PROCESS, minutes=1)
    Schedule.objects.create(name="webhooks-purge-old-deliveries", func=OLD_PURGE)
    Schedule.objects.create(name="other", func="portal.tasks.publish_scheduled")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()

    moved = Webhook.objects.get(pk=hook.pk)
    assert (moved.name, moved.secret, moved.owner_id) == ("CRM", SECRET, integrator.pk)
    assert list(moved.deliveries.values_list("pk", "payload")) == [
        (delivery.pk, {"n": 1})
    ]
    assert ContentType.objects.get_for_model(Webhook).pk == old_ct.pk
    assert not ContentType.objects.filter(app_label="graphql_api").exists()
    integrator = User.objects.get(pk=integrator.pk)
    assert integrator.has_perm("webhooks.add_webhook")
    assert can_manage_webhooks(integrator)
    assert dict(Schedule.objects.values_list("name", "func")) == {
        "webhooks-process": "webhooks.tasks.process_webhooks",
        "webhooks-purge-old-deliveries": "webhooks.tasks.purge_old_deliveries",
        "other": "portal.tasks.publish_scheduled",
    }


def test_the_old_job_paths_still_import():
    assert import_string(OLD_PROCESS) is tasks.process_webhooks
    assert import_string(OLD_PURGE) is tasks.purge_old_deliveries


@pytest.mark.django_db
def test_a_job_queued_under_the_old_path_runs():
    # the test settings run jobs inline; save=True: successful jobs are not kept
    # by default (Q_CLUSTER["save_limit"] -1), and result() reads the kept row
    task_id = async_task(OLD_PROCESS, save=True)
    assert result(task_id) == {}

    task_id = async_task(OLD_PURGE, save=True)
    assert result(task_id) == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "old, new",
    [
        (
            "/django-admin/graphql_api/webhook/",
            "/django-admin/webhooks/webhook/",
        ),
        (
            "/django-admin/graphql_api/webhookdelivery/?status=failed",
            "/django-admin/webhooks/webhookdelivery/?status=failed",
        ),
    ],
)
def test_old_django_admin_addresses_lead_to_the_new_ones(client, admin_user, old, new):
    response = client.get(old)
    assert (response.status_code, response["Location"]) == (301, new)

    # The redirect opens nothing by itself: the new page still asks who is there.
    assert client.get(new).status_code == 302
    client.force_login(admin_user)
    assert client.get(new).status_code == 200
