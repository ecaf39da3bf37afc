"""Ticket emails: exactly who is told what, over a realistic ticket story."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from portal.notifications.models import SentNotification
from tickets import services, tasks
from tickets.models import EventKind, TicketEvent

from .factories import TicketFactory, make_agent


@pytest.fixture
def act(django_capture_on_commit_callbacks):
    """Run a service call and what it queued after commit (the worker runs inline)."""

    def _act(func, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return func(*args, **kwargs)

    return _act


def sent():
    return [(m.to[0], m.subject) for m in mail.outbox]


@pytest.mark.django_db
def test_ticket_story_emails_exactly_the_expected_people(
    act, alice, bob, agent, supervisor, queue, acme
):
    ticket = act(
        TicketFactory,
        requester=alice,
        queue=queue,
        organization=acme,
        subject="Printer on fire",
    )
    ref = ticket.reference
    assert sent() == [
        ("alice@acme.example", f"[{ref}] We received your request: Printer on fire"),
        ("agent@example.com", f"[{ref}] New ticket in Support: Printer on fire"),
    ]
    assert f"http://testserver/portal/tickets/{ref}/" in mail.outbox[0].body
    assert f"http://testserver/admin/helpdesk/tickets/{ref}/" in mail.outbox[1].body

    mail.outbox.clear()
    act(services.assign, supervisor, ticket, agent)
    act(services.add_watcher, bob, ticket)
    assert sent() == [
        ("agent@example.com", f"[{ref}] Assigned to you: Printer on fire")
    ]

    mail.outbox.clear()
    act(services.reply, agent, ticket, body="Please unplug it.")
    assert sent() == [
        ("alice@acme.example", f"[{ref}] New reply: Printer on fire"),
        ("bob@acme.example", f"[{ref}] New reply: Printer on fire"),
    ]
    assert "Please unplug it." in mail.outbox[0].body

    mail.outbox.clear()
    act(services.add_internal_note, agent, ticket, body="Customer seems stressed.")
    assert sent() == []

    act(services.reply, alice, ticket, body="Done, it stopped.")
    assert sent() == [
        ("bob@acme.example", f"[{ref}] New reply: Printer on fire"),
        ("agent@example.com", f"[{ref}] New reply: Printer on fire"),
    ]

    mail.outbox.clear()
    act(services.change_status, agent, ticket, "resolved")
    assert sent() == [
        ("alice@acme.example", f"[{ref}] Resolved: Printer on fire"),
        ("bob@acme.example", f"[{ref}] Resolved: Printer on fire"),
    ]
    rating_link = f"http://testserver/portal/tickets/{ref}/#rate"
    assert rating_link in mail.outbox[0].body
    assert rating_link not in mail.outbox[1].body

    mail.outbox.clear()
    later = timezone.now() + timedelta(days=8)
    with_commits = act(tasks.auto_close_resolved, now=later)
    assert with_commits == 1
    assert act(tasks.auto_close_resolved, now=later) == 0
    assert sent() == [("alice@acme.example", f"[{ref}] Closed: Printer on fire")]
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    assert (
        TicketEvent.objects.filter(ticket=ticket, kind=EventKind.AUTO_CLOSED).count()
        == 1
    )


@pytest.mark.django_db
def test_a_retried_notification_job_sends_nothing_twice(act, alice, agent, queue):
    from tickets.notifications_handlers import notify_event

    act(TicketFactory, requester=alice, queue=queue)
    event = TicketEvent.objects.get(kind=EventKind.CREATED)
    count = len(mail.outbox)
    notify_event(event.pk)
    notify_event(event.pk)
    assert len(mail.outbox) == count == 2
    assert SentNotification.objects.count() == 2


@pytest.mark.django_db
def test_reply_and_status_preferences_are_honoured(act, alice, agent, queue):
    alice.notify_on_reply = False
    alice.notify_on_status = False
    alice.save()
    ticket = act(TicketFactory, requester=alice, queue=queue)
    mail.outbox.clear()
    act(services.reply, agent, ticket, body="Hello")
    act(services.change_status, agent, ticket, "resolved")
    assert sent() == []


@pytest.mark.django_db
def test_self_assignment_and_own_replies_email_nobody(act, alice, agent, queue):
    ticket = act(TicketFactory, requester=alice, queue=queue)
    mail.outbox.clear()
    act(services.self_assign, agent, ticket)
    act(services.reply, alice, ticket, body="More details")
    # the assignee hears of the customer's reply; alice does not hear of her own
    assert sent() == [
        ("agent@example.com", f"[{ticket.reference}] New reply: {ticket.subject}")
    ]


@pytest.mark.django_db
def test_an_agent_filing_for_a_customer_gets_no_alert(act, alice, agent, queue):
    from .factories import make_agent

    make_agent(queue, email="second@example.com")
    ticket = act(TicketFactory, requester=alice, queue=queue, actor=agent)
    assert sent() == [
        (
            "alice@acme.example",
            f"[{ticket.reference}] We received your request: {ticket.subject}",
        ),
        (
            "second@example.com",
            f"[{ticket.reference}] New ticket in Support: {ticket.subject}",
        ),
    ]


@pytest.mark.parametrize("extra_agents", [1, 6])
def test_new_ticket_alerts_cost_no_role_lookup_per_agent(
    extra_agents, alice, agent, queue, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tickets.notifications_handlers import notify_event

    from .factories import make_agent

    for n in range(extra_agents):
        make_agent(queue, email=f"agent{n}@example.com")
    ticket = services.create_ticket(alice, subject="S", description="D", queue=queue)
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.CREATED)
    with CaptureQueriesContext(connection) as captured:
        notify_event(event.pk)
    role_lookups = [q for q in captured if 'FROM "auth_group"' in q["sql"]]
    # the requester's roles once, the agents' in one prefetch
    assert len(role_lookups) == 2
    assert len(mail.outbox) == 2 + extra_agents
    assert all("/admin/helpdesk/tickets/" in m.body for m in mail.outbox[1:])


@pytest.mark.django_db
def test_customer_emails_name_staff_without_their_address(act, alice, queue):
    """The customer's view of a ticket holds in emails too: an agent without a display
    name is named by the local part of the address; the agent's own email keeps the
    customer's name as staff see it (the twin)."""
    nameless = make_agent(queue, email="sam.staff@example.com", display_name="")
    ticket = act(TicketFactory, requester=alice, queue=queue, subject="Hello")
    act(services.assign, nameless, ticket, nameless)
    mail.outbox.clear()
    act(services.reply, nameless, ticket, body="On it.")
    (reply,) = [m for m in mail.outbox if m.to == ["alice@acme.example"]]
    assert "sam.staff@example.com" not in reply.body
    assert "sam.staff" in reply.body
    assert "sam.staff@example.com" not in reply.alternatives[0][0]

    mail.outbox.clear()
    act(services.reply, alice, ticket, body="Thanks")
    (to_agent,) = [m for m in mail.outbox if m.to == ["sam.staff@example.com"]]
    assert alice.get_display_name() in to_agent.body


