"""The GraphQL list's oracle: every response of a fixed set of callers × documents,
written byte for byte, to compare two trees on the same database copy.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<copy> REDIS_URL=redis://127.0.0.1:6379/<n> \
        .venv/bin/python bench/graphql_oracle.py OUT_DIR

Run it from each tree (the same script copied into the other), then ``diff -r``.
Callers: the bench's agent (agent0), an agent of another queue, the supervisor, the
big organization's customer (customer0) and a colleague who reads its tickets through
organization sharing, a customer of a small organization, a viewer, an outsider
with no ticket (created once), and anonymous. Documents: the bench's, the whole
ticket (comments with internal notes, attachments, events, tags, watchers, people),
each filter, orderings, pagination forward and backward with cursors, single tickets
by reference (the caller's own and others'), fragments and aliases, and refused
arguments (page size, cursor, limit). Writes nothing but tokens (one per caller).
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import in_process_environment  # noqa: E402

TICKET_FIELDS = """
  id reference subject description status priority category createdAt updatedAt
  firstResponseDueAt resolutionDueAt resolvedAt closedAt satisfactionRating
  queue { name slug } organization { name slug }
  requester { email displayName } assignee { email displayName }
  comments { body isInternal createdAt author { email displayName }
             attachments { filename size contentType createdAt url } }
  attachments { filename size contentType createdAt }
  events { kind oldValue newValue createdAt actor { email } }
  tags watchers { email }
