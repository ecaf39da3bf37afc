"""The ticket services' refusals carry a ``TicketErrorCode`` (tickets/errors.py), and
the desk and the portal show the same messages as before the codes existed."""

import pytest
from django.core.exceptions import ValidationError

from tickets import services
from tickets.errors import TicketError, TicketErrorCode
from tickets.exceptions import PermissionDenied
from tickets.models import Status, Ticket

pytestmark = pytest.mark.django_db


def raised(call):
    with pytest.raises(ValidationError) as refused:
        call()
    error = refused.value
    assert isinstance(error, TicketError)
    return error


def codes(error):
    if hasattr(error, "error_dict"):
        return {f: [e.code for e in errs] for f, errs in error.error_dict.items()}
    return [e.code for e in error.error_list]


def test_state_refusals_name_their_state(ticket, agent, alice):
    assert codes(raised(lambda: services.rate(alice, ticket, rating=5))) == [
        TicketErrorCode.NOT_RESOLVED
    ]
    services.change_status(agent, ticket, Status.RESOLVED)
    services.rate(alice, ticket, rating=4)
    again = raised(lambda: services.rate(alice, ticket, rating=1))
    assert (codes(again), again.messages) == (
        [TicketErrorCode.ALREADY_RATED],
        ["This ticket has already been rated."],
    )
    already = raised(lambda: services.change_status(agent, ticket, Status.RESOLVED))
    assert codes(already) == {"status": [TicketErrorCode.ALREADY_IN_STATUS]}
    assert Ticket.objects.get(pk=ticket.pk).satisfaction_rating == 4


def test_input_refusals_name_the_field_and_the_failure(ticket, agent):
    refusals = {
        "reason": lambda: services.change_status(agent, ticket, "rejected", reason=" "),
        "long_reason": lambda: services.change_status(
            agent, ticket, "rejected", reason="x" * (services.MAX_REASON_LENGTH + 1)
        ),
        "status": lambda: services.change_status(agent, ticket, "done"),
        "minutes": lambda: services.log_time(agent, ticket, minutes=0),
        "tags": lambda: services.set_tags(agent, ticket, ["x" * 51]),
        "merge": lambda: services.merge(agent, ticket, ticket),
        "reply": lambda: services.reply(agent, ticket, body="  "),
    }
    found = {name: codes(raised(call)) for name, call in refusals.items()}
    assert found == {
        "reason": {"reason": [TicketErrorCode.REASON_REQUIRED]},
        "long_reason": {"reason": [TicketErrorCode.REASON_TOO_LONG]},
        "status": {"status": [TicketErrorCode.UNKNOWN_CHOICE]},
        "minutes": {"minutes": [TicketErrorCode.MINUTES_OUT_OF_RANGE]},
        "tags": {"tags": [TicketErrorCode.TAG_TOO_LONG]},
        "merge": {"target": [TicketErrorCode.MERGE_INTO_ITSELF]},
        "reply": {"body": [TicketErrorCode.TEXT_REQUIRED]},
    }
    assert Ticket.objects.get(pk=ticket.pk).status == Status.NEW


def test_a_forbidden_action_is_not_a_coded_refusal(ticket, bob):
    """The denied twin: forbidding stays PermissionDenied (PERMISSION_DENIED)."""
    with pytest.raises(PermissionDenied) as refused:
        services.log_time(bob, ticket, minutes=5)
    assert not isinstance(refused.value, ValidationError)


def test_portal_shows_the_state_message_unchanged(client, alice, ticket):
    client.force_login(alice)
    client.post(f"/portal/tickets/{ticket.reference}/status/", {"action": "withdraw"})
    ticket.refresh_from_db()
    assert ticket.status == Status.WITHDRAWN
    reply = client.post(f"/portal/tickets/{ticket.reference}/reply/", {"body": "x"})
    assert reply.status_code == 400
    assert reply.context["reply_form"].non_field_errors() == [
        "This ticket is finished; replies are no longer accepted."
    ]
    assert codes(raised(lambda: services.reply(alice, ticket, body="x"))) == [
        TicketErrorCode.TICKET_FINISHED
    ]


def test_desk_shows_the_field_message_unchanged(client, agent, ticket):
    client.force_login(agent)
    desk = f"/admin/helpdesk/tickets/{ticket.reference}/"
    merge = client.post(desk + "merge/", {"target": ticket.reference})
    assert merge.status_code == 400
    assert "A ticket cannot be merged into itself." in merge.content.decode()
    reject = client.post(desk + "status/", {"status": "rejected", "reason": ""})
    assert reject.status_code == 400
    assert "Give a reason for rejecting the ticket." in reject.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).status == Status.NEW
