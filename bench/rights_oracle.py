"""Equivalence oracle of ticket rights (bench FINDINGS V-3): what every permission reader
answers for a sample of users × tickets, written as JSON, to compare a checkout with
the queue group's grant rows (main, on a copy of ``bench_full`` taken before the
migration) with one stating them as a rule (the branch, its copy migrated)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_1_base REDIS_URL=redis://127.0.0.1:6379/5 \
        .venv/bin/python bench/rights_oracle.py run /tmp/base.json    # from main's checkout
    ... rights_oracle.py run /tmp/branch.json                          # from the branch's
    .venv/bin/python bench/rights_oracle.py diff /tmp/base.json /tmp/branch.json

Users: customers of organizations sharing read-write, read, nothing and of none, one
agent of each queue, a supervisor, a viewer, an agent made inactive, and a customer
made a member of the first queue's agent group (these two, and the supervisor and
viewer the load data lacks, in a transaction rolled back). Then, in the same transaction, a ticket moved to another queue and one
reassigned, through the services, and everything asked again. Answers: ``ticket_perms``,
``prefetch_permissions``, ``user.has_perm`` (each codename, on a few tickets),
``can(view_internal)``, the first page of ``visible_tickets`` and its count,
``count_visible`` (whole, narrowed), ``count_visible_up_to``, the visible comments (the
internal notes among them) of the sample tickets, ``notes_searchable``,
``ticket_audience`` and ``audience_allows``, ``customer_audience``.
"""

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def diff(a_path: str, b_path: str) -> None:
    a, b = json.loads(Path(a_path).read_text()), json.loads(Path(b_path).read_text())
    differences, compared = [], 0

    def walk(x, y, where):
        nonlocal compared
        if isinstance(x, dict) and isinstance(y, dict):
            for key in sorted(set(x) | set(y)):
                walk(x.get(key), y.get(key), f"{where}/{key}")
        else:
            compared += 1
            if x != y:
                differences.append(where)

    walk(a, b, "")
    print(json.dumps({"compared": compared, "differences": len(differences)}))
    for where in differences[:40]:
        print(where)


if __name__ == "__main__" and sys.argv[1:2] == ["diff"]:  # no Django needed
    diff(*sys.argv[2:])
    raise SystemExit

from bench.run import in_process_environment  # noqa: E402

in_process_environment()

import django  # noqa: E402

django.setup()

# isort: split

from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from accounts import roles  # noqa: E402
from accounts.models import Organization, User  # noqa: E402
from bench import prepare  # noqa: E402
from tickets import permissions, services  # noqa: E402
from tickets.models import Comment, Queue, Ticket  # noqa: E402

CODENAMES = (*permissions.AGENT_PERMS, "rate_ticket")


def sample_users() -> dict[str, User]:
    users = {}
    for sharing in ("read_write", "read", "none"):
        org = Organization.objects.filter(ticket_sharing=sharing).order_by("pk").first()
        if org is not None and org.group_id:
            member = User.objects.filter(groups=org.group_id).order_by("pk").first()
            if member is not None:
                users[f"customer_{sharing}"] = member
    users["customer_alone"] = (
        User.objects.filter(groups__name=roles.CUSTOMERS)
        .exclude(groups__in=Organization.objects.values("group_id"))
        .order_by("pk")
        .first()
    )
    for queue in Queue.objects.order_by("pk"):
        agent = (
            User.objects.filter(groups=queue.agent_group_id, is_active=True)
            .order_by("pk")
            .first()
        )
        if agent is not None:
            users[f"agent_{queue.slug}"] = agent
    # the load data has neither: made here, in the transaction rolled back
    users["supervisor"] = prepare.supervisor()
    viewer = User.objects.create_user("viewer@load.example", is_staff=True)
    viewer.groups.add(Group.objects.get_or_create(name=roles.VIEWERS)[0])
    users["viewer"] = viewer
    return {name: user for name, user in users.items() if user is not None}


def sample_ticket_ids(users) -> list[int]:
    ids = list(
        Ticket.objects.order_by("pk").values_list("pk", flat=True)[::997]  # ~250
    )
    for user in users.values():  # some each user may see, some they may not
        ids += list(
            Ticket.objects.filter(requester=user)
            .order_by("pk")
            .values_list("pk", flat=True)[:5]
        )
        ids += list(
            Ticket.objects.filter(assignee=user)
            .order_by("pk")
            .values_list("pk", flat=True)[:5]
        )
    return sorted(set(ids))


def fresh(user) -> User:
    return User.objects.get(pk=user.pk)  # no cached roles or permissions


