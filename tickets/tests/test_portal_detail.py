"""One ticket in the portal: conversation, SLA expectation, actions and every denial."""

import pytest

from accounts.models import TicketSharing
from tickets import services
from tickets.models import Attachment, Comment, Status, Ticket

from .factories import (
    OrganizationFactory,
    TicketFactory,
    make_customer,
    png_bytes,
    upload,
)
from .portal_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


def url(ticket, action=""):
    return f"/portal/tickets/{ticket.reference}/" + (f"{action}/" if action else "")


def snapshot(ticket):
    ticket = Ticket.objects.get(pk=ticket.pk)
    return (
        ticket.status,
        ticket.satisfaction_rating,
        Comment.objects.filter(ticket=ticket).count(),
        Attachment.objects.filter(ticket=ticket).count(),
    )


def test_requester_sees_public_conversation_never_internal_notes(
    client, alice, agent, ticket
):
    services.reply(
        agent,
        ticket,
        body="Please try the new version.",
        attachments=[upload("guide.png", png_bytes())],
    )
    services.add_internal_note(
        agent,
        ticket,
        body="Customer is on the old plan, secret.",
        attachments=[upload("internal.png", png_bytes())],
    )
    client.force_login(alice)
    response = client.get(url(ticket))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Please try the new version." in body
    assert "secret" not in body
    assert "internal.png" not in body
    guide = Attachment.objects.get(original_name="guide.png")
    assert f'href="/portal/attachments/{guide.pk}/guide.png"' in body
    assert [c.body for c in response.context["comments"]] == [
        "Please try the new version."
    ]


def test_expected_response_time_from_the_sla(client, alice, ticket):
    client.force_login(alice)
    response = client.get(url(ticket))
    # medium priority, default policy: first response within 8 hours
    assert response.context["expectation"]["kind"] == "first_response"
    assert response.context["expectation"]["target"] == "8 hours"
    assert "Expected first response" in response.content.decode()


def test_reference_is_case_insensitive(client, alice, ticket):
    client.force_login(alice)
    assert client.get(f"/portal/tickets/{ticket.reference.lower()}/").status_code == 200


def test_anonymous_is_sent_to_login(client, ticket):
    response = client.get(url(ticket))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("action", ["", "reply", "status", "rate"])
def test_other_organization_gets_404_and_nothing_changes(client, carol, ticket, action):
    before = snapshot(ticket)
    client.force_login(carol)
    if action:
        response = client.post(
            url(ticket, action), {"body": "hi", "action": "close", "rating": "5"}
        )
    else:
        response = client.get(url(ticket))
    assert response.status_code == 404
    assert snapshot(ticket) == before


def test_unknown_reference_is_404(client, alice):
    client.force_login(alice)
    assert client.get("/portal/tickets/HD-999999/").status_code == 404
    assert client.get("/portal/tickets/%00%27/").status_code == 404


def test_sharing_none_colleague_gets_404(client, carol, dave, queue, globex):
    ticket = TicketFactory(requester=carol, queue=queue, organization=globex)
    client.force_login(dave)
    assert client.get(url(ticket)).status_code == 404
    before = snapshot(ticket)
    assert client.post(url(ticket, "reply"), {"body": "x"}).status_code == 404
    assert snapshot(ticket) == before


def test_read_write_colleague_sees_and_answers(client, bob, ticket):
    client.force_login(bob)
    response = client.get(url(ticket))
    assert response.status_code == 200
    assert response.context["allowed"] == {
        "reply": True,
        "close": False,
        "reopen": False,
        "withdraw": False,
        "rate": False,
    }
    body = response.content.decode()
    assert "My issue is solved" not in body
    assert "Withdraw ticket" not in body
    response = client.post(url(ticket, "reply"), {"body": "Same here."})
    assert response.status_code == 302
    assert Comment.objects.get(ticket=ticket).author == bob


def test_colleague_cannot_close_or_withdraw(client, bob, ticket):
    client.force_login(bob)
    before = snapshot(ticket)
    for action in ("close", "withdraw"):
        response = client.post(url(ticket, "status"), {"action": action}, follow=True)
        assert response.status_code == 200
        assert "Only the requester" in response.content.decode()
    assert snapshot(ticket) == before


def test_read_only_sharing_shows_but_refuses_replies(client, queue):
    initech = OrganizationFactory(slug="initech", ticket_sharing=TicketSharing.READ)
    peter, michael = make_customer(initech), make_customer(initech)
    ticket = TicketFactory(requester=michael, queue=queue, organization=initech)
    client.force_login(peter)
    response = client.get(url(ticket))
    assert response.status_code == 200
    assert response.context["allowed"]["reply"] is False
    assert 'action="/portal/tickets/' not in response.content.decode()
    before = snapshot(ticket)
    response = client.post(url(ticket, "reply"), {"body": "Let me in"})
    assert response.status_code == 400
    assert response.context["reply_form"].non_field_errors() == [
        "You cannot reply to this ticket."
    ]
    assert snapshot(ticket) == before


