"""A partial index for a filing's look at the session's recent deflection (bench
FINDINGS F-6, 2026-12-06).

Every portal filing with a fresh form token asks for the session's last ``deflected``
row without a ticket from the last 30 minutes (``deflection._recent_deflections``,
inside the filing's own statement since F-5). The only index it could use was the
foreign key's ``(user_id)``: it read every row of the customer, one more after each of
their filings (each writes a ``filed`` row), and dropped them by the filter. A
customer who files often (the benchmark's filer: ~2,000 filings a round) made each next
filing dearer. This index holds only the rows the look can return (``deflected``, no
ticket): a filing's own row never enters it, so the look reads nothing but the
session's deflections. A beacon's ``deflected`` row enters it and leaves it when that
visit is filed (the UPDATE sets ``outcome`` and the ticket)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0023_ticket_search_hash_idx"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="deflectionevent",
            index=models.Index(
                condition=models.Q(("outcome", "deflected"), ("ticket__isnull", True)),
                fields=["user", "session_key", "updated_at"],
                name="deflection_recent_idx",
            ),
        ),
    ]