@pytest.mark.django_db
def test_canned_response_names_the_agent_without_an_address(alice, queue):
    from tickets.canned import render_canned_response
    from tickets.models import CannedResponse

    nameless = make_agent(queue, email="sam.staff@example.com", display_name="")
    ticket = TicketFactory(requester=alice, queue=queue)
    canned = CannedResponse(title="Sign", body="Regards, {{ agent_name }}")
    assert render_canned_response(canned, ticket, nameless) == "Regards, sam.staff"


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "pl", "ru"])
def test_each_recipient_sees_the_assignee_as_their_role_allows(
    act, alice, agent, queue, language
):
    """Each recipient's email context names people as ``name_shown_to`` shows them to
    that recipient (the support team decided once per recipient): the customer gets
    the assignee's name and the portal link, never the address, in every language;
    a watching agent (the twin) gets the address-as-name and the desk link."""
    alice.locale = language
    alice.save(update_fields=["locale"])
    nameless = make_agent(queue, email="sam.staff@example.com", display_name="")
    ticket = act(TicketFactory, requester=alice, queue=queue, subject="Hello")
    act(services.assign, nameless, ticket, nameless)
    act(services.add_watcher, agent, ticket)
    mail.outbox.clear()
    act(services.change_status, nameless, ticket, "resolved")
    rows = {
        row.recipient_id: row
        for row in SentNotification.objects.filter(kind="ticket_status_changed")
    }
    ref = ticket.reference
    customer, staff = rows[alice.pk].context, rows[agent.pk].context
    assert customer["assignee_name"] == "sam.staff"
    assert customer["ticket_url"] == f"http://testserver/portal/tickets/{ref}/"
    assert staff["assignee_name"] == "sam.staff@example.com"
    assert staff["ticket_url"] == f"http://testserver/admin/helpdesk/tickets/{ref}/"
    (to_alice,) = [m for m in mail.outbox if m.to == ["alice@acme.example"]]
    for text in (to_alice.subject, to_alice.body, to_alice.alternatives[0][0]):
        assert "sam.staff@example.com" not in text
    assert b"sam.staff@example.com" not in to_alice.message().as_bytes()
