# ruff: noqa: E402 - Django is set up by the first import
"""What-if: replay the portal list and the agent inbox in-process with the FINDINGS
proposals T-1 (a)/(b), D-1 and a capped count applied by monkeypatching (no app code is
edited). Run with the server's environment, e.g. on bench_full:

    DJANGO_SETTINGS_MODULE=portal.settings.production SECRET_KEY=x ALLOWED_HOSTS=testserver \
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_full .venv/bin/python bench/whatif.py
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")
import django

django.setup()
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models import Q
from django.test import Client

from accounts.models import Organization, User
from bench import profile_requests as pr
from bench.generator.people import agent_email, customer_email
from bench.prepare import session_for
from tickets import permissions
from tickets.models import (
    Queue,
    Ticket,
    TicketGroupObjectPermission,
    TicketUserObjectPermission,
)

targets = {
    "customer_session": session_for(User.objects.get(email=customer_email(0))),
    "agent_session": session_for(User.objects.get(email=agent_email(0))),
}
scen = {
    "portal_ticket_list": {
        "name": "portal_ticket_list",
        "path": "/portal/tickets/",
        "headers": {"Cookie": f"sessionid={targets['customer_session']}"},
    },
    "agent_inbox": {
        "name": "agent_inbox",
        "path": "/admin/helpdesk/tickets/",
        "headers": {"Cookie": f"sessionid={targets['agent_session']}"},
    },
}


def measure(label, s, n=10):
    c = Client()
    pr.replay(c, s)
    sql = 0.0
    count = 0

    def w(execute, q, p, many, ctx):
        nonlocal sql, count
        t = time.perf_counter()
        try:
            return execute(q, p, many, ctx)
        finally:
            sql += time.perf_counter() - t
            count += 1

    t = time.perf_counter()
    with connection.execute_wrapper(w):
        for _ in range(n):
            status = pr.replay(c, s).status_code
    wall = (time.perf_counter() - t) / n * 1000
    print(
        f"{label:55s} {status} {wall:7.1f} ms  SQL {sql / n * 1000:6.1f} ms  {count / n:.0f} statements"
    )


original = permissions.visible_tickets
VIEW = Permission.objects.get(
    codename="view_ticket", content_type__app_label="tickets"
).pk


def visible_union(user, queryset=None):
    qs = Ticket.objects.all() if queryset is None else queryset
    if not permissions._active(user):
        return qs.none()
    if permissions.sees_all(user):
        return qs
    group_ids = list(user.groups.values_list("id", flat=True))
    by_user = TicketUserObjectPermission.objects.filter(
        user_id=user.pk, permission_id=VIEW
    ).values("content_object_id")
    by_group = TicketGroupObjectPermission.objects.filter(
        group_id__in=group_ids, permission_id=VIEW
    ).values("content_object_id")
    return qs.filter(pk__in=by_user.union(by_group))


def visible_queue_aware(user, queryset=None):
    qs = Ticket.objects.all() if queryset is None else queryset
    if not permissions._active(user):
        return qs.none()
    if permissions.sees_all(user):
        return qs
    group_ids = list(user.groups.values_list("id", flat=True))
    queue_groups = set(
        Queue.objects.filter(agent_group_id__in=group_ids).values_list(
            "agent_group_id", flat=True
        )
    )
    others = [g for g in group_ids if g not in queue_groups]
    by_user = TicketUserObjectPermission.objects.filter(
        user_id=user.pk, permission_id=VIEW
    ).values("content_object_id")
    by_group = TicketGroupObjectPermission.objects.filter(
        group_id__in=others, permission_id=VIEW
    ).values("content_object_id")
    return qs.filter(
        Q(queue__agent_group_id__in=queue_groups) | Q(pk__in=by_user.union(by_group))
    )


for name in ["portal_ticket_list", "agent_inbox"]:
    permissions.visible_tickets = original
    measure(f"{name}: as merged", scen[name])
    permissions.visible_tickets = visible_union
    measure(f"{name}: T-1 (a) union", scen[name])
    if name == "agent_inbox":
        permissions.visible_tickets = visible_queue_aware
        measure(f"{name}: T-1 (b) queue-aware", scen[name])
        from tickets.desk import forms as desk_forms

        desk_forms.FilterForm.base_fields[
            "organization"
        ].queryset = Organization.objects.none()
        measure(f"{name}: T-1 (b) + D-1 (no organization <select>)", scen[name])

from django.core import paginator as dj_paginator
from django.utils.functional import cached_property


def capped_count(self):
    ol = self.object_list
    return ol[:1001].count() if hasattr(ol, "query") else len(ol)


capped = cached_property(capped_count)
capped.__set_name__(dj_paginator.Paginator, "count")
dj_paginator.Paginator.count = capped
permissions.visible_tickets = visible_union
measure(
    "portal_ticket_list: T-1 (a) + count capped at 1,001", scen["portal_ticket_list"]
)
permissions.visible_tickets = visible_queue_aware
measure("agent_inbox: T-1 (b) + D-1 + count capped at 1,001", scen["agent_inbox"])
