"""Supervisors manage the team: they approve, reject, lock and unlock accounts."""

from django.db import migrations


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label="accounts", model="user")
    permission, _ = Permission.objects.get_or_create(
        codename="review_accounts",
        content_type=content_type,
        defaults={"name": "Can approve, reject, lock and unlock accounts"},
    )
    Group.objects.get(name="Supervisors").permissions.add(permission)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.filter(codename="review_accounts", content_type__app_label="accounts").first()
    if permission:
        Group.objects.get(name="Supervisors").permissions.remove(permission)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_security_approval_invitations"), ("contenttypes", "0002_remove_content_type_name")]
    operations = [migrations.RunPython(grant, revoke)]
