"""The ticket workspace at /admin/helpdesk/tickets/<reference>/: who sees it, who may
act, and that every action goes through its service (one event) or changes nothing.

Over 400 lines until split: the query-count tests are due to move into a file of their own."""

import re

import pytest
from django.core.cache import cache
from django.db import connection

from portal import admin_chrome
from tickets import services
from tickets.desk import inbox, kept_fields
from tickets.models import Comment, Status, Ticket, TicketEvent, TimeEntry

from .factories import (
    CannedResponseFactory,
    TicketFactory,
    make_agent,
    png_bytes,
    upload,
)

pytestmark = pytest.mark.django_db


def url(ticket, action=""):
    base = f"/admin/helpdesk/tickets/{ticket.reference}/"
    return f"{base}{action}/" if action else base


def snapshot(ticket):
    ticket.refresh_from_db()
    return {
        "status": ticket.status,
        "priority": ticket.priority,
        "assignee": ticket.assignee_id,
        "queue": ticket.queue_id,
        "merged_into": ticket.merged_into_id,
        "tags": sorted(ticket.tags.names()),
        "watchers": sorted(ticket.watchers.values_list("pk", flat=True)),
        "comments": Comment.objects.count(),
        "events": TicketEvent.objects.count(),
        "time": TimeEntry.objects.count(),
    }


def action_posts(ticket, target, agent, other_queue):
    """One valid-looking POST per workspace action."""
    return {
        "comment": {"body": "Hello there"},
        "note": {"body": "Between us", "internal": "on"},
        "status": {"status": Status.IN_PROGRESS},
        "priority": {"priority": "critical"},
        "assign": {"assignee": agent.pk},
        "self-assign": {"self": "1"},
        "queue": {"queue": other_queue.pk},
        "tags": {"tags": "vip, urgent"},
        "watch": {"email": ""},
        "merge": {"target": target.reference},
        "time": {"minutes": "15", "note": "call"},
    }


ENDPOINT = {"note": "comment", "self-assign": "assign"}
ACTION_NAMES = [
    "comment",
    "note",
    "status",
    "priority",
    "assign",
    "self-assign",
    "queue",
    "tags",
    "watch",
    "merge",
    "time",
]


def test_queue_agent_sees_the_workspace(client, agent, ticket):
    client.force_login(agent)
    response = client.get(url(ticket))
    assert response.status_code == 200
    html = response.content.decode()
    assert ticket.subject in html
    assert 'name="body"' in html
    assert "Change status" in html


def test_agent_of_another_queue_gets_404(client, other_agent, ticket):
    client.force_login(other_agent)
    assert client.get(url(ticket)).status_code == 404


def test_unknown_reference_is_404_like_a_hidden_one(client, agent):
    client.force_login(agent)
    assert client.get("/admin/helpdesk/tickets/HD-999999/").status_code == 404


@pytest.mark.parametrize("action", ACTION_NAMES)
def test_agent_of_another_queue_is_refused_every_action(
    client, other_agent, agent, ticket, queue, other_queue, alice, action
):
    target = TicketFactory(requester=alice, queue=queue)
    client.force_login(other_agent)
    before = snapshot(ticket)
    data = action_posts(ticket, target, other_agent, other_queue)[action]
    response = client.post(url(ticket, ENDPOINT.get(action, action)), data)
    assert response.status_code == 404
    assert snapshot(ticket) == before


@pytest.mark.parametrize("action", ACTION_NAMES)
def test_viewer_cannot_change_anything(
    client, viewer, agent, ticket, queue, other_queue, alice, action
):
    target = TicketFactory(requester=alice, queue=queue)
    client.force_login(viewer)
    before = snapshot(ticket)
    data = action_posts(ticket, target, agent, other_queue)[action]
    response = client.post(url(ticket, ENDPOINT.get(action, action)), data)
    assert response.status_code == 403
    assert snapshot(ticket) == before
    assert target.comments.count() == 0


def test_viewer_reads_without_forms(client, viewer, ticket):
    client.force_login(viewer)
    response = client.get(url(ticket))
    assert response.status_code == 200
    html = response.content.decode()
    assert ticket.subject in html
    assert 'name="body"' not in html
    assert "Change status" not in html
    assert "Log time" not in html


