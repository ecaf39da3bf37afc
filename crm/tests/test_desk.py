"""The CRM desk pages: My tasks and the Organization 360. Each page and form, for the
allowed user and for the denied twins (agent of another queue, viewer, customer),
with nothing changed on denial, and a fixed number of queries per list."""

from datetime import timedelta

import pytest

from crm.models import Interaction, Task
from tickets.tests.factories import TicketFactory, make_customer

pytestmark = pytest.mark.django_db
TASKS = "/admin/helpdesk/tasks/"
ACME = "/admin/helpdesk/organizations/acme/"


# --- My tasks -------------------------------------------------------------------------


def test_my_tasks_lists_mine_overdue_first_then_by_due_time(
    client, agent, supervisor, make_task, now
):
    later = make_task(title="later", assignee=agent, due_at=now + timedelta(days=2))
    soon = make_task(title="soon", assignee=agent, due_at=now + timedelta(hours=1))
    undated = make_task(title="undated", assignee=agent, due_at=None)
    late = make_task(title="late", assignee=agent, due_at=now - timedelta(hours=1))
    later_late = make_task(
        title="very late", assignee=agent, due_at=now - timedelta(days=3)
    )
    make_task(
        title="done", assignee=agent, due_at=now - timedelta(days=1), status="done"
    )
    make_task(title="someone else's", assignee=supervisor)
    client.force_login(agent)
    response = client.get(TASKS)
    assert response.status_code == 200
    titles = [task.title for task in response.context["page"]]
    assert titles == ["very late", "late", "soon", "later", "undated"]
    assert {later, soon, undated, late, later_late} == set(response.context["page"])
    overdue = client.get(TASKS, {"overdue": "on"}).context["page"]
    assert [t.title for t in overdue] == ["very late", "late"]
    done = client.get(TASKS, {"status": "done"}).context["page"]
    assert [t.title for t in done] == ["done"]


def test_all_i_may_see_follows_the_policy(
    client, scene, agent, make_task, acme, globex
):
    make_task(title="acme", organization=acme)
    make_task(title="globex", organization=globex)
    client.force_login(agent)
    page = client.get(TASKS, {"scope": "all"}).context["page"]
    assert [t.title for t in page] == ["acme"]


@pytest.mark.parametrize("who", ["alice", "gina"])
def test_customers_find_no_crm_page(client, scene, request, make_task, acme, who):
    task = make_task(organization=acme)
    client.force_login(request.getfixturevalue(who))
    # Wagtail's admin guard may answer first (to sign in); the CRM's own answer is 404
    for url in (TASKS, f"{TASKS}new/", f"{TASKS}{task.pk}/", ACME):
        response = client.get(url)
        assert response.status_code in (302, 404), url
        assert b"Call back" not in response.content
    complete = client.post(f"{TASKS}complete/", {"tasks": [task.pk]})
    edit = client.post(f"{TASKS}{task.pk}/", {"title": "x"})
    assert complete.status_code in (302, 404) and edit.status_code in (302, 404)
    task.refresh_from_db()
    assert (task.status, task.title) == ("todo", "Call back")


def test_create_task_from_the_list(client, scene, agent, supervisor, acme):
    client.force_login(agent)
    response = client.post(
        f"{TASKS}new/",
        {
            "title": "Send quote",
            "assignee": supervisor.pk,
            "status": "todo",
            "due_at": "2030-01-02T10:00",
            "organization": "acme",
            "ticket": "",
            "contact": "alice@acme.example",
            "next": ACME,
        },
    )
    assert response.status_code == 302 and response.url == ACME
    task = Task.objects.get()
    assert (task.title, task.assignee, task.organization.slug, task.contact.email) == (
        "Send quote",
        supervisor,
        "acme",
        "alice@acme.example",
    )


def test_create_task_refusals(client, scene, agent, other_agent, viewer, supervisor):
    data = {
        "title": "x",
        "assignee": supervisor.pk,
        "status": "todo",
        "organization": "acme",
    }
    client.force_login(other_agent)  # another queue: Acme is not theirs
    assert client.post(f"{TASKS}new/", data).status_code == 403
    client.force_login(viewer)
    assert client.post(f"{TASKS}new/", data).status_code == 403
    client.force_login(agent)
    bad = client.post(f"{TASKS}new/", {**data, "ticket": "HD-999999"})
    assert bad.status_code == 400
    assert "No such ticket." in bad.content.decode()
    empty = client.post(f"{TASKS}new/", {**data, "title": ""})
    assert empty.status_code == 400
    assert Task.objects.count() == 0


