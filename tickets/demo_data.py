"""Demo helpdesk: two queues with their agents, a default SLA policy, canned responses
and 45 tickets of Acme's and Globex's people about "Lumen", a file-sync product.

Tickets are made through the services (so grants, events and clocks are real) with hooks
suppressed (no emails or webhooks), then moved into the past with ``update()`` so that
due times, ages and some SLA breaches look lived-in. A ticket is identified by its
requester and subject: a second run creates nothing.
"""

import struct
import zlib
from datetime import timedelta

from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.db.models import F
from django.utils import timezone

from portal.demo import DemoContext

from . import hooks, services
from .models import (
    Attachment,
    CannedResponse,
    Comment,
    Priority,
    Queue,
    SLAPolicy,
    Ticket,
    TicketEvent,
    TimeEntry,
)
from .statistics import store

PROBLEMS = [
    (
        "Sync stuck at 99%",
        "technical",
        "The Lumen client has shown “Syncing… 99%” since this morning and new files do not reach the server.",
    ),
    (
        "Conflicted copies everywhere",
        "technical",
        "After editing a spreadsheet on two machines Lumen created five “conflicted copy” files. Which one is the real one?",
    ),
    (
        "Cannot sign in after password change",
        "account",
        "I changed my password on the website and the desktop app keeps asking for it again and again.",
    ),
    (
        "Invoice shows the wrong VAT number",
        "billing",
        "Our last invoice has the old VAT number of the company. We need a corrected invoice for accounting.",
    ),
    (
        "Shared folder disappeared",
        "technical",
        "A folder a colleague shared with me vanished from my Lumen folder overnight. The colleague still sees it.",
    ),
    (
        "Add two more seats to our plan",
        "billing",
        "We are hiring two people next week. How do we add seats and how is it billed mid-month?",
    ),
    (
        "Selective sync ignores my settings",
        "technical",
        "I excluded the Videos folder from sync but Lumen keeps downloading it to my laptop.",
    ),
    (
        "Two-factor codes not accepted",
        "account",
        "The codes from my authenticator app are rejected although the clock on the phone is correct.",
    ),
    (
        "Upload speed capped at 1 MB/s",
        "technical",
        "Uploads never go faster than about 1 MB/s even on the office fibre line. Is there a limit?",
    ),
    (
        "Charged twice this month",
        "billing",
        "Our card was charged twice on the 3rd for the Business plan. Please refund one of the charges.",
    ),
    (
        "Restore deleted files from last week",
        "technical",
        "Someone deleted the Contracts folder last Tuesday. Can we get it back with the version history?",
    ),
    (
        "Transfer account ownership",
        "account",
        "Our IT manager is leaving; the account owner must become someone else before the end of the month.",
    ),
    (
        "Lumen uses 100% CPU on startup",
        "technical",
        "For about ten minutes after login the Lumen process takes a whole CPU core and the fan spins up.",
    ),
    (
        "Request a copy of our data",
        "account",
        "For an audit we need an export of all files and the activity log for the last year.",
    ),
    (
        "Cancel the annual plan",
        "billing",
        "We are moving to another provider and want to cancel the annual plan at renewal.",
    ),
]
CONTEXTS = ["on Windows 11", "on macOS", "in the iOS app"]
STATUSES = [
    "new",
    "open",
    "in_progress",
    "waiting_on_customer",
    "on_hold",
    "resolved",
    "closed",
    "rejected",
    "withdrawn",
]
PRIORITIES = Priority.values  # least to most urgent
REQUESTERS = ["alice@acme.example", "bob@acme.example", "carol@globex.example"]
TAGS = [["sync"], ["desktop", "windows"], ["macos"], ["mobile", "ios"], ["vip"]]
CANNED = [
    (
        "Ask for client logs",
        "Hello {{ requester_name }},\n\nCould you send us the Lumen client log? "
        "In the app choose Help → Export logs and attach the file to "
        "{{ ticket_reference }}.\n\nThanks,\n{{ agent_name }}",
        "support",
    ),
    (
        "Refund issued",
        "Hello {{ requester_name }},\n\nWe have issued the refund; it shows on your "
        "statement within five working days.\n\n{{ agent_name }}",
        "billing",
    ),
    (
        "Closing after no reply",
        "Hello {{ requester_name }},\n\nWe have not heard back about "
        "{{ ticket_reference }}, so we will close it. Reply any time to reopen it.\n\n"
        "{{ agent_name }}",
        None,
    ),
]


def _png() -> bytes:
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    width = height = 8
    raw = b"".join(
        b"\x00" + bytes((40 + 20 * x) % 256 for x in range(width))
        for _ in range(height)
    )
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _queues(users):
    policy, _ = SLAPolicy.objects.get_or_create(
        name="Standard", defaults={"is_default": True}
    )
    queues = {}
    for slug, name, group_name, agent_email, is_default in [
        ("support", "Support", "Support agents", "agent@example.com", True),
        ("billing", "Billing", "Billing agents", "billing.agent@example.com", False),
    ]:
        group, _ = Group.objects.get_or_create(name=group_name)
        queue, _ = Queue.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "agent_group": group,
                "sla_policy": policy,
                "is_default": is_default,
                "inbound_address": f"{slug}@example.com",
            },
        )
        users[agent_email].groups.add(queue.agent_group)
        queues[slug] = queue
    for title, body, slug in CANNED:
        CannedResponse.objects.get_or_create(
            title=title, defaults={"body": body, "queue": queues.get(slug)}
        )
    return queues


