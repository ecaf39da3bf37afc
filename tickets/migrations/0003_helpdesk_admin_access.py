"""Let the helpdesk roles into the Wagtail admin, where the agent desk lives.

Agents, Supervisors and Viewers get ``wagtailadmin.access_admin``; Supervisors also
manage canned responses (a Wagtail snippet) and Agents may list them.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

HELPDESK_GROUPS = ["Agents", "Supervisors", "Viewers"]
CANNED = {
    "Supervisors": [
        "add_cannedresponse",
        "change_cannedresponse",
        "delete_cannedresponse",
        "view_cannedresponse",
    ],
    "Agents": ["view_cannedresponse"],
}


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    # model permissions are normally made after migrate; make them now to grant them
    config = apps.get_app_config("tickets")
    previous = getattr(config, "models_module", None)
    config.models_module = previous or True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = previous
    admin_type, _ = ContentType.objects.get_or_create(
        app_label="wagtailadmin", model="admin"
    )
    access, _ = Permission.objects.get_or_create(
        content_type=admin_type,
        codename="access_admin",
        defaults={"name": "Can access Wagtail admin"},
    )
    for name in HELPDESK_GROUPS:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(access)
    for name, codenames in CANNED.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="tickets", codename__in=codenames
            )
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    access = Permission.objects.filter(
        content_type__app_label="wagtailadmin", codename="access_admin"
    )
    for group in Group.objects.filter(name__in=HELPDESK_GROUPS):
        group.permissions.remove(*access)
    for name, codenames in CANNED.items():
        for group in Group.objects.filter(name=name):
            group.permissions.remove(
                *Permission.objects.filter(
                    content_type__app_label="tickets", codename__in=codenames
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0002_deflection_event"),
        ("accounts", "0002_roles"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
