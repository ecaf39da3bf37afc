"""The peer's data set and credentials, run INSIDE django-helpdesk's own virtual
environment (``bench/.peer/venv``) by bench/peer.py, with the generated project
(bench/peer_project.py) on ``PYTHONPATH``:

Over 400 lines on purpose: the peer's data set in one script run inside its own venv.

    python bench/peer_site.py generate --tickets 25000 ...   # once per database
    python bench/peer_site.py prepare                        # every run: one JSON line

``generate`` writes, in one transaction and in bulk (``bulk_create``), the same shape
as ``manage.py generate_load_data`` (portal/loaddata/): the same users
(``agentN@load.example``, ``customerN@load.example``, password ``load-password-123``),
queues ``load-queue-N`` (agent ``n`` works queue ``n % queues``, granted through the
peer's per-queue permission), ticket statuses, priorities, ages, the 2 % / 20 % shares
of the big organization and the big queue, and the same comment story (none on new
tickets, else 1 + an exponential number, 15 % internal, 8 % with a file's metadata).
The knowledge base uses our 12 topics and text generator (portal/loaddata/text.py,
loaded by path: the rest of our code needs our own environment).

The peer has no organizations: a customer sees the tickets they submitted. Our
``customer0`` sees the big organization's tickets (2 %), so here ``customer0`` is the
submitter of those 2 %: both lists hold the same number of tickets.
"""

import argparse
import importlib.util
import json
import random
import sys
from datetime import timedelta
from importlib import import_module
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "load.example"
PASSWORD = "load-password-123"  # noqa: S105 (a generated load-test user's, as ours)
FILED_DESCRIPTION = "Created by the benchmark harness."  # as bench/prepare.py

# As portal/loaddata/tickets.py (ours): status → (peer status, on hold).
STATUS_WEIGHTS = {
    "new": 6,
    "open": 10,
    "in_progress": 9,
    "waiting_on_customer": 6,
    "on_hold": 2,
    "resolved": 12,
    "closed": 49,
    "rejected": 3,
    "withdrawn": 3,
}
OPEN = {"new", "open", "in_progress", "waiting_on_customer", "on_hold"}
PEER_STATUS = {"resolved": 3, "closed": 4, "rejected": 4, "withdrawn": 4}  # else 1
PRIORITY_WEIGHTS = {4: 30, 3: 45, 2: 20, 1: 5}  # low, medium, high, critical
BIG_ORG_SHARE = 0.02
BIG_QUEUE_SHARE = 0.20
FILES = [
    ("screenshot.png", "image/png"),
    ("error-log.txt", "text/plain"),
    ("invoice.pdf", "application/pdf"),
    ("export.csv", "text/csv"),
]
BATCH = 5000