def _backdate(ticket, delta):
    """Move a ticket and everything on it ``delta`` into the past."""
    fields = [
        "created_at",
        "updated_at",
        "first_response_due_at",
        "resolution_due_at",
        "first_responded_at",
        "resolved_at",
        "closed_at",
        "paused_at",
    ]
    Ticket.objects.filter(pk=ticket.pk).update(
        **{name: F(name) - delta for name in fields}
    )
    for model in (Comment, TicketEvent, TimeEntry, Attachment):
        model.objects.filter(ticket=ticket).update(created_at=F("created_at") - delta)


def _wait(ticket, *, minutes):
    """Let time pass before the next step: everything so far moves ``minutes`` into
    the past (so first-response and resolution times are hours, not milliseconds)."""
    _backdate(ticket, timedelta(minutes=minutes))
    ticket.refresh_from_db()


def _walk(ticket, target, n, *, requester, agent):
    """Take a fresh ticket to ``target`` the way people would, with realistic pauses
    between the steps (first reply after 20 minutes to 9 hours, resolution after
    one to three days)."""
    if target == "new":
        return
    if target == "withdrawn":
        _wait(ticket, minutes=120 + 60 * (n % 20))
        services.change_status(requester, ticket, "withdrawn")
        return
    if target == "rejected":
        _wait(ticket, minutes=30 + 40 * (n % 6))
        services.change_status(
            agent, ticket, "rejected", reason="Duplicate of an earlier request."
        )
        return
    _wait(ticket, minutes=20 + 53 * (n % 10))
    services.change_status(agent, ticket, "open")
    services.reply(
        agent,
        ticket,
        body=f"Hello {requester.get_short_name()}, thanks for the report. "
        "We are looking into it.",
    )
    services.set_tags(agent, ticket, TAGS[n % len(TAGS)])
    if target == "open":
        return
    _wait(ticket, minutes=60 + 30 * (n % 5))
    services.self_assign(agent, ticket)
    services.change_status(agent, ticket, "in_progress")
    services.add_internal_note(
        agent,
        ticket,
        body="Reproduced on a test account; looks related to the 4.2 client release.",
    )
    services.log_time(agent, ticket, minutes=15 + 5 * (n % 6), note="Investigation")
    if target == "in_progress":
        return
    _wait(ticket, minutes=180 + 45 * (n % 8))
    if target == "waiting_on_customer":
        services.reply(
            agent,
            ticket,
            body="Could you export the client log (Help → Export logs) and attach it?",
        )
        services.change_status(agent, ticket, "waiting_on_customer")
        return
    if target == "on_hold":
        services.add_internal_note(
            agent, ticket, body="Waiting for the engineering fix in 4.2.1."
        )
        services.change_status(agent, ticket, "on_hold")
        return
    _wait(ticket, minutes=360 + 97 * (n % 17))
    services.reply(
        requester,
        ticket,
        body="Here is the log from this morning.",
        attachments=[
            ContentFile(
                b"12:01 sync start\n12:02 error 409 conflict\n", name="lumen-client.log"
            )
        ],
    )
    _wait(ticket, minutes=240 + 83 * (n % 13))
    services.reply(
        agent, ticket, body="Fixed on our side; please restart the Lumen client."
    )
    services.change_status(agent, ticket, "resolved")
    if target == "closed":
        _wait(ticket, minutes=600 + 120 * (n % 7))
        services.change_status(requester, ticket, "closed")
    if n % 3 != 2:
        services.rate(
            requester,
            ticket,
            rating=5 - n % 3,
            comment="Quick and friendly help." if n % 2 else "",
        )


def load(context: DemoContext) -> None:
    users = context.objects["users"]
    organizations = context.objects["organizations"]
    queues = _queues(users)
    now = timezone.now()
    made = 0
    with hooks.suppressed():
        for n in range(len(PROBLEMS) * len(CONTEXTS)):
            problem, category, description = PROBLEMS[n % len(PROBLEMS)]
            subject = f"{problem} {CONTEXTS[n // len(PROBLEMS)]}"
            requester = users[REQUESTERS[(n + n // len(STATUSES)) % len(REQUESTERS)]]
            if Ticket.objects.filter(requester=requester, subject=subject).exists():
                continue
            queue = queues["billing" if category == "billing" else "support"]
            agent = users[
                "billing.agent@example.com"
                if category == "billing"
                else "agent@example.com"
            ]
            organization = organizations[
                "globex" if requester.email.endswith("globex.example") else "acme"
            ]
            attachments = []
            if n % 4 == 0:
                attachments.append(ContentFile(_png(), name="screenshot.png"))
            ticket = services.create_ticket(
                requester,
                subject=subject,
                description=description,
                priority=PRIORITIES[n % len(PRIORITIES)],
                category=category,
                queue=queue,
                organization=organization,
                attachments=attachments,
            )
            status = STATUSES[n % len(STATUSES)]
            _walk(ticket, status, n, requester=requester, agent=agent)
            # Spread over the last five weeks; every fifth open ticket is old enough
            # to have missed its SLA.
            days = 1 + (n * 7) % 35
            if status in ("new", "open", "in_progress") and n % 5 == 0:
                days = 12
            _backdate(ticket, timedelta(days=days, hours=n % 9))
            ticket.refresh_from_db()
            services.mark_sla_breached(ticket, now=now)
            made += 1
    context.objects["queues"] = queues
    context.log(
        f"Tickets: {Ticket.objects.count()} ({made} new), queues " + ", ".join(queues)
    )


def finish(context: DemoContext) -> None:
    """After every app's demo data (other apps file tickets too): the reports read
    the statistics roll-ups, so rebuild them over the whole demo history
    (idempotent, like the rest of the demo)."""
    now = timezone.now()
    earliest = (
        Ticket.objects.order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if earliest is None:
        return
    days = (timezone.localdate(now) - timezone.localdate(earliest)).days + 1
    store.backfill(days, now)
