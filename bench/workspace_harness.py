"""In-process measurements of the desk workspace (``/admin/helpdesk/tickets/<ref>/``).

Over 400 lines on purpose: one tool for the page's timings, calls and HTML oracle (its
page sets, bound forms included), each command sharing the same users and tickets.

Run against a copy of the benchmark database, with the production settings that
``bench/run.py`` gives its server (``child_env``), e.g.::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_1_bench REDIS_URL=redis://127.0.0.1:6379/5 \
        .venv/bin/python bench/workspace_harness.py time [N]
    ... workspace_harness.py calls            # cProfile: Python calls per request, by section
    ... workspace_harness.py html DIR         # the HTML of several (user, ticket) pairs
    ... workspace_harness.py diff DIR_A DIR_B # byte comparison (CSRF tokens masked)

``time`` reports wall and process CPU time (the latter less disturbed by other
processes on a shared machine). ``time`` and ``calls`` use agent0 on the agent's busiest ticket (``bench/prepare.py``);
with ``WORKSPACE_TICKET=short`` on the first of agent0's tickets with exactly three
comments (the size of django-helpdesk's benchmark ticket: the page's fixed cost), or
with ``WORKSPACE_TICKET=HD-…`` on that ticket.
``html`` writes pages for: the busiest ticket, tickets with internal notes, files, time
entries, a merged ticket and its target, a ticket with source emails, as agent0, as an
agent without ``view_internal_notes`` on them (another queue's agent with the ticket
granted by nothing: skipped when none), a supervisor and a viewer; and the page shown
again after invalid status and tags POSTs (``bound_pages``: bound forms with errors,
in en/ru/pl).
"""

import cProfile
import os
import pstats
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, os.getcwd())  # the checkout measured: run from its root
for key, value in {
    "DJANGO_SETTINGS_MODULE": "portal.settings.production",
    "DB_CONN_MAX_AGE": "60",
    "SECRET_KEY": "bench-secret-key-not-used-anywhere-else-0123456789",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "ATTACHMENT_ENCRYPTION_KEYS": "bench1:YmVuY2gtb25seS1hdHRhY2htZW50LWtleS0zMmJ5dGU=",
    "SECURE_SSL_REDIRECT": "false",
    "SECURE_HSTS_SECONDS": "0",
    "MFA_REQUIRED_FOR_STAFF": "false",
}.items():
    os.environ.setdefault(key, value)
os.environ.pop("DEBUG", None)

import portal.wsgi  # noqa: E402, F401

# isort: split

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import User  # noqa: E402
from tickets.desk import workspace  # noqa: E402
from tickets.models import Ticket  # noqa: E402

CSRF = re.compile(
    rb'(name="csrfmiddlewaretoken" value="|"CSRF_TOKEN": "|data-live-csrf=")[^"]+'
)


def busiest(agent):
    return (
        Ticket.objects.filter(queue__agent_group__user=agent)
        .annotate(n=Count("comments"))
        .order_by("-n", "pk")
        .first()
    )


def measured(agent):
    """The ticket ``time`` and ``calls`` measure (``WORKSPACE_TICKET``)."""
    choice = os.environ.get("WORKSPACE_TICKET", "busiest")
    if choice == "busiest":
        return busiest(agent)
    if choice == "short":
        return (
            Ticket.objects.filter(queue__agent_group__user=agent)
            .annotate(n=Count("comments"))
            .filter(n=3)
            .order_by("pk")
            .first()
        )
    return Ticket.objects.get(reference=choice)


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def agent0():
    return User.objects.get(email="agent0@load.example")


def url(ticket):
    return f"/admin/helpdesk/tickets/{ticket.reference}/"


def wrap_sections(totals):
    """Time ``context``, ``extra_panels`` and the template render of each request."""

    def timed(name, func):
        def inner(*args, **kwargs):
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                totals[name] = totals.get(name, 0.0) + time.perf_counter() - started

        return inner

    workspace.context = timed("context", workspace.context)
    workspace.extra_panels = timed("extra_panels", workspace.extra_panels)
    workspace.render = timed("render", workspace.render)


