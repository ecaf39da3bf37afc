"""An agent's ``all`` view searched as two parts (``inbox._parted_search``, bench
FINDINGS S-16): the tickets of the worked queues by the policy's worked-queue rule
and the other visible tickets (``permissions.visible_outside_worked_queues``), each
part's newest ``within``, the newest ``within`` of both ranked: the same ids in the
same order as the one statement over ``visible_tickets``, notes only where the
policy lets the agent read them."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import TicketSharing
from accounts.services import setup_member
from tickets import permissions, services
from tickets.desk import inbox
from tickets.models import Ticket
from tickets.pagination import CappedPaginator

from .factories import QueueFactory, TicketFactory, make_agent, make_customer

pytestmark = pytest.mark.django_db


def fresh(user):
    return get_user_model().objects.get(pk=user.pk)  # no cached roles


def kept(user, text, view="all"):
    user = fresh(user)
    page = inbox._kept_search(user, view, {"q": text}, list(inbox.my_queues(user)), "")
    assert page is not None
    return page


def one_statement(user, text, within):
    """The ranked search over ``visible_tickets`` in one statement (the built path
    the inbox takes for other filters)."""
    user = fresh(user)
    notes = permissions.notes_searchable(user)
    found = permissions.visible_tickets(user).search(text, notes=notes)
    return found.by_relevance(within=within)


@pytest.fixture
def mixed(queue, acme, agent):
    """Tickets in the agent's queue and in another queue the agent sees through
    Acme's sharing, interleaved in time (one minute apart, alternating parts), the
    word in subjects (rank high), replies and notes (rank low)."""
    acme.ticket_sharing = TicketSharing.READ
    acme.save()
    setup_member(acme, agent)
    requester = make_customer(acme)
    elsewhere = QueueFactory()
    author = make_agent(elsewhere)
    now = timezone.now()
    made = []
    for i in range(10):
        where = queue if i % 2 else elsewhere
        writer = agent if where == queue else author
        subject = "Wombat printer" if i % 3 == 0 else f"Printer {i}"
        ticket = TicketFactory(
            requester=requester, organization=acme, queue=where, subject=subject
        )
        if i % 3 == 1:
            services.add_internal_note(writer, ticket, body="the wombat plan")
        else:
            services.reply(writer, ticket, body="a wombat ate the cable")
        made.append(ticket.pk)
    for minutes, pk in enumerate(made):
        Ticket.objects.filter(pk=pk).update(updated_at=now - timedelta(minutes=minutes))
    inbox.forget_kept_searches()
    return made


@pytest.mark.parametrize("cap", [2, 3, 5, 1000])
def test_the_parts_give_the_one_statements_ids_in_its_order(
    mixed, agent, monkeypatch, cap
):
    monkeypatch.setattr(CappedPaginator, "cap", cap)
    for text in ("wombat", "printer", "plan", "wombat -plan", "nothing"):
        page = kept(agent, text)
        expected = one_statement(agent, text, cap + 1)
        assert page.ranked_ids == expected.ranked_ids, (cap, text)
        assert len(page.ranked_ids) == min(cap + 1, len(expected.ranked_ids))


def test_a_shared_tickets_note_is_not_found_its_own_queues_is(mixed, agent, queue):
    found = kept(agent, "plan")
    own = set(Ticket.objects.filter(queue=queue).values_list("pk", flat=True))
    assert found.ranked_ids  # the notes of the agent's queue
    assert set(found.ranked_ids) <= own
    assert found.kind == "staff"
    wombat = kept(agent, "wombat")
    assert wombat.kind == "some"
    assert set(wombat.noted) == set(wombat.ranked_ids) & own


def test_an_agent_of_another_queue_finds_only_the_public_word(mixed, acme):
    """Denied twin: Acme's tickets by its sharing, no queue of them worked."""
    outsider = make_agent(QueueFactory())
    setup_member(acme, outsider)
    assert kept(outsider, "plan").ranked_ids == []
    wombat = kept(outsider, "wombat")
    assert len(wombat.ranked_ids) == len(mixed) - len(
        [i for i in range(10) if i % 3 == 1]
    )
    assert wombat.kind == "public"


def test_the_all_statement_is_two_parts_the_worked_one_without_guardian_rows(
    mixed, agent
):
    """The shape (fails where ``all`` is one statement over ``visible_tickets``)."""
    user = fresh(agent)
    from django.db import connection

    kept_one = inbox._compile_search(
        user,
        "all",
        {"q": "wombat"},
        list(inbox.my_queues(user)),
        connection,
        inbox._stand_in(False, False),
        1001,
    )
    sql = kept_one[0]
    assert sql.count("UNION ALL") == 1
    worked, others = sql.split("UNION ALL")
    assert "objectpermission" not in worked
    assert "objectpermission" in others


def test_the_two_conditions_split_the_visible_tickets(mixed, agent, supervisor):
    user = fresh(agent)
    rule = permissions.worked_queue_rule(user)
    outside = permissions.visible_outside_worked_queues(user)
    worked = set(Ticket.objects.filter(rule.condition).values_list("pk", flat=True))
    rest = set(Ticket.objects.filter(outside).values_list("pk", flat=True))
    visible = set(permissions.visible_tickets(user).values_list("pk", flat=True))
    assert worked and rest
    assert not worked & rest
    assert worked | rest == visible
    assert permissions.visible_outside_worked_queues(fresh(supervisor)) is None
    assert permissions.visible_outside_worked_queues(make_customer()) is None
