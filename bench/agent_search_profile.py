"""The agent search page in-process (bench FINDINGS S-1): per-request wall time,
process CPU and SQL per statement, Python call counts, ``EXPLAIN (ANALYZE, BUFFERS)``
of each statement, and an oracle (ids, order, count, snippets) for before/after
comparisons. Read-only: run it against a copy of ``bench_full``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_4_bench \\
    REDIS_URL=redis://127.0.0.1:6379/8 \\
    .venv/bin/python bench/agent_search_profile.py time webhook kraken customer

Modes: ``time`` (``--repeat`` pages per term, median/p95 wall, CPU, SQL), ``calls``
(cProfile's call count per page), ``explain`` (one page's statements, planning and
execution time each, ``jit=off`` as the application runs), ``oracle`` (JSON on stdout:
every variant's ids, count and snippets; ``diff`` two runs), ``ranked`` (JSON: the
ranked ids statement's answer and the newest-first path per user × text × view; terms
``all`` for ``RANKED_TEXTS``).
"""

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.run import in_process_environment  # noqa: E402

in_process_environment()

import portal.wsgi  # noqa: E402, F401 - the server's start-up (GC settings)

# isort: split

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

INBOX = "/admin/helpdesk/tickets/"


def client_for(email: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(email=email))
    return client


def page(client: Client, params: dict):
    response = client.get(INBOX, params)
    assert response.status_code == 200, response.status_code
    return response


def time_mode(client, terms, repeat):
    for term in terms:
        params = {"q": term}
        page(client, params)  # warm
        walls, cpus, sqls, counts = [], [], [], []
        per_statement: dict[int, list[float]] = {}
        for _ in range(repeat):
            spent = []

            def timer(execute, sql, p, many, context, spent=spent):
                started = time.perf_counter()
                try:
                    return execute(sql, p, many, context)
                finally:
                    spent.append(time.perf_counter() - started)

            cpu, wall = time.process_time(), time.perf_counter()
            with connection.execute_wrapper(timer):
                page(client, params)
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
            sqls.append(sum(spent) * 1000)
            counts.append(len(spent))
            for i, seconds in enumerate(spent):
                per_statement.setdefault(i, []).append(seconds * 1000)
        walls.sort()
        p95 = walls[min(len(walls) - 1, int(round(0.95 * len(walls))) - 1)]
        print(
            f"{term!r}: wall median {statistics.median(walls):.1f} p95 {p95:.1f} ms, "
            f"CPU {statistics.median(cpus):.1f} ms, SQL {statistics.median(sqls):.1f} ms"
            f" in {statistics.median(counts):.0f} statements; per statement (median): "
            + " ".join(
                f"{statistics.median(v):.1f}" for _, v in sorted(per_statement.items())
            )
        )


def calls_mode(client, terms, repeat):
    for term in terms:
        params = {"q": term}
        page(client, params)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(repeat):
            page(client, params)
        profiler.disable()
        stats = pstats.Stats(profiler)
        calls = sum(v[1] for v in stats.stats.values())  # all calls, primitive or not
        print(f"{term!r}: {calls / repeat:,.0f} Python calls per page")
        if os.environ.get("SHOW"):
            stats.sort_stats(os.environ["SHOW"]).print_stats(40)


def explain_mode(client, terms, _repeat):
    for term in terms:
        params = {"q": term}
        page(client, params)
        with CaptureQueriesContext(connection) as captured:
            page(client, params)
        print(f"=== {term!r}: {len(captured.captured_queries)} statements")
        with connection.cursor() as cursor:
            cursor.execute("SET jit = off")
            for number, query in enumerate(captured.captured_queries):
                sql = query["sql"]
                if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                    print(f"[{number}] {sql[:100]}")
                    continue
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                plan = [row[0] for row in cursor.fetchall()]
                timing = [
                    line.strip()
                    for line in plan
                    if line.startswith(("Planning Time", "Execution Time"))
                ]
                print(f"[{number}] {sql[:150]}\n     {' / '.join(timing)}")
                if os.environ.get("PLANS"):
                    print("\n".join("     " + line for line in plan))
                    print("     SQL:", sql)


VARIANTS = [
    {},
    {"view": "all"},
    {"view": "queues", "page": "2"},
    {"order": "-updated"},
    {"view": "mine"},
    {"per_page": "100", "page": "3"},
]


