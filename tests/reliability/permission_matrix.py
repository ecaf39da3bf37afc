"""The permission matrix: one table of caller × action × expected outcome, and the four
surfaces that execute it (``tests/reliability/test_permission_matrix.py``).

Outcomes:

- ``ALLOW``: the action took effect (or, for a read, showed what it reads);
- ``HIDDEN``: the answer is exactly the one for a ticket that does not exist (404, a
  null ticket, "No such ticket.", the sign-in page), and nothing changed;
- ``REFUSED``: the caller sees the ticket, is told no (403, a form error, a
  ``PERMISSION`` message, the read simply not shown), and nothing changed.

The table is written once, by caller and action. A surface that does not offer an action
says so in ``ABSENT`` with the reason; a surface that does not exist for some callers
(the desk, for customers) says so in ``AUDIENCE``: for them every cell is ``HIDDEN``.

Over 400 lines on purpose: the one table and the four surfaces that run it, which share
its vocabulary of actions and outcomes.
"""

from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.urls import reverse

from accounts.models import TicketSharing
from accounts.tokens import create_token
from tickets import actions as ticket_actions
from tickets import permissions, services
from tickets.exceptions import PermissionDenied, TicketNotFound
from tickets.models import Attachment, Comment, Status, Ticket, TimeEntry
from tickets.tests.factories import (
    OrganizationFactory,
    QueueFactory,
    TicketFactory,
    make_agent,
    make_customer,
    make_supervisor,
    make_viewer,
    png_bytes,
    upload,
)

ALLOW, HIDDEN, REFUSED = "allow", "hidden", "refused"
MISSING_REFERENCE = "HD-999999"

CALLERS = (
    "anonymous",
    "requester",
    "colleague_sharing_none",
    "colleague_sharing_read",
    "colleague_sharing_read_write",
    "other_org_customer",
    "queue_agent",
    "other_queue_agent",
    "supervisor",
    "admin",
    "viewer",
)
CUSTOMERS = {
    "requester",
    "colleague_sharing_none",
    "colleague_sharing_read",
    "colleague_sharing_read_write",
    "other_org_customer",
}
SEE = {
    "requester",
    "colleague_sharing_read",
    "colleague_sharing_read_write",
    "queue_agent",
    "supervisor",
    "admin",
    "viewer",
}
TEAM = {"queue_agent", "supervisor", "admin"}

# action -> the callers it is allowed to; every other caller who sees the ticket is
# REFUSED, everyone else gets HIDDEN. The ticket is open and unassigned (resolved for
# "reopen" and "rate"); "change_status" is the move to in progress.
ALLOWED = {
    "view": SEE,
    "see_internal_note": TEAM | {"viewer"},
    "reply": TEAM | {"requester", "colleague_sharing_read_write"},
    "add_internal_note": TEAM,
    "change_status": TEAM,
    "resolve": TEAM,
    "reject": TEAM,
    "close": {"requester"},
    "reopen": TEAM | {"requester"},
    "withdraw": {"requester"},
    "assign": TEAM,
    "change_priority": TEAM,
    "move_queue": TEAM,
    "set_tags": TEAM,
    "watch": SEE - {"viewer"},
    "log_time": TEAM,
    "download_attachment": SEE,
    "merge": TEAM,
    "rate": {"requester"},
}
MATRIX = {
    (caller, action): ALLOW
    if caller in allowed
    else REFUSED
    if caller in SEE
    else HIDDEN
    for action, allowed in ALLOWED.items()
    for caller in CALLERS
}

# Each policy action (``tickets.permissions.ACTIONS``) → the matrix rows that exercise it.
POLICY_ROWS = {
    "view": {"view"},
    "reply": {"reply"},
    "add_note": {"add_internal_note"},
    "view_internal": {"see_internal_note"},
    "change_status": {"change_status", "resolve", "reject"},
    "assign": {"assign"},
    "change_priority": {"change_priority"},
    "move_queue": {"move_queue"},
    "set_tags": {"set_tags"},
    "watch": {"watch"},
    "merge": {"merge"},
    "rate": {"rate"},
    "log_time": {"log_time"},
    "download_attachment": {"download_attachment"},
    "close": {"close"},
    "reopen": {"reopen"},
    "withdraw": {"withdraw"},
}

