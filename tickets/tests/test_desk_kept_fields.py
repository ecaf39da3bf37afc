"""The workspace's empty assignee and priority ``<select>``s kept per process
(``tickets.desk.kept_fields``): byte for byte ``{{ form.field }}``, kept or not, in
each language; the assignee's follows the staff (a new agent of the queue offered, a
renamed one renamed, a deactivated one gone, at the next page) and the ticket (its
queue's group, its assignee selected); a form with errors is never kept; nothing is
kept while a staff change waits for its commit, or with the staff cache off. Denied
twin: an agent who may not assign gets no ``<select>`` after another's was kept."""

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.functional import empty

from tickets.desk import forms, kept_fields
from tickets.models import Priority, Ticket

from .factories import QueueFactory, TicketFactory, make_agent

# Committed changes: a new staff generation is set when a change commits.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def kept(settings):
    settings.DESK_STAFF_CACHE = True  # as with Redis (one process here)
    cache.clear()
    kept_fields.forget_kept_fields()
    yield
    cache.clear()
    kept_fields.forget_kept_fields()


def fresh(ticket):
    return str(forms.AssignForm(ticket=ticket)["assignee"])


def kept_select(ticket):
    return kept_fields.assignee_select(forms.AssignForm(ticket=ticket), ticket)


def statements(function, *args):
    with CaptureQueriesContext(connection) as queries:
        html = function(*args)
    return html, len(queries)


@pytest.mark.parametrize("language", ["en", "pl", "ru"])
def test_the_assignee_select_is_the_fields_kept_or_not(
    ticket, agent, supervisor, language
):
    agent.display_name = "Agent & <Co> \"'"
    agent.save()
    with translation.override(language):
        first, first_statements = statements(kept_select, ticket)
        second, second_statements = statements(kept_select, ticket)
        assert first == second == fresh(ticket)
    assert (first_statements, second_statements) == (1, 0)
    assert "Agent &amp; &lt;Co&gt; &quot;&#x27;" in first
    assert f'<option value="{supervisor.pk}">' in first


def test_each_language_has_its_own_select(ticket, agent):
    english = kept_select(ticket)
    with translation.override("pl"):
        polish = kept_select(ticket)
    assert '<option value="" selected>Unassigned</option>' in english
    assert '<option value="" selected>Nieprzypisane</option>' in polish
    assert kept_select(ticket) == english


def test_the_tickets_assignee_is_selected(ticket, queue, agent):
    colleague = make_agent(queue)
    other = TicketFactory(queue=queue)
    Ticket.objects.filter(pk=other.pk).update(assignee=colleague)
    other.refresh_from_db()
    unassigned = kept_select(ticket)
    assigned = kept_select(other)
    assert f'<option value="{colleague.pk}" selected>' in assigned
    assert '<option value="" selected>' in unassigned
    assert f'<option value="{colleague.pk}" selected>' not in unassigned
    assert assigned == fresh(other) and unassigned == fresh(ticket)


def test_each_queue_offers_its_own_agents(ticket, agent, other_agent, other_queue):
    elsewhere = TicketFactory(queue=other_queue)
    here, there = kept_select(ticket), kept_select(elsewhere)
    assert f'value="{agent.pk}"' in here and f'value="{other_agent.pk}"' not in here
    assert f'value="{other_agent.pk}"' in there and f'value="{agent.pk}"' not in there


def test_the_select_follows_the_staff(ticket, queue, agent):
    kept_select(ticket)
    newcomer = make_agent(queue, display_name="Newcomer")
    html = kept_select(ticket)
    assert f'<option value="{newcomer.pk}">Newcomer</option>' in html
    newcomer.display_name = "Renamed"
    newcomer.save()
    assert f'<option value="{newcomer.pk}">Renamed</option>' in kept_select(ticket)
    newcomer.is_active = False
    newcomer.save()
    assert f'value="{newcomer.pk}"' not in kept_select(ticket)
    assert kept_select(ticket) == fresh(ticket)


def test_nothing_is_kept_while_a_staff_change_waits_for_its_commit(ticket, queue):
    kept_select(ticket)
    with transaction.atomic():
        newcomer = make_agent(queue, display_name="Not yet committed")
        html, count = statements(kept_select, ticket)
        assert f'value="{newcomer.pk}"' in html and count == 1
    assert f'value="{newcomer.pk}"' in kept_select(ticket)


def test_read_each_time_with_the_staff_cache_off(ticket, agent, settings):
    settings.DESK_STAFF_CACHE = False
    assert [statements(kept_select, ticket)[1] for _ in range(2)] == [1, 1]


def test_a_form_with_errors_is_rendered_afresh(ticket, agent):
    kept = kept_select(ticket)
    bound = forms.AssignForm({"assignee": str(agent.pk)}, ticket=ticket)
    html = kept_fields.assignee_select(bound, ticket)
    assert f'<option value="{agent.pk}" selected>' in html and html != kept
    assert html == str(bound["assignee"])