def answers(users, ticket_ids) -> dict:
    out = {}
    tickets = {t.pk: t for t in Ticket.objects.filter(pk__in=ticket_ids)}
    audiences = {tid: permissions.ticket_audience(tid) for tid in ticket_ids}
    out["audiences"] = {
        tid: audience.as_message() for tid, audience in audiences.items() if audience
    }
    out["customer_audience"] = {
        tid: sorted(permissions.customer_audience(tickets[tid]))
        for tid in ticket_ids[:60]
    }
    for name, user in sorted(users.items()):
        user = fresh(user)
        got = out[name] = {}
        perms, internal = {}, {}
        for tid in ticket_ids:
            ticket = Ticket.objects.get(pk=tid)
            perms[tid] = sorted(permissions.ticket_perms(user, ticket))
            internal[tid] = permissions.can(user, "view_internal", ticket)
        got["ticket_perms"] = perms
        got["view_internal"] = internal
        page = permissions.prefetch_permissions(
            user, Ticket.objects.filter(pk__in=ticket_ids).order_by("pk")
        )
        got["prefetched"] = (
            {
                t.pk: sorted(t.__dict__.get("_perm_cache", {}).get(user.pk, ()))
                for t in page
            }
            if not permissions.sees_all(user)
            else {}
        )
        got["has_perm"] = {
            tid: [c for c in CODENAMES if user.has_perm(f"tickets.{c}", tickets[tid])]
            for tid in ticket_ids[:25]
        }
        visible = permissions.visible_tickets(user)
        got["first_page"] = list(
            visible.order_by("-updated_at", "-pk").values_list("pk", flat=True)[:50]
        )
        got["visible_ids_digest"] = hashlib.sha256(
            json.dumps(sorted(visible.values_list("pk", flat=True))).encode()
        ).hexdigest()
        got["count_visible"] = permissions.count_visible(user)
        got["count_visible_open"] = permissions.count_visible(
            user, Ticket.objects.filter(status="open")
        )
        got["count_up_to"] = permissions.count_visible_up_to(user, None, 1000)
        got["count_up_to_open"] = permissions.count_visible_up_to(
            user, Ticket.objects.filter(status="new"), 200
        )
        comments = Comment.objects.filter(ticket_id__in=ticket_ids).filter(
            permissions.comments_visible_to(user)
        )
        got["comments"] = sorted(comments.values_list("pk", flat=True))
        got["internal_notes"] = sorted(
            comments.filter(is_internal=True).values_list("pk", flat=True)
        )
        searchable = permissions.notes_searchable(user)
        got["notes_searchable"] = (
            searchable
            if isinstance(searchable, bool)
            else sorted(
                Ticket.objects.filter(pk__in=ticket_ids)
                .filter(searchable)
                .values_list("pk", flat=True)
            )
        )
        viewer = permissions.viewer_facts(user)
        got["audience_allows"] = {
            tid: list(permissions.audience_allows(viewer, audience))
            for tid, audience in audiences.items()
            if audience
        }
    return out


def run(path: str) -> None:
    result = {}
    with transaction.atomic():
        users = sample_users()
        ticket_ids = sample_ticket_ids(users)
        first_queue = Queue.objects.order_by("pk").first()
        inactive = (
            User.objects.filter(groups=first_queue.agent_group_id, is_active=True)
            .order_by("-pk")
            .first()
        )
        User.objects.filter(pk=inactive.pk).update(is_active=False)
        users["inactive_agent"] = inactive
        insider = (  # a customer in an agent group
            User.objects.filter(groups__name=roles.CUSTOMERS)
            .exclude(pk__in=[user.pk for user in users.values()])
            .order_by("pk")
            .first()
        )
        insider.groups.add(first_queue.agent_group_id)
        users["customer_in_agent_group"] = insider
        result["users"] = {name: user.email for name, user in sorted(users.items())}
        result["tickets"] = len(ticket_ids)
        result["before"] = answers(users, ticket_ids)
        # changes through the services: a queue move, a reassignment
        supervisor = fresh(users["supervisor"])
        queues = list(Queue.objects.order_by("pk"))
        moved = Ticket.objects.get(pk=ticket_ids[3])
        target = next(q for q in queues if q.pk != moved.queue_id)
        services.move_queue(supervisor, moved, target)
        reassigned = Ticket.objects.get(pk=ticket_ids[7])
        agent = users[f"agent_{target.slug}"]
        if reassigned.status not in permissions.FINAL_STATUSES:
            services.assign(supervisor, reassigned, fresh(agent))
        result["after"] = answers(users, ticket_ids)
        transaction.set_rollback(True)
    Path(path).write_text(json.dumps(result, sort_keys=True))
    print(json.dumps({"users": len(result["users"]), "tickets": result["tickets"]}))


if __name__ == "__main__":
    if sys.argv[1:2] != ["run"]:
        raise SystemExit(__doc__)
    run(*sys.argv[2:])
    connection.close()