"""

LIST = """
query L($first: Int, $last: Int, $after: String, $before: String,
        $filters: TicketFilter, $ordering: TicketOrder) {
  tickets(first: $first, last: $last, after: $after, before: $before,
          filters: $filters, ordering: $ordering) {
    totalCount totalCountUpTo(limit: 7) { count exact }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { %s } }
  }
}
"""

FULL = LIST % TICKET_FIELDS
SHORT = LIST % "reference subject status priority requester { email } __typename"

FRAGMENTS = """
query F {
  tickets(first: 5) {
    edges { node { ...T s2: subject ref: reference r2: requester { e: email } } }
    c: totalCount
  }
}
fragment T on Ticket { reference subject ... on Ticket { status priority } }
"""

ONE = "query O($r: String!) { ticket(reference: $r) { " + TICKET_FIELDS + " } }"


def documents(bench: str, references: list[str], queue: str, organization: str):
    yield "bench", bench, {"first": 100}
    yield "full", FULL, {"first": 30}
    yield "full_oldest", FULL, {"first": 40, "ordering": {"direction": "ASC"}}
    filters = {
        "status": {"status": ["OPEN", "NEW"]},
        "priority": {"priority": ["HIGH", "CRITICAL"]},
        "queue": {"queue": queue},
        "organization": {"organization": organization},
        "mine": {"assignedToMe": True},
        "not_mine": {"assignedToMe": False},
        "search": {"search": "a"},
        "search_none": {"search": "zzqqxx-nothing"},
        "unknown_queue": {"queue": "no-such-queue"},
        "combined": {"status": ["OPEN"], "priority": ["LOW", "MEDIUM"]},
    }
    for name, narrowing in filters.items():
        yield f"filter_{name}", SHORT, {"first": 50, "filters": narrowing}
    for field in ("CREATED_AT", "UPDATED_AT", "PRIORITY", "REFERENCE"):
        for direction in ("ASC", "DESC"):
            yield (
                f"order_{field}_{direction}",
                SHORT,
                {"first": 25, "ordering": {"field": field, "direction": direction}},
            )
    yield "fragments", FRAGMENTS, {}
    for reference in references:
        yield f"one_{reference}", ONE, {"r": reference}
    yield "one_missing", ONE, {"r": "NO-SUCH-1"}
    yield "bad_first", SHORT, {"first": 101}
    yield "bad_last", SHORT, {"last": -1}
    yield "bad_cursor", SHORT, {"first": 5, "after": "garbage"}
    yield (
        "bad_limit",
        "{ tickets(first: 2) { totalCountUpTo(limit: 0) { count } } }",
        {},
    )
    yield "no_first", SHORT, {}
    yield "first_zero", SHORT, {"first": 0}


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    in_process_environment()

    import portal.wsgi  # django.setup and the server's start-up, first

    assert portal.wsgi.application is not None
    from django.contrib.auth.models import Group
    from django.test import Client

    from accounts import roles
    from accounts.models import Membership, User
    from bench.prepare import supervisor, token_for
    from portal.loaddata.people import agent_email, customer_email
    from tickets.models import Queue, Ticket

    def made(email, group):
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email)
            user.set_unusable_password()
            user.save(update_fields=["password"])
            user.groups.add(Group.objects.get_or_create(name=group)[0])
        return user

    agent0 = User.objects.get(email=agent_email(0))
    agent0_groups = set(agent0.groups.values_list("pk", flat=True))
    queue = (
        Queue.objects.filter(agent_group_id__in=agent0_groups).order_by("pk").first()
    )
    other_agent = (
        User.objects.filter(email__startswith="agent", groups__name=roles.AGENTS)
        .exclude(groups__in=agent0_groups)
        .order_by("pk")
        .first()
    )
    customer0 = User.objects.get(email=customer_email(0))
    big = Membership.objects.filter(user=customer0).order_by("pk").first().organization
    colleague = (
        User.objects.filter(memberships__organization=big)
        .exclude(pk=customer0.pk)
        .order_by("pk")
        .first()
    )
    small = User.objects.get(email=customer_email(900))
    callers = {
        "agent0": agent0,
        "agent_other_queue": other_agent,
        "supervisor": supervisor(),
        "customer0": customer0,
        "colleague": colleague,
        "customer900": small,
        "viewer": made("oracle-viewer@load.example", roles.VIEWERS),
        "outsider": made("oracle-outsider@load.example", roles.CUSTOMERS),
        "anonymous": None,
    }
    references = [
        Ticket.objects.filter(queue=queue).order_by("-created_at").first().reference,
        Ticket.objects.filter(requester=customer0).order_by("-pk").first().reference,
        Ticket.objects.filter(requester=colleague).order_by("-pk").first().reference,
        Ticket.objects.filter(requester=small).order_by("-pk").first().reference,
        Ticket.objects.exclude(queue=queue).order_by("pk").first().reference,
    ]
    bench = (ROOT / "bench" / "graphql" / "tickets.graphql").read_text()
    written = 0
    for name, user in callers.items():
        headers = {}
        if user is not None:
            headers["Authorization"] = f"Bearer {token_for(user, 'read')}"
        client = Client(HTTP_HOST="127.0.0.1")

        def post(query, variables, client=client, headers=headers):
            response = client.post(
                "/graphql/",
                data=json.dumps({"query": query, "variables": variables}),
                content_type="application/json",
                headers=headers,
            )
            return response.status_code, response.content

        for doc, query, variables in documents(bench, references, queue.slug, big.slug):
            status, content = post(query, variables)
            (out / f"{name}.{doc}.json").write_bytes(b"%d\n" % status + content)
            written += 1
            if doc in {"full", "order_PRIORITY_DESC"}:
                # forward twice from the end cursor, then back from the last start
                page, cursor = 1, json.loads(content)
                while page <= 2 and cursor.get("data"):
                    info = cursor["data"]["tickets"]["pageInfo"]
                    if not info["endCursor"]:
                        break
                    more = {**variables, "after": info["endCursor"]}
                    status, content = post(query, more)
                    (out / f"{name}.{doc}.after{page}.json").write_bytes(
                        b"%d\n" % status + content
                    )
                    back = {
                        k: v for k, v in variables.items() if k not in {"first"}
                    } | {"last": 7, "before": info["endCursor"]}
                    status2, content2 = post(query, back)
                    (out / f"{name}.{doc}.before{page}.json").write_bytes(
                        b"%d\n" % status2 + content2
                    )
                    written += 2
                    cursor, page = json.loads(content), page + 1
    print(f"{written} responses in {out}")


if __name__ == "__main__":
    main()
