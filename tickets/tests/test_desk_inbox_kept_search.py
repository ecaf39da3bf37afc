"""The inbox's ranked search runs its ids statement from SQL kept per shape
(``inbox.inbox_queryset``, ``_kept_search``): for every text, user and view it finds,
orders, counts and quotes what the search built afresh finds (``saved_view_queryset``
→ ``apply_filters`` → ``apply_ordering``), within the visibility policy, and a note's
word only where the policy lets the searcher read notes."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation

from accounts import roles
from accounts.models import TicketSharing
from accounts.services import setup_member
from tickets import services, sla
from tickets.desk import inbox
from tickets.models import Ticket

from .factories import QueueFactory, TicketFactory, make_agent, make_customer

pytestmark = pytest.mark.django_db

TEXTS = [
    "capybara",
    "wombat",
    "capybara wombat",
    '"the capybara"',
    "wombat -capybara",
    "capy%",
    "capy_bara",
    "back\\slash capybara",
    "HD-0",
    "0",
    "поддержка",
    "drukarka",
    "Acme",
    "<b>'x'&\"y\"</b>",
    "ALEX",
]
VIEWS = ["open", "all", "queues", "mine", "unassigned", "waiting"]


def built(user, view, text, queues):
    qs = inbox.saved_view_queryset(user, view, queues=queues)
    qs = inbox.apply_filters(qs, {"q": text}, user)
    qs, order = inbox.apply_ordering(qs, "")
    return qs, order


def outcome(qs):
    rows = list(inbox.for_listing(qs)[0:100])
    return (
        getattr(qs, "ranked_ids", None),
        getattr(qs, "ranked_count", None),
        [(row.reference, getattr(row, "search_snippet", None)) for row in rows],
    )


def fresh(user):
    return get_user_model().objects.get(pk=user.pk)  # no cached roles


@pytest.fixture
def conversations(queue, acme, agent):
    acme.ticket_sharing = TicketSharing.READ
    acme.save()
    requester = make_customer(acme, display_name="Поддержка Drukarka")
    for i in range(6):
        t = TicketFactory(
            requester=requester, organization=acme, queue=queue, subject=f"Case {i}"
        )
        services.reply(agent, t, body=f"Reply {i}: the capybara left, capy%bara.")
        services.add_internal_note(agent, t, body="Secret: the capybara wombat plan.")
        if i % 2:
            services.assign(agent, t, agent)
    outsider = make_agent(QueueFactory(), email="outsider@example.com")
    setup_member(acme, outsider)
    return outsider


def test_kept_search_finds_what_the_built_search_finds(
    conversations, agent, supervisor
):
    inbox.forget_kept_searches()
    for user in (agent, conversations, supervisor):
        user = fresh(user)
        queues = list(inbox.my_queues(user))
        for view in VIEWS:
            for text in TEXTS:
                for _ in range(2):  # compiled, then kept
                    kept = inbox._kept_search(user, view, {"q": text}, queues, "")
                    assert kept is not None, (text, view)
                    expected, order = built(user, view, text, queues)
                    assert order == inbox.SEARCH_ORDER
                    assert outcome(kept) == outcome(expected), (user.email, view, text)


def test_a_notes_word_is_found_only_where_notes_may_be_read(conversations, agent):
    """Denied twin: the outsider sees the tickets through the organization's sharing
    but may not read their notes; the agent's kept statement, compiled first, is
    never the outsider's."""
    inbox.forget_kept_searches()
    client = Client()
    found = {}
    for user in (agent, conversations, agent):
        client.force_login(user)
        response = client.get(
            "/admin/helpdesk/tickets/", {"view": "all", "q": "wombat"}
        )
        rows = response.context["rows"]
        found[user.email] = [row.reference for row in rows]
        assert all("<mark>wombat</mark>" in row.snippet for row in rows)
        capybara = client.get(
            "/admin/helpdesk/tickets/", {"view": "all", "q": "capybara"}
        ).context["rows"]
        assert len(capybara) == 6
        if user == conversations:
            assert not any("wombat" in row.snippet for row in capybara)
    assert len(found[agent.email]) == 6
    assert found[conversations.email] == []


def test_a_new_role_gets_its_own_statement(conversations):
    """The outsider becomes a supervisor: every ticket and every note, at once."""
    inbox.forget_kept_searches()
    outsider = fresh(conversations)
    queues = list(inbox.my_queues(outsider))
    kept = inbox._kept_search(outsider, "all", {"q": "wombat"}, queues, "")
    assert kept.ranked_ids == []
    outsider.groups.add(Group.objects.get(name=roles.SUPERVISORS))
    outsider = fresh(outsider)
    queues = list(inbox.my_queues(outsider))
    kept = inbox._kept_search(outsider, "all", {"q": "wombat"}, queues, "")
    assert sorted(kept.ranked_ids) == sorted(
        Ticket.objects.values_list("pk", flat=True)
    )


def test_other_orders_filters_and_timed_views_are_built(conversations, agent):
    queues = list(inbox.my_queues(agent))
    for view, data, order in (
        ("all", {"q": "capybara"}, "-updated"),
        ("all", {"q": "capybara", "status": ["new"]}, ""),
        ("at_risk", {"q": "capybara"}, ""),
        ("all", {"q": ""}, ""),
        ("all", {"q": "%%"}, ""),
    ):
        assert inbox._kept_search(agent, view, data, queues, order) is None


def _page(client, params):
    response = client.get("/admin/helpdesk/tickets/", params)
    assert response.status_code == 200
    html = response.content.decode()
    return re.sub(r"\b[A-Za-z0-9]{64}\b", "CSRF", html)  # the masked CSRF tokens


def test_whole_pages_are_the_built_search_pages(conversations, agent, supervisor):
    """The page's HTML, kept path against the built path, same data and process."""
    inbox.forget_kept_searches()
    client = Client()
    for user in (agent, conversations, supervisor):
        client.force_login(user)
        for text in ("capybara", "wombat", "поддержка", "HD-0", "Acme", "x&<y>"):
            for variant in ({}, {"view": "all", "per_page": "50"}, {"view": "mine"}):
                params = {"q": text, **variant}
                kept = _page(client, params)
                with mock.patch.object(inbox, "_kept_search", return_value=None):
                    built_page = _page(client, params)
                assert kept == built_page, (user.email, params)


def test_row_urls_and_sla_words_are_those_of_reverse_and_sla_label():
    urls, now = inbox._TicketUrls(), timezone.now()
    for reference in ("HD-000001", "A_b.c~d", "x y", "ü", "a/b", "50%", "?q"):
        try:
            expected = reverse("helpdesk:ticket", args=[reference])
        except NoReverseMatch:
            continue
        assert urls(reference) == expected, reference
    labels = inbox._SlaLabels(now)
    states = sla._SEVERITY
    for state in states:
        for minutes in (-5, 0, 1, 59, 60, 61, 119, 47 * 60 + 59, 48 * 60, 10_000):
            due = now + timedelta(minutes=minutes, seconds=30)
            for language in ("en", "pl", "ru"):
                with translation.override(language):
                    fresh_labels = inbox._SlaLabels(now)
                    assert fresh_labels(state, due) == inbox.sla_label(state, due, now)
                    assert fresh_labels(state, due) == fresh_labels(state, due)
    assert labels  # built
