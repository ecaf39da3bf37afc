import pytest
from django.core.management import call_command

from tickets.models import Comment, Source, Ticket

from ..models import InboundMessage, Mailbox


@pytest.mark.django_db
def test_the_demo_has_a_mailbox_and_emailed_tickets_once():
    call_command("load_demo", verbosity=0)
    call_command("load_demo", verbosity=0)
    emailed = Ticket.objects.filter(source=Source.EMAIL).order_by("pk")
    assert [t.subject for t in emailed] == [
        "Invoice PDF will not open",
        "How do I sign up for the team plan?",
        "Sync stuck at 99 %",
    ]
    assert emailed[2].description == "Since Monday the sync stops at 99 %."
    reply = Comment.objects.get(ticket=emailed[0])
    assert reply.body == "It opens in another viewer, so it is my PDF reader."
    assert InboundMessage.objects.count() == 4
    assert Mailbox.objects.get().queue.slug == "support"
