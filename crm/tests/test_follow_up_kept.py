"""The Follow-up panel's empty forms kept per process (``crm.desk.follow_up``): the
panel is byte for byte what the former template rendered (every field through
``includes/field.html``), kept or not, in each language and for each user; "Add task"
follows the staff (a new agent offered, a deactivated one gone, at the next page);
a form with errors is never kept; the panel's statements (2 with the forms kept, 3
without), for an agent, a supervisor, a viewer and an agent granted the ticket alone.
Denied twins: a viewer gets no forms after a writer's were kept, a customer or an
editor gets no panel and costs no statement."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F
from django.template import engines
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from accounts import roles
from crm import permissions
from crm.desk import follow_up
from tickets import permissions as ticket_permissions
from tickets.desk import inbox
from tickets.tests.factories import make_agent, make_customer

# Committed changes: a new staff generation is set when a change commits.
pytestmark = pytest.mark.django_db(transaction=True)

# The panel's template before its fields were kept (commit 0b74737).
FORMER_TEMPLATE = """{% load i18n time_tags %}
<section class="desk-follow-up" aria-labelledby="crm-follow-up-title" data-testid="crm-follow-up">
  <h2 id="crm-follow-up-title">{% trans "Follow-up" %}</h2>
  <h3>{% trans "Open tasks" %}</h3>
  <ul class="desk-follow-up__tasks">
    {% for task in tasks %}
    <li{% if task.overdue %} class="desk-overdue"{% endif %}>
      <a href="{% url 'helpdesk:task' task.pk %}" aria-label="{% blocktrans with title=task.title %}Edit the task {{ title }}{% endblocktrans %}">{{ task.title }}</a>
      · {% if task.due_at %}{% time_element task.due_at "SHORT_DATETIME_FORMAT" %}{% else %}{% trans "no due date" %}{% endif %}
      · {{ task.assignee }}{% if task.overdue %} <strong class="desk-flag">{% trans "Overdue" %}</strong>{% endif %}
    </li>
    {% empty %}<li>{% trans "No open tasks." %}</li>{% endfor %}
  </ul>
  <h3>{% trans "Latest interactions" %}</h3>
  <ul class="desk-follow-up__interactions">
    {% for interaction in interactions %}
    <li>
      {% time_element interaction.happened_at "SHORT_DATETIME_FORMAT" %}
      · <strong>{{ interaction.get_kind_display }}</strong> {{ interaction.subject }} — {{ interaction.author }}{% if interaction.contact %}, {{ interaction.contact }}{% endif %}
    </li>
    {% empty %}<li>{% trans "No interactions yet." %}</li>{% endfor %}
  </ul>
  {% if task_form %}
  <h3 id="crm-follow-up-task">{% trans "Add task" %}</h3>
  <form method="post" action="{% url 'helpdesk:ticket_follow_up_task' ticket.reference %}" class="desk-form" aria-labelledby="crm-follow-up-task">
    {% csrf_token %}
    {% include "includes/form_errors.html" with form=task_form class="error-message" %}
    {% for field in task_form %}{% include "includes/field.html" with field=field %}{% endfor %}
    <button type="submit" class="button button-small">{% trans "Add task" %}</button>
  </form>
  {% endif %}
  {% if interaction_form %}
  <h3 id="crm-follow-up-interaction">{% trans "Log interaction" %}</h3>
  <form method="post" action="{% url 'helpdesk:ticket_follow_up_interaction' ticket.reference %}" class="desk-form" aria-labelledby="crm-follow-up-interaction">
    {% csrf_token %}
    {% include "includes/form_errors.html" with form=interaction_form class="error-message" %}
    {% for field in interaction_form %}{% include "includes/field.html" with field=field %}{% endfor %}
    <button type="submit" class="button button-small">{% trans "Log interaction" %}</button>
  </form>
  {% endif %}