def test_reply_with_attachments(client, alice, ticket):
    client.force_login(alice)
    response = client.post(
        url(ticket, "reply"),
        {
            "body": "Here are the screenshots.",
            "attachments": [upload("a.png", png_bytes()), upload("b.png", png_bytes())],
        },
    )
    assert response.status_code == 302
    assert response["Location"] == url(ticket) + "#latest"
    comment = Comment.objects.get(ticket=ticket)
    assert sorted(a.original_name for a in comment.attachments.all()) == [
        "a.png",
        "b.png",
    ]


def test_empty_reply_shows_error_next_to_field(client, alice, ticket):
    client.force_login(alice)
    response = client.post(url(ticket, "reply"), {"body": ""})
    assert response.status_code == 400
    assert response.context["reply_form"].errors["body"] == ["This field is required."]
    assert 'class="field has-error"' in response.content.decode()
    assert Comment.objects.count() == 0


def test_requester_closes_then_rates_once(client, alice, ticket):
    client.force_login(alice)
    response = client.post(url(ticket, "status"), {"action": "close"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    page = client.get(url(ticket))
    assert page.context["allowed"]["rate"] is True
    assert page.context["allowed"]["reply"] is False
    assert page.context["expectation"] is None
    bad = client.post(url(ticket, "rate"), {"rating": "9"})
    assert bad.status_code == 400
    assert "rating" in bad.context["rating_form"].errors
    ok = client.post(url(ticket, "rate"), {"rating": "4", "comment": "Quick, thanks"})
    assert ok.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.satisfaction_rating, ticket.satisfaction_comment) == (
        4,
        "Quick, thanks",
    )
    again = client.post(url(ticket, "rate"), {"rating": "1"})
    assert again.status_code == 400
    assert again.context["rating_form"].non_field_errors() == [
        "This ticket has already been rated."
    ]
    ticket.refresh_from_db()
    assert ticket.satisfaction_rating == 4
    assert "Rated 4 out of 5." in client.get(url(ticket)).content.decode()


def test_requester_reopens_a_resolved_ticket(client, alice, agent, ticket):
    services.change_status(agent, ticket, Status.RESOLVED)
    client.force_login(alice)
    page = client.get(url(ticket))
    assert page.context["allowed"]["reopen"] is True
    assert page.context["allowed"]["rate"] is True
    client.post(url(ticket, "status"), {"action": "reopen"})
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_withdrawn_ticket_refuses_every_action(client, alice, ticket):
    client.force_login(alice)
    client.post(url(ticket, "status"), {"action": "withdraw"})
    ticket.refresh_from_db()
    assert ticket.status == Status.WITHDRAWN
    page = client.get(url(ticket))
    assert page.status_code == 200
    assert page.context["allowed"] == {
        "reply": False,
        "close": False,
        "reopen": False,
        "withdraw": False,
        "rate": False,
    }
    before = snapshot(ticket)
    reply = client.post(url(ticket, "reply"), {"body": "wait"})
    assert reply.status_code == 400
    assert reply.context["reply_form"].non_field_errors() == [
        "This ticket is finished; replies are no longer accepted."
    ]
    for action in ("close", "reopen", "withdraw"):
        client.post(url(ticket, "status"), {"action": action})
    rate = client.post(url(ticket, "rate"), {"rating": "5"})
    assert rate.status_code == 400
    assert snapshot(ticket) == before


def test_unknown_action_and_get_on_actions(client, alice, ticket):
    client.force_login(alice)
    response = client.post(url(ticket, "status"), {"action": "delete"}, follow=True)
    assert "Unknown action." in response.content.decode()
    assert client.get(url(ticket, "reply")).status_code == 405
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_detail_query_count_does_not_grow_with_comments(
    client, alice, agent, ticket, django_assert_max_num_queries
):
    for n in range(10):
        services.reply(agent, ticket, body=f"Reply {n}")
        services.reply(alice, ticket, body=f"Answer {n}")
    client.force_login(alice)
    with django_assert_max_num_queries(20):
        response = client.get(url(ticket))
    assert len(response.context["comments"]) == 20


def test_nul_byte_reference_is_404_not_a_database_error(alice, ticket):
    from tickets.exceptions import TicketNotFound
    from tickets.permissions import get_ticket_for

    with pytest.raises(TicketNotFound):
        get_ticket_for(alice, ticket.reference + "\x00")
