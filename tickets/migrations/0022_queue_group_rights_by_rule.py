"""The queue's agent group's rights on a ticket are a rule, not rows (bench FINDINGS
V-3, 2026-12-05).

The members of a ticket's queue's agent group hold ``AGENT_PERMS`` on it by
``tickets.permissions.queue_group_grants``, read from the ticket row by every reader
of group grants; ``tickets.grants`` no longer writes those six guardian rows a ticket.
Forward deletes them (the rows whose group is the agent group of the ticket's queue,
with a codename of ``AGENT_PERMS``); backward writes them again. One set-based
statement each way, on PostgreSQL and SQLite alike (a row-value ``IN`` over the
tickets joined to their queues): seconds at 250k tickets, no row-by-row Python.
"""

from django.db import migrations

# As ``tickets.permissions.AGENT_PERMS`` at the time of this migration.
AGENT_PERMS = (
    "view_ticket",
    "change_ticket",
    "comment_ticket",
    "add_internal_note",
    "view_internal_notes",
    "assign_ticket",
)


def _tables(apps):
    grant = apps.get_model("tickets", "TicketGroupObjectPermission")._meta.db_table
    ticket = apps.get_model("tickets", "Ticket")._meta.db_table
    queue = apps.get_model("tickets", "Queue")._meta.db_table
    permission = apps.get_model("auth", "Permission")._meta.db_table
    content_type = apps.get_model("contenttypes", "ContentType")._meta.db_table
    return grant, ticket, queue, permission, content_type


def _agent_permissions(permission: str, content_type: str) -> tuple[str, list]:
    """The ids of ``AGENT_PERMS`` on tickets, as a subquery."""
    marks = ", ".join(["%s"] * len(AGENT_PERMS))
    return (
        f"SELECT p.id FROM {permission} p WHERE p.codename IN ({marks}) "  # noqa: S608 - table names from the models
        f"AND p.content_type_id IN (SELECT c.id FROM {content_type} c "
        "WHERE c.app_label = %s AND c.model = %s)",
        [*AGENT_PERMS, "tickets", "ticket"],
    )


def drop_queue_group_rows(apps, schema_editor):
    grant, ticket, queue, permission, content_type = _tables(apps)
    permissions_sql, params = _agent_permissions(permission, content_type)
    schema_editor.execute(
        f"DELETE FROM {grant} WHERE permission_id IN ({permissions_sql}) "  # noqa: S608 - table names from the models
        f"AND (content_object_id, group_id) IN (SELECT t.id, q.agent_group_id "
        f"FROM {ticket} t JOIN {queue} q ON q.id = t.queue_id)",
        params,
    )


def write_queue_group_rows(apps, schema_editor):
    grant, ticket, queue, permission, content_type = _tables(apps)
    permissions_sql, params = _agent_permissions(permission, content_type)
    schema_editor.execute(
        f"INSERT INTO {grant} (permission_id, group_id, content_object_id) "  # noqa: S608 - table names from the models
        f"SELECT p.id, q.agent_group_id, t.id FROM {ticket} t "
        f"JOIN {queue} q ON q.id = t.queue_id "
        f"CROSS JOIN ({permissions_sql}) p "
        f"WHERE NOT EXISTS (SELECT 1 FROM {grant} g WHERE g.content_object_id = t.id "
        "AND g.group_id = q.agent_group_id AND g.permission_id = p.id)",
        params,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0021_ticket_queue_id_idx"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(
            drop_queue_group_rows, write_queue_group_rows, elidable=True
        ),
    ]