def test_reply_and_note_are_distinct_and_written_by_the_services(client, agent, ticket):
    client.force_login(agent)
    response = client.post(url(ticket, "comment"), {"body": "We are on it."})
    assert response.status_code == 302
    response = client.post(
        url(ticket, "comment"), {"body": "Customer is on v2.1", "internal": "on"}
    )
    assert response.status_code == 302
    reply, note = Comment.objects.filter(ticket=ticket).order_by("pk")
    assert (reply.body, reply.is_internal) == ("We are on it.", False)
    assert (note.body, note.is_internal) == ("Customer is on v2.1", True)
    kinds = list(
        TicketEvent.objects.filter(ticket=ticket)
        .exclude(kind="created")
        .values_list("kind", flat=True)
    )
    # The first public staff reply moves the new ticket to open.
    assert kinds == ["commented", "status_changed", "note_added"]
    html = client.get(url(ticket)).content.decode()
    assert html.count("desk-message--note") == 1
    assert "Internal note" in html and "Public reply" in html


def test_reply_with_attachment(client, agent, ticket):
    client.force_login(agent)
    response = client.post(
        url(ticket, "comment"),
        {
            "body": "Screenshot attached",
            "attachments": [upload("shot.png", png_bytes())],
        },
    )
    assert response.status_code == 302
    comment = Comment.objects.get(ticket=ticket)
    assert [a.original_name for a in comment.attachments.all()] == ["shot.png"]


def test_canned_response_is_rendered_with_placeholders(client, agent, ticket, queue):
    canned = CannedResponseFactory(queue=queue)
    client.force_login(agent)
    preview = client.post(
        url(ticket, "comment"), {"canned": canned.pk, "insert_canned": "1"}
    )
    assert preview.status_code == 200
    expected = f"Hello Alice, about {ticket.reference}. Alex Agent"
    assert expected in preview.content.decode()
    assert Comment.objects.count() == 0
    response = client.post(url(ticket, "comment"), {"canned": canned.pk, "body": ""})
    assert response.status_code == 302
    assert Comment.objects.get(ticket=ticket).body == expected


def test_canned_response_of_another_queue_is_not_offered(
    client, agent, ticket, other_queue
):
    foreign = CannedResponseFactory(queue=other_queue, title="Billing only")
    client.force_login(agent)
    assert "Billing only" not in client.get(url(ticket)).content.decode()
    response = client.post(url(ticket, "comment"), {"canned": foreign.pk})
    assert response.status_code == 400
    assert Comment.objects.count() == 0


def test_every_offered_canned_response_carries_its_filled_body(
    client, agent, ticket, queue, other_queue
):
    CannedResponseFactory(
        queue=queue, title="Thanks", body="Thanks {{ requester_name }}"
    )
    CannedResponseFactory(title="Shared", body="{{ ticket_reference }} <&> {{ x }}")
    CannedResponseFactory(queue=other_queue, title="Billing only")
    client.force_login(agent)
    html = client.get(url(ticket)).content.decode()
    options = re.findall(
        r'<option value="\d+" data-body="([^"]*)">([^<]*)</option>', html
    )
    assert options == [
        (f"{ticket.reference} &lt;&amp;&gt; {{{{ x }}}}", "Shared"),
        ("Thanks Alice", "Thanks (Support)"),
    ]


def test_empty_reply_is_a_form_error_and_writes_nothing(client, agent, ticket):
    client.force_login(agent)
    before = snapshot(ticket)
    response = client.post(url(ticket, "comment"), {"body": "   "})
    assert response.status_code == 400
    assert "The reply cannot be empty." in response.content.decode()
    assert snapshot(ticket) == before


def test_sidebar_actions_change_the_ticket_with_one_event_each(
    client, agent, ticket, other_queue
):
    client.force_login(agent)
    posts = [
        ("status", {"status": Status.WAITING_ON_CUSTOMER}),
        ("priority", {"priority": "high"}),
        ("assign", {"self": "1"}),
        ("tags", {"tags": "VIP, printer"}),
        ("watch", {"email": ""}),
        ("time", {"minutes": "25", "note": "remote session"}),
    ]
    for action, data in posts:
        response = client.post(url(ticket, action), data)
        assert response.status_code == 302, (action, response.content[:500])
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING_ON_CUSTOMER
    assert ticket.priority == "high"
    assert ticket.assignee == agent
    assert sorted(ticket.tags.names()) == ["printer", "vip"]
    assert list(ticket.watchers.all()) == [agent]
    assert TimeEntry.objects.get(ticket=ticket).minutes == 25
    kinds = list(
        TicketEvent.objects.filter(ticket=ticket)
        .exclude(kind="created")
        .values_list("kind", flat=True)
    )
    assert kinds == [
        "status_changed",
        "priority_changed",
        "assigned",
        "tags_changed",
        "watcher_added",
        "time_logged",
    ]


