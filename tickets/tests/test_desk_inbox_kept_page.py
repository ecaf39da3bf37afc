"""The page of a kept search (``inbox.KeptPage``): its rows and their snippets come
from a statement kept per kind of snippet (staff, public, or staff for the noted ids
only) instead of ``TicketQuerySet.ranked`` + ``for_listing`` built for every page;
they are the rows, in the order and with the raw snippets, that the built search
gives, for the three kinds, and a note is quoted only where the policy lets the
searcher read notes."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import TicketSharing
from accounts.services import setup_member
from tickets import services
from tickets.desk import inbox
from tickets.models import Ticket, fulltext

from .factories import QueueFactory, TicketFactory, make_agent, make_customer

pytestmark = pytest.mark.django_db

TEXTS = [
    "capybara",
    "wombat",
    "capybara wombat",
    '"the capybara"',
    "wombat -capybara",
    "capy%",
    "Поддержка",
    "drukarka",
    "<b>'x'&\"y\"</b>",
    "HD-0",
]
VIEWS = ["all", "open"]


def fresh(user):
    return get_user_model().objects.get(pk=user.pk)


def built_rows(user, view, text, queues, page):
    qs = inbox.saved_view_queryset(user, view, queues=queues)
    qs = inbox.apply_filters(qs, {"q": text}, user)
    qs, _order = inbox.apply_ordering(qs, "")
    return qs, list(inbox.for_listing(qs)[page])


def shown(rows):
    """What the inbox shows of a row (``listing_rows``' reads) and its raw snippet."""
    return [
        (
            row.pk,
            row.reference,
            row.subject,
            row.status,
            row.priority,
            row.updated_at,
            row.resolution_due_at,
            str(row.requester),
            row.organization.name if row.organization else None,
            str(row.assignee) if row.assignee else None,
            row.search_snippet,
        )
        for row in rows
    ]


@pytest.fixture
def shared_and_own(queue, acme, agent):
    """The agent's own queue's tickets (notes searchable: noted) and, through acme's
    sharing, acme's tickets of another queue (notes not searchable), each with a
    reply and an internal note: the agent's searches mix both (kind "some")."""
    acme.ticket_sharing = TicketSharing.READ
    acme.save()
    setup_member(acme, agent)
    requester = make_customer(acme, display_name="Поддержка Drukarka")
    other = QueueFactory()
    other_agent = make_agent(other, email="other@example.com")
    for i in range(8):
        mine = i % 2 == 0
        t = TicketFactory(
            requester=requester,
            organization=acme,
            queue=queue if mine else other,
            subject=f"Case {i}",
        )
        author = agent if mine else other_agent
        services.reply(author, t, body=f"Reply {i}: the capybara left, capy%bara.")
        services.add_internal_note(author, t, body="Secret: the capybara wombat plan.")
    return other


def test_the_kept_page_is_the_built_page_for_every_kind(
    shared_and_own, agent, supervisor
):
    inbox.forget_kept_searches()
    outsider = make_agent(QueueFactory(), email="outsider@example.com")
    setup_member(Ticket.objects.first().organization, outsider)
    kinds = set()
    for user in (agent, outsider, supervisor):
        user = fresh(user)
        queues = list(inbox.my_queues(user))
        for view in VIEWS:
            for text in TEXTS:
                for page in (slice(0, 100), slice(3, 6)):
                    for _ in range(2):  # compiled, then kept
                        kept = inbox._kept_search(user, view, {"q": text}, queues, "")
                        assert isinstance(kept, inbox.KeptPage), (text, view)
                        kinds.add(kept.kind)
                        built, rows = built_rows(user, view, text, queues, page)
                        assert kept.ranked_ids == built.ranked_ids
                        assert kept.ranked_count == built.ranked_count
                        assert len(kept) == built.ranked_count
                        got = inbox.for_listing(kept)[page]
                        assert shown(got) == shown(rows), (user.email, view, text)
    assert kinds == {"staff", "public", "some"}


def test_notes_are_quoted_only_for_the_noted_tickets(shared_and_own, agent):
    """Kind "some": the agent's own queue's tickets quote the note, the shared
    tickets of the other queue never do (denied twin); a note's word finds only the
    own queue's tickets."""
    inbox.forget_kept_searches()
    agent = fresh(agent)
    queues = list(inbox.my_queues(agent))
    for _ in range(2):
        kept = inbox._kept_search(agent, "all", {"q": "capybara"}, queues, "")
        assert kept.kind == "some"
        rows = kept[0:25]
        assert len(rows) == 8
        shared = [row for row in rows if row.queue_id == shared_and_own.pk]
        assert len(shared) == 4
        for row in shared:  # the note is never quoted where it may not be read
            assert "wombat" not in (row.search_snippet or ""), row.reference
        found = inbox._kept_search(agent, "all", {"q": "wombat"}, queues, "")
        assert found.kind == "staff"  # only noted tickets match a note's word
        own = found[0:25]
        assert {row.queue_id for row in own} == {agent_queue(agent)}
        assert len(own) == 4
        for row in own:  # … and quoted where it may
            assert "wombat" in fulltext.as_html(row.search_snippet), row.reference


def agent_queue(agent):
    (queue,) = inbox.my_queues(agent)
    return queue.pk


def test_one_statement_a_page_compiled_once(
    shared_and_own, agent, django_assert_num_queries
):
    inbox.forget_kept_searches()
    agent = fresh(agent)
    queues = list(inbox.my_queues(agent))
    kept = inbox._kept_search(agent, "all", {"q": "capybara"}, queues, "")
    kept[0:2]
    statement = inbox._page_statement(kept.db, kept.vendor, kept.kind)
    compiled = dict(statement._compiled)
    with django_assert_num_queries(1):
        assert len(kept[2:5]) == 3
    with django_assert_num_queries(0):
        assert kept[100:125] == []  # past the matches: no statement
    assert statement._compiled == compiled  # not compiled again


def test_the_whole_page_is_the_built_page(shared_and_own, agent):
    """The inbox's HTML, kept path against the built path (``_kept_search`` patched
    out), for the mixed kind."""
    import re
    from unittest import mock

    inbox.forget_kept_searches()
    client = Client()
    client.force_login(agent)

    def page(params):
        response = client.get("/admin/helpdesk/tickets/", params)
        assert response.status_code == 200
        return re.sub(r"\b[A-Za-z0-9]{64}\b", "CSRF", response.content.decode())

    for text in ("capybara", "wombat", "Поддержка"):
        for variant in ({"view": "all"}, {"view": "all", "page": "2", "per_page": 7}):
            params = {"q": text, **variant}
            kept = page(params)
            with mock.patch.object(inbox, "_kept_search", return_value=None):
                assert kept == page(params), params
    assert "<mark>capybara</mark>" in page({"view": "all", "q": "capybara"})
