"""The queue's agent group's rights on a ticket are a rule on the ticket row, not grant
rows (bench FINDINGS V-3): ``permissions.queue_group_grants`` is its one statement, and
every reader (``ticket_perms``, ``user.has_perm``, ``visible_tickets``, the counts,
internal notes, the live audience) gives the rights the six rows gave. On SQLite and
PostgreSQL alike (the suite's database)."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tickets import grants, permissions, services
from tickets.models import (
    Comment,
    Ticket,
    TicketGroupObjectPermission,
    TicketUserObjectPermission,
)

from .factories import make_customer

pytestmark = pytest.mark.django_db

GROUP_TABLE = TicketGroupObjectPermission._meta.db_table
AGENT_PERMS = frozenset(grants.AGENT_PERMS)


def fresh(user):
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def filed(alice, queue, acme):
    return services.create_ticket(
        alice, subject="Printer", description="On fire.", organization=acme
    )


def test_a_new_ticket_writes_no_row_for_its_queue_group(filed, queue, acme):
    groups = set(
        TicketGroupObjectPermission.objects.filter(content_object=filed).values_list(
            "group_id", flat=True
        )
    )
    assert groups == {acme.group_id}  # the organization's sharing only
    assert permissions.queue_group_grants(filed) == {
        (queue.agent_group_id, codename) for codename in grants.AGENT_PERMS
    }


def test_an_agent_of_the_queue_holds_exactly_the_agent_perms(filed, agent):
    agent = fresh(agent)
    assert permissions.ticket_perms(agent, filed) == AGENT_PERMS
    assert permissions.queue_group_codenames(agent, filed) == AGENT_PERMS
    for codename in (*grants.AGENT_PERMS, "rate_ticket"):
        expected = codename in AGENT_PERMS
        assert agent.has_perm(f"tickets.{codename}", filed) is expected, codename
        assert agent.has_perm(codename, filed) is expected, codename
    assert agent.get_all_permissions(filed) == AGENT_PERMS
    (page,) = permissions.prefetch_permissions(agent, [Ticket.objects.get(pk=filed.pk)])
    assert page._perm_cache[agent.pk] == AGENT_PERMS
    assert permissions.can(agent, "view_internal", filed)


def test_an_inactive_agent_holds_nothing(filed, agent):
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    agent = fresh(agent)
    assert permissions.ticket_perms(agent, filed) == frozenset()
    assert not agent.has_perm("tickets.view_ticket", filed)
    assert permissions.queue_group_codenames(agent, filed) == frozenset()


def test_the_denied_twin_an_agent_of_another_queue(filed, other_agent, agent):
    note = services.add_internal_note(fresh(agent), filed, body="Internal.")
    other_agent = fresh(other_agent)
    assert permissions.ticket_perms(other_agent, filed) == frozenset()
    assert not other_agent.has_perm("tickets.view_ticket", filed)
    assert other_agent.get_all_permissions(filed) == set()
    assert not permissions.visible_tickets(other_agent).filter(pk=filed.pk).exists()
    assert permissions.count_visible(other_agent) == 0
    assert permissions.count_visible_up_to(other_agent, None, 10) == 0
    audience = permissions.ticket_audience(filed.pk)
    viewer = permissions.viewer_facts(other_agent)
    assert permissions.audience_allows(viewer, audience) == (False, False)
    notes = Comment.objects.filter(pk=note.pk)
    assert not notes.filter(permissions.comments_visible_to(other_agent)).exists()
    # the twin: the queue's own agent sees it all, live and internal notes included
    agent = fresh(agent)
    assert permissions.visible_tickets(agent).filter(pk=filed.pk).exists()
    assert permissions.count_visible(agent) == 1
    allowed = permissions.audience_allows(permissions.viewer_facts(agent), audience)
    assert allowed == (True, True)
    assert notes.filter(permissions.comments_visible_to(agent)).exists()


def test_moving_the_ticket_moves_the_rights_with_no_grant_write_for_the_group(
    filed, agent, other_agent, other_queue, supervisor
):
    with CaptureQueriesContext(connection) as queries:
        services.move_queue(supervisor, filed, other_queue)
    writes = [
        q["sql"]
        for q in queries
        if GROUP_TABLE in q["sql"]
        and q["sql"].lstrip().split()[0].upper() in ("INSERT", "UPDATE", "DELETE")
    ]
    assert writes == []  # no grant row follows the queue
    moved = Ticket.objects.get(pk=filed.pk)
    assert permissions.ticket_perms(fresh(agent), moved) == frozenset()
    assert permissions.ticket_perms(fresh(other_agent), moved) == AGENT_PERMS
    assert fresh(other_agent).has_perm("tickets.change_ticket", moved)
    assert not fresh(agent).has_perm("tickets.view_ticket", moved)
    audience = permissions.ticket_audience(moved.pk)
    assert audience.queue_group == other_queue.agent_group_id
    assert other_queue.agent_group_id in audience.groups & audience.internal_groups
    assert other_queue.agent_group_id in audience.agent_groups


def test_a_member_of_the_agent_group_who_is_not_staff_sees_the_queue(
    filed, queue, agent
):
    insider = make_customer(email="insider@example.com")
    insider.groups.add(queue.agent_group)
    insider = fresh(insider)
    assert permissions.visible_tickets(insider).filter(pk=filed.pk).exists()
    assert permissions.count_visible(insider) == 1
    assert permissions.count_visible_up_to(insider, None, 5) == 1
    assert permissions.ticket_perms(insider, filed) == AGENT_PERMS
    note = services.add_internal_note(fresh(agent), filed, body="Internal.")
    assert (
        Comment.objects.filter(pk=note.pk)
        .filter(permissions.comments_visible_to(insider))
        .exists()
    )
    viewer = permissions.viewer_facts(insider)
    audience = permissions.ticket_audience(filed.pk)
    assert permissions.audience_allows(viewer, audience) == (True, True)


def test_the_new_tickets_audience_is_the_committed_one(filed):
    audience = permissions.ticket_audience(filed.pk)
    assert filed.queue.agent_group_id in audience.groups
    assert filed.queue.agent_group_id in audience.internal_groups


class Statements:
    """``schema_editor.execute`` in the test's transaction (SQLite's schema editor
    refuses to open inside one)."""

    def execute(self, sql, params):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def test_the_migration_writes_the_rows_back_and_drops_them_again(filed, queue, acme):
    """0022's two statements: backward writes the queue group's six rows per ticket,
    forward deletes exactly them (the organization's rows stay)."""
    migration = importlib.import_module(
        "tickets.migrations.0022_queue_group_rights_by_rule"
    )
    rows = TicketGroupObjectPermission.objects.filter(content_object=filed)
    before = set(rows.values_list("group_id", "permission__codename"))
    editor = Statements()  # what the functions use of a schema editor
    migration.write_queue_group_rows(apps, editor)
    assert set(rows.values_list("group_id", "permission__codename")) == (
        before | permissions.queue_group_grants(filed)
    )
    migration.write_queue_group_rows(apps, editor)  # again: nothing twice
    assert rows.count() == len(before) + len(grants.AGENT_PERMS)
    migration.drop_queue_group_rows(apps, editor)
    assert set(rows.values_list("group_id", "permission__codename")) == before
    assert {gid for gid, _ in before} == {acme.group_id}


def _grant_rows(ticket):
    return {
        model: set(
            model.objects.filter(content_object=ticket).values_list(
                owner, "permission__codename"
            )
        )
        for model, owner in (
            (TicketUserObjectPermission, "user_id"),
            (TicketGroupObjectPermission, "group_id"),
        )
    }


def test_a_queue_move_touches_no_grant_table_and_keeps_every_row(
    filed, alice, agent, other_agent, other_queue, supervisor, acme
):
    services.assign(supervisor, filed, agent)
    before = _grant_rows(filed)
    tables = (GROUP_TABLE, TicketUserObjectPermission._meta.db_table)
    with CaptureQueriesContext(connection) as queries:
        services.move_queue(supervisor, filed, other_queue)
    assert [q["sql"] for q in queries if any(t in q["sql"] for t in tables)] == []
    assert (
        _grant_rows(filed) == before
    )  # requester, assignee, organization: as they were
    moved = Ticket.objects.get(pk=filed.pk)
    assert permissions.ticket_perms(fresh(alice), moved)  # the requester keeps hers
    assert permissions.ticket_perms(fresh(agent), moved) == AGENT_PERMS  # assignee
    assert permissions.ticket_perms(fresh(other_agent), moved) == AGENT_PERMS


def test_the_old_queue_s_agents_lose_the_ticket_at_once(
    filed, agent, other_agent, other_queue, supervisor
):
    # the denied twin, on the very instance moved: its cached permissions are forgotten
    # (the old queue's agent hands it over, asked for her rights to do it)
    agent, other_agent = fresh(agent), fresh(other_agent)
    assert permissions.ticket_perms(agent, filed) == AGENT_PERMS
    assert permissions.ticket_perms(other_agent, filed) == frozenset()
    services.move_queue(agent, filed, other_queue)
    assert permissions.ticket_perms(agent, filed) == frozenset()
    assert permissions.ticket_perms(other_agent, filed) == AGENT_PERMS
    assert not permissions.visible_tickets(agent).filter(pk=filed.pk).exists()
    assert permissions.visible_tickets(other_agent).filter(pk=filed.pk).exists()


def test_an_audience_written_before_a_queue_move_is_read_again(
    filed, other_queue, supervisor
):
    known = grants.WrittenAudience(
        permissions.ticket_audience(filed.pk), getattr(grants._writes, "count", 0)
    )
    assert known.current() is not None
    services.move_queue(supervisor, filed, other_queue)
    assert known.current() is None  # the queue group in it is the old one
