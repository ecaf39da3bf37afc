"""The inbox's ranked search in the views narrowed to the worked queues (``open``,
``queues``, ``unassigned``) states the policy's worked-queue rule
(``permissions.worked_queue_rule``) instead of the visibility and notes conditions:
the same rows, the membership read by the statement itself, a note's word only for
the queue's agents; and the search's subject arm after the staff terms where notes
count on every row."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from accounts import roles
from accounts.models import TicketSharing
from accounts.services import setup_member
from tickets import permissions, services
from tickets.desk import inbox
from tickets.models import Ticket, fulltext

from .factories import (
    QueueFactory,
    TicketFactory,
    UserFactory,
    make_agent,
    make_customer,
)

pytestmark = pytest.mark.django_db

WORKED_VIEWS = ("open", "queues", "unassigned")


def fresh(user):
    return get_user_model().objects.get(pk=user.pk)  # no cached roles


def kept_ids(user, view, text, queues=None):
    user = fresh(user)
    if queues is None:
        queues = list(inbox.my_queues(user))
    kept = inbox._kept_search(user, view, {"q": text}, queues, "")
    assert kept is not None, (user.email, view, text)
    return sorted(kept.ranked_ids), kept.kind


@pytest.fixture
def noted(queue, acme, agent):
    """Three tickets of the agent's queue, a word only in their internal notes;
    Acme shares its tickets (read) with its members."""
    acme.ticket_sharing = TicketSharing.READ
    acme.save()
    requester = make_customer(acme)
    tickets = []
    for i in range(3):
        t = TicketFactory(requester=requester, organization=acme, queue=queue)
        services.reply(agent, t, body=f"Public reply {i}: the capybara left.")
        services.add_internal_note(agent, t, body="Secret: the wombat plan.")
        tickets.append(t.pk)
    inbox.forget_kept_searches()
    return sorted(tickets)


def test_the_rule_is_the_queue_group_rule_of_the_policy(queue, agent, supervisor):
    rule = permissions.worked_queue_rule(fresh(agent))
    assert rule.notes is True
    assert set(
        Ticket.objects.filter(rule.condition).values_list("queue", flat=True)
    ) <= {queue.pk}
    assert permissions.worked_queue_rule(fresh(supervisor)) is None  # sees all
    assert permissions.worked_queue_rule(make_customer()) is None
    editor = UserFactory(roles=[roles.EDITORS])
    editor.groups.add(queue.agent_group)
    assert permissions.worked_queue_rule(fresh(editor)).notes is False


@pytest.mark.parametrize("view", WORKED_VIEWS)
def test_a_notes_word_is_found_by_the_queues_agents(noted, agent, view):
    assert kept_ids(agent, view, "wombat") == (noted, "staff")
    assert kept_ids(agent, view, "capybara") == (noted, "staff")


@pytest.mark.parametrize("view", WORKED_VIEWS)
def test_a_notes_word_is_never_found_without_the_notes(noted, queue, acme, view):
    """Denied twins: a staff member of the queue's group who reads no notes (an
    editor), a customer in the queue's group, an agent of another queue who sees the
    tickets through the organization's sharing: each finds the public word where
    they see the tickets, the note's word nowhere."""
    editor = UserFactory(roles=[roles.EDITORS])
    editor.groups.add(queue.agent_group)
    member = make_customer(acme)
    member.groups.add(queue.agent_group)
    outsider = make_agent(QueueFactory())
    setup_member(acme, outsider)
    for user in (editor, member):  # they see the queue's tickets
        assert kept_ids(user, view, "capybara") == (noted, "public")
        assert kept_ids(user, view, "wombat") == ([], "public")
    # none of the outsider's worked queues holds them
    assert kept_ids(outsider, view, "wombat")[0] == []
    assert kept_ids(outsider, view, "capybara")[0] == []
    # where the outsider sees them (every visible ticket): the public word only
    assert kept_ids(outsider, "all", "capybara") == (noted, "public")
    assert kept_ids(outsider, "all", "wombat") == ([], "public")


@pytest.mark.parametrize("view", WORKED_VIEWS)
def test_a_queue_left_after_its_list_was_read_shows_nothing(noted, queue, agent, view):
    """The worked queues are read by the statement: a membership removed after the
    page read its queue list (READ COMMITTED: another transaction, in between)
    shows none of that queue's tickets, nor its notes."""
    agent = fresh(agent)
    queues = list(inbox.my_queues(agent))
    assert kept_ids(agent, view, "wombat", queues) == (noted, "staff")
    agent.groups.remove(queue.agent_group)
    assert kept_ids(agent, view, "wombat", queues)[0] == []
    assert kept_ids(agent, view, "capybara", queues)[0] == []
    agent.groups.add(queue.agent_group)  # back: found again, the same statement
    assert kept_ids(agent, view, "wombat", queues) == (noted, "staff")


def test_the_worked_views_statement_holds_no_grants_and_no_notes_column(noted, agent):
    agent = fresh(agent)
    queues = list(inbox.my_queues(agent))
    for view in WORKED_VIEWS:
        inbox._kept_search(agent, view, {"q": "wombat"}, queues, "")
    inbox._kept_search(agent, "all", {"q": "wombat"}, queues, "")
    by_view = {key[6]: kept for key, kept in inbox._KEPT_SEARCHES.items()}
    grants = permissions.TicketUserObjectPermission._meta.db_table
    for view in WORKED_VIEWS:
        sql, _params, noted_column, _places, every_noted = by_view[view]
        assert grants not in sql
        assert (noted_column, every_noted) == (False, True)
    sql, _params, noted_column, _places, every_noted = by_view["all"]
    assert grants in sql
    assert (noted_column, every_noted) == (True, False)


def test_the_subject_arm_comes_after_the_staff_terms_where_notes_always_count(db):
    def positions(notes):
        qs = Ticket.objects.search("wombat", notes=notes)
        sql = str(qs.query)
        sql = sql[sql.index(" WHERE ") :]
        document = (
            "tickets_search_terms_query"
            if connection.vendor == "postgresql"
            else fulltext.FTS_TABLE
        )
        return sql.index('"subject"'), sql.index(document)

    subject, document = positions(True)
    assert document < subject
    for notes in (False, permissions.notes_searchable(make_agent(QueueFactory()))):
        subject, document = positions(notes)
        assert subject < document
