"""The requester's and the organization's tickets, newest first: ``(requester_id,
created_at)`` and ``(organization_id, created_at)`` instead of the single-column
``ticket_requester_idx`` and ``ticket_org_idx``, which the new ones lead with (the
foreign keys' lookups use them as before).

The workspace's other-ticket lists (``tickets.desk.workspace``: the ten newest the
agent sees) then read an organization's newest tickets in order and stop after ten
visible ones, where they sorted every ticket of a mid-sized organization (1,535
tickets: 9,590 buffers) or walked the whole table newest first filtering by
organization (bench FINDINGS W-7). The new indexes are built before the old ones are
dropped, so the foreign keys are never without one."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0015_ticket_terms_on_insert"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                fields=["requester", "created_at"], name="ticket_requester_created_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                fields=["organization", "created_at"], name="ticket_org_created_idx"
            ),
        ),
        migrations.RemoveIndex(model_name="ticket", name="ticket_requester_idx"),
        migrations.RemoveIndex(model_name="ticket", name="ticket_org_idx"),
    ]
