"""Queues, tickets, comments, attachments (metadata only), events and object permissions.

Every table is written in one streaming pass (COPY on PostgreSQL). A ticket's story
(its comments, who wrote them, which have files) comes from a random generator seeded by
the ticket's id, so that each pass re-derives the same story without holding millions
of rows in memory.

Object permissions are the rows ``tickets.grants`` would compute for each ticket: the
requester gets ``REQUESTER_PERMS``, the assignee ``AGENT_PERMS``, the organization's
group ``SHARING_PERMS[sharing]`` (the queue's agent group holds ``AGENT_PERMS`` by a
rule, ``tickets.permissions.queue_group_grants``: no rows). The constants
are imported from ``tickets.grants`` so that the two cannot drift apart;
``portal/tests/test_generate_load_data.py`` checks every generated ticket against
``grants.desired_user_grants`` / ``desired_group_grants``.

Over 400 lines on purpose: one streaming pass writes every ticket table, and
create_tickets holds that pass.
"""

import hashlib
import random
import re
from array import array
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.db.models import Max
from django.utils import timezone

from .people import People, add_user_groups
from .text import TOPICS, sentence

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
PRIORITY_WEIGHTS = {"low": 30, "medium": 45, "high": 20, "critical": 5}
CATEGORY_WEIGHTS = {"technical": 50, "account": 20, "billing": 20, "other": 10}
SOURCE_WEIGHTS = {"portal": 60, "email": 30, "api": 10}
OPEN = {"new", "open", "in_progress", "waiting_on_customer", "on_hold"}
PAUSED = {"waiting_on_customer", "on_hold"}
BIG_ORG_SHARE = 0.02  # 5k of 250k tickets
BIG_QUEUE_SHARE = 0.20  # 50k of 250k tickets
FILES = [
    ("screenshot.png", "image/png"),
    ("error-log.txt", "text/plain"),
    ("invoice.pdf", "application/pdf"),
    ("export.csv", "text/csv"),
]


def tickets_available() -> bool:
    try:
        apps.get_model("tickets", "Ticket")
        from tickets import grants  # noqa: F401
    except (LookupError, ImportError):
        return False
    return True


@dataclass
class Tickets:
    count: int
    queue_ids: list[int]
    queue_group_ids: list[int]
    queue_agents: list[list[int]]
    first_id: int
    comments: int = 0
    events: int = 0
    attachments: int = 0
    user_grants: int = 0
    group_grants: int = 0


@dataclass(frozen=True)
class Comment:
    author: int
    internal: bool
    at: object
    attachment: bool


def _pick(rng, weights: dict) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def create_queues(writer, people: People, count: int) -> tuple[list, list, list]:
    """Queues with their own agent groups; agent ``n`` works queue ``n % count`` (so
    ``agent0`` works the big queue ``load-queue-0``)."""
    from tickets.models import Queue, SLAPolicy

    policy = SLAPolicy.objects.filter(is_default=True).first()
    has_default = Queue.objects.filter(is_default=True).exists()
    queues, agents_by_queue = [], [[] for _ in range(count)]
    for n in range(count):
        group = Group.objects.create(name=f"Load queue {n} agents")
        queues.append(
            Queue.objects.create(
                name=f"Load queue {n}",
                slug=f"load-queue-{n}",
                agent_group=group,
                sla_policy=policy,
                is_default=not has_default and n == 0,
            )
        )
    for n, agent in enumerate(people.agents):
        agents_by_queue[n % count].append(agent)
    add_user_groups(
        writer,
        [
            (agent, queues[q].agent_group_id)
            for q, agents in enumerate(agents_by_queue)
            for agent in agents
        ],
    )
    return queues, agents_by_queue


