"""The search where internal notes count on some tickets only (an agent's ``all``
and ``mine`` views through the kept ids statement, the built search of GraphQL's
list): a word only in a shared ticket's notes is never found, the same word in its
subject or a public reply is; the agent's own queue's note is (bench FINDINGS S-13:
the guard for any reordering of the search's arms)."""

import pytest
from django.contrib.auth import get_user_model

from accounts.models import TicketSharing
from accounts.services import setup_member
from tickets import permissions, services
from tickets.desk import inbox

from .factories import QueueFactory, TicketFactory, make_agent, make_customer

pytestmark = pytest.mark.django_db


def fresh(user):
    return get_user_model().objects.get(pk=user.pk)  # no cached roles


def kept(user, view, text):
    user = fresh(user)
    queues = list(inbox.my_queues(user))
    page = inbox._kept_search(user, view, {"q": text}, queues, "")
    assert page is not None, (user.email, view, text)
    return sorted(page.ranked_ids), page.kind


def built(user, text):
    """The search as GraphQL's list and the other surfaces build it."""
    user = fresh(user)
    notes = permissions.notes_searchable(user)
    found = permissions.visible_tickets(user).search(text, notes=notes)
    return sorted(found.values_list("pk", flat=True))


@pytest.fixture
def tickets(queue, acme, agent):
    """``own``: the agent's queue, assigned to them, the word in a note; ``shared``
    (another queue, Acme shares it): the word in a note only; ``titled``: the same
    but the word in its subject too; ``public``: the word in a public reply."""
    acme.ticket_sharing = TicketSharing.READ
    acme.save()
    setup_member(acme, agent)  # the agent sees Acme's tickets by its sharing
    requester = make_customer(acme)
    elsewhere = QueueFactory()
    author = make_agent(elsewhere)

    def ticket(queue, subject, note=None, reply=None, assignee=None):
        made = TicketFactory(
            requester=requester,
            organization=acme,
            queue=queue,
            subject=subject,
        )
        if assignee is not None:
            services.assign(agent, made, assignee)
        writer = author if queue == elsewhere else agent
        if note:
            services.add_internal_note(writer, made, body=note)
        if reply:
            services.reply(writer, made, body=reply)
        return made.pk

    made = {
        "own": ticket(queue, "Printer jam", note="the wombat plan", assignee=agent),
        "shared": ticket(elsewhere, "Printer toner", note="the wombat plan"),
        "titled": ticket(elsewhere, "Wombat printer", note="the wombat plan"),
        "public": ticket(elsewhere, "Printer cable", reply="a wombat ate it"),
    }
    inbox.forget_kept_searches()
    return made


@pytest.mark.parametrize("view", ["all", "mine"])
def test_notes_count_only_where_the_policy_says(tickets, agent, view):
    ids, kind = kept(agent, view, "wombat")
    if view == "mine":  # the assigned ticket only
        assert (ids, kind) == ([tickets["own"]], "staff")
        return
    expected = sorted([tickets["own"], tickets["titled"], tickets["public"]])
    assert ids == expected
    assert kind == "some"
    assert tickets["shared"] not in built(agent, "wombat")
    assert built(agent, "wombat") == expected


def test_a_customer_finds_no_note_by_any_arm(tickets, acme):
    """Denied twin: a member of the organization sees the shared tickets, the word
    only where it is public (the subject, a reply), never in a note."""
    member = make_customer(acme)
    assert built(member, "wombat") == sorted([tickets["titled"], tickets["public"]])
    assert built(member, "plan") == []


def test_an_agent_of_another_queue_finds_no_note_of_a_shared_ticket(tickets, acme):
    outsider = make_agent(QueueFactory())
    setup_member(acme, outsider)
    assert kept(outsider, "all", "wombat")[0] == sorted(
        [tickets["titled"], tickets["public"]]
    )
    assert kept(outsider, "all", "plan")[0] == []
    assert kept(outsider, "mine", "wombat")[0] == []
