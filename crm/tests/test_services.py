"""The CRM services: each refusal (not found, forbidden, bad input) changes nothing;
each allowed twin does exactly what it says."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from crm import services
from crm.errors import CrmErrorCode
from crm.exceptions import InteractionNotFound, PermissionDenied, TaskNotFound
from crm.models import Interaction, Task
from tickets.exceptions import TicketNotFound
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def _code(excinfo):
    return excinfo.value.domain_code


# --- log_interaction ------------------------------------------------------------------


def test_agent_logs_a_call_on_an_organization_they_work(scene, agent, acme, alice, now):
    interaction = services.log_interaction(
        agent,
        kind="call",
        subject="  Renewal call ",
        summary="Wants 5 more seats",
        organization=acme,
        contact=alice,
        happened_at=now,
    )
    interaction.refresh_from_db()
    assert (interaction.subject, interaction.author, interaction.organization) == (
        "Renewal call",
        agent,
        acme,
    )
    assert (interaction.contact, interaction.happened_at) == (alice, now)


def test_a_linked_ticket_supplies_organization_and_contact(scene, agent, ticket):
    interaction = services.log_interaction(
        agent, kind="email", subject="Follow-up", ticket=ticket
    )
    assert (interaction.organization, interaction.contact, interaction.ticket) == (
        ticket.organization,
        ticket.requester,
        ticket,
    )


@pytest.mark.parametrize(
    ("who", "organization", "error"),
    [
        ("other_agent", "acme", PermissionDenied),  # agent of another queue
        ("viewer", "acme", PermissionDenied),  # read only
        ("alice", "acme", InteractionNotFound),  # customers have no CRM
    ],
)
def test_logging_is_refused_and_writes_nothing(
    scene, request, who, organization, error
):
    actor = request.getfixturevalue(who)
    with pytest.raises(error):
        services.log_interaction(
            actor,
            kind="note",
            subject="Hello",
            organization=request.getfixturevalue(organization),
        )
    assert Interaction.objects.count() == 0


def test_a_ticket_the_actor_may_not_see_is_missing(scene, agent, globex_ticket, acme):
    with pytest.raises(TicketNotFound):
        services.log_interaction(
            agent, kind="note", subject="x", organization=acme, ticket=globex_ticket
        )
    with pytest.raises(TicketNotFound):
        services.create_task(agent, title="x", assignee=agent, ticket=globex_ticket)
    assert Interaction.objects.count() == Task.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"kind": "fax"}, CrmErrorCode.UNKNOWN_CHOICE, "kind"),
        ({"subject": "   "}, CrmErrorCode.TEXT_REQUIRED, "subject"),
        ({"subject": "x" * 201}, CrmErrorCode.TEXT_TOO_LONG, "subject"),
        ({"organization": None}, CrmErrorCode.CUSTOMER_REQUIRED, "organization"),
    ],
)
def test_bad_interaction_input_is_a_coded_field_error(
    scene, agent, acme, fields, code, field
):
    arguments = {"kind": "call", "subject": "Call", "organization": acme, **fields}
    with pytest.raises(ValidationError) as excinfo:
        services.log_interaction(agent, **arguments)
    assert _code(excinfo) == code
    assert list(excinfo.value.message_dict) == [field]
    assert Interaction.objects.count() == 0


def test_contacts_are_customers_the_agent_works_with(scene, agent, supervisor, gina):
    with pytest.raises(ValidationError) as staff:
        services.log_interaction(agent, kind="call", subject="x", contact=supervisor)
    with pytest.raises(ValidationError) as elsewhere:
        services.log_interaction(agent, kind="call", subject="x", contact=gina)
    assert _code(staff) == CrmErrorCode.CONTACT_NOT_CUSTOMER
    assert _code(elsewhere) == CrmErrorCode.CONTACT_NOT_FOUND
    assert Interaction.objects.count() == 0


# --- create_task / update_task --------------------------------------------------------


def test_create_task_links_the_ticket_and_its_organization(
    scene, agent, supervisor, ticket, now
):
    task = services.create_task(
        agent,
        title="Send the quote",
        assignee=supervisor,
        due_at=now + timedelta(days=2),
        ticket=ticket,
    )
    assert (task.organization, task.created_by, task.status) == (
        ticket.organization,
        agent,
        "todo",
    )
    assert task.completed_at is None
    # its requester is a customer, and neither a contact nor an organization was given
    assert task.contact == ticket.requester


def test_a_task_about_a_ticket_links_only_what_the_rule_gives(
    scene, agent, supervisor, ticket, acme, alice, bob
):
    """``_links``, the rule tasks and interactions share: a contact given stays, an
    organization given means no contact is guessed, a staff requester is no contact."""

    def links(**given):
        task = services.create_task(agent, title="x", assignee=supervisor, **given)
        return task.organization, task.contact

    assert links(ticket=ticket, contact=bob) == (ticket.organization, bob)
    assert links(ticket=ticket, organization=acme) == (acme, None)
    staff_filed = TicketFactory(requester=agent, queue=ticket.queue, organization=None)
    assert links(ticket=staff_filed) == (None, None)
    assert links(organization=acme) == (acme, None)


@pytest.mark.parametrize("who", ["viewer", "alice", "gina"])
def test_assignees_are_staff_who_work_tickets(scene, agent, request, who):
    with pytest.raises(ValidationError) as excinfo:
        services.create_task(agent, title="x", assignee=request.getfixturevalue(who))
    assert _code(excinfo) == CrmErrorCode.NOT_STAFF_ASSIGNEE
    assert Task.objects.count() == 0


@pytest.mark.parametrize(
    ("who", "error"),
    [("viewer", PermissionDenied), ("alice", TaskNotFound)],
)
def test_creating_is_refused_for_viewers_and_customers(
    scene, request, agent, who, error
):
    with pytest.raises(error):
        services.create_task(request.getfixturevalue(who), title="x", assignee=agent)
    assert Task.objects.count() == 0


def test_agent_updates_a_task_on_their_organization(scene, agent, make_task, acme, now):
    task = make_task(organization=acme, reminder_sent_at=now)
    later = now + timedelta(days=3)
    services.update_task(agent, task, title="Call again", due_at=later, status="done")
    task.refresh_from_db()
    assert (task.title, task.due_at, task.status) == ("Call again", later, "done")
    assert task.reminder_sent_at is None  # a new due time is reminded again
    assert task.completed_at is not None
    services.update_task(agent, task.pk, status="in_progress")
    task.refresh_from_db()
    assert (task.status, task.completed_at) == ("in_progress", None)


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("other_agent", TaskNotFound),  # another queue: looks missing
        ("viewer", PermissionDenied),  # sees it, read only
        ("alice", TaskNotFound),  # customers: nothing there
    ],
)
def test_updating_is_refused_and_changes_nothing(
    scene, request, make_task, acme, who, error
):
    task = make_task(organization=acme, title="Original")
    with pytest.raises(error):
        services.update_task(
            request.getfixturevalue(who), task, title="Changed", status="done"
        )
    task.refresh_from_db()
    assert (task.title, task.status, task.completed_at) == ("Original", "todo", None)


def test_unknown_task_id_is_not_found(supervisor):
    with pytest.raises(TaskNotFound):
        services.update_task(supervisor, 999999, title="x")
    with pytest.raises(TaskNotFound):
        services.update_task(supervisor, "not-a-number", title="x")


# --- complete_tasks -------------------------------------------------------------------


def test_bulk_complete_completes_each_once(scene, agent, make_task, acme, now):
    first = make_task(organization=acme)
    second = make_task(organization=acme, assignee=agent)
    earlier = now - timedelta(days=1)
    done = make_task(organization=acme, status="done", completed_at=earlier)
    completed = services.complete_tasks(agent, [first, second.pk, done])
    assert sorted(t.pk for t in completed) == sorted([first.pk, second.pk])
    assert set(Task.objects.values_list("status", flat=True)) == {"done"}
    done.refresh_from_db()
    assert done.completed_at == earlier


def test_bulk_complete_is_all_or_nothing(scene, agent, make_task, acme, globex):
    """One task the agent may not change (another queue's organization) refuses the
    whole request: none of the others changes."""
    mine = make_task(organization=acme)
    theirs = make_task(organization=globex)
    with pytest.raises(TaskNotFound):
        services.complete_tasks(agent, [mine.pk, theirs.pk])
    assert set(Task.objects.values_list("status", flat=True)) == {"todo"}


def test_bulk_complete_by_a_viewer_changes_nothing(scene, viewer, make_task, acme):
    task = make_task(organization=acme)
    with pytest.raises(PermissionDenied):
        services.complete_tasks(viewer, [task.pk])
    task.refresh_from_db()
    assert task.status == "todo"


# --- organization details ---------------------------------------------------------------


def test_account_manager_edits_the_details(acme, agent):
    acme.account_manager = agent
    acme.save()
    services.update_organization_details(
        agent, acme, website="https://acme.example", industry="Rockets", phone="+1 555"
    )
    acme.refresh_from_db()
    assert (acme.website, acme.industry, acme.phone) == (
        "https://acme.example",
        "Rockets",
        "+1 555",
    )
    with pytest.raises(PermissionDenied):  # only supervisors choose the manager
        services.update_organization_details(agent, acme, account_manager=None)
    acme.refresh_from_db()
    assert acme.account_manager == agent


@pytest.mark.parametrize("who", ["other_agent", "viewer"])
def test_others_may_not_edit_the_details(acme, request, who):
    with pytest.raises(PermissionDenied):
        services.update_organization_details(
            request.getfixturevalue(who), acme, industry="Hacked"
        )
    acme.refresh_from_db()
    assert acme.industry == ""


def test_supervisor_sets_the_account_manager_and_bad_input_is_coded(
    acme, supervisor, agent, alice
):
    services.update_organization_details(supervisor, acme, account_manager=agent)
    acme.refresh_from_db()
    assert acme.account_manager == agent
    with pytest.raises(ValidationError) as customer:
        services.update_organization_details(supervisor, acme, account_manager=alice)
    with pytest.raises(ValidationError) as website:
        services.update_organization_details(supervisor, acme, website="javascript:x")
    assert _code(customer) == CrmErrorCode.NOT_STAFF_ASSIGNEE
    assert _code(website) == CrmErrorCode.INVALID_WEBSITE
    acme.refresh_from_db()
    assert (acme.account_manager, acme.website) == (agent, "")