def create_tickets(
    writer, rng: random.Random, people: People, sizes, *, bar
) -> Tickets:
    from tickets import grants, references
    from tickets.models import (
        Attachment,
        Ticket,
        TicketEvent,
        TicketGroupObjectPermission,
        TicketSequence,
        TicketUserObjectPermission,
    )
    from tickets.models import (
        Comment as CommentModel,
    )
    from tickets.sla import due_times

    total = sizes.tickets
    queues, agents_by_queue = create_queues(writer, people, max(1, sizes.queues))
    if any(not agents for agents in agents_by_queue):
        raise ValueError(
            "Every queue needs an agent: use at least as many agents as queues."
        )
    perm_ids = grants.permission_ids()
    now = timezone.now()
    prefix = settings.TICKETS_REFERENCE_PREFIX
    first_number = _last_reference_number(Ticket, TicketSequence) + 1
    ids = writer.reserve_ids(Ticket, total)

    # --- plan: the columns every later pass needs, in compact arrays ----------------
    big_org = people.big_org
    big_requesters = list(big_org.members) or people.customers[:1]
    in_big_org = set(big_org.members)
    other_requesters = [
        u for u in people.customers if u not in in_big_org
    ] or big_requesters
    org_index = {org.id: i for i, org in enumerate(people.organizations)}
    due_offsets = {}
    for q_index, queue in enumerate(queues):
        for priority in PRIORITY_WEIGHTS:
            first_due, resolution_due = due_times(queue, priority, now)
            due_offsets[q_index, priority] = (first_due - now, resolution_due - now)
    offsets = sorted(rng.random() for _ in range(total))
    span = timedelta(days=730)

    requester_of = array("q")
    org_of = array("q")
    assignee_of = array("q")
    queue_of = array("b")
    status_of = []
    priority_of = []
    created_of = []
    comments_of = array("h")
    for n in range(total):
        status = _pick(rng, STATUS_WEIGHTS)
        # open work is recent, old tickets are done
        if status in OPEN:
            created = now - timedelta(days=rng.random() * 30)
        else:
            created = now - span + span * offsets[n] - timedelta(days=30)
        if rng.random() < BIG_ORG_SHARE:
            requester = rng.choice(big_requesters)
            org = big_org
        else:
            requester = rng.choice(other_requesters)
            org = rng.choice(people.customer_orgs[requester])
        if len(queues) == 1 or rng.random() < BIG_QUEUE_SHARE:
            queue_index = 0
        else:
            queue_index = 1 + rng.randrange(len(queues) - 1)
        if status == "new" or rng.random() < 0.1:
            assignee = 0
        else:
            assignee = rng.choice(agents_by_queue[queue_index])
        requester_of.append(requester)
        org_of.append(org_index[org.id])
        assignee_of.append(assignee)
        queue_of.append(queue_index)
        status_of.append(status)
        priority_of.append(_pick(rng, PRIORITY_WEIGHTS))
        created_of.append(created)
        comments_of.append(
            len(
                _story(
                    sizes.seed,
                    ids[n],
                    status,
                    created,
                    requester,
                    assignee,
                    agents_by_queue[queue_index],
                    now,
                )  # fmt: skip
            )
        )
    del offsets

    def story(n):
        return _story(
            sizes.seed,
            ids[n],
            status_of[n],
            created_of[n],
            requester_of[n],
            assignee_of[n],
            agents_by_queue[queue_of[n]],
            now,
        )

    # --- tickets -----------------------------------------------------------------------
    ticket_fields = [
        "id", "reference", "subject", "description", "status", "priority", "category",
        "source", "requester_id", "organization_id", "assignee_id", "queue_id",
        "first_response_due_at", "resolution_due_at", "first_responded_at",
        "resolved_at", "closed_at", "paused_at", "paused_seconds", "sla_breached_at",
        "satisfaction_rating", "satisfaction_comment", "rejection_reason",
        "merged_into_id", "created_at", "updated_at",
    ]  # fmt: skip

    def ticket_rows():
        for n, ticket_id in enumerate(ids):
            t_rng = random.Random(ticket_id * 7919 + sizes.seed)
            status, created, priority = status_of[n], created_of[n], priority_of[n]
            topic, keywords = TOPICS[t_rng.randrange(len(TOPICS))]
            first_off, resolution_off = due_offsets[queue_of[n], priority]
            comments = story(n)
            staff_reply = next(
                (
                    c.at
                    for c in comments
                    if c.author != requester_of[n] and not c.internal
                ),
                None,
            )
            updated = max([created, *(c.at for c in comments)])
            resolved = closed = paused = None
            if status in ("resolved", "closed"):
                resolved = updated + timedelta(minutes=5)
            if status in ("closed", "rejected", "withdrawn"):
                closed = (resolved or updated) + timedelta(days=t_rng.randint(0, 7))
            if status in PAUSED:
                paused = updated
            rating = (
                t_rng.randint(1, 5)
                if status == "closed" and t_rng.random() < 0.3
                else None
            )
            yield (
                ticket_id, f"{prefix}-{first_number + n:06d}",
                f"{topic}: {sentence(t_rng, keywords, 5)}"[:200],
                " ".join(sentence(t_rng, keywords) for _ in range(t_rng.randint(1, 4))),
                status, priority, _pick(t_rng, CATEGORY_WEIGHTS), _pick(t_rng, SOURCE_WEIGHTS),
                requester_of[n], people.organizations[org_of[n]].id, assignee_of[n] or None,
                queues[queue_of[n]].pk, created + first_off, created + resolution_off,
                staff_reply, resolved, closed, paused, 0, None, rating, "",
                "Duplicate of another request." if status == "rejected" else "",
                None, created, max(updated, closed or updated),
            )  # fmt: skip

    with bar("tickets", total) as b:
        writer.insert(Ticket, ticket_fields, ticket_rows(), progress=b)
    TicketSequence.objects.update_or_create(
        pk=1, defaults={"last_value": first_number + total - 1}
    )
    references.sync_counter()  # the PostgreSQL sequence, past the references made here

    # --- comments ----------------------------------------------------------------------
    comment_count = sum(comments_of)
    comment_ids = writer.reserve_ids(CommentModel, comment_count)
    comment_start = array("q")
    running = comment_ids.start
    for count in comments_of:
        comment_start.append(running)
        running += count

    def comment_rows():
        for n, ticket_id in enumerate(ids):
            c_rng = random.Random(ticket_id * 31 + sizes.seed)
            keywords = TOPICS[c_rng.randrange(len(TOPICS))][1]
            for i, c in enumerate(story(n)):
                yield (
                    comment_start[n] + i, ticket_id, c.author,
                    " ".join(sentence(c_rng, keywords) for _ in range(c_rng.randint(1, 3))),
                    c.internal, c.at,
                )  # fmt: skip

    with bar("comments", comment_count) as b, _search_refreshed_after(writer, ids):
        writer.insert(
            CommentModel,
            ["id", "ticket_id", "author_id", "body", "is_internal", "created_at"],
            comment_rows(),
            progress=b,
        )

    # --- attachments (metadata; the bytes are not stored) ------------------------------
    # (ticket index, comment index) of every comment with a file: about 8 % of comments.
    attachment_plan = [
        (n, i) for n in range(total) for i, c in enumerate(story(n)) if c.attachment
    ]
    attachment_count = len(attachment_plan)
    attachment_ids = writer.reserve_ids(Attachment, attachment_count)

    def attachment_rows():
        for pk, (n, i) in zip(attachment_ids, attachment_plan, strict=True):
            c = story(n)[i]
            name, content_type = FILES[pk % len(FILES)]
            digest = hashlib.sha256(str(pk).encode()).hexdigest()
            yield (
                pk, ids[n], comment_start[n] + i,
                f"tickets/{prefix}-{first_number + n:06d}/{digest[:32]}/{name}",
                name, content_type, 2048 + pk % 500_000, digest, c.author, c.at,
            )  # fmt: skip

    with bar("attachments", attachment_count) as b:
        writer.insert(
            Attachment,
            ["id", "ticket_id", "comment_id", "file", "original_name", "content_type",
             "size", "sha256", "uploaded_by_id", "created_at"],
            attachment_rows(),
            progress=b,
        )  # fmt: skip

    # --- events: created, assigned, each comment/note/file, status changes -------------
    def event_rows():
        attachment_pk = iter(attachment_ids)
        for n, ticket_id in enumerate(ids):
            requester, assignee, created = (
                requester_of[n],
                assignee_of[n],
                created_of[n],
            )
            status = status_of[n]
            yield (
                ticket_id,
                requester,
                "created",
                "",
                "new",
                {"source": "portal", "on_behalf": False},
                created,
            )
            if assignee:
                yield (
                    ticket_id,
                    assignee,
                    "assigned",
                    "",
                    str(assignee),
                    {},
                    created + timedelta(minutes=3),
                )
            if status != "new":
                yield (
                    ticket_id,
                    assignee or None,
                    "status_changed",
                    "new",
                    "open" if status != "open" else status,
                    {},
                    created + timedelta(minutes=4),
                )
            last = created
            for i, c in enumerate(story(n)):
                kind = "note_added" if c.internal else "commented"
                yield (
                    ticket_id,
                    c.author,
                    kind,
                    "",
                    "",
                    {
                        "comment_id": comment_start[n] + i,
                        "by_staff": c.author != requester,
                    },
                    c.at,
                )
                if c.attachment:
                    yield (
                        ticket_id,
                        c.author,
                        "attachment_added",
                        "",
                        "file",
                        {
                            "attachment_id": next(attachment_pk),
                            "comment_id": comment_start[n] + i,
                            "internal": c.internal,
                        },
                        c.at,
                    )
                last = c.at
            if status not in ("new", "open"):
                yield (
                    ticket_id,
                    assignee or requester,
                    "status_changed",
                    "open",
                    status,
                    {},
                    last + timedelta(minutes=5),
                )

    event_ids = iter(range(writer.reserve_ids(TicketEvent, 0).start, 1 << 62))

    def numbered_events():
        for row in event_rows():
            yield (next(event_ids), *row)

    with bar("events", None) as b:
        event_count = writer.insert(
            TicketEvent,
            ["id", "ticket_id", "actor_id", "kind", "old_value", "new_value", "data", "created_at"],
            numbered_events(),
            progress=b,
        )  # fmt: skip
    writer.reserve_ids(TicketEvent, event_count)

    # --- object permissions, as tickets.grants computes them --------------------------
    requester_perms = [perm_ids[c] for c in grants.REQUESTER_PERMS]
    agent_perms = [perm_ids[c] for c in grants.AGENT_PERMS]
    sharing_perms = {
        str(key): [perm_ids[c] for c in codenames]
        for key, codenames in grants.SHARING_PERMS.items()
    }

    def user_grant_rows():
        for n, ticket_id in enumerate(ids):
            wanted = {(requester_of[n], p) for p in requester_perms}
            if assignee_of[n]:
                wanted |= {(assignee_of[n], p) for p in agent_perms}
            for user_id, perm in sorted(wanted):
                yield (user_id, perm, ticket_id)

    def group_grant_rows():
        for n, ticket_id in enumerate(ids):
            org = people.organizations[org_of[n]]
            wanted = {(org.group_id, p) for p in sharing_perms[org.sharing]}
            for group_id, perm in sorted(wanted):
                yield (group_id, perm, ticket_id)

    result = Tickets(
        count=total,
        queue_ids=[q.pk for q in queues],
        queue_group_ids=[q.agent_group_id for q in queues],
        queue_agents=agents_by_queue,
        first_id=ids.start,
        comments=comment_count,
        events=event_count,
        attachments=attachment_count,
    )
    result.user_grants = _insert_numbered(
        writer,
        TicketUserObjectPermission,
        ["user_id", "permission_id", "content_object_id"],
        user_grant_rows(),
        bar("user grants", None),
    )
    result.group_grants = _insert_numbered(
        writer,
        TicketGroupObjectPermission,
        ["group_id", "permission_id", "content_object_id"],
        group_grant_rows(),
        bar("group grants", None),
    )
    return result