def test_edit_a_task_and_its_denied_twins(
    client, scene, agent, other_agent, viewer, make_task, acme, supervisor
):
    task = make_task(organization=acme, assignee=agent)
    data = {"title": "Renamed", "assignee": agent.pk, "status": "done", "notes": ""}
    client.force_login(other_agent)
    assert client.get(f"{TASKS}{task.pk}/").status_code == 404
    assert client.post(f"{TASKS}{task.pk}/", data).status_code == 404
    client.force_login(viewer)
    assert client.get(f"{TASKS}{task.pk}/").status_code == 200
    assert client.post(f"{TASKS}{task.pk}/", data).status_code == 403
    task.refresh_from_db()
    assert (task.title, task.status) == ("Call back", "todo")
    client.force_login(agent)
    assert client.post(f"{TASKS}{task.pk}/", data).status_code == 302
    task.refresh_from_db()
    assert (task.title, task.status) == ("Renamed", "done")
    assert task.completed_at is not None


def test_bulk_complete(client, scene, agent, make_task, acme):
    first = make_task(organization=acme, assignee=agent)
    second = make_task(organization=acme, assignee=agent)
    client.force_login(agent)
    response = client.post(f"{TASKS}complete/", {"tasks": [first.pk, second.pk]})
    assert response.status_code == 302
    assert set(Task.objects.values_list("status", flat=True)) == {"done"}


def test_bulk_complete_with_one_forbidden_task_changes_none(
    client, scene, agent, viewer, make_task, acme, globex
):
    mine = make_task(organization=acme, assignee=agent)
    theirs = make_task(organization=globex)
    client.force_login(agent)
    response = client.post(
        f"{TASKS}complete/", {"tasks": [mine.pk, theirs.pk]}, follow=True
    )
    assert "nothing was changed" in response.content.decode()
    client.force_login(viewer)
    client.post(f"{TASKS}complete/", {"tasks": [mine.pk]})
    assert set(Task.objects.values_list("status", flat=True)) == {"todo"}


def test_tasks_list_query_count_is_constant(
    client, scene, agent, make_task, acme, alice, ticket, django_assert_max_num_queries
):
    make_task(assignee=agent, organization=acme, contact=alice, ticket=ticket)
    client.force_login(agent)
    client.get(TASKS)
    with django_assert_max_num_queries(20) as few:
        client.get(TASKS, {"scope": "all"})
    for n in range(15):
        make_task(
            title=f"t{n}",
            assignee=agent,
            organization=acme,
            contact=alice,
            ticket=ticket,
        )
    with django_assert_max_num_queries(20) as many:
        response = client.get(TASKS, {"scope": "all"})
    assert len(response.context["page"]) == 16
    assert len(few.captured_queries) == len(many.captured_queries)


def test_dashboard_panel_counts_my_tasks(client, agent, make_task, now):
    make_task(assignee=agent, due_at=now - timedelta(days=1))
    make_task(assignee=agent, due_at=now + timedelta(minutes=1))
    make_task(assignee=agent, due_at=now + timedelta(days=30))
    from crm.desk.panels import task_counts

    counts = task_counts(agent, now)
    assert (counts["open"], counts["overdue"]) == (3, 1)
    assert counts["due_today"] in (1, 2)  # the minute after may be tomorrow at 23:59
    client.force_login(agent)
    html = client.get("/admin/").content.decode()
    assert "My tasks" in html and "/admin/helpdesk/tasks/" in html


# --- Organization 360 -----------------------------------------------------------------


def test_organization_360_shows_details_contacts_tickets_and_timeline(
    client, scene, agent, acme, alice, ticket, make_task, make_interaction, now
):
    acme.website = "https://acme.example"
    acme.industry = "Rockets"
    acme.save()
    alice.job_title = "CTO"
    alice.save()
    make_interaction(
        subject="Kick-off", organization=acme, happened_at=now - timedelta(days=2)
    )
    make_task(title="Renewal", organization=acme, due_at=now + timedelta(days=3))
    client.force_login(agent)
    response = client.get(ACME)
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "https://acme.example",
        "Rockets",
        "CTO",
        ticket.reference,
        "Kick-off",
    ):
        assert text in html
    kinds = [entry.kind for entry in response.context["page"]]
    assert kinds == ["task", "ticket", "interaction"]  # newest first
    assert response.context["stats"].volume == 1
    only = client.get(ACME, {"kind": "interactions"}).context["page"]
    assert [e.item.subject for e in only] == ["Kick-off"]
    ranged = client.get(
        ACME,
        {
            "start": (now - timedelta(days=3)).date(),
            "end": (now - timedelta(days=1)).date(),
        },
    ).context["page"]
    assert [e.kind for e in ranged] == ["interaction"]


