"""A customer's visible-tickets statements with "works a queue" decided before the
query is built (``tickets.permissions.works_a_queue``, bench FINDINGS P-6) against the
ungated ones (``works_a_queue`` answering None: main's statements before P-6, the
worked queues stated in SQL): the statements each surface sends, captured as Django
runs them, then ``EXPLAIN (ANALYZE, BUFFERS)`` of each; and the answers of both for
many customers. In process, on a COPY of ``bench_full`` only (GraphQL makes a token
per explained user).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_6_bench \\
    REDIS_URL=redis://127.0.0.1:6379/10 \\
    .venv/bin/python bench/customer_gate_plans.py --explain [--user customer0 ...]
    ... bench/customer_gate_plans.py --compare 300

Surfaces: the portal list's page 1 (kept statement), page 6 and page 50 (built
querysets), a search, GraphQL's first page and a narrowed page (queue filter), each
with its count. ``--compare N``: N customers (every organization size, sharing or
not, no organization; the first few made members of a queue's agent group in a
rolled-back transaction too): page ids and order, counts, search, GraphQL ids and
counts (whole, narrowed, up to), gated vs ungated.
"""

import argparse
import re
import sys
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.run import in_process_environment  # noqa: E402

in_process_environment()

import portal.wsgi  # noqa: E402, F401 - the server's start-up

# isort: split

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts import roles  # noqa: E402
from tickets import permissions  # noqa: E402
from tickets.models import Queue, Ticket  # noqa: E402
from tickets.portal import queries  # noqa: E402

OPEN = {"status": "open", "scope": "all", "order": "-updated", "q": ""}
SEARCH = {**OPEN, "status": "all", "q": "printer"}
PER_PAGE = 20
GQL = """query($f: TicketFilter) { tickets(first: 20, filters: $f) { totalCount
  edges { node { reference subject requester { email } } } } }"""


@contextmanager
def ungated():
    """main's statements before P-6: nothing decided before the query."""
    decide = permissions.works_a_queue
    permissions.works_a_queue = lambda user: None
    try:
        yield
    finally:
        permissions.works_a_queue = decide


def fresh(email_or_pk):
    """The user as a request reads them: their group names read with them."""
    User = get_user_model()
    if isinstance(email_or_pk, int):
        return roles.with_role_names(User.objects.filter(pk=email_or_pk))[0]
    return roles.with_role_names(User.objects.filter(email=email_or_pk))[0]


def surfaces(user) -> dict:
    """Each surface's answer for ``user`` (in process)."""

    def page(filters, number):
        found = queries.ticket_list_page(user, filters, number, PER_PAGE)
        return found.number, found.paginator.count, [t.pk for t in found.object_list]

    from graphql_api.tickets.schema import _IdsFirst

    answers = {
        "page 1": page(OPEN, 1),
        "page 6": page(OPEN, 6),
        "page 50": page({**OPEN, "status": "all"}, 50),
        "search": page(SEARCH, 1),
    }
    for name, narrowed in (
        ("graphql", Ticket.objects.all()),
        ("graphql queue", Ticket.objects.filter(queue__slug=SLUG)),
        ("graphql open", Ticket.objects.filter(status__in=["new", "open"])),
    ):
        visible = permissions.visible_tickets(user, narrowed).order_by(
            "-created_at", "-pk"
        )
        fast = _IdsFirst(model=Ticket, query=visible.query.chain(), using=visible.db)
        answers[name] = (
            permissions.count_visible(user, narrowed),
            permissions.count_visible_up_to(user, narrowed, 1001),
            [t.pk for t in fast[0:20]],
            [t.pk for t in fast[40:60]],
        )
    return answers


def explain(sql: str, params) -> tuple[int, float, float]:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        text = "\n".join(row[0] for row in cursor.fetchall())
    top = re.search(r"Buffers: shared ([^\n]*)", text)
    buffers = 0
    if top:
        buffers = sum(int(n) for n in re.findall(r"(?:hit|read)=(\d+)", top.group(1)))
    planning = float(re.search(r"Planning Time: ([\d.]+)", text).group(1))
    execution = float(re.search(r"Execution Time: ([\d.]+)", text).group(1))
    return buffers, planning, execution