STATUS_TARGETS = {
    "change_status": Status.IN_PROGRESS,
    "resolve": Status.RESOLVED,
    "reject": Status.REJECTED,
    "close": Status.CLOSED,
    "reopen": Status.OPEN,
    "withdraw": Status.WITHDRAWN,
}
REASONS = {"reject": "Out of scope for our support."}
READS = {"view", "see_internal_note", "download_attachment"}


# --- the world every cell starts from ---------------------------------------------------


def build_world():
    queue = QueueFactory(slug="support")
    other_queue = QueueFactory(slug="billing")
    acme = OrganizationFactory(slug="acme")
    globex = OrganizationFactory(slug="globex")
    requester = make_customer(acme, display_name="Rita Requester")
    agent = make_agent(queue, display_name="Alex Agent")
    admin = make_supervisor(display_name="Ada Admin")
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    ticket = TicketFactory(requester=requester, queue=queue, organization=acme)
    target = TicketFactory(requester=requester, queue=queue, organization=acme)
    services.change_status(agent, ticket, Status.OPEN)
    services.reply(
        requester, ticket, body="Public", attachments=[upload("a.png", png_bytes())]
    )
    services.add_internal_note(agent, ticket, body="Secret")
    return {
        "ticket": ticket,
        "target": target,
        "acme": acme,
        "agent": agent,
        "other_queue": other_queue,
        "attachment": Attachment.objects.get(ticket=ticket),
        "users": {
            "anonymous": AnonymousUser(),
            "requester": requester,
            "colleague": make_customer(acme),
            "other_org_customer": make_customer(globex),
            "queue_agent": agent,
            "other_queue_agent": make_agent(other_queue),
            "supervisor": make_supervisor(),
            "admin": admin,
            "viewer": make_viewer(),
        },
    }


def caller_user(world, caller):
    """The user for ``caller``; a colleague's organization is set to the sharing the
    name says (and its grants applied) first."""
    if caller.startswith("colleague_sharing_"):
        acme = world["acme"]
        acme.ticket_sharing = {
            "none": TicketSharing.NONE,
            "read": TicketSharing.READ,
            "read_write": TicketSharing.READ_WRITE,
        }[caller.removeprefix("colleague_sharing_")]
        acme.save()
        services.apply_organization_sharing(acme)
        return world["users"]["colleague"]
    return world["users"][caller]


def prepare(world, action):
    """Put the ticket in the state the action's row is about."""
    if action in ("reopen", "rate"):
        services.change_status(world["agent"], world["ticket"], Status.RESOLVED)


def snapshot(ticket):
    fresh = Ticket.objects.get(pk=ticket.pk)
    return {
        "replies": Comment.objects.filter(ticket=ticket, is_internal=False).count(),
        "notes": Comment.objects.filter(ticket=ticket, is_internal=True).count(),
        "status": fresh.status,
        "assignee": fresh.assignee_id,
        "priority": fresh.priority,
        "queue": fresh.queue_id,
        "tags": sorted(fresh.tags.names()),
        "watchers": sorted(fresh.watchers.values_list("pk", flat=True)),
        "minutes": list(
            TimeEntry.objects.filter(ticket=ticket).values_list("minutes", flat=True)
        ),
        "merged_into": fresh.merged_into_id,
        "rating": fresh.satisfaction_rating,
        "events": fresh.events.count(),
    }