def load_text():
    """portal/loaddata/text.py by path (its package imports our Django models)."""
    spec = importlib.util.spec_from_file_location(
        "bench_loaddata_text", ROOT / "portal" / "loaddata" / "text.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), list(weights.values()))[0]


def story(rng: random.Random, status, created, requester, staff, now):
    """Ours: portal/loaddata/tickets.py ``_story`` (author, internal, at, has file)."""
    if status == "new":
        return []
    count = 1 + min(int(rng.expovariate(1 / 2.5)), 30)
    limit = now if status in OPEN else created + timedelta(days=20)
    comments, at = [], created
    for i in range(count):
        at = at + timedelta(minutes=rng.randint(10, 2880))
        if at > limit:
            break
        internal = rng.random() < 0.15
        author = staff if internal or i % 2 == 0 else requester
        comments.append((author, internal, at, rng.random() < 0.08))
    return comments


def generate(args) -> None:
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Permission, User
    from django.db import connection, transaction
    from django.utils import timezone
    from django.utils.text import slugify
    from helpdesk.models import (
        FollowUp,
        FollowUpAttachment,
        KBCategory,
        KBItem,
        Queue,
        Ticket,
        UserSettings,
    )

    if Ticket.objects.exists():
        print("already generated")
        return
    text = load_text()
    rng = random.Random(args.seed)
    now = timezone.now()
    # bulk_create calls pre_save: without this, auto_now(_add) would date every
    # ticket today.
    for name in ("created", "modified"):
        field = Ticket._meta.get_field(name)
        field.auto_now = field.auto_now_add = False

    with transaction.atomic():
        password = make_password(PASSWORD)
        users = [
            User(
                username=f"agent{n}@{DOMAIN}",
                email=f"agent{n}@{DOMAIN}",
                first_name="Agent",
                last_name=str(n),
                is_staff=True,
                password=password,
            )
            for n in range(args.agents)
        ] + [
            User(
                username=f"customer{n}@{DOMAIN}",
                email=f"customer{n}@{DOMAIN}",
                first_name="Customer",
                last_name=str(n),
                password=password,
            )
            for n in range(args.customers)
        ]
        User.objects.bulk_create(users, batch_size=BATCH)
        ids = dict(User.objects.values_list("username", "id"))
        agents = [ids[f"agent{n}@{DOMAIN}"] for n in range(args.agents)]
        customers = [ids[f"customer{n}@{DOMAIN}"] for n in range(args.customers)]
        email_of = {v: k for k, v in ids.items()}
        UserSettings.objects.bulk_create(
            [UserSettings(user_id=pk) for pk in ids.values()], batch_size=BATCH
        )

        queues = []
        for n in range(args.queues):
            queue = Queue(
                title=f"Load queue {n}",
                slug=f"load-queue-{n}",
                email_address=f"queue{n}@peer.example",
                # HELPDESK_PUBLIC_TICKET_QUEUE: the customers' form files here
                allow_public_submission=n == 1,
            )
            queue.save()  # creates the queue's permission
            queues.append(queue)
        agents_by_queue = [[] for _ in queues]
        grants = []
        for n, agent in enumerate(agents):
            queue = queues[n % len(queues)]
            agents_by_queue[n % len(queues)].append(agent)
            permission = Permission.objects.get(
                codename=queue.permission_name.split(".", 1)[1]
            )
            grants.append(
                User.user_permissions.through(
                    user_id=agent, permission_id=permission.pk
                )
            )
        User.user_permissions.through.objects.bulk_create(grants)

        categories = []
        topics = text.TOPICS[: max(1, min(len(text.TOPICS), args.articles // 20 or 1))]
        for name, keywords in topics:
            category = KBCategory.objects.create(
                name=name,
                title=name,
                slug=f"load-{slugify(name)}",
                description=name,
                public=True,
            )
            categories.append((category, keywords))
        items = []
        for n in range(args.articles):
            category, keywords = categories[n % len(categories)]
            sections = []
            for section in range(rng.randint(2, 4)):
                sections.append(
                    f"## Step {section + 1}: {text.title(rng, keywords)}\n\n"
                    + "\n\n".join(
                        " ".join(
                            text.sentence(rng, keywords)
                            for _ in range(rng.randint(2, 5))
                        )
                        for _ in range(rng.randint(1, 3))
                    )
                )
            items.append(
                KBItem(
                    category=category,
                    title=text.title(rng, keywords),
                    question=text.sentence(rng, keywords, 10),
                    answer="\n\n".join(sections),
                    order=n,
                    enabled=True,
                    last_updated=now - timedelta(days=rng.randint(0, 700)),
                )
            )
        KBItem.objects.bulk_create(items, batch_size=BATCH)

        big_requester = customers[0]
        others = customers[1:] or customers
        span = timedelta(days=730)
        tickets, stories = [], []
        for _ in range(args.tickets):
            status = pick(rng, STATUS_WEIGHTS)
            if status in OPEN:
                created = now - timedelta(days=rng.random() * 30)
            else:
                created = now - span * rng.random() - timedelta(days=30)
            requester = (
                big_requester if rng.random() < BIG_ORG_SHARE else rng.choice(others)
            )
            if len(queues) == 1 or rng.random() < BIG_QUEUE_SHARE:
                q = 0
            else:
                q = 1 + rng.randrange(len(queues) - 1)
            assignee = (
                None
                if status == "new" or rng.random() < 0.1
                else rng.choice(agents_by_queue[q])
            )
            keywords = text.TOPICS[rng.randrange(len(text.TOPICS))][1]
            comments = story(
                rng,
                status,
                created,
                requester,
                assignee or rng.choice(agents_by_queue[q]),
                now,
            )
            tickets.append(
                Ticket(
                    title=text.title(rng, keywords),
                    queue=queues[q],
                    created=created,
                    modified=max([created, *(c[2] for c in comments)]),
                    submitter_email=email_of[requester],
                    assigned_to_id=assignee,
                    status=PEER_STATUS.get(status, 1),
                    on_hold=status == "on_hold",
                    description=" ".join(
                        text.sentence(rng, keywords) for _ in range(rng.randint(2, 5))
                    ),
                    priority=pick(rng, PRIORITY_WEIGHTS),
                )
            )
            stories.append((keywords, comments))
        Ticket.objects.bulk_create(tickets, batch_size=BATCH)

        followups, has_file = [], []
        for ticket, (keywords, comments) in zip(tickets, stories, strict=True):
            for author, internal, at, with_file in comments:
                followups.append(
                    FollowUp(
                        ticket_id=ticket.pk,
                        date=at,
                        title="Comment",
                        comment=" ".join(
                            text.sentence(rng, keywords)
                            for _ in range(rng.randint(1, 4))
                        ),
                        public=not internal,
                        user_id=author,
                    )
                )
                has_file.append(with_file)
        FollowUp.objects.bulk_create(followups, batch_size=BATCH)
        attachments = []
        for followup, with_file in zip(followups, has_file, strict=True):
            if with_file:
                name, mime = FILES[rng.randrange(len(FILES))]
                attachments.append(
                    FollowUpAttachment(
                        followup_id=followup.pk,
                        file=f"helpdesk/attachments/load/{followup.pk}/{name}",
                        filename=name,
                        mime_type=mime,
                        size=rng.randint(2_000, 2_000_000),
                    )
                )
        FollowUpAttachment.objects.bulk_create(attachments, batch_size=BATCH)

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    print(
        json.dumps(
            {
                "users": len(users),
                "tickets": len(tickets),
                "followups": len(followups),
                "attachments": len(attachments),
                "kb_items": len(items),
            }
        )
    )


def session_for(user) -> str:
    """As bench/prepare.py: a session written to the store as a login would."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.set_expiry(24 * 3600)
    session.save()
    return session.session_key


def prepare(args) -> None:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.db.models import Count
    from helpdesk.models import FollowUp, KBItem, Ticket
    from helpdesk.query import query_to_base64

    removed, per_model = Ticket.objects.filter(description=FILED_DESCRIPTION).delete()
    if removed:
        # every table the delete touched, as for ours (bench/prepare.py)
        from django.apps import apps

        tables = {apps.get_model(label)._meta.db_table for label in per_model}
        tables |= {"helpdesk_ticket", "helpdesk_followup"}
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) " + ", ".join(sorted(tables)))  # noqa: S608
    customer = User.objects.get(username=f"customer0@{DOMAIN}")
    agent = User.objects.get(username=f"agent0@{DOMAIN}")
    filer = User.objects.filter(username__startswith="customer").order_by("-pk").first()
    item = KBItem.objects.select_related("category").order_by("pk").first()
    ticket = (
        Ticket.objects.filter(queue__slug="load-queue-0")
        .annotate(n=Count("followup"))
        .filter(n=3)
        .order_by("pk")
        .first()
    )
    # The inbox's own default query (helpdesk.views.staff.ticket_list): open and
    # reopened tickets by creation date; its rows come from this JSON endpoint.
    inbox_query = query_to_base64(
        {
            "filtering": {"status__in": [1, 2]},
            "sorting": "created",
            "search_string": "",
            "sortreverse": False,
        }
    )
    print(
        json.dumps(
            {
                "removed_earlier_rows": removed,
                "customer_session": session_for(customer),
                "customer_email": customer.email,
                "customer_tickets": Ticket.objects.filter(
                    submitter_email=customer.email
                ).count(),
                "agent_session": session_for(agent),
                "filer_session": session_for(filer),
                "filer_email": filer.email,
                "kb_path": item.get_absolute_url(),
                "kb_title": item.title,
                "ticket_path": f"/tickets/{ticket.pk}/",
                "ticket_title": ticket.title,
                "inbox_data_path": f"/datatables_ticket_list/{inbox_query}"
                "?draw=1&start=0&length=25",
                "counts": {
                    "users": User.objects.count(),
                    "tickets": Ticket.objects.count(),
                    "followups": FollowUp.objects.count(),
                    "kb_items": KBItem.objects.count(),
                },
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate")
    for name in ("articles", "tickets", "customers", "agents", "queues"):
        gen.add_argument(f"--{name}", type=int, required=True)
    gen.add_argument("--organizations", type=int, default=0, help="ignored (none)")
    gen.add_argument("--seed", type=int, default=1)
    sub.add_parser("prepare")
    args = parser.parse_args()

    import django

    django.setup()
    {"generate": generate, "prepare": prepare}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
