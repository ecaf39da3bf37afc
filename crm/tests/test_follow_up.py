"""The Follow-up panel on a ticket's workspace (crm through the tickets desk's
``register_ticket_workspace_panel`` hook): who sees it, who may add a task or log an
interaction from it (and the denied twins: viewer, agent of another queue, customer,
bad input — nothing written), and its fixed number of queries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.desk import follow_up
from crm.models import Interaction, Task
from tickets.tests.factories import TicketFactory, make_customer

pytestmark = pytest.mark.django_db


def page(ticket):
    return f"/admin/helpdesk/tickets/{ticket.reference}/"


def task_url(ticket):
    return f"{page(ticket)}follow-up/task/"


def interaction_url(ticket):
    return f"{page(ticket)}follow-up/interaction/"


def task_post(assignee, **fields):
    data = {"title": "Send the quote", "due_at": "2030-01-02T10:00"}
    data.update(fields)
    data.setdefault("assignee", assignee.pk)
    return {f"{follow_up.TASK_PREFIX}-{key}": value for key, value in data.items()}


def interaction_post(**fields):
    data = {"kind": "call", "summary": "Called about the renewal\nWants 5 seats"}
    data.update(fields)
    return {
        f"{follow_up.INTERACTION_PREFIX}-{key}": value for key, value in data.items()
    }


def test_writer_sees_the_panel_and_adds_a_task_linked_to_the_ticket(
    client, scene, agent, supervisor, ticket, alice, acme, make_task, now
):
    make_task(
        title="Overdue call", ticket=ticket, assignee=agent, due_at=now - timedelta(1)
    )
    make_task(title="Done already", ticket=ticket, status="done")
    client.force_login(agent)
    html = client.get(page(ticket)).content.decode()
    assert 'data-testid="crm-follow-up"' in html
    assert "Overdue call" in html and "Done already" not in html
    assert 'class="desk-flag"' in html
    assert f'action="{task_url(ticket)}"' in html
    assert f'action="{interaction_url(ticket)}"' in html

    response = client.post(task_url(ticket), task_post(supervisor))
    assert response.status_code == 302 and response.url == page(ticket)
    task = Task.objects.get(title="Send the quote")
    assert (
        task.ticket,
        task.organization,
        task.contact,
        task.assignee,
        task.created_by,
        task.status,
        task.completed_at,
    ) == (ticket, acme, alice, supervisor, agent, "todo", None)
    assert timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M") == (
        "2030-01-02 10:00"
    )
    assert Task.objects.count() == 3
    followed = client.get(page(ticket)).content.decode()
    assert "Send the quote" in followed and "created." in followed


def test_writer_logs_an_interaction_linked_to_ticket_organization_and_requester(
    client, scene, agent, ticket, alice, acme
):
    client.force_login(agent)
    response = client.post(
        interaction_url(ticket),
        interaction_post(happened_at="2026-11-30T09:15"),
    )
    assert response.status_code == 302 and response.url == page(ticket)
    interaction = Interaction.objects.get()
    assert (
        interaction.kind,
        interaction.subject,
        interaction.summary,
        interaction.author,
        interaction.ticket,
        interaction.organization,
        interaction.contact,
    ) == (
        "call",
        "Called about the renewal",
        "Called about the renewal\nWants 5 seats",
        agent,
        ticket,
        acme,
        alice,
    )
    assert "Called about the renewal" in client.get(page(ticket)).content.decode()


def test_a_requester_without_organization_is_the_contact(client, agent, queue):
    """The requester of a ticket the agent may see is a contact they may link, even
    outside any organization they work."""
    loner = make_customer(None, email="loner@example.net")
    ticket = TicketFactory(requester=loner, queue=queue, organization=None)
    client.force_login(agent)
    response = client.post(interaction_url(ticket), interaction_post())
    assert response.status_code == 302
    interaction = Interaction.objects.get()
    assert (interaction.contact, interaction.organization) == (loner, None)


def test_viewer_reads_the_lists_without_forms_and_is_refused(
    client, scene, viewer, supervisor, ticket, make_task, make_interaction
):
    make_task(title="Call back Alice", ticket=ticket)
    make_interaction(subject="Kick-off call", ticket=ticket)
    client.force_login(viewer)
    html = client.get(page(ticket)).content.decode()
    assert "Call back Alice" in html and "Kick-off call" in html
    assert "follow-up/task/" not in html and "follow-up/interaction/" not in html
    assert client.post(task_url(ticket), task_post(supervisor)).status_code == 403
    assert client.post(interaction_url(ticket), interaction_post()).status_code == 403
    assert Task.objects.count() == 1 and Interaction.objects.count() == 1


def test_customers_never_see_the_panel(
    client, scene, alice, supervisor, ticket, make_task
):
    make_task(title="Secret follow-up", ticket=ticket)
    client.force_login(alice)
    portal = client.get(f"/portal/tickets/{ticket.reference}/")
    assert portal.status_code == 200
    assert "Secret follow-up" not in portal.content.decode()
    assert "crm-follow-up" not in portal.content.decode()
    # The desk and the panel's views do not exist for them (Wagtail's guard may
    # answer first, to sign in).
    for response in (
        client.get(page(ticket)),
        client.post(task_url(ticket), task_post(supervisor)),
        client.post(interaction_url(ticket), interaction_post()),
    ):
        assert response.status_code in (302, 404)
        assert b"Secret follow-up" not in response.content
    assert Task.objects.count() == 1 and Interaction.objects.count() == 0


def test_agent_of_another_queue_gets_404_and_nothing_is_written(
    client, scene, other_agent, ticket
):
    client.force_login(other_agent)
    assert client.post(task_url(ticket), task_post(other_agent)).status_code == 404
    assert client.post(interaction_url(ticket), interaction_post()).status_code == 404
    missing = "/admin/helpdesk/tickets/HD-999999/follow-up/task/"
    assert client.post(missing, task_post(other_agent)).status_code == 404
    assert Task.objects.count() == Interaction.objects.count() == 0


def test_get_is_not_allowed(client, scene, agent, ticket):
    client.force_login(agent)
    assert client.get(task_url(ticket)).status_code == 405


@pytest.mark.parametrize(
    ("post", "field"),
    [
        (lambda staff, customer: task_post(staff, title="  "), "title"),
        (lambda staff, customer: task_post(staff, due_at="tomorrow"), "due_at"),
        (lambda staff, customer: task_post(staff, due_at="0001-01-01T00:00"), "due_at"),
        (lambda staff, customer: task_post(customer), "assignee"),
    ],
)
def test_bad_task_input_is_a_form_error_and_writes_nothing(
    client, scene, agent, alice, ticket, post, field
):
    client.force_login(agent)
    response = client.post(task_url(ticket), post(agent, alice))
    assert response.status_code == 400
    assert list(response.context["task_form"].errors) == [field]
    html = response.content.decode()
    assert f'id="id_{follow_up.TASK_PREFIX}-{field}_error"' in html
    assert Task.objects.count() == 0


def test_bad_interaction_input_is_a_form_error_and_writes_nothing(
    client, scene, agent, ticket
):
    client.force_login(agent)
    for data, field in (
        (interaction_post(kind="fax"), "kind"),
        (interaction_post(summary="   "), "summary"),
        (interaction_post(summary="a\x00b"), "summary"),
        (interaction_post(happened_at="9999-12-31T23:59"), "happened_at"),
    ):
        response = client.post(interaction_url(ticket), data)
        assert response.status_code == 400
        assert list(response.context["interaction_form"].errors) == [field]
        assert "Conversation" in response.content.decode()  # the workspace, again
    assert Interaction.objects.count() == 0


def test_the_panel_costs_a_fixed_number_of_queries(
    client, scene, agent, supervisor, ticket, make_task, make_interaction, now
):
    client.force_login(agent)
    client.get(page(ticket))  # Wagtail's per-process caches, as on a running server

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            response = client.get(page(ticket))
        assert response.status_code == 200
        return len(captured.captured_queries), response.content.decode()

    empty, _ = count()
    for n in range(5):
        make_task(
            title=f"Task {n}",
            ticket=ticket,
            assignee=agent if n % 2 else supervisor,
            due_at=now + timedelta(days=n - 2, hours=1),
        )
        make_interaction(subject=f"Interaction {n}", ticket=ticket, contact=None)
    five, html = count()
    assert all(f"Task {n}" in html for n in range(5))
    assert all(f"Interaction {n}" in html for n in range(5))
    assert html.count('class="desk-flag"') == 2  # the two due before now
    assert five == empty