def _insert_numbered(writer, model, fields, rows, progress) -> int:
    """Insert rows whose count is not known in advance, numbering ids on the fly."""
    start = writer.reserve_ids(model, 0).start
    counter = iter(range(start, 1 << 62))
    with progress as b:
        count = writer.insert(
            model, ["id", *fields], ((next(counter), *row) for row in rows), progress=b
        )
    writer.reserve_ids(model, count)
    return count


# Tickets whose search documents one call of ``tickets_search_refresh`` rebuilds.
SEARCH_REFRESH_BATCH = 5000


@contextmanager
def _search_refreshed_after(writer, ticket_ids):
    """PostgreSQL: the comments' COPY without the statement trigger that rebuilds the
    search documents of the tickets it touched, then those documents rebuilt in batches
    after the comments are counted (``ANALYZE``). One trigger call for every ticket at
    once was planned before the table had statistics and scanned the comments once per
    ticket (hours at 250k tickets); the documents written are the trigger's own
    (``tickets_search_refresh``, the same function). Other databases: as it is."""
    if not writer.is_postgres:
        yield
        return
    # ALTER TABLE refuses a table with pending trigger events: the deferred foreign-key
    # checks of rows written so far are made first (they would run at COMMIT anyway).
    switch = (
        "SET CONSTRAINTS ALL IMMEDIATE; "
        "ALTER TABLE tickets_comment {} TRIGGER tickets_search_comment_insert; "
        "SET CONSTRAINTS ALL DEFERRED"
    )
    with writer.connection.cursor() as cursor:
        cursor.execute(switch.format("DISABLE"))
    yield
    with writer.connection.cursor() as cursor:
        cursor.execute(switch.format("ENABLE"))
        cursor.execute("ANALYZE tickets_comment")
        for start in range(0, len(ticket_ids), SEARCH_REFRESH_BATCH):
            batch = list(ticket_ids[start : start + SEARCH_REFRESH_BATCH])
            cursor.execute("SELECT tickets_search_refresh(%s::bigint[])", [batch])