def took_effect(action, before, after, world, user) -> bool:
    """Whether ``after`` shows exactly the change ``action`` makes."""
    expected = dict(before)
    if action == "reply":
        expected["replies"] += 1
    elif action == "add_internal_note":
        expected["notes"] += 1
    elif action in STATUS_TARGETS:
        expected["status"] = STATUS_TARGETS[action]
    elif action == "assign":
        expected["assignee"] = world["agent"].pk
    elif action == "change_priority":
        expected["priority"] = "critical"
    elif action == "move_queue":
        expected["queue"] = world["other_queue"].pk
    elif action == "set_tags":
        expected["tags"] = ["matrix"]
    elif action == "watch":
        expected["watchers"] = sorted([*before["watchers"], user.pk])
    elif action == "log_time":
        expected["minutes"] = [*before["minutes"], 15]
    elif action == "merge":
        expected["merged_into"] = world["target"].pk
    elif action == "rate":
        expected["rating"] = 5
    after = dict(after)
    # Side effects not judged here: the events written, and the status a reply or a
    # merge moves the ticket to (unless the action is a status change).
    ignored = ("events",) if action in STATUS_TARGETS else ("events", "status")
    if action == "merge":  # the conversation moves to the target
        ignored += ("replies", "notes")
    for key in ignored:
        expected.pop(key)
        after.pop(key)
    return after == expected


# --- surfaces ---------------------------------------------------------------------------
# Each surface's ``run(action, user, world, reference)`` does the action through that
# surface and returns ``(signature, shown)``: ``signature`` is what the caller was told,
# comparable with the answer for ``MISSING_REFERENCE``; ``shown`` is, for a read,
# whether it showed what it reads (writes are judged by ``snapshot``).


def _service_call(action, user, world, ticket):
    if action == "view":
        return permissions.get_ticket_for(user, ticket.reference), True
    if action == "see_internal_note":
        permissions.get_ticket_for(user, ticket.reference)
        bodies = [c.body for c in permissions.visible_comments(user, ticket)]
        return None, "Secret" in bodies
    if action == "download_attachment":
        permissions.get_ticket_for(user, ticket.reference)
        return None, permissions.can_download(user, world["attachment"])
    calls = {
        "reply": lambda: services.reply(user, ticket, body="Hello"),
        "add_internal_note": lambda: services.add_internal_note(
            user, ticket, body="Note"
        ),
        "assign": lambda: services.assign(user, ticket, world["agent"]),
        "change_priority": lambda: services.change_priority(user, ticket, "critical"),
        "move_queue": lambda: services.move_queue(user, ticket, world["other_queue"]),
        "set_tags": lambda: services.set_tags(user, ticket, ["matrix"]),
        "watch": lambda: services.add_watcher(user, ticket),
        "log_time": lambda: services.log_time(user, ticket, minutes=15),
        "merge": lambda: services.merge(user, ticket, world["target"]),
        "rate": lambda: services.rate(user, ticket, rating=5),
    }
    if action in STATUS_TARGETS:
        # The status rows are named after ``tickets.actions`` (the layer every surface
        # calls for a status change); the generic one moves to in progress.
        kw = {"reason": REASONS[action]} if action in REASONS else {}
        if action == "change_status":
            kw["status"] = STATUS_TARGETS[action]
        ticket_actions.get(action).execute(user, ticket, **kw)
    else:
        calls[action]()
    return None, True


def run_services(action, user, world, reference):
    """``tickets.services`` / ``tickets.actions`` / ``tickets.permissions``, as every
    surface calls them."""
    try:
        if reference == MISSING_REFERENCE:  # what every caller does with a reference
            permissions.get_ticket_for(user, reference)
        ticket = Ticket.objects.get(reference=reference)
        _, shown = _service_call(action, user, world, ticket)
    except TicketNotFound:
        return ("not found",), False
    except PermissionDenied as error:
        return ("permission denied", str(error)), False
    except Exception as error:  # ValidationError: allowed in principle, not now
        return (type(error).__name__,), False
    return ("ok",), shown


def _client(user):
    client = Client()
    if user.is_authenticated:
        client.force_login(user)
    return client


