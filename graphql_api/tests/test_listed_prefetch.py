"""``fields.listed_whole``: the optimizer's prefetches of reverse foreign keys listed
whole are assigned to each row as a list (no manager and no queryset clone per row),
which ``ModelField`` and the executor's reader return; every caller still receives
exactly what its visibility allows (internal notes and their files only for those
who may read them), on the read path and on graphql-core's."""

import pytest
from django.db.models import Prefetch
from django.db.models.fields.related_descriptors import ReverseManyToOneDescriptor
from strawberry_django.optimizer import mark_optimized_by_prefetching

from accounts.models import Organization, TicketSharing
from accounts.services import setup_member
from graphql_api import execution
from graphql_api.fields import listed_attr, listed_whole
from tickets import services
from tickets.models import Attachment, Comment, Ticket
from tickets.tests.factories import QueueFactory, TicketFactory, make_agent

from .test_tickets import client_for, share, world  # noqa: F401

PAGE = """{ tickets(first: 10) { edges { node {
  reference
  comments { body isInternal author { email } attachments { filename } }
  attachments { filename }
  events { kind newValue }
} } } }"""


@pytest.fixture
def page(world):  # noqa: F811
    """The world's ticket (a reply with a file, a note with a file) and four more
    tickets of the queue with a reply each, so that the page has several rows."""
    for n in range(4):
        extra = TicketFactory(
            requester=world["users"]["requester"], queue=world["queue"]
        )
        services.reply(world["agent"], extra, body=f"Reply {n}")
    return world


def _managers_built(monkeypatch):
    """Counts the reverse managers built on ticket rows (``ticket.comments``…)."""
    built = []
    get = ReverseManyToOneDescriptor.__get__

    def counting(self, instance, cls=None):
        if isinstance(instance, Ticket):
            built.append(self.rel.name)
        return get(self, instance, cls)

    monkeypatch.setattr(ReverseManyToOneDescriptor, "__get__", counting)
    return built


@pytest.mark.parametrize("reading", [True, False])
def test_the_page_assigns_its_lists_instead_of_a_manager_per_row(
    page, token_for, monkeypatch, reading
):
    """Django builds one manager per relation to find its prefetcher, not one per
    row (5 rows × 3 relations), on the read path and on graphql-core's (the field's
    ``get_result``); the response is the same on both."""
    monkeypatch.setattr(execution.Executor, "reading", reading)
    gql = client_for(page["agent"], token_for)
    built = _managers_built(monkeypatch)
    edges = gql(PAGE)["tickets"]["edges"]
    assert len(edges) == 5
    assert sorted(built) == ["attachments", "comments", "events"]
    # the world's ticket: a reply and a note; the four others: a reply each
    assert sum(len(edge["node"]["comments"]) for edge in edges) == 2 + 4


CALLERS_WITHOUT_NOTES = ["requester", "colleague", "insider", "other_org_customer"]


def _caller(world, name):  # noqa: F811
    if name == "insider":  # an agent of another queue, a member of the organization
        insider = make_agent(QueueFactory(slug="other"), email="insider@example.com")
        setup_member(Organization.objects.get(slug="acme"), insider)
        return insider
    return world["users"][name]


@pytest.mark.parametrize("reading", [True, False])
@pytest.mark.parametrize("name", CALLERS_WITHOUT_NOTES)
def test_no_internal_note_on_the_page_for_those_who_may_not_read_them(
    page, token_for, monkeypatch, reading, name
):
    monkeypatch.setattr(execution.Executor, "reading", reading)
    share(page, TicketSharing.READ)
    data = client_for(_caller(page, name), token_for)(PAGE)
    text = str(data)
    assert "Secret" not in text and "n.png" not in text
    assert "'isInternal': True" not in text
    edges = data["tickets"]["edges"]
    if name == "other_org_customer":
        assert edges == []
        return
    [node] = [
        e["node"] for e in edges if e["node"]["reference"] == page["ticket"].reference
    ]
    assert [c["body"] for c in node["comments"]] == ["Public"]
    assert node["comments"][0]["attachments"] == [{"filename": "a.png"}]
    assert "note_added" not in [event["kind"] for event in node["events"]]


@pytest.mark.parametrize("reading", [True, False])
def test_the_queue_agent_reads_the_notes_on_the_page(
    page, token_for, monkeypatch, reading
):
    monkeypatch.setattr(execution.Executor, "reading", reading)
    data = client_for(page["agent"], token_for)(PAGE)
    [node] = [
        e["node"]
        for e in data["tickets"]["edges"]
        if e["node"]["reference"] == page["ticket"].reference
    ]
    assert [(c["body"], c["isInternal"]) for c in node["comments"]] == [
        ("Public", False),
        ("Secret", True),
    ]
    assert node["comments"][1]["attachments"] == [{"filename": "n.png"}]
    assert sorted(a["filename"] for a in node["attachments"]) == ["a.png", "n.png"]
    assert "note_added" in [event["kind"] for event in node["events"]]


def _public_comments():
    return mark_optimized_by_prefetching(Comment.objects.filter(is_internal=False))


def test_only_the_optimizers_prefetch_of_a_reverse_key_is_assigned(page):
    """Assigned: a reverse foreign key's prefetch marked optimized by prefetching
    (its type's ``get_queryset`` applied), and so, nested, its own. Left as it is
    (the field's own path then applies the visibility filter): a plain lookup, a
    prefetch not marked, one with its own ``to_attr``, one another lookup goes
    through, a many-to-many, a path through a relation."""
    pk = page["ticket"].pk
    files = mark_optimized_by_prefetching(Attachment.objects.all())
    nested = _public_comments().prefetch_related(Prefetch("attachments", files))
    [ticket] = listed_whole(
        Ticket.objects.filter(pk=pk).prefetch_related(Prefetch("comments", nested))
    )
    comments = ticket.__dict__[listed_attr("comments")]
    assert [c.body for c in comments] == ["Public"]
    assert "comments" not in ticket._prefetched_objects_cache
    assert [
        a.original_name for a in comments[0].__dict__[listed_attr("attachments")]
    ] == ["a.png"]
    assert comments[0].ticket is ticket  # the reverse cache, as Django's prefetch sets

    tags = Ticket._meta.get_field("tags").related_model
    everything = Ticket.objects.all()
    unchanged = [
        ("comments",),
        (Prefetch("comments", Comment.objects.filter(is_internal=False)),),
        (Prefetch("comments", _public_comments(), to_attr="mine"),),
        (Prefetch("comments", _public_comments()), "comments__attachments"),
        (Prefetch("tags", mark_optimized_by_prefetching(tags.objects.all())),),
        (Prefetch("queue__tickets", mark_optimized_by_prefetching(everything)),),
    ]
    for lookups in unchanged:
        queryset = Ticket.objects.filter(pk=pk).prefetch_related(*lookups)
        assert listed_whole(queryset) is queryset
