"""Changing a task's links (``services.update_task``'s ``ticket``, ``organization``,
``contact``) and a contact's record (``services.update_contact_details``), in the
services and on the task page: each allowed change with its exact result, each denied
twin (another queue's ticket, another organization's contact, an organization the
agent does not work, a viewer, a customer) refused with nothing changed."""

import pytest
from django.core.exceptions import ValidationError

from crm import services
from crm.errors import CrmErrorCode
from crm.exceptions import PermissionDenied, TaskNotFound
from tickets.exceptions import TicketNotFound

pytestmark = pytest.mark.django_db
TASKS = "/admin/helpdesk/tasks/"


def links(task) -> tuple:
    task.refresh_from_db()
    return (task.title, task.ticket, task.organization, task.contact)


# --- services: update_task's links ----------------------------------------------------


def test_agent_links_then_unlinks_a_ticket_and_a_contact(
    scene, agent, make_task, acme, alice, ticket
):
    task = make_task(organization=acme)
    services.update_task(agent, task, ticket=ticket, contact=alice)
    assert links(task) == ("Call back", ticket, acme, alice)
    services.update_task(agent, task.pk, ticket=None, organization=None, contact=None)
    assert links(task) == ("Call back", None, None, None)


def test_a_ticket_on_a_task_without_organization_links_its_organization(
    scene, agent, make_task, acme, ticket
):
    task = make_task(assignee=agent)
    services.update_task(agent, task, ticket=ticket)
    assert links(task) == ("Call back", ticket, acme, None)


def test_a_task_with_a_ticket_keeps_the_tickets_organization(
    scene, agent, make_task, acme, ticket
):
    task = make_task(organization=acme, ticket=ticket)
    services.update_task(agent, task, organization=None, title="Still Acme")
    assert links(task) == ("Still Acme", ticket, acme, None)


def test_omitted_links_stay(scene, agent, make_task, acme, alice, ticket):
    task = make_task(organization=acme, ticket=ticket, contact=alice)
    services.update_task(agent, task, title="Renamed")
    assert links(task) == ("Renamed", ticket, acme, alice)


def test_supervisor_moves_a_task_to_another_organization(
    scene, supervisor, make_task, acme, globex, gina
):
    task = make_task(organization=acme)
    services.update_task(supervisor, task, organization=globex, contact=gina)
    assert links(task) == ("Call back", None, globex, gina)


def test_an_unchanged_link_the_agent_may_not_see_is_not_checked(
    scene, agent, make_task, globex, globex_ticket, alice
):
    """Assigned a task about another queue's ticket, the agent still edits it; the
    hidden ticket stays linked."""
    task = make_task(assignee=agent, ticket=globex_ticket, organization=globex)
    services.update_task(
        agent, task, title="Mine", ticket=globex_ticket, organization=None
    )
    assert links(task) == ("Mine", globex_ticket, globex, None)
    services.update_task(agent, task, contact=alice)
    assert links(task) == ("Mine", globex_ticket, globex, alice)


@pytest.mark.parametrize(
    ("change", "error", "code"),
    [
        ({"ticket": "globex_ticket"}, TicketNotFound, None),  # another queue's
        ({"contact": "gina"}, ValidationError, CrmErrorCode.CONTACT_NOT_FOUND),
        ({"contact": "supervisor"}, ValidationError, CrmErrorCode.CONTACT_NOT_CUSTOMER),
        ({"organization": "globex"}, PermissionDenied, None),  # not worked
    ],
)
def test_agent_cannot_link_what_they_do_not_work(
    scene, request, agent, make_task, acme, change, error, code
):
    task = make_task(organization=acme)
    before = links(task)
    values = {name: request.getfixturevalue(v) for name, v in change.items()}
    with pytest.raises(error) as refused:
        services.update_task(agent, task, title="Changed", **values)
    if code is not None:
        assert refused.value.domain_code == code
    assert links(task) == before


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("other_agent", TaskNotFound),
        ("viewer", PermissionDenied),
        ("alice", TaskNotFound),
    ],
)
def test_relinking_is_refused_to_those_who_may_not_change_the_task(
    scene, request, make_task, acme, ticket, alice, who, error
):
    task = make_task(organization=acme)
    with pytest.raises(error):
        services.update_task(
            request.getfixturevalue(who), task, ticket=ticket, contact=alice
        )
    assert links(task) == ("Call back", None, acme, None)


# --- services: update_contact_details -------------------------------------------------


def record(user) -> tuple:
    user.refresh_from_db()
    return (user.job_title, user.phone, user.notes)


