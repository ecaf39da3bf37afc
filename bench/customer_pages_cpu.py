"""The customer-facing pages of bench FINDINGS P-2 in-process: the portal ticket list
(``portal_ticket_list``) and the KB search (``kb_search``), as ``bench/run.py`` asks
for them. Per page: statements (warm and cold: a process's first request, the KB's
per-process stores emptied), Python calls (cProfile), SQL time, and the HTML for
before/after comparisons. Read-only: run it against a copy of ``bench_full``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_6_bench \\
    REDIS_URL=redis://127.0.0.1:6379/10 \\
    .venv/bin/python bench/customer_pages_cpu.py calls [--html DIR]

Modes: ``calls`` (statements, Python calls and SQL time per request, medians of
``--repeat``), ``explain`` (each statement of one warm request, ``EXPLAIN ANALYZE``),
``backend`` (the PostgreSQL backend's CPU and the process's per request over
``--repeat`` requests after 10 warm ones, no query captured: with the queries logged
nothing is prepared, ``portal.prepared``; Python calls over as many more).
"""

import argparse
import cProfile
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

CUSTOMER = os.environ.get("BENCH_CUSTOMER", "customer0@load.example")
PAGES = {
    "portal_ticket_list": ("/portal/tickets/", True),
    "kb_search": ("/kb/search/?q=" + os.environ.get("BENCH_SEARCH", "password"), False),
}


def _client(signed_in: bool) -> Client:
    client = Client()
    if signed_in:
        client.force_login(get_user_model().objects.get(email=CUSTOMER))
    return client


def _empty_kb_stores() -> None:
    from kb import caching

    for store in (caching.matches, caching.fragments, caching.routes, caching.pages):
        store.clear()
    for store in (
        caching.locale_ids,
        caching.locale_languages,
        caching.search_crumbs,
        caching.search_reads,
        caching.search_indexes,
    ):
        store.clear()


def calls(repeat: int, html_dir: str | None) -> None:
    for name, (path, signed_in) in PAGES.items():
        client = _client(signed_in)
        _empty_kb_stores()
        with CaptureQueriesContext(connection) as cold:
            first = client.get(path)
        assert first.status_code == 200, (name, first.status_code)
        counts, sql_ms, wall_ms = [], [], []
        for _ in range(repeat):
            profiler = cProfile.Profile()
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                profiler.enable()
                response = client.get(path)
                profiler.disable()
                wall_ms.append((time.perf_counter() - started) * 1000)
            counts.append(pstats.Stats(profiler).total_calls)
            sql_ms.append(
                sum(float(q["time"]) for q in captured.captured_queries) * 1000
            )
        print(
            f"{name}: statements cold {len(cold)} warm {len(captured)}; "
            f"Python calls median {statistics.median(counts):.0f} "
            f"(min {min(counts)}, max {max(counts)}); SQL median "
            f"{statistics.median(sql_ms):.1f} ms; wall median "
            f"{statistics.median(wall_ms):.1f} ms (profiled, noisy)"
        )
        for query in captured.captured_queries:
            print("   ", query["time"], query["sql"][:150])
        if html_dir:
            Path(html_dir).mkdir(parents=True, exist_ok=True)
            Path(html_dir, f"{name}.html").write_bytes(response.content)


def explain() -> None:
    for name, (path, signed_in) in PAGES.items():
        client = _client(signed_in)
        client.get(path)
        with CaptureQueriesContext(connection) as captured:
            client.get(path)
        print(f"== {name}")
        with connection.cursor() as cursor:
            for query in captured.captured_queries:
                sql = query["sql"]
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                plan = [row[0] for row in cursor.fetchall()]
                print(sql[:200])
                print("   ", plan[-2].strip(), "|", plan[-1].strip())


def backend(repeat: int) -> None:
    from bench.filing_cpu import backend_cpu_ms

    for name, (path, signed_in) in PAGES.items():
        client = _client(signed_in)
        for _ in range(10):
            assert client.get(path).status_code == 200, name
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
        before, started = backend_cpu_ms(pid), time.process_time()
        for _ in range(repeat):
            client.get(path)
        process = (time.process_time() - started) * 1000 / repeat
        database = (backend_cpu_ms(pid) - before) / repeat
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(repeat):
            client.get(path)
        profiler.disable()
        calls = pstats.Stats(profiler).total_calls / repeat
        print(
            f"{name}: backend CPU per request {database:.3f} ms; process CPU "
            f"{process:.2f} ms; {calls:,.0f} Python calls (n={repeat})"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("calls", "explain", "backend"))
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--html")
    args = parser.parse_args()
    if args.mode == "calls":
        calls(args.repeat, args.html)
    elif args.mode == "backend":
        backend(args.repeat)
    else:
        explain()