def test_illegal_status_move_is_400_and_changes_nothing(client, agent, ticket):
    client.force_login(agent)
    before = snapshot(ticket)
    response = client.post(url(ticket, "status"), {"status": Status.WITHDRAWN})
    assert response.status_code == 403
    response = client.post(url(ticket, "status"), {"status": "nonsense"})
    assert response.status_code == 400
    assert snapshot(ticket) == before


def test_invalid_minutes_is_a_form_error(client, agent, ticket):
    client.force_login(agent)
    before = snapshot(ticket)
    response = client.post(url(ticket, "time"), {"minutes": "0"})
    assert response.status_code == 400
    assert snapshot(ticket) == before


def test_merge_into_another_ticket(client, agent, ticket, alice, queue):
    target = TicketFactory(requester=alice, queue=queue)
    services.reply(alice, ticket, body="More details")
    client.force_login(agent)
    response = client.post(url(ticket, "merge"), {"target": target.reference})
    assert response.status_code == 302
    assert response["Location"] == target.get_admin_url()
    ticket.refresh_from_db()
    assert ticket.merged_into == target
    assert ticket.status == Status.CLOSED
    assert list(target.comments.values_list("body", flat=True)) == ["More details"]


def test_merge_into_a_hidden_ticket_looks_missing(
    client, agent, ticket, other_queue, alice
):
    hidden = TicketFactory(requester=alice, queue=other_queue)
    client.force_login(agent)
    before = snapshot(ticket)
    response = client.post(url(ticket, "merge"), {"target": hidden.reference})
    assert response.status_code == 400
    assert "No such ticket." in response.content.decode()
    assert snapshot(ticket) == before
    assert Ticket.objects.get(pk=hidden.pk).status == Status.NEW


def test_assigning_someone_outside_the_queue_is_refused(
    client, agent, other_agent, ticket
):
    client.force_login(agent)
    before = snapshot(ticket)
    response = client.post(url(ticket, "assign"), {"assignee": other_agent.pk})
    assert response.status_code == 400
    assert snapshot(ticket) == before


def test_requester_card_lists_their_and_their_organizations_tickets(
    client, agent, ticket, alice, bob, queue, acme, other_queue
):
    own = TicketFactory(requester=alice, queue=queue, subject="Printer jam")
    colleague = TicketFactory(
        requester=bob, queue=queue, organization=acme, subject="VPN down"
    )
    hidden = TicketFactory(requester=alice, queue=other_queue, subject="Invoice copy")
    client.force_login(agent)
    html = client.get(url(ticket)).content.decode()
    assert own.reference in html
    assert colleague.reference in html
    assert hidden.reference not in html
    assert "Acme" in html


def test_sla_clocks_show_state(client, agent, ticket):
    client.force_login(agent)
    html = client.get(url(ticket)).content.decode()
    assert "desk-clock--running" in html
    Ticket.objects.filter(pk=ticket.pk).update(
        first_response_due_at=ticket.created_at.replace(year=2000)
    )
    html = client.get(url(ticket)).content.decode()
    assert "desk-clock--breached" in html


def test_second_agent_of_the_same_queue_can_act(client, queue, ticket):
    colleague = make_agent(queue, email="colleague@example.com")
    client.force_login(colleague)
    response = client.post(url(ticket, "comment"), {"body": "Taking a look"})
    assert response.status_code == 302
    assert ticket.comments.get().author == colleague


@pytest.fixture
def sharing_agent(other_queue, acme):
    """An agent of another queue who is also a member of Acme: the ticket reaches
    them only through the organization's sharing (view and reply, no internal notes)."""
    from accounts.services import setup_member

    insider = make_agent(other_queue, email="insider@example.com", display_name="Ida")
    setup_member(acme, insider)
    return insider