def _http(response, *, body=None):
    """Status and, for a redirect, where it goes; ``body`` marks pages whose text
    matters for the comparison with a missing ticket."""
    location = response.headers.get("Location", "")
    return (response.status_code, location.split("?")[0]) + (
        (body,) if body is not None else ()
    )


def run_portal(action, user, world, reference):
    """The customer portal's HTML views (``tickets.portal``) and the download view."""
    client = _client(user)
    url = lambda name: reverse(f"tickets:{name}", args=[reference])  # noqa: E731
    if action in ("view", "see_internal_note"):
        response = client.get(url("portal_ticket"))
        shown = response.status_code == 200 and (
            action == "view" or b"Secret" in response.content
        )
        return _http(response), shown
    if action == "download_attachment":
        attachment = world["attachment"]
        path = attachment.get_absolute_url()
        if reference == MISSING_REFERENCE:
            path = reverse(
                "tickets:attachment_download", args=[999999, attachment.original_name]
            )
        response = client.get(path)
        return _http(response), response.status_code == 200
    if action == "reply":
        response = client.post(url("portal_reply"), {"body": "Hello"})
    elif action in ("close", "reopen", "withdraw"):
        response = client.post(url("portal_status"), {"action": action})
    elif action == "rate":
        response = client.post(url("portal_rate"), {"rating": "5"})
    else:  # pragma: no cover - ABSENT lists the rest
        raise AssertionError(action)
    # The status buttons redirect back to the ticket either way; the message differs.
    return _http(response), None


def run_desk(action, user, world, reference):
    """The agent desk's HTML views in the Wagtail admin (``tickets.desk``)."""
    client = _client(user)
    if action in ("view", "see_internal_note"):
        response = client.get(reverse("helpdesk:ticket", args=[reference]))
        shown = response.status_code == 200 and (
            action == "view" or b"Secret" in response.content
        )
        return _http(response), shown
    slug, data = {
        "reply": ("comment", {"body": "Hello"}),
        "add_internal_note": ("comment", {"body": "Note", "internal": "on"}),
        "change_status": ("status", {"status": Status.IN_PROGRESS}),
        "resolve": ("status", {"status": Status.RESOLVED}),
        "reject": ("status", {"status": Status.REJECTED, "reason": REASONS["reject"]}),
        "close": ("status", {"status": Status.CLOSED}),
        "reopen": ("status", {"status": Status.OPEN}),
        "withdraw": ("status", {"status": Status.WITHDRAWN}),
        "assign": ("assign", {"assignee": world["agent"].pk}),
        "change_priority": ("priority", {"priority": "critical"}),
        "move_queue": ("queue", {"queue": world["other_queue"].pk}),
        "set_tags": ("tags", {"tags": "matrix"}),
        "watch": ("watch", {}),
        "log_time": ("time", {"minutes": "15"}),
        "merge": ("merge", {"target": world["target"].reference}),
    }[action]
    response = client.post(
        reverse("helpdesk:ticket_action", args=[reference, slug]), data
    )
    return _http(response), None


GQL_MUTATIONS = {
    "reply": ("addComment", "AddCommentInput", {"body": "Hello"}),
    "add_internal_note": (
        "addComment",
        "AddCommentInput",
        {"body": "Note", "isInternal": True},
    ),
    "change_status": (
        "changeTicketStatus",
        "ChangeTicketStatusInput",
        {"status": "IN_PROGRESS"},
    ),
    "resolve": (
        "changeTicketStatus",
        "ChangeTicketStatusInput",
        {"status": "RESOLVED"},
    ),
    "reject": (
        "changeTicketStatus",
        "ChangeTicketStatusInput",
        {"status": "REJECTED", "reason": REASONS["reject"]},
    ),
    "close": ("changeTicketStatus", "ChangeTicketStatusInput", {"status": "CLOSED"}),
    "reopen": ("changeTicketStatus", "ChangeTicketStatusInput", {"status": "OPEN"}),
    "withdraw": (
        "changeTicketStatus",
        "ChangeTicketStatusInput",
        {"status": "WITHDRAWN"},
    ),
    "assign": ("assignTicket", "AssignTicketInput", None),
    "rate": ("rateTicket", "RateTicketInput", {"rating": 5}),
}