</section>
"""
CSRF = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+')


@pytest.fixture(autouse=True)
def kept(settings):
    settings.DESK_STAFF_CACHE = True  # as with Redis (one process here)
    cache.clear()
    follow_up.forget_kept_fields()
    yield
    cache.clear()
    follow_up.forget_kept_fields()


def request_for(user, ticket):
    request = RequestFactory().get(f"/admin/helpdesk/tickets/{ticket.reference}/")
    request.user = user
    return request


def panel(user, ticket, panel_forms=None):
    ticket_permissions.can(user, "view", ticket)  # the workspace asked it already
    html = follow_up.panel(request_for(user, ticket), ticket, panel_forms or {})
    return CSRF.sub(r"\1CSRF", html)


def panel_and_statements(user, ticket):
    ticket_permissions.can(user, "view", ticket)
    with CaptureQueriesContext(connection) as queries:
        html = panel(user, ticket)
    return html, len(queries)


def former_panel(user, ticket, panel_forms=None):
    """What the former template rendered (the former queries, full rows)."""
    given = panel_forms or {}
    now = timezone.now()
    tasks = list(
        permissions.tasks_about(user, ticket)
        .open()
        .select_related("assignee")
        .order_by(F("due_at").asc(nulls_last=True), "pk")
    )
    for task in tasks:
        task.overdue = task.is_overdue(now)
    context = {
        "ticket": ticket,
        "tasks": tasks,
        "interactions": permissions.interactions_about(user, ticket)
        .select_related("author", "contact")
        .order_by("-happened_at", "-pk")[: follow_up.RECENT_INTERACTIONS],
        "task_form": None,
        "interaction_form": None,
    }
    if permissions.may_write(user):
        context["task_form"] = given.get(follow_up.TASK_FORM) or (
            follow_up.new_task_form(user)
        )
        context["interaction_form"] = given.get(follow_up.INTERACTION_FORM) or (
            follow_up.new_interaction_form()
        )
    template = engines["django"].from_string(FORMER_TEMPLATE)
    html = template.render(context, request=request_for(user, ticket))
    return CSRF.sub(r"\1CSRF", html)


@pytest.fixture
def busy_ticket(scene, ticket, agent, supervisor, alice, make_task, make_interaction):
    now = timezone.now()
    make_task(
        title="Overdue <call> & co",
        ticket=ticket,
        assignee=agent,
        due_at=now - timedelta(days=1),
    )
    make_task(title="100% <b>", ticket=ticket, assignee=supervisor, due_at=None)
    make_task(title="Done", ticket=ticket, status="done")
    make_interaction(subject='Called "them"', ticket=ticket, contact=alice)
    make_interaction(subject="Mailed", kind="email", ticket=ticket, author=agent)
    agent.display_name = "Agent & <Co>"
    agent.save()
    return ticket


@pytest.mark.parametrize("language", ["en", "pl", "ru"])
def test_the_panel_is_what_the_former_template_rendered_kept_or_not(
    busy_ticket, agent, supervisor, viewer, language
):
    with translation.override(language):
        for user in (agent, supervisor, viewer, agent, supervisor):  # fresh, kept
            assert panel(user, busy_ticket) == former_panel(user, busy_ticket)
    html = panel(agent, busy_ticket)
    assert "Overdue &lt;call&gt; &amp; co" in html and "100% &lt;b&gt;" in html
    assert "Agent &amp; &lt;Co&gt;" in html and 'class="desk-overdue"' in html


@pytest.mark.parametrize(
    "language, label",
    [
        ("en", "Edit the task 100% &lt;b&gt;"),
        ("pl", "Edytuj zadanie 100% &lt;b&gt;"),
        ("ru", "Изменить задачу 100% &lt;b&gt;"),
    ],
)
def test_the_rows_are_in_the_readers_language(busy_ticket, agent, language, label):
    # The rows' texts are literals of a tag, not of a template: they must still reach
    # the catalogues (an oracle against the former template cannot see a missing one,
    # both sides falling back to English alike).
    with translation.override(language):
        html = panel(agent, busy_ticket)
    assert f'aria-label="{label}"' in html


def test_each_user_gets_their_own_name_preselected(scene, ticket, agent, supervisor):
    mine = f'<option value="{agent.pk}" selected>'
    theirs = f'<option value="{supervisor.pk}" selected>'
    first = panel(agent, ticket)
    assert mine in first and theirs not in first
    second = panel(supervisor, ticket)  # after the agent's form was kept
    assert theirs in second and mine not in second
    assert panel(agent, ticket) == first


def test_each_language_has_its_own_forms(scene, ticket, agent):
    english = panel(agent, ticket)
    with translation.override("ru"):
        russian = panel(agent, ticket)
    assert "Add task" in english and "Log interaction" in english
    assert russian != english and "Add task" not in russian
    assert panel(agent, ticket) == english


def test_kept_forms_cost_no_statement(
    scene, ticket, agent, make_task, make_interaction
):
    make_task(title="Call", ticket=ticket, assignee=agent)
    make_interaction(subject="Called", ticket=ticket, author=agent)
    # tasks, interactions and the assignable staff; the names read with the rows
    fresh, statements = panel_and_statements(agent, ticket)
    assert statements == 3
    kept, statements = panel_and_statements(agent, ticket)
    assert (kept, statements) == (fresh, 2)  # tasks, interactions


@pytest.mark.parametrize("who", ["agent", "supervisor", "viewer", "granted"])
def test_the_panel_s_statement_budget(
    request, scene, ticket, agent, make_task, make_interaction, who
):
    """Its budget: the two lists, whatever their lengths, once the forms are kept
    (``test_kept_forms_cost_no_statement``), for each kind of support team member."""
    user = request.getfixturevalue(who)
    for n in range(3):
        make_task(title=f"Task {n}", ticket=ticket, assignee=agent)
        make_interaction(subject=f"Talk {n}", ticket=ticket, author=agent)
    panel(user, ticket)  # the forms kept
    html, statements = panel_and_statements(user, ticket)
    assert statements == 2
    assert all(f">Task {n}</a>" in html and f"Talk {n} —" in html for n in range(3))
    assert html == former_panel(user, ticket)


@pytest.mark.parametrize("role", [roles.CUSTOMERS, roles.EDITORS])
def test_outside_the_support_team_no_panel_and_no_statement(
    scene, ticket, agent, make_task, role
):
    make_task(title="Call", ticket=ticket, assignee=agent)
    panel(agent, ticket)  # a writer's forms kept
    user = make_agent(email="outsider@example.com")
    user.groups.set([Group.objects.get_or_create(name=role)[0]])
    roles.group_names(user)  # read with the request's user (accounts.session_user)
    with CaptureQueriesContext(connection) as queries:
        html = follow_up.panel(request_for(user, ticket), ticket, {})
    assert (html, len(queries)) == ("", 0)


@pytest.fixture
def granted(ticket):
    """An agent of no queue who holds ``view_ticket`` on the ticket alone."""
    from guardian.shortcuts import assign_perm

    user = make_agent(email="granted@example.com")
    assign_perm("tickets.view_ticket", user, ticket)
    return user


def test_without_a_staff_generation_nothing_is_kept(settings, scene, ticket, agent):
    settings.DESK_STAFF_CACHE = False
    first, statements = panel_and_statements(agent, ticket)
    assert statements == 3
    assert panel_and_statements(agent, ticket) == (first, 3)


def test_a_new_agent_is_offered_at_the_next_page(scene, ticket, agent, queue):
    panel(agent, ticket)
    newcomer = make_agent(queue, email="newcomer@example.com")
    html = panel(agent, ticket)
    assert f'<option value="{newcomer.pk}">' in html
    assert html == former_panel(agent, ticket)


def test_who_leaves_the_desk_is_no_longer_offered(
    scene, ticket, agent, supervisor, queue
):
    # the denied twin: a deactivated agent and one taken out of the agents' group
    ann = make_agent(queue, email="ann@example.com")
    bob = make_agent(queue, email="bob@example.com")
    html = panel(supervisor, ticket)
    assert f'<option value="{ann.pk}">' in html and f'<option value="{bob.pk}">' in html
    ann.is_active = False
    ann.save()
    bob.groups.remove(Group.objects.get(name=roles.AGENTS))
    html = panel(supervisor, ticket)
    assert f'value="{ann.pk}"' not in html and f'value="{bob.pk}"' not in html
    assert html == former_panel(supervisor, ticket)


def test_a_renamed_agent_is_shown_renamed(scene, ticket, agent, supervisor):
    panel(supervisor, ticket)
    agent.display_name = "Agent <Renamed>"
    agent.save()
    html = panel(supervisor, ticket)
    assert f'<option value="{agent.pk}">Agent &lt;Renamed&gt;</option>' in html


def test_a_change_waiting_for_its_commit_is_read_fresh(scene, ticket, agent, queue):
    kept = panel(agent, ticket)
    with transaction.atomic():
        newcomer = make_agent(queue, email="newcomer@example.com")
        assert inbox.staff_generation() is None  # not committed: nothing is kept
        assert f'<option value="{newcomer.pk}">' in panel(agent, ticket)
        assert panel_and_statements(agent, ticket)[1] == 3
    assert panel(agent, ticket) != kept  # committed: a new generation


def test_a_form_with_errors_is_rendered_afresh_and_never_kept(scene, ticket, agent):
    empty = panel(agent, ticket)
    bound_task = follow_up.forms.TicketTaskForm(
        {f"{follow_up.TASK_PREFIX}-title": "", f"{follow_up.TASK_PREFIX}-assignee": ""},
        user=agent,
        prefix=follow_up.TASK_PREFIX,
    )
    bound_interaction = follow_up.forms.TicketInteractionForm(
        {f"{follow_up.INTERACTION_PREFIX}-kind": "fax"},
        prefix=follow_up.INTERACTION_PREFIX,
    )
    given = {
        follow_up.TASK_FORM: bound_task,
        follow_up.INTERACTION_FORM: bound_interaction,
    }
    assert not bound_task.is_valid() and not bound_interaction.is_valid()
    with_errors = panel(agent, ticket, given)
    assert with_errors == former_panel(agent, ticket, given)
    assert (
        with_errors.count('class="field has-error"') == 4
    )  # title, assignee, kind, summary
    assert panel(agent, ticket) == empty


def test_a_viewer_gets_no_forms_after_a_writers_were_kept(scene, ticket, agent, viewer):
    assert "Add task" in panel(agent, ticket)
    html, statements = panel_and_statements(viewer, ticket)
    assert 'data-testid="crm-follow-up"' in html
    assert "Add task" not in html and "Log interaction" not in html
    assert "<form" not in html
    assert statements == 2  # the two lists; no staff


def test_a_customer_gets_no_panel_after_a_writers_was_kept(scene, ticket, agent, acme):
    panel(agent, ticket)
    customer = make_customer(acme, email="carol@acme.example")
    assert follow_up.panel(request_for(customer, ticket), ticket, {}) == ""


def test_kind_labels_are_what_django_s_generated_method_answers():
    """``Interaction.get_kind_display`` (``choice_label``: one label translated, not
    all) answers exactly what Django's generated method does, in every language, for
    every kind, an unknown value and the empty one."""
    from django.db.models import Model

    from crm.models import Interaction, InteractionKind

    field = Interaction._meta.get_field("kind")
    for language in ("en", "pl", "ru"):
        with translation.override(language):
            for value in [*InteractionKind.values, "bogus", ""]:
                row = Interaction(kind=value)
                mine = row.get_kind_display()
                assert mine == Model._get_FIELD_display(row, field)
                assert type(mine) is str
    with translation.override("ru"):
        assert Interaction(kind="call").get_kind_display() != "Call"