def test_history_and_work_log_follow_the_internal_note_permission(
    client, agent, sharing_agent, ticket
):
    """The queue's agent reads the note's event and the logged time with its note;
    the agent who sees the ticket through organization sharing reads neither (the
    same rule as the notes themselves, ``permissions.*_visible_to``)."""
    services.reply(agent, ticket, body="Public answer")
    services.add_internal_note(agent, ticket, body="Internal remark")
    services.log_time(agent, ticket, minutes=25, note="Reproduced on staging")
    # the first public staff reply also moves the new ticket to open
    history = ["created", "commented", "status_changed", "note_added", "time_logged"]

    client.force_login(agent)
    html = client.get(url(ticket)).content.decode()
    assert re.findall(r'data-event-kind="(\w+)"', html) == history
    assert "Internal remark" in html
    assert "25 min · Alex Agent" in html and "Reproduced on staging" in html
    assert "25 minutes in total" in html

    client.force_login(sharing_agent)
    response = client.get(url(ticket))
    assert response.status_code == 200
    html = response.content.decode()
    assert re.findall(r'data-event-kind="(\w+)"', html) == [
        "created",
        "commented",
        "status_changed",
    ]
    assert "Public answer" in html
    for internal in ("Internal remark", "Reproduced on staging", "25 min"):
        assert internal not in html
    assert list(response.context["time_entries"]) == []
    assert response.context["time_total"] == 0


def _converse(ticket, customer, agent, rounds):
    """``rounds`` of a reply with a file, a note with a file, logged time and tags."""
    for n in range(rounds):
        services.reply(
            customer,
            ticket,
            body=f"Reply {n}",
            attachments=[upload(f"r{n}.png", png_bytes())],
        )
        services.add_internal_note(
            agent,
            ticket,
            body=f"Note {n}",
            attachments=[upload(f"n{n}.png", png_bytes())],
        )
        services.log_time(agent, ticket, minutes=5, note=f"call {n}")
        services.set_tags(agent, ticket, ["vip", f"t{n}"])


@pytest.mark.parametrize(
    "chrome_kept, staff_kept, budget",
    [(False, False, 25), (True, False, 22), (True, True, 19)],  # SQLite's
    ids=["chrome-built", "chrome-kept", "chrome-and-staff-kept"],
)
def test_workspace_costs_the_same_queries_however_long_the_conversation(
    client,
    agent,
    alice,
    ticket,
    queue,
    django_assert_num_queries,
    settings,
    chrome_kept,
    staff_kept,
    budget,
):
    settings.ADMIN_CHROME_CACHE = chrome_kept  # on with Redis (portal.admin_chrome)
    settings.DESK_STAFF_CACHE = staff_kept  # on with Redis (tickets.desk.inbox)
    cache.clear()
    kept_fields.forget_kept_fields()
    CannedResponseFactory(queue=queue)
    services.add_watcher(agent, ticket)
    client.force_login(agent)
    _converse(ticket, alice, agent, 1)
    client.get(url(ticket))  # Wagtail's per-process caches, as on a running server
    admin_chrome._renew()  # the set-up committed, as on a running site
    inbox._new_staff_generation()
    kept_fields._new_queues_generation()
    client.get(
        url(ticket)
    )  # and the admin chrome and staff's fields kept, when they are
    # Wagtail's admin: session, user with their roles and model permissions
    # (accounts.session_user), profile, locale, page and collection permissions (6);
    # the desk: the ticket, its tags and
    # watchers, the agent's grants (one UNION), canned responses and the requester's
    # roles (their name in them), time entries, files, comments, events, assignable
    # agents, queues (read once, not counted first), source emails, the requester's
    # memberships, their other tickets and the organization's (one UNION ALL), tickets
    # merged here (24);
    # the panels other apps add through the ``register_ticket_workspace_panel`` hook:
    # crm's Follow-up (the ticket's open tasks, its latest interactions, the
    # assignable staff of "Add task": 3; the organizations the agent works are not
    # read for a ticket the agent sees). With the admin chrome kept, Wagtail's page and
    # collection permissions and locales are not read (3 fewer); with the staff's
    # fields kept, the assignable agents, crm's assignable staff and the queues (3 fewer).
    # On PostgreSQL the desk's reads after the agent's grants (tags, watchers, canned
    # responses, the requester's memberships, files, comments, events, time entries,
    # the other tickets, tickets merged here, source emails: 11) are one round trip,
    # one ``execute`` (``workspace.read_together``): 10 fewer.
    if connection.vendor == "postgresql":
        budget -= 10
    with django_assert_num_queries(budget):
        short = client.get(url(ticket))
    _converse(ticket, alice, agent, 4)
    with django_assert_num_queries(budget):
        long = client.get(url(ticket))
    html = long.content.decode()
    assert html.count("desk-message--note") == 5  # 5 notes
    assert html.count('class="desk-files"') == 10  # every reply's and note's file
    assert "n3.png" in html and "r3.png" in html
    assert short.status_code == long.status_code == 200