def run_graphql(action, user, world, reference):
    """The GraphQL API (``graphql_api``), with a read-write token as an integrator."""
    client = Client()
    headers = {}
    if user.is_authenticated:
        secret = create_token(user, name="matrix", scopes="read,write").secret
        headers = {"Authorization": f"Bearer {secret}"}

    def post(query, variables):
        response = client.post(
            "/graphql/",
            {"query": query, "variables": variables},
            content_type="application/json",
            headers=headers,
        )
        assert response.status_code == 200, response.content
        return response.json()

    if action in READS:
        body = post(
            "query($r: String!) { ticket(reference: $r) {"
            " comments { body } attachments { url } } }",
            {"r": reference},
        )
        assert "errors" not in body, body
        data = body["data"]["ticket"]
        if data is None:
            return ("null",), False
        if action == "view":
            return ("ticket",), True
        if action == "see_internal_note":
            return ("ticket",), "Secret" in [c["body"] for c in data["comments"]]
        # The URL GraphQL hands out is the download view's: it must serve the file.
        [attachment] = data["attachments"]
        response = _client(user).get(attachment["url"].split("testserver")[-1])
        return ("ticket", response.status_code), response.status_code == 200
    name, input_type, extra = GQL_MUTATIONS[action]
    if extra is None:
        extra = {"assignee": world["agent"].email}
    body = post(
        f"mutation($i: {input_type}!) {{ {name}(input: $i) {{ __typename "
        "... on OperationInfo { messages { kind code message } } } }",
        {"i": {"reference": reference, **extra}},
    )
    if body.get("errors"):
        return tuple(error["extensions"]["code"] for error in body["errors"]), None
    payload = body["data"][name]
    if payload["__typename"] != "OperationInfo":
        return ("ok",), None
    return tuple(
        (m["kind"], m["code"], m["message"]) for m in payload["messages"]
    ), None


SURFACES = {
    "services": run_services,
    "portal": run_portal,
    "desk": run_desk,
    "graphql": run_graphql,
}

# (surface, action) -> why that surface does not offer the action.
ABSENT = {
    ("portal", "add_internal_note"): "internal notes are written on the desk",
    ("portal", "change_status"): "the portal offers close / reopen / withdraw only",
    ("portal", "resolve"): "the portal offers close / reopen / withdraw only",
    ("portal", "reject"): "the portal offers close / reopen / withdraw only",
    ("portal", "assign"): "assignment is the support team's, on the desk",
    ("portal", "change_priority"): "the support team's, on the desk",
    ("portal", "move_queue"): "the support team's, on the desk",
    ("portal", "set_tags"): "the support team's, on the desk",
    ("portal", "watch"): "watching is offered on the desk and by email",
    ("portal", "log_time"): "the support team's, on the desk",
    ("portal", "merge"): "the support team's, on the desk",
    ("desk", "rate"): "only the requester rates, in the portal or GraphQL",
    ("desk", "download_attachment"): "the desk links to the portal's one download "
    "view, run by the portal's row",
    ("graphql", "change_priority"): "no mutation yet",
    ("graphql", "move_queue"): "no mutation yet",
    ("graphql", "set_tags"): "no mutation yet",
    ("graphql", "watch"): "no mutation yet",
    ("graphql", "log_time"): "no mutation yet",
    ("graphql", "merge"): "no mutation yet",
}

# surface -> callers for whom the surface itself does not exist (every cell HIDDEN).
AUDIENCE = {"desk": CUSTOMERS}


def expected(surface, caller, action):
    if caller in AUDIENCE.get(surface, ()):
        return HIDDEN
    return MATRIX[caller, action]
