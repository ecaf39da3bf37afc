from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tickets import lifecycle, services
from tickets.exceptions import PermissionDenied
from tickets.models import Status, Ticket, TicketEvent


def _events(ticket, kind="status_changed"):
    return list(
        TicketEvent.objects.filter(ticket=ticket, kind=kind).values_list(
            "old_value", "new_value"
        )
    )


def test_staff_walks_the_happy_path(ticket, agent):
    for status in ("open", "in_progress", "waiting_on_customer", "in_progress"):
        services.change_status(agent, ticket, status)
    services.change_status(agent, ticket, "resolved")
    assert ticket.resolved_at is not None
    services.change_status(agent, ticket, "closed")
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    assert ticket.closed_at is not None
    assert _events(ticket) == [
        ("new", "open"),
        ("open", "in_progress"),
        ("in_progress", "waiting_on_customer"),
        ("waiting_on_customer", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "closed"),
    ]


def test_illegal_transition_is_a_validation_error_and_changes_nothing(ticket, agent):
    services.change_status(agent, ticket, "resolved")
    with pytest.raises(ValidationError) as error:
        services.change_status(agent, ticket, "on_hold")
    assert error.value.message_dict == {
        "status": ["A ticket cannot go from Resolved to On hold."]
    }
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    assert len(_events(ticket)) == 1


def test_unknown_status_is_refused(ticket, agent):
    with pytest.raises(ValidationError):
        services.change_status(agent, ticket, "done")
    assert Ticket.objects.get(pk=ticket.pk).status == "new"


def test_rejecting_needs_a_reason(ticket, agent):
    with pytest.raises(ValidationError) as error:
        services.change_status(agent, ticket, "rejected", reason="  ")
    assert error.value.message_dict == {
        "reason": ["Give a reason for rejecting the ticket."]
    }
    services.change_status(agent, ticket, "rejected", reason="Spam")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.rejection_reason) == ("rejected", "Spam")
    assert TicketEvent.objects.get(ticket=ticket, kind="status_changed").data == {
        "reason": "Spam"
    }
    assert lifecycle.TRANSITIONS[Status.REJECTED] == {}


def test_requester_withdraws_but_colleague_may_not(ticket, alice, bob):
    with pytest.raises(PermissionDenied):
        services.change_status(bob, ticket, "withdrawn")
    assert Ticket.objects.get(pk=ticket.pk).status == "new"
    services.change_status(alice, ticket, "withdrawn")
    assert Ticket.objects.get(pk=ticket.pk).status == "withdrawn"


def test_requester_cannot_make_staff_moves(ticket, alice):
    with pytest.raises(PermissionDenied):
        services.change_status(alice, ticket, "in_progress")
    assert Ticket.objects.get(pk=ticket.pk).status == "new"


def test_requester_marks_solved_closes(ticket, alice):
    services.change_status(alice, ticket, "closed")
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    assert ticket.resolved_at is not None


def test_closed_is_final_except_for_a_supervisor(ticket, agent, alice, supervisor):
    services.change_status(agent, ticket, "resolved")
    services.change_status(alice, ticket, "closed")
    for user in (agent, alice):
        with pytest.raises(PermissionDenied):
            services.change_status(user, ticket, "open")
    with pytest.raises(ValidationError):
        services.reply(alice, ticket, body="Hello?")
    services.change_status(supervisor, ticket, "open")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.closed_at, ticket.resolved_at) == ("open", None, None)


def test_customer_reply_reopens_waiting_and_resolved(ticket, agent, bob):
    services.change_status(agent, ticket, "waiting_on_customer")
    services.reply(bob, ticket, body="Here are the logs.")
    assert Ticket.objects.get(pk=ticket.pk).status == "open"
    services.change_status(agent, ticket, "resolved")
    services.reply(bob, ticket, body="Still broken.")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolved_at) == ("open", None)
    assert _events(ticket)[-1] == ("resolved", "open")


def test_first_response_is_the_first_public_staff_reply(ticket, agent, alice):
    services.reply(alice, ticket, body="Any news?")
    services.add_internal_note(agent, ticket, body="Looking")
    assert Ticket.objects.get(pk=ticket.pk).first_responded_at is None
    first = services.reply(agent, ticket, body="On it")
    services.reply(agent, ticket, body="Again")
    assert Ticket.objects.get(pk=ticket.pk).first_responded_at == first.created_at


def test_resolution_clock_pauses_while_waiting(ticket, agent):
    due = ticket.resolution_due_at
    services.change_status(agent, ticket, "waiting_on_customer")
    paused_at = ticket.paused_at
    assert paused_at is not None
    # pretend the customer took two hours
    Ticket.objects.filter(pk=ticket.pk).update(paused_at=paused_at - timedelta(hours=2))
    services.change_status(agent, ticket, "on_hold")
    assert ticket.paused_at is not None  # still paused between the two paused states
    services.change_status(agent, ticket, "in_progress")
    ticket.refresh_from_db()
    assert ticket.paused_at is None
    assert ticket.paused_seconds >= 2 * 3600
    pushed = (ticket.resolution_due_at - due).total_seconds()
    assert abs(pushed - ticket.paused_seconds) < 1


def test_change_priority_recomputes_due_times(ticket, agent):
    services.change_priority(agent, ticket, "critical")
    ticket.refresh_from_db()
    assert ticket.priority == "critical"
    assert ticket.first_response_due_at - ticket.created_at == timedelta(hours=1)
    assert ticket.resolution_due_at - ticket.created_at == timedelta(hours=4)
    event = TicketEvent.objects.get(ticket=ticket, kind="priority_changed")
    assert (event.old_value, event.new_value) == ("medium", "critical")


def test_queryset_filters(ticket, agent, alice, queue):
    now = timezone.now()
    assert list(Ticket.objects.open()) == [ticket]
    assert list(Ticket.objects.unassigned()) == [ticket]
    assert list(Ticket.objects.for_queue(queue)) == [ticket]
    assert list(Ticket.objects.breaching_sla(now)) == []
    assert list(Ticket.objects.breaching_sla(now + timedelta(hours=9))) == [ticket]
    assert list(Ticket.objects.at_risk(now + timedelta(hours=7, minutes=30))) == [
        ticket
    ]
    services.change_status(agent, ticket, "resolved")
    assert list(Ticket.objects.closed()) == [ticket]
    assert list(Ticket.objects.open()) == []


def test_rating_once_after_resolution(ticket, agent, alice, bob):
    with pytest.raises(ValidationError) as error:
        services.rate(alice, ticket, rating=5)
    assert error.value.messages == ["A ticket can be rated once it is resolved."]
    services.change_status(agent, ticket, "resolved")
    with pytest.raises(PermissionDenied):
        services.rate(bob, ticket, rating=1)
    with pytest.raises(ValidationError):
        services.rate(alice, ticket, rating=6)
    services.rate(alice, ticket, rating=4, comment="Quick, thanks")
    with pytest.raises(ValidationError) as error:
        services.rate(alice, ticket, rating=1)
    assert error.value.messages == ["This ticket has already been rated."]
    ticket.refresh_from_db()
    assert (ticket.satisfaction_rating, ticket.satisfaction_comment) == (
        4,
        "Quick, thanks",
    )
    assert TicketEvent.objects.filter(ticket=ticket, kind="rated").count() == 1
