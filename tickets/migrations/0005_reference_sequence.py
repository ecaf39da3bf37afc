"""References from a PostgreSQL sequence (tickets.references); other databases keep
the locked TicketSequence row."""

import re

from django.db import migrations
from django.db.models import Max


def create_sequence(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    Ticket = apps.get_model("tickets", "Ticket")
    TicketSequence = apps.get_model("tickets", "TicketSequence")
    last = TicketSequence.objects.filter(pk=1).values_list("last_value", flat=True)
    highest = Ticket.objects.aggregate(m=Max("reference"))["m"] or ""
    found = re.search(r"(\d+)$", highest)
    start = max([*last, int(found.group(1)) if found else 0])
    schema_editor.execute("CREATE SEQUENCE IF NOT EXISTS tickets_reference_seq")
    # is_called false: the next nextval() returns start + 1 exactly.
    schema_editor.execute(
        "SELECT setval('tickets_reference_seq', %s, false)", [start + 1]
    )


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP SEQUENCE IF EXISTS tickets_reference_seq")


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0004_sla_escalation_help_text"),
    ]

    operations = [migrations.RunPython(create_sequence, drop_sequence)]