def oracle_mode(client, terms, _repeat, emails=()):
    from django.test.utils import setup_test_environment

    setup_test_environment()  # responses carry their template context
    out = {}
    for email in emails:
        who = client_for(email)
        for term in terms:
            for variant in VARIANTS:
                params = {"q": term, **variant}
                response = page(who, params)
                rows = response.context["rows"]
                out[f"{email} {json.dumps(params, sort_keys=True)}"] = {
                    "count": response.context["page"].paginator.count,
                    "rows": [[row.reference, str(row.snippet)] for row in rows],
                }
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False, sort_keys=True)


# The ranked oracle's texts (``ranked``): the generator's topic keywords, verbs and
# filler words (``portal.loaddata.text``: words of subjects, replies and internal
# notes), a phrase, negations, a reference, an organization, a customer's address,
# text matching nothing, markup and LIKE wildcards.
RANKED_TEXTS = [
    *(
        "password sign-in two-factor email invoice payment refund subscription VAT API "
        "token webhook export import setup workspace invite onboarding settings error "
        "timeout crash sync slow audit permissions encryption backup session iPhone "
        "Android notification offline camera dashboard chart schedule CSV filter roles "
        "organization license domain SSO retention deletion archive migration quota "
        "digest reminder mute channel mention PDF label template margin layout"
    ).split(),
    *"reset configure disable update customer browser cache exact message".split(),
    "webhook token",
    '"webhook token"',
    "webhook -token",
    "sync -webhook",
    "password reset",
    "HD-000212",
    "HD-0001",
    "Load Org 0",
    "customer12@load",
    "kraken",
    "поддержка",
    "drukarka",
    "50%_off",
    "<b>invoice</b>",
    "wi-fi",
]
RANKED_VIEWS = ["open", "queues", "all", "mine"]


def ranked_mode(emails, texts):
    """Every user × text × view: the ranked search's answer as the inbox takes it
    (``inbox_queryset`` with the relevance order: the kept ids statement where it
    applies), its ids in order and the ``noted`` ids, and the newest-first built path
    (``?order=-updated``: the first 100 ids and the capped count). JSON on stdout."""
    import hashlib

    from tickets.desk import inbox
    from tickets.desk.access import my_queues
    from tickets.pagination import CappedPaginator

    def digest(values) -> str:
        return hashlib.sha256(",".join(map(str, values)).encode()).hexdigest()

    out = {}
    for email in emails:
        user = get_user_model().objects.get(email=email)
        queues = list(my_queues(user))
        print(email, file=sys.stderr)
        for text in texts:
            for view in RANKED_VIEWS:
                qs, _order = inbox.inbox_queryset(user, view, {"q": text}, queues, "")
                ids = list(qs.ranked_ids)
                kind, noted = getattr(qs, "kind", None), getattr(qs, "noted", None)
                newest, _ = inbox.inbox_queryset(
                    user, view, {"q": text}, queues, "-updated"
                )
                first = list(newest.values_list("pk", flat=True)[:100])
                out[f"{email} {view} {text}"] = {
                    "ranked": len(ids),
                    "ids": digest(ids),
                    "head": ids[:10],
                    "kind": kind,
                    "noted": None if noted is None else digest(noted),
                    "newest": digest(first),
                    "count": CappedPaginator(newest, 25).count,
                }
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False, sort_keys=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "mode", choices=["time", "calls", "explain", "oracle", "ranked"]
    )
    parser.add_argument("terms", nargs="+")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--as", dest="email", default="agent0@load.example")
    parser.add_argument("--oracle-users", default="")
    args = parser.parse_args()
    if args.mode == "ranked":
        emails = [e for e in args.oracle_users.split(",") if e] or [args.email]
        ranked_mode(emails, RANKED_TEXTS if args.terms == ["all"] else args.terms)
        return
    if args.mode == "oracle":
        emails = [e for e in args.oracle_users.split(",") if e] or [args.email]
        oracle_mode(None, args.terms, args.repeat, emails)
        return
    client = client_for(args.email)
    {"time": time_mode, "calls": calls_mode, "explain": explain_mode}[args.mode](
        client, args.terms, args.repeat
    )


if __name__ == "__main__":
    main()