def cmd_time(n=40):
    n = int(n)
    user = agent0()
    ticket = measured(user)
    client = client_for(user)
    for _ in range(5):
        assert client.get(url(ticket)).status_code == 200
    totals = {}
    wrap_sections(totals)
    walls, cpus = [], []
    statements = 0

    def counter(execute, *args):
        nonlocal statements
        statements += 1
        return execute(*args)

    with connection.execute_wrapper(counter):
        for _ in range(n):
            started, cpu = time.perf_counter(), time.process_time()
            client.get(url(ticket))
            walls.append((time.perf_counter() - started) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
    print(
        f"{ticket.reference}: median {statistics.median(walls):.1f} ms "
        f"(min {min(walls):.1f}), process CPU median {statistics.median(cpus):.1f} ms, "
        f"{statements / n:.1f} statements; "
        + ", ".join(f"{k} {v / n * 1000:.1f} ms" for k, v in totals.items())
        + f"; load {os.getloadavg()[0]:.1f}"
    )


def cmd_calls(n=5, top=0):
    """Python calls per request (cProfile's count: Python and builtin calls), and the
    calls made inside ``context``, ``extra_panels`` and the template render."""
    n = int(n)
    user = agent0()
    ticket = measured(user)
    client = client_for(user)
    for _ in range(3):
        client.get(url(ticket))
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        client.get(url(ticket))
    profiler.disable()
    stats = pstats.Stats(profiler)
    sections = {"context": 0, "extra_panels": 0, "render": 0}
    active = []

    def counted(name, func):
        def inner(*args, **kwargs):
            active.append(name)
            try:
                return func(*args, **kwargs)
            finally:
                active.pop()

        return inner

    def tracer(frame, event, arg):
        if active and event in ("call", "c_call"):
            sections[active[-1]] += 1

    for name in sections:
        setattr(workspace, name, counted(name, getattr(workspace, name)))
    sys.setprofile(tracer)
    for _ in range(n):
        client.get(url(ticket))
    sys.setprofile(None)
    print(
        f"{ticket.reference}: {stats.total_calls / n / 1000:.1f}k calls per request; "
        + ", ".join(f"{k} {v / n / 1000:.1f}k" for k, v in sections.items())
    )
    if int(top):
        stats.sort_stats("ncalls").print_stats(int(top))


def pages():
    """(name, user, ticket) pairs covering the page's variants."""
    user = agent0()
    found = [("agent0-busiest", user, busiest(user))]
    mine = Ticket.objects.filter(queue__agent_group__user=user)

    def first(name, qs):
        ticket = qs.order_by("pk").first()
        if ticket is not None:
            found.append((name, user, ticket))
        return ticket

    first("note", mine.filter(comments__is_internal=True).distinct())
    first("files", mine.filter(attachments__isnull=False).distinct())
    first("time", mine.filter(time_entries__isnull=False).distinct())
    merged = first("merged", mine.filter(merged_into__isnull=False))
    if merged is not None:
        found.append(("merge-target", user, merged.merged_into))
    first("emails", mine.filter(inbound_messages__isnull=False).distinct())
    first("tags", mine.filter(tags__isnull=False).distinct())
    first("organization", mine.filter(organization__isnull=False))
    first("no-organization", mine.filter(organization__isnull=True))
    first("short", mine.annotate(n=Count("comments")).filter(n=3))
    base = list(found)
    for other in extra_users([t for _, _, t in base]):
        found += [(f"{other.email.split('@')[0]}-{n}", other, t) for n, _, t in base]
    return found


def extra_users(tickets):
    """A supervisor, a viewer (does not act) and an agent of no queue who holds only
    ``view_ticket`` on the tickets (sees them, not their internal notes): created once
    in the harness's database."""
    from django.contrib.auth.models import Group
    from guardian.shortcuts import assign_perm
    from wagtail.users.models import UserProfile

    from accounts import roles

    made = []
    for email, role, language, zone in (
        ("h-supervisor@load.example", roles.SUPERVISORS, "ru", "Europe/Moscow"),
        ("h-viewer@load.example", roles.VIEWERS, "pl", "Europe/Warsaw"),
        ("h-agent-no-notes@load.example", roles.AGENTS, "", "America/New_York"),
    ):
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, is_staff=True)
        user.groups.add(Group.objects.get_or_create(name=role)[0])
        profile = UserProfile.get_for_user(user)
        profile.preferred_language, profile.current_time_zone = language, zone
        profile.save()
        made.append(user)
    for ticket in tickets:
        assign_perm("tickets.view_ticket", made[2], ticket)
    return made


