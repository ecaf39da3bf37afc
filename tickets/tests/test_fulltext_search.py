"""Agent search across conversations (``TicketQuerySet.search`` over the full-text
documents of ``tickets.models.fulltext``), on SQLite (FTS5) and PostgreSQL
(``tsvector``): the conversation is searched, internal notes only by those the policy
lets read them, never across organizations, snippets escaped, any text safe."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.services import setup_member
from accounts.tokens import create_token
from graphql_api.tests.conftest import Gql
from tickets import services
from tickets.models import Comment, Ticket
from tickets.pagination import CappedPaginator

from .factories import OrganizationFactory, TicketFactory, make_agent, make_customer

pytestmark = pytest.mark.django_db

INBOX = "/admin/helpdesk/tickets/"
QUERY = """query($f: TicketFilter) {
  tickets(filters: $f, first: 100) { edges { node { reference } } } }"""
ON_POSTGRES = connection.vendor == "postgresql"


def desk(client, user, text, **params):
    client.force_login(user)
    response = client.get(INBOX, {"view": "all", "q": text, **params})
    assert response.status_code == 200
    return response


def desk_refs(client, user, text):
    return [row.reference for row in desk(client, user, text).context["rows"]]


def portal_refs(client, user, text):
    client.force_login(user)
    response = client.get("/portal/tickets/", {"q": text, "status": "all"})
    assert response.status_code == 200
    return {t.reference for t in response.context["tickets"]}


def graphql_refs(user, text):
    gql = Gql(Client(), create_token(user, name="t", scopes="read").secret)
    edges = gql(QUERY, {"f": {"search": text}})["tickets"]["edges"]
    return {edge["node"]["reference"] for edge in edges}


@pytest.fixture
def noted(queue, alice, acme, agent):
    """Alice's ticket: a public reply about a "flux capacitor", an internal note
    naming the "quokka" workaround."""
    t = TicketFactory(
        requester=alice, organization=acme, queue=queue, subject="Scanner offline"
    )
    services.reply(agent, t, body="Please restart the flux capacitor.")
    services.add_internal_note(agent, t, body="Customer is on the quokka workaround.")
    return t


def test_a_reply_word_is_found_by_the_agent_and_the_customer(
    client, noted, agent, alice
):
    ref = {noted.reference}
    assert set(desk_refs(client, agent, "capacitor")) == ref
    assert graphql_refs(agent, "capacitor") == ref
    assert portal_refs(client, alice, "capacitor") == ref
    assert graphql_refs(alice, "capacitor") == ref


def test_a_word_only_in_an_internal_note_is_found_by_the_queue_agents(
    client, noted, agent, supervisor
):
    assert desk_refs(client, agent, "quokka") == [noted.reference]
    assert graphql_refs(agent, "quokka") == {noted.reference}
    assert desk_refs(client, supervisor, "quokka") == [noted.reference]


def test_the_desk_never_matches_or_quotes_a_note_its_searcher_may_not_read(
    client, noted, agent, other_queue, acme
):
    """The denied twin on the desk: an agent who sees the ticket only through
    organization sharing (``view``, not ``view_internal``)."""
    insider = make_agent(other_queue, email="insider@example.com")
    setup_member(acme, insider)
    assert desk_refs(client, insider, "quokka") == []
    [row] = desk(client, insider, "capacitor").context["rows"]
    assert row.reference == noted.reference
    assert "capacitor" in row.snippet and "quokka" not in row.snippet
    # the queue's agent: the note matches and is quoted
    [row] = desk(client, agent, "quokka").context["rows"]
    assert "<mark>quokka</mark>" in row.snippet


def test_the_desk_ranks_each_ticket_by_the_document_its_searcher_may_read(
    client, queue, other_queue, alice, acme, supervisor
):
    """The rank of a page where notes count on some tickets only: the staff document
    where the searcher may read the notes, the public one elsewhere (the ranked ids'
    ``noted`` column, not the policy again). ``shared`` has the word more often in
    its notes, but ``insider`` sees it only through organization sharing: ranked by
    its one public mention, below ``own``, and above it by its notes for nobody."""
    insider = make_agent(other_queue, email="insider@example.com")
    setup_member(acme, insider)
    own = TicketFactory(requester=alice, organization=acme, queue=other_queue)
    shared = TicketFactory(requester=alice, organization=acme, queue=queue)
    for ticket, repeats in ((own, 3), (shared, 6)):
        services.reply(supervisor, ticket, body="The narwhal is back.")
        services.add_internal_note(supervisor, ticket, body="narwhal " * repeats)
    now = timezone.now()
    Ticket.objects.filter(pk=own.pk).update(updated_at=now - timedelta(hours=2))
    Ticket.objects.filter(pk=shared.pk).update(updated_at=now - timedelta(hours=1))
    rows = desk(client, insider, "narwhal").context["rows"]
    assert [row.reference for row in rows] == [own.reference, shared.reference]
    quoted = [row.snippet.replace("</mark> <mark>", " ") for row in rows]
    assert "narwhal narwhal" in quoted[0]
    assert "is back" in quoted[1] and "narwhal narwhal" not in quoted[1]
    # the same tickets for a supervisor, who reads every note: by the notes
    rows = desk(client, supervisor, "narwhal").context["rows"]
    assert [row.reference for row in rows] == [shared.reference, own.reference]


def test_beyond_its_cap_the_desk_ranks_the_newest_matches(
    client, queue, alice, agent, monkeypatch
):
    """The inbox ranks the cap + 1 most recently updated matches, all of them when
    there are no more (its count says "N+" beyond the cap anyway)."""
    best = TicketFactory(requester=alice, queue=queue, subject="Narwhal narwhal")
    newer = [TicketFactory(requester=alice, queue=queue) for _ in range(3)]
    now = timezone.now()
    for age, t in enumerate([*reversed(newer), best]):
        services.reply(agent, t, body="The narwhal is back.")
        Ticket.objects.filter(pk=t.pk).update(updated_at=now - timedelta(hours=age))
    newest_first = [t.reference for t in reversed(newer)]
    rows = desk(client, agent, "narwhal").context["rows"]
    assert [row.reference for row in rows] == [best.reference, *newest_first]
    monkeypatch.setattr(CappedPaginator, "cap", 2)
    response = desk(client, agent, "narwhal")
    assert [row.reference for row in response.context["rows"]] == newest_first
    assert response.context["page"].paginator.count == 3
    assert "2+ tickets" in response.content.decode()
    # the ordering by a column is not capped by the search
    rows = desk(client, agent, "narwhal", order="-updated").context["rows"]
    assert [row.reference for row in rows] == [*newest_first, best.reference]


def test_a_word_only_in_an_internal_note_is_never_found_by_customers(
    client, noted, alice, bob
):
    for customer in (alice, bob):  # the requester, and her colleague (shared)
        assert portal_refs(client, customer, "quokka") == set()
        assert graphql_refs(customer, "quokka") == set()
        # the same customers do find the ticket by its public text
        assert portal_refs(client, customer, "capacitor") == {noted.reference}
    # and no note was changed or shown on the way
    assert Comment.objects.filter(ticket=noted, is_internal=True).count() == 1


def test_without_the_policys_word_notes_are_not_searched(noted):
    assert not Ticket.objects.search("quokka").exists()  # default: public only
    assert Ticket.objects.search("quokka", notes=True).get() == noted


def test_a_customers_search_never_returns_another_organizations_ticket(
    client, queue, alice, acme
):
    globex = OrganizationFactory(name="Globex", slug="globex")
    carol = make_customer(globex, email="carol@globex.example")
    ours = TicketFactory(
        requester=alice, organization=acme, queue=queue, subject="Wombat printer"
    )
    theirs = TicketFactory(
        requester=carol, organization=globex, queue=queue, subject="Wombat printer"
    )
    services.reply(carol, theirs, body="The wombat ate the toner.")
    assert portal_refs(client, alice, "wombat") == {ours.reference}
    assert graphql_refs(alice, "wombat") == {ours.reference}
    assert portal_refs(client, alice, "toner") == set()
    assert graphql_refs(alice, "toner") == set()
    assert portal_refs(client, carol, "toner") == {theirs.reference}


def test_the_document_follows_edits_deletes_and_merges(queue, alice, acme, agent):
    t = TicketFactory(requester=alice, organization=acme, queue=queue)
    other = TicketFactory(requester=alice, organization=acme, queue=queue)
    comment = services.reply(agent, t, body="Try the gazebo setting.")
    assert list(Ticket.objects.search("gazebo")) == [t]
    Comment.objects.filter(pk=comment.pk).update(body="Try the pergola setting.")
    assert not Ticket.objects.search("gazebo").exists()
    assert list(Ticket.objects.search("pergola")) == [t]
    Comment.objects.filter(pk=comment.pk).update(is_internal=True)
    assert not Ticket.objects.search("pergola").exists()
    assert list(Ticket.objects.search("pergola", notes=True)) == [t]
    Comment.objects.filter(pk=comment.pk).update(is_internal=False)
    services.merge(agent, t, other)  # the conversation moves to the target
    assert list(Ticket.objects.search("pergola")) == [other]
    Comment.objects.filter(pk=comment.pk).delete()
    assert not Ticket.objects.search("pergola").exists()
    Ticket.objects.filter(pk=other.pk).update(description="A marmot in the fan.")
    assert list(Ticket.objects.search("marmot")) == [other]


def test_the_desk_ranks_and_shows_escaped_snippets(client, queue, alice, agent):
    in_reply = TicketFactory(requester=alice, queue=queue, subject="Laptop")
    in_subject = TicketFactory(requester=alice, queue=queue, subject="Ocelot alarm")
    services.reply(
        agent, in_reply, body="<script>alert(1)</script> the ocelot & co said hi"
    )
    response = desk(client, agent, "ocelot")
    rows = response.context["rows"]
    assert [row.reference for row in rows] == [
        in_subject.reference,
        in_reply.reference,
    ]
    snippet = rows[1].snippet
    assert "<mark>ocelot</mark>" in snippet
    # escaped (SQLite) or dropped as markup (PostgreSQL's ts_headline), never live
    assert "<script" not in snippet and "&amp; co" in snippet
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert '<p class="desk-snippet">' in html
    # ordering by a column still works while searching
    by_ref = desk(client, agent, "ocelot", order="reference").context["rows"]
    assert [r.reference for r in by_ref] == sorted(
        [in_subject.reference, in_reply.reference]
    )


def test_a_public_snippet_never_quotes_a_note(noted):
    [row] = Ticket.objects.search("capacitor").with_search_snippets()
    assert "capacitor" in row.search_snippet
    assert "quokka" not in row.search_snippet
    [row] = Ticket.objects.search("quokka", notes=True).with_search_snippets()
    assert "quokka" in row.search_snippet


@pytest.mark.parametrize(
    "text",
    ['"', 'say "hi', "NEAR(", "NEAR(a b", "^", "a:b", "subject:x", "foo*", "AND",
     "OR NOT", "-", "(", ")", "'", "\\", "%", "_", "x{subject}", "\x00x", "ö:ü"],
)  # fmt: skip
def test_query_syntax_in_the_text_never_fails(client, noted, agent, alice, text):
    desk(client, agent, text)
    graphql_refs(agent, text.replace("\x00", ""))  # GraphQL refuses NUL itself
    portal_refs(client, alice, text)
    assert isinstance(list(Ticket.objects.search(text, notes=True)), list)


def test_words_with_syntax_around_them_still_match(noted):
    assert list(Ticket.objects.search('"capacitor')) == [noted]
    assert list(Ticket.objects.search("flux:capacitor")) == [noted]
    assert list(Ticket.objects.search("^capacitor*")) == [noted]


def test_the_inbox_costs_the_same_queries_with_a_search(
    client, queue, alice, agent, django_assert_max_num_queries
):
    for i in range(30):
        t = TicketFactory(requester=alice, queue=queue)
        services.reply(agent, t, body=f"Ticket {i}: the narwhal is back.")
    client.force_login(agent)
    client.get(INBOX)  # warm per-process caches
    with django_assert_max_num_queries(14) as plain:
        response = client.get(INBOX, {"per_page": 25, "view": "queues"})
    assert len(response.context["rows"]) == 25
    with django_assert_max_num_queries(14) as searched:
        response = client.get(INBOX, {"per_page": 25, "view": "queues", "q": "narwhal"})
    assert len(response.context["rows"]) == 25
    assert all(row.snippet for row in response.context["rows"])
    assert len(searched.captured_queries) == len(plain.captured_queries)


def test_a_search_without_matches_loads_no_page(
    client, queue, alice, agent, django_assert_max_num_queries
):
    TicketFactory(requester=alice, queue=queue, subject="Narwhal")
    client.force_login(agent)
    client.get(INBOX)  # warm per-process caches
    with django_assert_max_num_queries(14) as searched:
        response = client.get(INBOX, {"view": "queues", "q": "walrus"})
    assert response.context["rows"] == []
    # the ranked ids only: no statement for an empty page of rows
    tickets = [
        q for q in searched.captured_queries if 'FROM "tickets_ticket"' in q["sql"]
    ]
    assert len(tickets) == 1, [q["sql"][:80] for q in tickets]


@pytest.mark.skipif(not ON_POSTGRES, reason="stemming is PostgreSQL's")
def test_english_words_are_found_by_their_stem(queue, alice):
    t = TicketFactory(requester=alice, queue=queue, subject="Export jumps")
    services.reply(alice, t, body="The exports were configured yesterday.")
    assert list(Ticket.objects.search("jumping")) == [t]
    assert list(Ticket.objects.search("configuring")) == [t]
    assert list(Ticket.objects.search("export")) == [t]


@pytest.mark.skipif(not ON_POSTGRES, reason="stemming is PostgreSQL's")
def test_russian_words_are_found_by_their_stem(queue, acme):
    ivan = make_customer(acme, email="ivan@acme.example", locale="ru")
    t = TicketFactory(requester=ivan, queue=queue, subject="Принтеры не печатают")
    services.reply(ivan, t, body="Сломались обе клавиатуры.")
    assert list(Ticket.objects.search("принтера")) == [t]
    assert list(Ticket.objects.search("клавиатура")) == [t]
    # an English requester's document is not stemmed as Russian …
    petr = make_customer(acme, email="petr@acme.example", locale="en")
    english = TicketFactory(requester=petr, queue=queue, subject="Принтеры")
    assert english not in Ticket.objects.search("принтера")
    # … until the requester's language is Russian
    type(petr).objects.filter(pk=petr.pk).update(locale="ru")
    assert english in Ticket.objects.search("принтера")