def test_timeline_hides_what_the_agent_may_not_see(
    client, scene, other_agent, acme, make_interaction, ticket
):
    make_interaction(subject="Secret call", organization=acme)
    client.force_login(other_agent)
    response = client.get(ACME)
    assert response.status_code == 200  # organizations are listed to the whole desk
    html = response.content.decode()
    assert "Secret call" not in html and ticket.reference not in html
    assert response.context["interaction_form"] is None


def test_log_an_interaction_and_the_denied_twins(
    client, scene, agent, other_agent, viewer, alice
):
    data = {"kind": "call", "subject": "Called Alice", "contact": "alice@acme.example"}
    for who, status in ((other_agent, 403), (viewer, 403)):
        client.force_login(who)
        assert client.post(f"{ACME}interactions/", data).status_code == status
    assert Interaction.objects.count() == 0
    client.force_login(agent)
    bad = client.post(f"{ACME}interactions/", {**data, "kind": "fax"})
    assert bad.status_code == 400
    assert client.post(f"{ACME}interactions/", data).status_code == 302
    interaction = Interaction.objects.get()
    assert (interaction.contact, interaction.author, interaction.organization.slug) == (
        alice,
        agent,
        "acme",
    )


def test_details_are_edited_by_supervisors_and_the_account_manager(
    client, acme, agent, other_agent, viewer, supervisor
):
    data = {
        "website": "https://acme.example",
        "industry": "Rockets",
        "phone": "",
        "address": "",
        "notes": "",
    }
    for who in (agent, other_agent, viewer):
        client.force_login(who)
        assert client.post(f"{ACME}details/", data).status_code == 403
    acme.refresh_from_db()
    assert acme.industry == ""
    client.force_login(supervisor)
    response = client.post(f"{ACME}details/", {**data, "account_manager": agent.pk})
    assert response.status_code == 302
    client.force_login(agent)  # now the account manager
    assert (
        client.post(f"{ACME}details/", {**data, "industry": "Space"}).status_code == 302
    )
    bad = client.post(f"{ACME}details/", {**data, "website": "javascript:alert(1)"})
    assert bad.status_code == 400
    acme.refresh_from_db()
    assert (acme.industry, acme.account_manager, acme.website) == (
        "Space",
        agent,
        "https://acme.example",
    )


def test_organization_360_query_count_is_constant(
    client,
    scene,
    supervisor,
    acme,
    alice,
    agent,
    make_task,
    make_interaction,
    queue,
    django_assert_max_num_queries,
):
    client.force_login(supervisor)
    client.get(ACME)
    with django_assert_max_num_queries(30) as few:
        client.get(ACME)
    for n in range(10):
        member = make_customer(acme)
        TicketFactory(requester=member, queue=queue, organization=acme)
        make_interaction(subject=f"i{n}", organization=acme, contact=alice)
        make_task(title=f"t{n}", organization=acme, assignee=agent, contact=alice)
    with django_assert_max_num_queries(30) as many:
        response = client.get(ACME)
    assert len(response.context["page"]) == 25
    assert len(few.captured_queries) == len(many.captured_queries)


# --- search ---------------------------------------------------------------------------


def test_desk_search_finds_organizations_and_contacts(
    client, agent, acme, alice, globex
):
    acme.industry = "Aerospace"
    acme.save()
    alice.job_title = "Head of Procurement"
    alice.phone = "+44 20 7946 0000"
    alice.save()
    client.force_login(agent)
    by_industry = client.get("/admin/helpdesk/organizations/", {"q": "aerospace"})
    assert [org.slug for org, _ in by_industry.context["rows"]] == ["acme"]
    for text in ("procurement", "7946", "alice@acme"):
        found = client.get("/admin/helpdesk/organizations/", {"q": text})
        assert [p.email for p in found.context["contacts"]] == ["alice@acme.example"], (
            text
        )
    staff = client.get("/admin/helpdesk/organizations/", {"q": "agent@example.com"})
    assert list(staff.context["contacts"]) == []


def test_new_task_form_is_prefilled_and_closed_to_viewers(
    client, scene, agent, viewer, ticket
):
    client.force_login(agent)
    response = client.get(f"{TASKS}new/", {"ticket": ticket.reference})
    assert response.status_code == 200
    assert response.context["form"]["ticket"].value() == ticket.reference
    client.force_login(viewer)
    assert client.get(f"{TASKS}new/").status_code == 403
