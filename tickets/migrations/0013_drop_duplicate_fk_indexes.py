"""Each foreign key of a ticket (requester, organization, assignee) and a comment's
ticket had two b-tree indexes on the same column: Django's automatic one and the
named one of ``Meta.indexes`` (``comment_ticket_idx`` leads with ``ticket_id``).
Every filing and every reply paid for both, and both competed for the buffer cache
at 1M tickets (bench FINDINGS, growth). Only the automatic ones go.

The state changes are ``AlterField(db_index=False)``; in the database only the
indexes are dropped (``IF EXISTS``, both databases name them alike): Django's own
AlterField would drop and re-add each foreign-key constraint, re-validating every
row of a million-row table under lock."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_user_search_trgm"),
        ("tickets", "0012_ticket_search_terms"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="comment",
                    name="ticket",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="comments",
                        to="tickets.ticket",
                        verbose_name="ticket",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="assignee",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="assigned_tickets",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="assignee",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="organization",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="tickets",
                        to="accounts.organization",
                        verbose_name="organization",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="requester",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="requested_tickets",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="requester",
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
                        "tickets_comment",
                        "ticket_id",
                        "tickets_comment_ticket_id_36a9497d",
                    ),
                    (
                        "tickets_ticket",
                        "assignee_id",
                        "tickets_ticket_assignee_id_3a5aa407",
                    ),
                    (
                        "tickets_ticket",
                        "organization_id",
                        "tickets_ticket_organization_id_7128da48",
                    ),
                    (
                        "tickets_ticket",
                        "requester_id",
                        "tickets_ticket_requester_id_2072a2f2",
                    ),
                )
            ],
        ),
    ]
