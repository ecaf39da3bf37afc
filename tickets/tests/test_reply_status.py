"""A public staff reply moves a new ticket on (to open, or to the status the agent
sends it as); the rule lives in ``services.reply`` via ``lifecycle.after_reply``, so
the desk and GraphQL get it alike. And the desk's status control starts at the current
status."""

import re

import pytest
from django.core.exceptions import ValidationError

from tickets import lifecycle, services
from tickets.exceptions import PermissionDenied
from tickets.models import Comment, Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def _status_events(ticket):
    return list(
        TicketEvent.objects.filter(ticket=ticket, kind="status_changed").values_list(
            "old_value", "new_value", "data"
        )
    )


def _state(ticket):
    fresh = Ticket.objects.get(pk=ticket.pk)
    return (
        fresh.status,
        fresh.first_responded_at,
        Comment.objects.filter(ticket=ticket).count(),
        TicketEvent.objects.filter(ticket=ticket).count(),
    )


def test_first_public_staff_reply_moves_a_new_ticket_to_open(ticket, agent):
    assert ticket.status == Status.NEW
    services.reply(agent, ticket, body="On it")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert [(old, new) for old, new, _data in _status_events(ticket)] == [
        ("new", "open")
    ]
    assert _status_events(ticket)[0][2]["cause"] == "staff_reply"
    # Later replies leave an open ticket open: no further status event.
    services.reply(agent, ticket, body="Again")
    assert Ticket.objects.get(pk=ticket.pk).status == Status.OPEN
    assert len(_status_events(ticket)) == 1


def test_staff_reply_sent_as_waiting_on_customer(ticket, agent):
    services.reply(
        agent, ticket, body="Which version?", submit_as="waiting_on_customer"
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING_ON_CUSTOMER
    assert [(o, n) for o, n, _d in _status_events(ticket)] == [
        ("new", "waiting_on_customer")
    ]
    # Sending an open ticket's reply "as open" from waiting moves it back.
    services.reply(agent, ticket, body="Found it", submit_as="open")
    assert Ticket.objects.get(pk=ticket.pk).status == Status.OPEN


def test_internal_note_and_customer_reply_leave_a_new_ticket_new(ticket, agent, alice):
    services.add_internal_note(agent, ticket, body="Looking")
    services.reply(alice, ticket, body="Any news?")
    assert Ticket.objects.get(pk=ticket.pk).status == Status.NEW
    assert _status_events(ticket) == []


def test_submit_as_refused_for_customers_and_impossible_moves(ticket, agent, alice):
    before = _state(ticket)
    with pytest.raises(PermissionDenied):
        services.reply(alice, ticket, body="x", submit_as="open")
    with pytest.raises(ValidationError) as error:
        services.reply(agent, ticket, body="x", submit_as="resolved")
    assert "submit_as" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.reply(agent, ticket, body="x", submit_as="bogus")
    assert _state(ticket) == before


def test_lifecycle_after_reply_table():
    staff = {"by_staff": True}
    assert lifecycle.after_reply("new", **staff) == "open"
    assert lifecycle.after_reply("new", **staff, submit_as="waiting_on_customer") == (
        "waiting_on_customer"
    )
    assert lifecycle.after_reply("in_progress", **staff) is None
    assert lifecycle.after_reply("open", **staff, submit_as="open") is None
    assert lifecycle.after_reply("closed", **staff, submit_as="open") is None
    assert lifecycle.after_reply("new", by_staff=False) is None
    assert lifecycle.after_reply("resolved", by_staff=False) == "open"


# --- the desk -------------------------------------------------------------------------


def url(ticket, action=""):
    base = f"/admin/helpdesk/tickets/{ticket.reference}/"
    return f"{base}{action}/" if action else base


def _status_options(html):
    select = re.search(r'<select name="status".*?</select>', html, re.S).group()
    return re.findall(r'<option value="([^"]+)"( selected)?>([^<]*)</option>', select)


def test_desk_status_control_preselects_the_current_status(client, agent, ticket):
    client.force_login(agent)
    html = client.get(url(ticket)).content.decode()
    options = _status_options(html)
    assert options[0] == ("new", " selected", "New (current)")
    assert [value for value, selected, _label in options if selected] == ["new"]
    assert "open" in [value for value, _s, _l in options]
    # The reason sits in its own block that desk.js shows only when rejecting.
    assert re.search(r"<div data-desk-reason>\s*<label for=\"id_reason\">", html)
    services.change_status(agent, ticket, "in_progress")
    options = _status_options(client.get(url(ticket)).content.decode())
    assert [value for value, selected, _label in options if selected] == ["in_progress"]


def test_desk_submitting_the_unchanged_status_changes_nothing(client, agent, ticket):
    client.force_login(agent)
    before = _state(ticket)
    response = client.post(url(ticket, "status"), {"status": "new"})
    assert response.status_code == 400
    assert "already New" in response.content.decode()
    assert _state(ticket) == before


def test_desk_reply_moves_new_to_open_or_to_the_chosen_status(
    client, agent, ticket, alice, queue
):
    from .factories import TicketFactory

    client.force_login(agent)
    html = client.get(url(ticket)).content.decode()
    assert '<select name="submit_as" id="id_submit_as">' in html
    response = client.post(url(ticket, "comment"), {"body": "We are on it."})
    assert response.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).status == Status.OPEN

    second = TicketFactory(
        requester=alice, queue=queue, organization=ticket.organization
    )
    response = client.post(
        url(second, "comment"),
        {"body": "Which version?", "submit_as": "waiting_on_customer"},
    )
    assert response.status_code == 302
    assert Ticket.objects.get(pk=second.pk).status == Status.WAITING_ON_CUSTOMER


def test_desk_reply_with_an_impossible_status_is_a_form_error(client, agent, ticket):
    client.force_login(agent)
    before = _state(ticket)
    response = client.post(
        url(ticket, "comment"), {"body": "x", "submit_as": "resolved"}
    )
    assert response.status_code == 400
    assert _state(ticket) == before
