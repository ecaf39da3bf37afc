"""A filing's cost to the web tier, in-process: the portal form POST and GraphQL's
``createTicket``, as ``bench/run.py`` and ``bench/peer.py`` send them.

Run against a copy of ``bench_full`` (never ``bench_full`` itself: it files tickets),
with ``bench/run.py``'s environment (production settings, Redis, the filer of
``bench/prepare.py``)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_3_bench \\
    REDIS_URL=redis://127.0.0.1:6379/7 .venv/bin/python bench/filing_cpu.py [N]

Prints per filing, for each path: process CPU (``time.process_time``, median and
mean of N after 10 warm-up filings), SQL statements, and Python function calls
(cProfile over N more). The filed tickets are removed at the end
(``prepare.remove_earlier_filings``: they carry the harness's description).
"""

import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import in_process_environment  # noqa: E402

in_process_environment()

import portal.wsgi  # noqa: E402, F401 - the server's start-up and GC settings

# isort: split

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench import prepare  # noqa: E402

DESCRIPTION = prepare.FILED_DESCRIPTION
MUTATION = (ROOT / "bench" / "graphql" / "create_ticket.graphql").read_text()


def portal_post(client):
    response = client.post(
        "/portal/tickets/new/",
        {
            "subject": "Benchmark: printer on fire",
            "description": DESCRIPTION,
            "category": "technical",
            "priority": "medium",
        },
    )
    assert response.status_code == 302, response.status_code
    return response


def graphql_post(client, token):
    body = json.dumps(
        {
            "query": MUTATION,
            "variables": {
                "input": {
                    "subject": "Benchmark: printer on fire",
                    "description": DESCRIPTION,
                    "priority": "MEDIUM",
                }
            },
        }
    )
    response = client.post(
        "/graphql/",
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200 and b'"reference"' in response.content, (
        response.content[:300]
    )
    return response


def measure(name, send, n):
    for _ in range(10):
        send()
    with CaptureQueriesContext(connection) as captured:
        send()
    statements = len(captured)
    shown = [query["sql"] for query in captured.captured_queries]
    times = []
    for _ in range(n):
        start = time.process_time()
        send()
        times.append((time.process_time() - start) * 1000)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        send()
    profiler.disable()
    calls = pstats.Stats(profiler).total_calls / n
    print(
        f"{name}: CPU per filing median {statistics.median(times):.2f} ms, mean "
        f"{statistics.mean(times):.2f} ms (n={n}); {statements} statements; "
        f"{calls:,.0f} Python calls",
        flush=True,
    )
    if os.environ.get("SHOW_SQL"):
        for sql in shown:
            print("   ", sql[:160])
    if os.environ.get("PROFILE"):
        stats = pstats.Stats(profiler).sort_stats(os.environ["PROFILE"])
        stats.print_stats(os.environ.get("PROFILE_FILTER", ""), 45)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    which = os.environ.get("PATHS", "portal,graphql").split(",")
    user = prepare.filer()
    token = prepare.token_for(user, "read,write")
    try:
        if "portal" in which:
            client = Client()
            client.force_login(user)
            measure("portal form POST", lambda: portal_post(client), n)
        if "graphql" in which:
            client = Client()
            measure("graphql createTicket", lambda: graphql_post(client, token), n)
    finally:
        prepare.remove_earlier_filings()


if __name__ == "__main__":
    main()
