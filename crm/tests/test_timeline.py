"""``crm.timeline``, the one owner of an organization's timeline (the desk pages it,
GraphQL returns one page): the policy of each source, the merge, newest first."""

from datetime import timedelta

import pytest

from crm import timeline
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_customers_have_no_timeline(scene, alice, acme, make_task):
    make_task(organization=acme)
    assert timeline.sources(alice, acme) == []
    assert timeline.newest(alice, acme, 10) == []


def test_newest_merges_the_sources_newest_first(
    scene, supervisor, acme, ticket, make_task, make_interaction, now
):
    Ticket.objects.filter(pk=ticket.pk).update(created_at=now - timedelta(days=2))
    make_interaction(subject="old", organization=acme, happened_at=now - timedelta(5))
    make_interaction(subject="new", organization=acme, happened_at=now - timedelta(1))
    make_task(title="soon", organization=acme, due_at=now + timedelta(days=1))
    entries = timeline.newest(supervisor, acme, 10)
    assert [(e.kind, str(e.item)) for e in entries] == [
        (timeline.TASK, "soon"),
        (timeline.INTERACTION, "new"),
        (timeline.TICKET, str(Ticket.objects.get(pk=ticket.pk))),
        (timeline.INTERACTION, "old"),
    ]
    assert [e.when for e in entries] == sorted((e.when for e in entries), reverse=True)
    assert [str(e.item) for e in timeline.newest(supervisor, acme, 2)] == [
        "soon",
        "new",
    ]
    only = timeline.sources(supervisor, acme, ("interactions",))
    assert timeline.count(only) == 2
    assert timeline.newest(supervisor, acme, 0) == []
