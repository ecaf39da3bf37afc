"""Input limits have one owner, the domain (``tickets.services``): the forms read them
from there, so a form never refuses what the service accepts (the desk's rejection
reason stopped at 2,000 characters while the service allows 5,000) nor lets through
what it refuses."""

import pytest

from tickets import services
from tickets.desk.forms import StatusForm
from tickets.forms import NewTicketForm, RatingForm, ReplyForm
from tickets.models import Status, Ticket

from .factories import TicketFactory

pytestmark = pytest.mark.django_db


def test_forms_read_the_limits_from_the_service():
    assert StatusForm().fields["reason"].max_length == services.MAX_REASON_LENGTH
    assert ReplyForm().fields["body"].max_length == services.MAX_BODY_LENGTH
    assert RatingForm().fields["comment"].max_length == (
        services.MAX_RATING_COMMENT_LENGTH
    )
    assert NewTicketForm.base_fields["description"].max_length == (
        services.MAX_BODY_LENGTH
    )


def test_desk_rejects_with_the_longest_reason_the_service_allows(
    client, agent, alice, queue
):
    ticket = TicketFactory(requester=alice, queue=queue)
    url = f"/admin/helpdesk/tickets/{ticket.reference}/status/"
    client.force_login(agent)
    too_long = "x" * (services.MAX_REASON_LENGTH + 1)
    response = client.post(url, {"status": Status.REJECTED, "reason": too_long})
    assert response.status_code == 400
    assert Ticket.objects.get(pk=ticket.pk).status == Status.NEW

    longest = "x" * services.MAX_REASON_LENGTH  # was refused by the form (2,000)
    response = client.post(url, {"status": Status.REJECTED, "reason": longest})
    assert response.status_code == 302
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.status == Status.REJECTED
    assert ticket.rejection_reason == longest


def test_the_desk_reason_field_lets_the_browser_type_what_the_service_allows(
    client, agent, alice, queue
):
    """The workspace's hand-written reason input said maxlength="2000": a browser cut
    the reason at 2,000 characters although the form and service take 5,000."""
    ticket = TicketFactory(requester=alice, queue=queue)
    client.force_login(agent)
    html = client.get(f"/admin/helpdesk/tickets/{ticket.reference}/").content.decode()
    assert f'name="reason" id="id_reason" maxlength="{services.MAX_REASON_LENGTH}"' in (
        html
    )
