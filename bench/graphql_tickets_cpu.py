"""The ``graphql_tickets`` scenario in-process: Python calls, CPU, SQL per request.

Not part of the suite and not the wrk harness: run it by hand against a copy of
``bench_full`` (never the original) and a Redis database of your own:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<copy> REDIS_URL=redis://127.0.0.1:6379/<n> \
        .venv/bin/python bench/graphql_tickets_cpu.py [--requests 30] [--dump DIR]

It POSTs ``bench/graphql/tickets.graphql`` (``first: 100``) through Django's test client
with a bearer token, with ``bench/run.py``'s environment and the server's start-up
(``portal.wsgi``: garbage collector frozen and tuned as in gunicorn), as the bench's
agent (the scenario's caller), a customer and a supervisor. Per caller, after
``--warm`` requests: the median CPU (``process_time``) and wall time of ``--requests``
requests, SQL statements and SQL time per request, and Python function calls per
request (cProfile over a separate run of ``--profiled`` requests, the robust figure on
a loaded machine). ``--dump DIR`` writes each caller's response JSON
(``DIR/<caller>.json``) to compare before and after a change.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import in_process_environment  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--warm", type=int, default=5)
    parser.add_argument("--profiled", type=int, default=5)
    parser.add_argument("--callers", default="agent,customer,supervisor")
    parser.add_argument("--document", default="tickets.graphql")
    parser.add_argument("--first", type=int, default=100)
    parser.add_argument("--dump", type=Path)
    parser.add_argument("--statements", action="store_true")
    parser.add_argument(
        "--profile-out", help="write the cProfile stats to PATH.<caller>"
    )
    parser.add_argument("--stats", type=int, default=0, help="print N top functions")
    args = parser.parse_args()
    in_process_environment()

    from django.db import connection
    from django.test import Client

    import portal.wsgi  # noqa: F401  (django.setup + the server's gc settings)
    from accounts.models import User
    from bench.prepare import supervisor, token_for
    from portal.loaddata.people import agent_email, customer_email

    people = {
        "agent": lambda: User.objects.get(email=agent_email(0)),
        "customer": lambda: User.objects.get(email=customer_email(0)),
        "supervisor": supervisor,
    }
    body = json.dumps(
        {
            "query": (ROOT / "bench" / "graphql" / args.document).read_text(),
            "variables": {"first": args.first},
        }
    )
    for caller in args.callers.split(","):
        token = token_for(people[caller](), "read")
        client = Client(HTTP_HOST="127.0.0.1")

        def post(client=client, token=token):
            response = client.post(
                "/graphql/",
                data=body,
                content_type="application/json",
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200, response.content[:500]
            return response

        for _ in range(args.warm):
            response = post()
        if b'"errors"' in response.content:
            raise SystemExit(response.content[:1000])
        if args.dump:
            args.dump.mkdir(parents=True, exist_ok=True)
            (args.dump / f"{caller}.json").write_text(
                json.dumps(json.loads(response.content), indent=1, sort_keys=True)
            )
        sql = {"n": 0, "t": 0.0, "each": {}}

        def timer(execute, sql_text, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql_text, params, many, context)
            finally:
                spent = time.perf_counter() - started
                sql["t"] += spent  # noqa: B023
                sql["n"] += 1  # noqa: B023
                each = sql["each"].setdefault(sql_text[:90], [])  # noqa: B023
                each.append(spent)

        cpu, wall = [], []
        with connection.execute_wrapper(timer):
            for _ in range(args.requests):
                c0, w0 = time.process_time(), time.perf_counter()
                post()
                cpu.append(time.process_time() - c0)
                wall.append(time.perf_counter() - w0)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.profiled):
            post()
        profiler.disable()
        stats = pstats.Stats(profiler)
        if args.profile_out:
            stats.dump_stats(f"{args.profile_out}.{caller}")
        calls = stats.total_calls / args.profiled
        print(
            f"{caller}: {len(json.loads(response.content)['data']['tickets']['edges'])}"
            f" tickets, CPU median {statistics.median(cpu) * 1000:.1f} ms"
            f" (min {min(cpu) * 1000:.1f}), wall median "
            f"{statistics.median(wall) * 1000:.1f} ms, SQL {sql['n'] / args.requests:.1f}"
            f" statements {sql['t'] / args.requests * 1000:.1f} ms, "
            f"Python calls {calls:,.0f} per request; load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        if args.statements:
            for text, times in sql["each"].items():
                print(
                    f"  {len(times) / args.requests:4.1f} x "
                    f"{statistics.median(times) * 1000:6.1f} ms  {text}"
                )
        if args.stats:
            stats.sort_stats("cumulative").print_stats(args.stats)


if __name__ == "__main__":
    main()