def statements(run) -> list[tuple[str, list]]:
    with CaptureQueriesContext(connection) as captured:
        run()
    # the statements with their parameters, as the cursor ran them
    return [
        (q["sql"], None) for q in captured.captured_queries if "tickets_" in q["sql"]
    ]


def measured(name: str, run) -> None:
    """Each ticket statement ``run`` sends, explained (buffers, planning, execution
    ms): the SQL as logged has its values inlined by ``last_executed_query``."""
    for sql, params in statements(run):
        if not sql.lstrip().upper().startswith(("SELECT", "(SELECT", "WITH")):
            continue
        buffers, planning, execution = explain(sql, params)
        print(
            f"  {name:<14} {buffers:>8} buffers  plan {planning:6.2f} ms  "
            f"run {execution:7.2f} ms  {sql[:70]!r}"
        )


def explain_user(email: str) -> None:
    from accounts.tokens import create_token

    user = fresh(email)
    secret = create_token(user, name="bench gate", scopes="read").secret

    def graphql(filters=None):
        def run():
            response = Client().post(
                "/graphql/",
                {"query": GQL, "variables": {"f": filters}},
                content_type="application/json",
                headers={"Authorization": f"Bearer {secret}"},
            )
            assert "errors" not in response.json(), response.json()

        return run

    runs = {
        "page 1": lambda: queries.ticket_list_page(fresh(email), OPEN, 1, PER_PAGE),
        "page 6": lambda: queries.ticket_list_page(fresh(email), OPEN, 6, PER_PAGE),
        "page 50": lambda: queries.ticket_list_page(
            fresh(email), {**OPEN, "status": "all"}, 50, PER_PAGE
        ),
        "search": lambda: queries.ticket_list_page(fresh(email), SEARCH, 1, PER_PAGE),
        "graphql": graphql(),
        "graphql queue": graphql({"queue": SLUG}),
    }
    print(f"{email} (works a queue: {permissions.works_a_queue(user)})")
    for label, context in (("before", ungated), ("after", _nothing)):
        print(f" {label}")
        for name, run in runs.items():
            with context():
                run()  # warm: compiled, kept
                measured(name, run)


@contextmanager
def _nothing():
    yield


def customers(n: int) -> list[int]:
    """``n`` customers across organizations of every size, sharing or not, and some
    of no organization; customer0 and customer900 first."""
    User = get_user_model()
    plain = User.objects.filter(groups__name=roles.CUSTOMERS, is_active=True)
    first = list(
        plain.filter(email__in=["customer0@load.example", "customer900@load.example"])
        .order_by("email")
        .values_list("pk", flat=True)
    )
    every = list(plain.order_by("pk").values_list("pk", flat=True))
    step = max(1, len(every) // n)
    picked = first + [pk for pk in every[::step] if pk not in first]
    return picked[:n]


def compare(n: int, skip: int = 0) -> None:
    picked = customers(n)[skip:]
    differences = checked = 0
    for number, pk in enumerate(picked):
        for works in (False, True) if number + skip < 20 else (False,):
            with transaction.atomic():
                user = fresh(pk)
                if works:
                    user.groups.add(Queue.objects.order_by("pk")[0].agent_group)
                    user = fresh(pk)
                gated = permissions.works_a_queue(user)
                assert gated is works, (pk, gated, works)
                after = surfaces(user)
                with ungated():
                    before = surfaces(fresh(pk))
                transaction.set_rollback(True)
            checked += 1
            for name in before:
                if before[name] != after[name]:
                    differences += 1
                    print("DIFFERENT", pk, works, name, before[name], after[name])
        if number % 50 == 0:
            print(f"{number + 1}/{len(picked)} customers, {differences} differences")
    print(
        f"{len(picked)} customers, {checked} users x {len(after)} answers "
        f"compared, {differences} differences"
    )


SLUG = None


def main() -> None:
    global SLUG
    parser = argparse.ArgumentParser()
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--user", action="append")
    parser.add_argument("--compare", type=int, default=0)
    parser.add_argument("--skip", type=int, default=0, help="the first N of them")
    args = parser.parse_args()
    SLUG = Queue.objects.order_by("pk").values_list("slug", flat=True)[1]
    if args.explain:
        for who in args.user or ["customer0", "customer900"]:
            explain_user(f"{who}@load.example")
    if args.compare:
        compare(args.compare, args.skip)


if __name__ == "__main__":
    main()
