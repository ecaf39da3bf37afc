"""Three single-column foreign-key indexes that a longer index leads with (bench
FINDINGS R-4, R-5): every filing wrote an entry in each for every row, and no query
needs them.

- ``tickets_ticketuserobjectpermission.user_id`` and
  ``tickets_ticketgroupobjectpermission.group_id`` (guardian's automatic indexes): the
  unique ``(user_id|group_id, permission_id, content_object_id)`` leads with the same
  column and serves the lookups and the cascades by user or group;
- ``tickets_ticketevent.ticket_id``: ``event_ticket_idx (ticket_id, created_at)``.

As in 0013: the state changes are ``AlterField(db_index=False)``; in the database only
the indexes are dropped (``IF EXISTS``, both databases name them alike), since Django's
own AlterField would drop and re-add each foreign-key constraint."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("tickets", "0016_ticket_requester_org_created_idx"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="ticketevent",
                    name="ticket",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="tickets.ticket",
                        verbose_name="ticket",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticketgroupobjectpermission",
                    name="group",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        to="auth.group",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticketuserobjectpermission",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")',
                )
                for table, column, name in (
                    (
                        "tickets_ticketevent",
                        "ticket_id",
                        "tickets_ticketevent_ticket_id_b572d14b",
                    ),
                    (
                        "tickets_ticketgroupobjectpermission",
                        "group_id",
                        "tickets_ticketgroupobjectpermission_group_id_79a5d11e",
                    ),
                    (
                        "tickets_ticketuserobjectpermission",
                        "user_id",
                        "tickets_ticketuserobjectpermission_user_id_f31b90af",
                    ),
                )
            ],
        ),
    ]
