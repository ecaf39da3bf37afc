"""The workspace's reads in one round trip (``tickets.desk.workspace.read_page``,
``portal.sql.read_together`` of ``permissions.visible_statements`` and the kept
statements): for every user × ticket of ``test_permission_shapes.py`` (denied twins
included: a stranger, another queue's agent, an inactive agent, anonymous) each list is
what it is read alone (``permissions.visible_rows_each``, ``workspace.other_tickets``,
the kept statements), every column of every row; on PostgreSQL in one ``execute``,
elsewhere one statement each."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tickets import permissions
from tickets.desk import inbox, kept_fields, workspace

from . import test_permission_shapes as shapes
from .factories import CannedResponseFactory
from .test_desk_workspace import url
from .test_permission_shapes import RELATED, RELATIONS, _described, _fresh

pytestmark = pytest.mark.django_db

people = shapes.people  # that file's users and tickets
tickets = shapes.tickets

KEPT = {
    "canned": lambda ticket: workspace._CANNED.instances(queue=ticket.queue_id),
    "memberships": lambda ticket: workspace._MEMBERSHIPS.instances(
        user=ticket.requester_id
    ),
    "merged": lambda ticket: workspace._MERGED.instances(ticket=ticket.pk),
    "emails": lambda ticket: workspace._SOURCE_EMAILS.instances(ticket=ticket.pk),
    "tags": lambda ticket: workspace._TAGS.instances(ticket=ticket.pk),
    "watchers": lambda ticket: workspace._WATCHERS.instances(ticket=ticket.pk),
}


def _plain(instances):
    return [
        {k: v for k, v in row.__dict__.items() if not k.startswith("_")}
        for row in instances
    ]


def test_each_list_read_together_is_the_list_read_alone(people, tickets, queue):
    CannedResponseFactory(queue=queue)
    seen = set()
    for who, user in people.items():
        for name, ticket in tickets.items():
            apart = _fresh(ticket)
            rows = permissions.visible_rows_each(user, apart, RELATIONS)
            others = workspace.other_tickets(user, apart)
            kept = {key: read(apart) for key, read in KEPT.items()}
            together = _fresh(ticket)
            read = workspace.read_page(user, together)
            where = (who, name)
            assert set(read) == {"rows", "others", *KEPT}, where
            for relation in RELATIONS:
                related = RELATED[relation]
                assert _described(read["rows"][relation], related) == _described(
                    rows[relation], related
                ), (*where, relation)
                if read["rows"][relation]:
                    seen.add((who, relation))
            for got, expected in zip(read["others"], others, strict=True):
                assert _plain(got) == _plain(expected), where
            if any(read["others"]):
                seen.add((who, "others"))
            for key in KEPT:
                assert _plain(read[key]) == _plain(kept[key]), (*where, key)
            # tags and watchers are the ticket's prefetched relations, no query
            with CaptureQueriesContext(connection) as queries:
                assert list(together.tags.all()) == read["tags"]
                assert list(together.watchers.all()) == read["watchers"]
            assert len(queries) == 0
    # both sides of each rule were exercised
    assert ("queue_agent", "time_entries") in seen
    assert ("requester", "time_entries") not in seen
    assert ("requester", "comments") in seen
    assert ("stranger", "comments") not in seen
    assert ("stranger", "others") not in seen
    assert ("inactive", "events") not in seen
    assert ("anonymous", "others") not in seen
    assert ("queue_agent", "others") in seen


def test_one_execute_on_postgresql_one_statement_each_elsewhere(people, tickets):
    ticket = _fresh(tickets["busy"])
    user = people["queue_agent"]
    permissions.can_each(user, ("view", "view_internal"), ticket)  # rights known
    with CaptureQueriesContext(connection) as queries:
        workspace.read_page(user, ticket)
    # tags, watchers, canned, memberships, 4 relations, others, merged, emails
    assert len(queries) == (1 if connection.vendor == "postgresql" else 11)


def _generation_reads(client, ticket, monkeypatch):
    """The keys of the staff's and queues' generations the page reads, by call."""
    from portal import cache as shared_cache

    watched = {inbox.STAFF_GENERATION_KEY, kept_fields.QUEUES_GENERATION_KEY}
    reads, inside = [], []
    get, get_many = shared_cache.cache.get, shared_cache.cache.get_many

    def one(key, *args, **kwargs):
        if key in watched and not inside:  # LocMemCache's get_many GETs each
            reads.append(("get", key))
        return get(key, *args, **kwargs)

    def many(keys, *args, **kwargs):
        reads.append(("get_many", tuple(k for k in keys if k in watched)))
        inside.append(True)
        try:
            return get_many(keys, *args, **kwargs)
        finally:
            inside.pop()

    monkeypatch.setattr(shared_cache.cache, "get", one)
    monkeypatch.setattr(shared_cache.cache, "get_many", many)
    response = client.get(url(ticket))
    monkeypatch.undo()
    assert response.status_code == 200
    return reads, response.content


def test_the_pages_generations_are_read_in_one_round_trip(
    client, agent, ticket, settings, monkeypatch
):
    settings.DESK_STAFF_CACHE = True
    kept_fields.forget_kept_fields()
    client.force_login(agent)
    client.get(url(ticket))  # the generations made
    reads, kept = _generation_reads(client, ticket, monkeypatch)
    # one get_many of both (the assignee <select>, crm's "Add task" and the queue
    # <select> answered from it), no GET of either
    assert reads == [
        ("get_many", (inbox.STAFF_GENERATION_KEY, kept_fields.QUEUES_GENERATION_KEY))
    ]
    # the denied twin: switched off, neither is read (the fields built afresh)
    settings.DESK_STAFF_CACHE = False
    reads, built = _generation_reads(client, ticket, monkeypatch)
    assert reads == []
    assert b'id="id_assignee"' in kept and b'id="id_assignee"' in built
