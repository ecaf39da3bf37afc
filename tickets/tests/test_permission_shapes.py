"""The rules' statements compiled once per shape (``permissions.KeptVisible``,
``permissions.visible_rows``, ``get_ticket_for``) give exactly what the ORM rules
give, for every user × ticket of ``test_permission_batch.py`` plus an inactive agent,
denied twins included: the user's id, the ticket and the reference are values of one
kept statement, so each user of a shape must still get only their own rows.

Over 400 lines until split: the workspace lists' twins could move to a file of their own."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.services import setup_member
from tickets import permissions, services
from tickets.desk import workspace
from tickets.exceptions import TicketNotFound
from tickets.models import Status, Ticket

from .factories import TicketFactory, make_agent, make_customer, png_bytes, upload

pytestmark = pytest.mark.django_db

RELATIONS = ("comments", "attachments", "events", "time_entries")
RELATED = {
    "comments": "author",
    "attachments": "comment",
    "events": "actor",
    "time_entries": "agent",
}


@pytest.fixture
def people(alice, bob, agent, other_agent, supervisor, viewer, other_queue, acme):
    insider = make_agent(other_queue, email="insider@example.com")
    setup_member(acme, insider)
    gone = make_agent(email="gone@example.com")
    gone.is_active = False
    gone.save()
    return {
        "anonymous": AnonymousUser(),
        "requester": alice,
        "colleague": bob,
        "stranger": make_customer(email="stranger@example.com"),
        "queue_agent": agent,
        "other_queue_agent": other_agent,
        "sharing_agent": insider,
        "supervisor": supervisor,
        "viewer": viewer,
        "inactive": gone,
    }


@pytest.fixture
def tickets(ticket, alice, bob, agent, queue, acme):
    """A conversation with replies, notes, files on each and on the ticket, logged
    time and events; a resolved ticket, a merged one, bob's own (shared with his
    organization) and one of a customer of no organization."""
    busy = TicketFactory(
        requester=alice,
        queue=queue,
        organization=acme,
        attachments=[upload("filed.png", png_bytes())],
    )
    services.reply(
        alice, busy, body="Still broken", attachments=[upload("r.png", png_bytes())]
    )
    services.add_internal_note(
        agent, busy, body="Known bug", attachments=[upload("n.png", png_bytes())]
    )
    services.reply(agent, busy, body="Fixed soon")
    services.log_time(agent, busy, minutes=15, note="triage")
    services.set_tags(agent, busy, ["sync"])
    resolved = TicketFactory(requester=alice, queue=queue)
    Ticket.objects.filter(pk=resolved.pk).update(status=Status.RESOLVED)
    merged = TicketFactory(requester=alice, queue=queue)
    services.merge(agent, merged, ticket)
    own = TicketFactory(requester=bob, queue=queue)  # shared with acme
    lone = TicketFactory(requester=make_customer(email="lone@example.com"), queue=queue)
    return {
        "new": ticket,
        "busy": busy,
        "resolved": resolved,
        "merged": merged,
        "bobs": own,
        "lone": lone,
    }


def _orm_rows(user, ticket, relation):
    rows = getattr(permissions, f"visible_{relation}")(user, ticket)
    return list(rows.prefetch_related(None))


def _fresh(ticket):
    ticket = Ticket.objects.get(pk=ticket.pk)
    permissions.invalidate(ticket)
    return ticket


def _described(instances, related):
    """Every column of each row and of its joined row, as read."""
    return [
        (
            {k: v for k, v in row.__dict__.items() if not k.startswith("_")},
            row._state.fields_cache.get(related)
            and row._state.fields_cache[related].pk,
        )
        for row in instances
    ]


def test_each_relation_is_the_orm_rule_for_every_user_and_ticket(people, tickets):
    seen = set()
    for who, user in people.items():
        for name, ticket in tickets.items():
            for relation in RELATIONS:
                expected = _orm_rows(user, _fresh(ticket), relation)
                got = permissions.visible_rows(user, _fresh(ticket), relation)
                related = RELATED[relation]
                assert _described(got, related) == _described(expected, related), (
                    who,
                    name,
                    relation,
                )
                if got:
                    seen.add((who, relation))
    # both sides of the rule were exercised
    assert ("queue_agent", "time_entries") in seen
    assert ("requester", "time_entries") not in seen
    assert ("stranger", "comments") not in seen
    assert ("inactive", "events") not in seen


def test_each_relation_read_together_is_each_read_alone(people, tickets):
    """``visible_rows_each`` (the facts decided once) gives, for every user and
    ticket, what ``visible_rows`` gives for each relation alone, in any order of the
    relations; nothing for a user who may not view the ticket, with no query."""
    for who, user in people.items():
        for name, ticket in tickets.items():
            together = permissions.visible_rows_each(
                user, _fresh(ticket), tuple(reversed(RELATIONS))
            )
            assert sorted(together) == sorted(RELATIONS)
            for relation in RELATIONS:
                alone = permissions.visible_rows(user, _fresh(ticket), relation)
                related = RELATED[relation]
                assert _described(together[relation], related) == _described(
                    alone, related
                ), (who, name, relation)
    busy = _fresh(tickets["busy"])
    permissions.can(people["stranger"], "view", busy)  # its permissions read first
    with CaptureQueriesContext(connection) as denied:
        nothing = permissions.visible_rows_each(people["stranger"], busy, RELATIONS)
    assert nothing == {relation: [] for relation in RELATIONS}
    assert len(denied) == 0
    agent = people["queue_agent"]
    permissions.can(agent, "view", busy)
    with CaptureQueriesContext(connection) as agents:
        rows = permissions.visible_rows_each(agent, busy, RELATIONS)
    assert len(agents) == len(RELATIONS)  # one statement a relation
    assert [c.body for c in rows["comments"]] == [
        "Still broken",
        "Known bug",
        "Fixed soon",
    ]
    customer = permissions.visible_rows_each(people["requester"], busy, RELATIONS)
    assert [c.body for c in customer["comments"]] == ["Still broken", "Fixed soon"]
    assert customer["time_entries"] == []


def test_exact_rows_of_the_busy_ticket(people, tickets):
    busy = tickets["busy"]

    def bodies(who):
        rows = permissions.visible_rows(people[who], _fresh(busy), "comments")
        return [c.body for c in rows]

    def files(who):
        rows = permissions.visible_rows(people[who], _fresh(busy), "attachments")
        return sorted(a.original_name for a in rows)

    def minutes(who):
        rows = permissions.visible_rows(people[who], _fresh(busy), "time_entries")
        return [(e.minutes, e.agent.email) for e in rows]

    assert bodies("queue_agent") == ["Still broken", "Known bug", "Fixed soon"]
    assert bodies("viewer") == ["Still broken", "Known bug", "Fixed soon"]
    # denied twins: the note is the team's who may view internal notes
    assert bodies("requester") == ["Still broken", "Fixed soon"]
    assert bodies("colleague") == ["Still broken", "Fixed soon"]
    assert bodies("sharing_agent") == ["Still broken", "Fixed soon"]
    assert bodies("stranger") == bodies("other_queue_agent") == []
    assert bodies("inactive") == bodies("anonymous") == []
    assert files("queue_agent") == ["filed.png", "n.png", "r.png"]
    assert files("requester") == ["filed.png", "r.png"]
    assert files("stranger") == []
    assert minutes("queue_agent") == [(15, "agent@example.com")]
    assert minutes("sharing_agent") == minutes("requester") == []
    agent_kinds = {
        e.kind for e in permissions.visible_rows(people["queue_agent"], busy, "events")
    }
    customer_kinds = {
        e.kind for e in permissions.visible_rows(people["requester"], busy, "events")
    }
    assert {"note_added", "time_logged", "tags_changed"} <= agent_kinds
    assert customer_kinds <= set(permissions.CUSTOMER_EVENT_KINDS)
    assert "commented" in customer_kinds


def test_one_statement_a_relation_and_none_for_nothing(people, tickets):
    busy = _fresh(tickets["busy"])
    agent, alice = people["queue_agent"], people["requester"]
    permissions.can(agent, "view", busy)  # its permissions read first
    permissions.can(alice, "view", busy)
    for relation in RELATIONS:
        with CaptureQueriesContext(connection) as agents:
            permissions.visible_rows(agent, busy, relation)
        assert len(agents) == 1, relation
    with CaptureQueriesContext(connection) as customers:
        assert permissions.visible_rows(alice, busy, "time_entries") == []
    assert len(customers) == 0


def _orm_ticket(user, reference):
    return (
        permissions.visible_tickets(user)
        .select_related("requester", "assignee", "queue", "organization")
        .get(reference=reference)
    )


def _ticket_described(ticket):
    return (
        {k: v for k, v in ticket.__dict__.items() if not k.startswith("_")},
        {
            name: getattr(ticket._state.fields_cache.get(name), "pk", None)
            for name in ("requester", "assignee", "queue", "organization")
        },
        set(ticket._state.fields_cache),
    )


def test_get_ticket_for_is_the_orm_rule_for_every_user_and_ticket(people, tickets):
    found = set()
    for who, user in people.items():
        for name, ticket in tickets.items():
            try:
                expected = _orm_ticket(user, ticket.reference)
            except Ticket.DoesNotExist:
                expected = None
            for asked in (ticket.reference, f"  {ticket.reference.lower()} "):
                try:
                    got = permissions.get_ticket_for(user, asked)
                except TicketNotFound:
                    got = None
                if expected is None:
                    assert got is None, (who, name)
                else:
                    assert _ticket_described(got) == _ticket_described(expected), (
                        who,
                        name,
                    )
                    found.add((who, name))
    assert ("queue_agent", "bobs") in found
    assert ("requester", "bobs") in found and ("requester", "lone") not in found
    assert ("queue_agent", "lone") in found and ("supervisor", "lone") in found
    assert ("sharing_agent", "new") in found and ("sharing_agent", "lone") not in found
    for nobody in ("stranger", "other_queue_agent", "inactive", "anonymous"):
        assert not any(who == nobody for who, _ in found)


def test_get_ticket_for_missing_and_denied_look_alike(people, tickets):
    agent = people["queue_agent"]
    for reference in ("HD-999999", "", "HD-\x00", "' OR 1=1 --"):
        with pytest.raises(TicketNotFound):
            permissions.get_ticket_for(agent, reference)
    with pytest.raises(TicketNotFound):
        permissions.get_ticket_for(people["stranger"], tickets["new"].reference)
    # allowed to see, denied the action: the same error
    with pytest.raises(TicketNotFound):
        permissions.get_ticket_for(people["viewer"], tickets["new"].reference, "assign")
    assert permissions.get_ticket_for(agent, tickets["new"].reference, "assign")


def test_get_ticket_for_reads_one_statement(people, tickets):
    reference = tickets["busy"].reference
    for who in ("queue_agent", "requester", "supervisor"):
        permissions.KeptVisible.shape(people[who])  # the user's roles read first
        with CaptureQueriesContext(connection) as queries:
            permissions.get_ticket_for(people[who], reference)
        assert len(queries) == 1, who
    with CaptureQueriesContext(connection) as queries:
        with pytest.raises(TicketNotFound):
            permissions.get_ticket_for(people["inactive"], reference)
    assert len(queries) == 0


def test_a_grant_after_the_first_compile_shows_at_once(people, tickets):
    bob, lone = people["colleague"], tickets["lone"]
    alice = people["requester"]
    with pytest.raises(TicketNotFound):
        permissions.get_ticket_for(alice, lone.reference)  # compiled for customers
    from guardian.shortcuts import assign_perm, remove_perm

    assign_perm("tickets.view_ticket", alice, lone)
    assert permissions.get_ticket_for(alice, lone.reference).pk == lone.pk
    with pytest.raises(TicketNotFound):  # the same statement, bob's own grants
        permissions.get_ticket_for(bob, lone.reference)
    remove_perm("tickets.view_ticket", alice, lone)
    with pytest.raises(TicketNotFound):
        permissions.get_ticket_for(alice, lone.reference)


def test_shapes(people):
    shape = permissions.KeptVisible.shape
    assert {who: shape(user) for who, user in people.items()} == {
        "anonymous": None,
        "requester": "customer",
        "colleague": "customer",
        "stranger": "customer",
        "queue_agent": "staff",
        "other_queue_agent": "staff",
        "sharing_agent": "staff",
        "supervisor": "all",
        "viewer": "all",
        "inactive": None,
    }


def test_the_user_is_never_a_named_variable():
    with pytest.raises(ValueError):
        permissions.KeptVisible(lambda visible, user: visible, ("user",))


def _orm_other_tickets(user, field, value, ticket):
    return list(
        permissions.visible_tickets(user)
        .only(*workspace.OTHER_TICKET_FIELDS)
        .filter(**{field: value})
        .exclude(pk=ticket.pk)
        .order_by("-created_at")[:10]
    )


def test_the_workspace_lists_of_other_tickets_are_the_orm_rule(people, tickets):
    lists = {
        "requester": workspace._REQUESTER_TICKETS,
        "organization": workspace._ORGANIZATION_TICKETS,
    }
    nonempty = set()
    for who, user in people.items():
        for name, ticket in tickets.items():
            for field, kept in lists.items():
                value = getattr(ticket, f"{field}_id")
                if value is None:
                    continue
                got = kept.instances(user, **{field: value, "ticket": ticket.pk})
                expected = _orm_other_tickets(user, field, value, ticket)
                assert [
                    (t.pk, t.reference, t.subject, t.status, t.created_at) for t in got
                ] == [
                    (t.pk, t.reference, t.subject, t.status, t.created_at)
                    for t in expected
                ], (who, name, field)
                assert all(
                    t.get_deferred_fields() == e.get_deferred_fields()
                    for t, e in zip(got, expected, strict=True)
                )
                if got:
                    nonempty.add((who, field))
    assert ("queue_agent", "requester") in nonempty
    assert ("sharing_agent", "organization") in nonempty
    for nobody in ("stranger", "other_queue_agent", "inactive", "anonymous"):
        assert not any(who == nobody for who, _ in nonempty)


def test_the_two_lists_in_one_statement_are_the_two_statements(people, tickets):
    """``workspace.other_tickets``: both lists in one ``UNION ALL`` (one statement,
    none for a user who sees nothing) are each kept query's own rows, in its order,
    for every user (each shape, denied twins: a stranger, another queue's agent, an
    inactive user get nothing) and ticket (with and without an organization)."""
    lists = {
        "requester": workspace._REQUESTER_TICKETS,
        "organization": workspace._ORGANIZATION_TICKETS,
    }
    shapes = set()
    for who, user in people.items():
        for name, ticket in tickets.items():
            apart = [
                kept.instances(
                    user, **{field: getattr(ticket, f"{field}_id"), "ticket": ticket.pk}
                )
                if getattr(ticket, f"{field}_id")
                else []
                for field, kept in lists.items()
            ]
            with CaptureQueriesContext(connection) as queries:
                together = workspace.other_tickets(user, ticket)
            assert len(queries) == (permissions.KeptVisible.shape(user) is not None)
            shapes.add(permissions.KeptVisible.shape(user))
            assert [
                [(t.pk, t.reference, t.subject, t.status, t.created_at) for t in got]
                for got in together
            ] == [
                [(t.pk, t.reference, t.subject, t.status, t.created_at) for t in got]
                for got in apart
            ], (who, name)
            assert all(
                t.get_deferred_fields() == e.get_deferred_fields()
                for got, expected in zip(together, apart, strict=True)
                for t, e in zip(got, expected, strict=True)
            )
    assert shapes == {None, "all", "staff", "customer"}


def _listed(kept, user, field, ticket):
    value = getattr(ticket, f"{field}_id")
    return [
        t.reference for t in kept.instances(user, **{field: value, "ticket": ticket.pk})
    ]


def test_the_other_ticket_lists_show_only_what_each_user_sees(
    alice, acme, agent, other_agent, queue, other_queue, viewer
):
    """The denied twins of the lists: a ticket of the same requester and organization
    in another queue is listed for that queue's agent and not for this one's, until
    a grant lets them see it; at most the ten newest, this ticket never among them,
    a ticket hidden from the user never taking a place of the ten."""
    from datetime import timedelta

    from django.utils import timezone
    from guardian.shortcuts import assign_perm, remove_perm

    start = timezone.now() - timedelta(days=30)

    def filed(when, **fields):
        made = TicketFactory(requester=alice, organization=acme, **fields)
        Ticket.objects.filter(pk=made.pk).update(created_at=when)
        return made

    ours = [filed(start + timedelta(hours=n), queue=queue) for n in range(12)]
    # newer than all of ours: it would take a place if hidden tickets were counted
    billing = filed(start + timedelta(days=5), queue=other_queue)
    lists = {
        "requester": workspace._REQUESTER_TICKETS,
        "organization": workspace._ORGANIZATION_TICKETS,
    }
    here = ours[3]
    newest_first = [t.reference for t in reversed(ours) if t != here][:10]
    for field, kept in lists.items():
        assert _listed(kept, agent, field, here) == newest_first, field
        assert _listed(kept, other_agent, field, billing) == [], field
        assert _listed(kept, other_agent, field, here) == [billing.reference], field
        assert _listed(kept, viewer, field, here) == [
            billing.reference,
            *newest_first[:9],
        ], field
    assign_perm("tickets.view_ticket", agent, billing)
    for field, kept in lists.items():
        assert _listed(kept, agent, field, here) == [
            billing.reference,
            *newest_first[:9],
        ], field
    remove_perm("tickets.view_ticket", agent, billing)
    for field, kept in lists.items():
        assert _listed(kept, agent, field, here) == newest_first, field
