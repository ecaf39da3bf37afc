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
