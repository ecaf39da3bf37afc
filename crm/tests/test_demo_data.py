"""The demo's CRM: organization details, 30+ interactions and 20+ tasks (some overdue,
some done) spread over weeks, the same after a second run."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Organization
from crm.models import Interaction, Task


@pytest.mark.django_db
def test_load_demo_builds_the_crm_once():
    call_command("load_demo", verbosity=0)
    counts = (Interaction.objects.count(), Task.objects.count())
    call_command("load_demo", verbosity=0)
    assert (Interaction.objects.count(), Task.objects.count()) == counts
    assert counts[0] >= 30 and counts[1] >= 20
    now = timezone.now()
    assert Task.objects.overdue(now).count() >= 3
    assert Task.objects.filter(status="done").count() >= 3
    assert Task.objects.open().filter(due_at__gt=now).count() >= 3
    days = {i.happened_at.date() for i in Interaction.objects.all()}
    assert (max(days) - min(days)).days >= 28
    acme = Organization.objects.get(slug="acme")
    assert (acme.website, acme.industry) == ("https://acme.example", "Manufacturing")
    assert acme.account_manager.email == "agent@example.com"
    # the ticket page's Follow-up panel has content on open demo tickets of both
    for slug in ("acme", "globex"):
        linked = Task.objects.filter(ticket__organization__slug=slug)
        assert linked.count() == 2
        assert all(t.ticket.is_open for t in linked)
        assert (
            Interaction.objects.filter(
                ticket__organization__slug=slug, kind="call"
            ).count()
            == 2
        )
