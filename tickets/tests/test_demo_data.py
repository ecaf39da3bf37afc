from datetime import timedelta

from django.utils import timezone

from accounts import demo_data as accounts_demo
from portal.demo import DemoContext
from tickets import demo_data, permissions
from tickets.models import Attachment, Comment, Queue, Status, Ticket


def test_demo_helpdesk(db):
    context = DemoContext(password="demo-password", log=lambda line: None)
    accounts_demo.load(context)
    demo_data.load(context)
    users = context.objects["users"]
    support, billing = (
        Queue.objects.get(slug="support"),
        Queue.objects.get(slug="billing"),
    )
    assert users["agent@example.com"].groups.filter(pk=support.agent_group_id).exists()
    assert (
        users["billing.agent@example.com"]
        .groups.filter(pk=billing.agent_group_id)
        .exists()
    )
    assert Ticket.objects.count() == 45
    assert set(Ticket.objects.values_list("status", flat=True)) == set(Status.values)
    assert set(Ticket.objects.values_list("priority", flat=True)) == {
        "low",
        "medium",
        "high",
        "critical",
    }
    assert Ticket.objects.breaching_sla(timezone.now()).exists()
    assert Ticket.objects.filter(satisfaction_rating__isnull=False).exists()
    assert Comment.objects.filter(is_internal=True).exists()
    assert Attachment.objects.filter(content_type="image/png").exists()

    alice, carol = users["alice@acme.example"], users["carol@globex.example"]
    alice_sees = permissions.visible_tickets(alice)
    assert alice_sees.filter(requester__email="bob@acme.example").exists()
    assert not alice_sees.filter(requester=carol).exists()
    assert permissions.visible_tickets(carol).count() == 15

    demo_data.load(context)
    assert Ticket.objects.count() == 45


def test_demo_history_takes_hours_and_days_not_milliseconds(db):
    """Reports' medians are not 0.0 h: the demo's steps are hours apart (first reply
    20 minutes to 9 hours after creation, resolution one to three days), and tickets
    were created over five weeks."""
    from tickets import sla

    context = DemoContext(password="demo-password", log=lambda line: None)
    accounts_demo.load(context)
    demo_data.load(context)
    rows = list(
        Ticket.objects.values("created_at", "first_responded_at", "resolved_at")
    )
    first = sla.first_response_durations(rows)
    resolved = sla.resolution_durations(rows)
    assert len(first) >= 20 and len(resolved) >= 5
    assert min(first) >= 20 * 60 - 5
    assert 1 * 3600 <= sla.median(first) <= 9 * 3600
    assert min(resolved) >= 12 * 3600
    assert 24 * 3600 <= sla.median(resolved) <= 4 * 24 * 3600
    created = [r["created_at"] for r in rows]
    assert max(created) - min(created) >= timedelta(days=28)
    assert max(created) <= timezone.now() - timedelta(hours=20)