@pytest.mark.parametrize("language", ["en", "pl", "ru"])
def test_the_priority_select_is_the_fields_per_language_and_value(ticket, language):
    with translation.override(language):
        for value in [*Priority.values, "high", "low"]:
            form = forms.PriorityForm(initial={"priority": value})
            kept = kept_fields.priority_select(form)
            assert kept == str(form["priority"])
            assert f'value="{value}" selected' in kept
    bound = forms.PriorityForm({"priority": "nonsense"})
    assert kept_fields.priority_select(bound) == str(bound["priority"])


def test_no_select_for_an_agent_who_may_not_assign(client, ticket, agent, viewer):
    client.force_login(agent)
    offered = client.get(f"/admin/helpdesk/tickets/{ticket.reference}/")
    assert offered.status_code == 200
    assert 'name="assignee"' in offered.content.decode()
    client.force_login(viewer)  # reads the ticket, does not act
    refused = client.get(f"/admin/helpdesk/tickets/{ticket.reference}/")
    assert refused.status_code == 200
    assert 'name="assignee"' not in refused.content.decode()
    assert 'name="priority"' not in refused.content.decode()


def queue_select(ticket):
    form = forms.QueueForm(initial={"queue": ticket.queue_id})
    return kept_fields.queue_select(form)


def fresh_queue_select(ticket):
    return str(forms.QueueForm(initial={"queue": ticket.queue_id})["queue"])


def test_the_queue_select_is_the_fields_kept_or_not(ticket, queue, other_queue):
    other_queue.name = "Billing & <Co>"
    other_queue.save()
    first, first_statements = statements(queue_select, ticket)
    second, second_statements = statements(queue_select, ticket)
    assert first == second == fresh_queue_select(ticket)
    assert (first_statements, second_statements) == (1, 0)
    assert f'<option value="{queue.pk}" selected>Support</option>' in first
    assert (
        f'<option value="{other_queue.pk}">Billing &amp; &lt;Co&gt;</option>' in first
    )
    elsewhere = TicketFactory(queue=other_queue)
    there = queue_select(elsewhere)
    assert f'<option value="{other_queue.pk}" selected>' in there
    assert there == fresh_queue_select(elsewhere)


def test_the_queue_select_follows_the_queues(ticket, queue):
    queue_select(ticket)
    added = QueueFactory(slug="sales", name="Sales")
    assert f'<option value="{added.pk}">Sales</option>' in queue_select(ticket)
    added.name = "Renamed"
    added.save()
    assert f'<option value="{added.pk}">Renamed</option>' in queue_select(ticket)
    added.delete()
    assert "Renamed" not in queue_select(ticket)
    assert queue_select(ticket) == fresh_queue_select(ticket)


def test_queues_read_fresh_while_a_change_waits_or_with_the_cache_off(ticket, settings):
    queue_select(ticket)
    with transaction.atomic():
        added = QueueFactory(slug="sales", name="Not yet committed")
        html, count = statements(queue_select, ticket)
        assert f'value="{added.pk}"' in html and count == 1
    settings.DESK_STAFF_CACHE = False
    assert [statements(queue_select, ticket)[1] for _ in range(2)] == [1, 1]


def test_a_queue_form_with_errors_is_rendered_afresh(ticket, other_queue):
    queue_select(ticket)
    bound = forms.QueueForm({"queue": str(other_queue.pk)})
    html = kept_fields.queue_select(bound)
    assert f'<option value="{other_queue.pk}" selected>' in html
    assert html == str(bound["queue"])


@pytest.mark.parametrize("language", ["en", "pl", "ru"])
def test_the_workspaces_forms_not_built_show_what_built_ones_show(
    ticket, queue, agent, language
):
    """``workspace.build_forms`` gives ``forms.Unbuilt`` forms: what each shows
    (``shown``) is its built form's ``value()``, for an unassigned and an assigned
    ticket, and its kept ``<select>`` is the built field's, fresh or kept; a kept one
    does not build the form (no statement: the assignable agents are not read)."""
    from tickets.desk import workspace

    assigned = TicketFactory(queue=queue)
    Ticket.objects.filter(pk=assigned.pk).update(assignee=agent, priority="high")
    assigned.refresh_from_db()
    selects = {
        "assign_form": ("assignee", kept_fields.assignee_select, True),
        "priority_form": ("priority", kept_fields.priority_select, False),
        "queue_form": ("queue", kept_fields.queue_select, False),
    }
    with translation.override(language):
        for shown in (ticket, assigned):
            built = workspace.build_forms(shown, agent)
            for name, (field, select, takes_ticket) in selects.items():
                form = built[name]
                args = (form, shown) if takes_ticket else (form,)
                first = select(*args)  # a miss: the form is built for it
                again = workspace.build_forms(shown, agent)[name]
                args = (again, shown) if takes_ticket else (again,)
                second, count = statements(select, *args)
                expected = str(form[field])  # the built form's own
                assert first == second == expected, (name, shown.reference)
                assert (again._wrapped is empty, count) == (True, 0)
                assert form.shown == {field: form[field].value()}
    assert workspace.build_forms(assigned, agent)["assign_form"].shown == {
        "assignee": agent.pk
    }