def _story(seed, ticket_id, status, created, requester, assignee, queue_agents, now):
    """The comments of one ticket: alternating customer and staff replies, some internal
    notes, a file now and then. Same inputs, same story."""
    rng = random.Random(ticket_id * 104729 + seed)
    if status == "new":
        return []
    staff = assignee or rng.choice(queue_agents)
    count = 1 + min(int(rng.expovariate(1 / 2.5)), 30)
    limit = now if status in OPEN else created + timedelta(days=20)
    comments, at = [], created
    for i in range(count):
        at = at + timedelta(minutes=rng.randint(10, 2880))
        if at > limit:  # a recent ticket has had less time for replies
            break
        internal = rng.random() < 0.15
        author = staff if internal or i % 2 == 0 else requester
        comments.append(Comment(author, internal, at, rng.random() < 0.08))
    return comments


def _last_reference_number(ticket_model, sequence_model) -> int:
    """The highest number in use, from the sequence row or the references themselves
    (as ``tickets.services.next_reference`` does when the row is missing)."""
    last = (
        sequence_model.objects.filter(pk=1).values_list("last_value", flat=True).first()
        or 0
    )
    highest = ticket_model.objects.aggregate(m=Max("reference"))["m"]
    if highest and re.search(r"(\d+)$", highest):
        last = max(last, int(re.search(r"(\d+)$", highest).group(1)))
    return last