@pytest.mark.parametrize("who", ["agent", "supervisor"])
def test_agent_of_the_organization_and_supervisor_edit_a_contact(
    scene, request, alice, who
):
    services.update_contact_details(
        request.getfixturevalue(who),
        alice,
        job_title="  CTO ",
        phone="+1 555",
        notes="Prefers email",
    )
    assert record(alice) == ("CTO", "+1 555", "Prefers email")
    services.update_contact_details(request.getfixturevalue(who), alice, phone="")
    assert record(alice) == ("CTO", "", "Prefers email")


@pytest.mark.parametrize(
    ("who", "contact", "error"),
    [
        ("other_agent", "alice", CrmErrorCode.CONTACT_NOT_FOUND),  # not their org
        ("alice", "alice", CrmErrorCode.CONTACT_NOT_FOUND),  # customers: no CRM
        ("gina", "alice", CrmErrorCode.CONTACT_NOT_FOUND),
        ("supervisor", "agent", CrmErrorCode.CONTACT_NOT_FOUND),  # staff: no contact
        ("viewer", "alice", PermissionDenied),  # sees, read only
    ],
)
def test_contact_edits_refused_change_nothing(scene, request, who, contact, error):
    person = request.getfixturevalue(contact)
    before = record(person)
    expected = ValidationError if isinstance(error, str) else error
    with pytest.raises(expected) as refused:
        services.update_contact_details(
            request.getfixturevalue(who), person, job_title="Hacked"
        )
    if isinstance(error, str):
        assert refused.value.domain_code == error
    assert record(person) == before


def test_contact_details_bad_input_is_coded(scene, supervisor, alice):
    with pytest.raises(ValidationError) as long_phone:
        services.update_contact_details(supervisor, alice, phone="9" * 51)
    assert long_phone.value.domain_code == CrmErrorCode.TEXT_TOO_LONG
    assert list(long_phone.value.error_dict) == ["phone"]
    with pytest.raises(TypeError):
        services.update_contact_details(supervisor, alice, email="x@example.com")
    assert record(alice) == ("", "", "")


# --- the task page --------------------------------------------------------------------


def test_the_edit_form_shows_and_changes_the_links(
    client, scene, agent, make_task, acme, alice, ticket
):
    task = make_task(organization=acme, assignee=agent)
    client.force_login(agent)
    form = client.get(f"{TASKS}{task.pk}/").context["form"]
    assert (form["organization"].value(), form["ticket"].value()) == ("acme", "")
    data = {
        "title": "Call back",
        "assignee": agent.pk,
        "status": "todo",
        "organization": "acme",
        "contact": "alice@acme.example",
        "ticket": ticket.reference,
    }
    assert client.post(f"{TASKS}{task.pk}/", data).status_code == 302
    assert links(task) == ("Call back", ticket, acme, alice)
    cleared = {**data, "organization": "", "contact": "", "ticket": ""}
    assert client.post(f"{TASKS}{task.pk}/", cleared).status_code == 302
    assert links(task) == ("Call back", None, None, None)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("ticket", "globex_ticket", "No such ticket."),
        ("ticket", "HD-999999", "No such ticket."),
        ("contact", "gina@globex.example", "No such contact."),
        ("organization", "globex", "You do not work with this organization"),
        ("organization", "nope", "No such organization."),
    ],
)
def test_the_edit_form_refuses_links_the_agent_may_not_use(
    client, scene, request, agent, make_task, acme, field, value, message
):
    task = make_task(organization=acme, assignee=agent)
    if value == "globex_ticket":
        value = request.getfixturevalue(value).reference
    client.force_login(agent)
    data = {"title": "Changed", "assignee": agent.pk, "status": "todo"}
    response = client.post(
        f"{TASKS}{task.pk}/", {**data, "organization": "acme", field: value}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert links(task) == ("Call back", None, acme, None)


def test_a_hidden_ticket_is_neither_shown_nor_changed(
    client, scene, agent, make_task, globex, globex_ticket
):
    task = make_task(assignee=agent, organization=globex, ticket=globex_ticket)
    client.force_login(agent)
    page = client.get(f"{TASKS}{task.pk}/")
    assert "ticket" not in page.context["form"].fields
    assert globex_ticket.reference not in page.content.decode()
    data = {
        "title": "Mine",
        "assignee": agent.pk,
        "status": "todo",
        "organization": "globex",
        "ticket": "",  # no such field: ignored
    }
    assert client.post(f"{TASKS}{task.pk}/", data).status_code == 302
    assert links(task) == ("Mine", globex_ticket, globex, None)


def test_viewer_sees_the_links_but_cannot_change_them(
    client, scene, viewer, make_task, acme
):
    task = make_task(organization=acme)
    client.force_login(viewer)
    data = {"title": "x", "assignee": viewer.pk, "status": "todo", "organization": ""}
    assert client.post(f"{TASKS}{task.pk}/", data).status_code == 403
    assert links(task) == ("Call back", None, acme, None)
