"""In Debian's Chromium: the desk's status control starts at the ticket's current status,
and the rejection reason is shown only while "Rejected" is chosen.

Run: ``.venv/bin/pytest -m browser tests/browser/test_desk_status_control.py``."""

import pytest

from tickets import services
from tickets.models import Status, Ticket
from tickets.tests.factories import (
    OrganizationFactory,
    QueueFactory,
    TicketFactory,
    make_agent,
    make_customer,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_status_control_preselects_current_status_and_reveals_reason_for_rejecting(
    live_server, page, login_as
):
    queue = QueueFactory(slug="support", name="Support", is_default=True)
    acme = OrganizationFactory(name="Acme", slug="acme")
    agent = make_agent(queue, email="agent@example.com")
    alice = make_customer(acme, email="alice@acme.example")
    fresh = TicketFactory(requester=alice, queue=queue, organization=acme)
    worked = TicketFactory(requester=alice, queue=queue, organization=acme)
    services.change_status(agent, worked, Status.IN_PROGRESS)
    login_as(agent)

    page.goto(f"{live_server.url}/admin/helpdesk/tickets/{fresh.reference}/")
    assert page.input_value("#id_status") == Status.NEW
    assert page.locator("#id_status option:checked").inner_text() == "New (current)"
    reason = page.locator("[data-desk-reason]")
    assert not reason.is_visible()
    page.select_option("#id_status", value=Status.REJECTED)
    assert reason.is_visible()
    page.select_option("#id_status", value=Status.OPEN)
    assert not reason.is_visible()
    page.get_by_role("button", name="Change status").click()
    page.wait_for_load_state("networkidle")
    assert Ticket.objects.get(pk=fresh.pk).status == Status.OPEN

    page.goto(f"{live_server.url}/admin/helpdesk/tickets/{worked.reference}/")
    assert page.input_value("#id_status") == Status.IN_PROGRESS
    # "Change status" without touching the control changes nothing (it used to move
    # the ticket to the first option).
    page.get_by_role("button", name="Change status").click()
    page.wait_for_load_state("networkidle")
    assert Ticket.objects.get(pk=worked.pk).status == Status.IN_PROGRESS
    assert "already In progress" in page.content()