def bound_pages():
    """(name, user, ticket, action, data): the workspace shown again with a bound form
    and its errors (an invalid status or tags POST changes nothing), as agent0 (en),
    the supervisor (ru) and a Polish supervisor, on agent0's first unfinished ticket
    with an organization and on the busiest."""
    from django.contrib.auth.models import Group
    from wagtail.users.models import UserProfile

    from accounts import roles
    from tickets.permissions import FINAL_STATUSES

    agent = agent0()
    supervisor, *_ = extra_users([])
    polish = User.objects.filter(email="h-supervisor-pl@load.example").first()
    if polish is None:
        polish = User.objects.create_user("h-supervisor-pl@load.example", is_staff=True)
    polish.groups.add(Group.objects.get_or_create(name=roles.SUPERVISORS)[0])
    profile = UserProfile.get_for_user(polish)
    profile.preferred_language, profile.current_time_zone = "pl", "Europe/Warsaw"
    profile.save()
    mine = Ticket.objects.filter(queue__agent_group__user=agent)
    open_ticket = (
        mine.exclude(status__in=FINAL_STATUSES)
        .filter(organization__isnull=False)
        .order_by("pk")
        .first()
    )
    posts = {
        "status-bogus": ("status", {"status": "bogus", "reason": "<b>\"&'x"}),
        "status-empty": ("status", {"status": ""}),
        "status-long": ("status", {"status": "rejected", "reason": 'r<&>"' * 1001}),
        "tags-long": ("tags", {"tags": '<a href="x">&amp;</a>, "q", ' * 50}),
        "tags-plain": ("tags", {"tags": "x" * 1201}),
    }
    found = []
    for who, user in (("agent0", agent), ("ru", supervisor), ("pl", polish)):
        for where, ticket in (("open", open_ticket), ("busiest", busiest(agent))):
            for name, (action, data) in posts.items():
                found.append(
                    (f"bound-{who}-{where}-{name}", user, ticket, action, data)
                )
    return found


def cmd_enrich(rounds=10):
    """Give agent0's busiest ticket a long conversation (the bench's busy ticket has
    23 comments and 30 events): replies and notes with files, logged time, tags,
    watchers, a merged duplicate, crm tasks and interactions."""
    from datetime import timedelta

    from django.utils import timezone

    from crm import services as crm_services
    from tickets import services
    from tickets.permissions import FINAL_STATUSES
    from tickets.tests.factories import png_bytes, upload

    agent = agent0()
    ticket = (
        Ticket.objects.filter(
            queue__agent_group__user=agent, organization__isnull=False
        )
        .exclude(status__in=FINAL_STATUSES)
        .annotate(n=Count("comments"))
        .order_by("-n", "pk")
        .first()
    )
    customer = ticket.requester
    for n in range(int(rounds)):
        services.reply(
            customer,
            ticket,
            body=f"Reply {n} <b>&</b>\n\nsecond line",
            attachments=[upload(f"r{n}.png", png_bytes())],
        )
        services.add_internal_note(
            agent,
            ticket,
            body=f"Note {n}",
            attachments=[upload(f"n{n}.png", png_bytes())],
        )
        services.reply(agent, ticket, body=f"Answer {n}")
        services.log_time(agent, ticket, minutes=5 + n, note=f"call {n}")
        services.set_tags(agent, ticket, ["vip", f"t{n}"])
    services.add_watcher(agent, ticket)
    duplicate = (
        Ticket.objects.filter(
            requester=customer,
            merged_into__isnull=True,
            queue__agent_group__user=agent,
        )
        .exclude(status__in=FINAL_STATUSES)
        .exclude(pk=ticket.pk)
        .order_by("pk")
        .first()
    )
    if duplicate is not None:
        services.merge(agent, duplicate, ticket)
    for n in range(4):
        crm_services.create_task(
            agent,
            title=f"Follow up {n}",
            assignee=agent,
            ticket=ticket,
            due_at=timezone.now() + timedelta(days=n - 1),
        )
        crm_services.log_interaction(
            agent, kind="call", subject=f"Call {n}", ticket=ticket
        )
    print(ticket.reference, ticket.comments.count(), ticket.events.count())


def cmd_html(directory):
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    clients = {}
    for name, user, ticket in pages():
        client = clients.get(user.pk) or clients.setdefault(user.pk, client_for(user))
        client.get(url(ticket))  # warm (the admin chrome kept)
        response = client.get(url(ticket))
        body = CSRF.sub(rb"\1CSRF", response.content)
        (out / f"{name}.html").write_bytes(
            f"{response.status_code} {ticket.reference}\n".encode() + body
        )
    for name, user, ticket, action, data in bound_pages():
        client = clients.get(user.pk) or clients.setdefault(user.pk, client_for(user))
        response = client.post(f"{url(ticket)}{action}/", data)
        body = CSRF.sub(rb"\1CSRF", response.content)
        (out / f"{name}.html").write_bytes(
            f"{response.status_code} {ticket.reference}\n".encode() + body
        )
    print(f"{len(list(out.iterdir()))} pages in {out}")


def cmd_diff(a, b):
    left, right = Path(a), Path(b)
    names = sorted(p.name for p in left.iterdir())
    assert names == sorted(p.name for p in right.iterdir()), "different page sets"
    bad = [n for n in names if (left / n).read_bytes() != (right / n).read_bytes()]
    for name in bad:
        print("DIFFERENT:", name)
    print(f"{len(names) - len(bad)}/{len(names)} identical")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {
        "time": cmd_time,
        "calls": cmd_calls,
        "html": cmd_html,
        "diff": cmd_diff,
        "enrich": cmd_enrich,
    }[command](*args)
