"""Rows that name the webhook models or jobs by their old place follow them here.

* Content types ``graphql_api.webhook`` / ``graphql_api.webhookdelivery`` are renamed to
  the ``webhooks`` app, so that everything pointing at them keeps working: permissions
  (``add_webhook`` held by integrators and groups), guardian object permissions,
  Django admin and Wagtail log entries. A fresh database has none yet (content types are
  created after ``migrate``), so nothing happens there.
* django-q2 schedules that call ``graphql_api.webhooks.tasks.*`` call
  ``webhooks.tasks.*``. Jobs already queued keep their old path, which stays importable
  (``graphql_api/webhooks/tasks.py``).
"""

from django.db import migrations

MODELS = ["webhook", "webhookdelivery"]
OLD_APP, NEW_APP = "graphql_api", "webhooks"
TASKS = {
    "graphql_api.webhooks.tasks.process_webhooks": "webhooks.tasks.process_webhooks",
    "graphql_api.webhooks.tasks.purge_old_deliveries": (
        "webhooks.tasks.purge_old_deliveries"
    ),
}


def _move_content_types(apps, source, target):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        old = ContentType.objects.filter(app_label=source, model=model).first()
        if old is None:
            continue
        # A stray row under the new label (created by a partial upgrade) holds nothing
        # the old one does not: the old row, with its permissions and history, wins.
        ContentType.objects.filter(app_label=target, model=model).delete()
        old.app_label = target
        old.save(update_fields=["app_label"])


def _move_schedules(apps, renames):
    Schedule = apps.get_model("django_q", "Schedule")
    for old, new in renames.items():
        Schedule.objects.filter(func=old).update(func=new)


def forwards(apps, schema_editor):
    _move_content_types(apps, OLD_APP, NEW_APP)
    _move_schedules(apps, TASKS)


def backwards(apps, schema_editor):
    _move_content_types(apps, NEW_APP, OLD_APP)
    _move_schedules(apps, {new: old for old, new in TASKS.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_initial"),
        ("graphql_api", "0004_webhooks_moved_to_their_app"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
