"""A filing's cost to the web tier, in-process: the portal form POST and GraphQL's
``createTicket``, as ``bench/run.py`` and ``bench/peer.py`` send them.

Run against a copy of ``bench_full`` (never ``bench_full`` itself: it files tickets),
with ``bench/run.py``'s environment (production settings, Redis, the filer of
``bench/prepare.py``)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_3_bench \\
    REDIS_URL=redis://127.0.0.1:6379/7 .venv/bin/python bench/filing_cpu.py [N]

Prints per filing, for each path: process CPU (``time.process_time``, median and
mean of N after 10 warm-up filings), SQL statements, and Python function calls
(cProfile over N more); over the same N timed filings, the PostgreSQL backend's CPU
(``/proc/<pg_backend_pid()>/schedstat``, read before and after the N: the connection
is kept, ``DB_CONN_MAX_AGE``) and the WAL written (``pg_current_wal_lsn()``
difference: the whole cluster's, so other databases' writes count too).
``BODY=urlencoded``: the portal form posted as
``bench/peer.py`` (wrk) posts it, not as the test client's multipart body.
``SPLIT=1``: N more filings, the backend's CPU by statement. ``WAL=1``: this
database's WAL by relation, heap and index records alike (needs ``pg_walinspect``:
``CREATE EXTENSION pg_walinspect`` in the copy, as superuser). The filed tickets are
removed at the end (``prepare.remove_earlier_filings``: they carry the harness's
description).
"""

import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

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


PORTAL_FIELDS = {
    "subject": "Benchmark: printer on fire",
    "description": DESCRIPTION,
    "category": "technical",
    "priority": "medium",
}


def portal_post(client):
    if os.environ.get("BODY") == "urlencoded":
        # as ``bench/peer.py`` and wrk send it (the test client's default multipart
        # body costs ~1,100 Python calls to build and parse that they do not), and
        # with their cookies only: the test client would send back every earlier
        # filing's success message (``messages``), decoded and signed again each time
        client.cookies.pop("messages", None)
        response = client.post(
            "/portal/tickets/new/",
            urlencode(PORTAL_FIELDS),
            content_type="application/x-www-form-urlencoded",
        )
    else:
        response = client.post("/portal/tickets/new/", PORTAL_FIELDS)
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


def backend_cpu_ms(pid) -> float:
    """A backend's CPU time so far, ms: ``/proc/<pid>/schedstat``'s first field (the
    scheduler's nanoseconds on CPU; ``stat``'s utime + stime are 10 ms ticks)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e6


def backend():
    """The PostgreSQL backend's pid, its CPU so far (ms) and the WAL position."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), pg_current_wal_lsn()")
        pid, lsn = cursor.fetchone()
    return pid, backend_cpu_ms(pid), lsn


class StatementCPU:
    """An execute wrapper: the backend's CPU for each statement, by its SQL's start
    (read between statements, while the backend waits for the next one)."""

    def __init__(self, pid):
        self.pid, self.by_sql = pid, {}

    def __call__(self, execute, sql, params, many, context):
        before = backend_cpu_ms(self.pid)
        try:
            return execute(sql, params, many, context)
        finally:
            flat = " ".join(sql.split())
            key = flat if len(flat) <= 110 else f"{flat[:60]} … {flat[-45:]}"
            self.by_sql[key] = (
                self.by_sql.get(key, 0) + backend_cpu_ms(self.pid) - before
            )


def split(name, send, n):
    """The backend's CPU per filing by statement; the rest is BEGIN, COMMIT (the
    deferred foreign-key checks run there) and the round trips' own handling."""
    pid, total_before, _ = backend()
    spy = StatementCPU(pid)
    with connection.execute_wrapper(spy):
        for _ in range(n):
            send()
    pid_after, total_after, _ = backend()
    if pid_after != pid:
        print(f"{name}: the backend changed during the split; none")
        return
    total = (total_after - total_before) / n
    print(f"{name}: backend CPU per filing by statement (total {total:.3f} ms):")
    for sql, ms in sorted(spy.by_sql.items(), key=lambda item: -item[1]):
        print(f"    {ms / n:.3f} ms  {sql}")
    print(
        f"    {total - sum(spy.by_sql.values()) / n:.3f} ms  the rest (BEGIN, COMMIT)"
    )


def wal_by_relation(start, end):
    """This database's WAL between two positions, by relation (pg_walinspect)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_walinspect'")
        if not cursor.fetchone():
            return []
        cursor.execute(
            r"""
            WITH r AS (
                SELECT record_length, fpi_length,
                    (regexp_match(block_ref, 'rel \d+/(\d+)/(\d+)')) AS m
                FROM pg_get_wal_records_info_till_end_of_wal(%s)
                WHERE start_lsn < %s
            )
            SELECT coalesce(c.relname, r.m[2]), count(*), sum(record_length),
                sum(fpi_length)
            FROM r
            LEFT JOIN pg_class c ON c.relfilenode = r.m[2]::oid
            WHERE r.m[1]::oid = (SELECT oid FROM pg_database
                                 WHERE datname = current_database())
            GROUP BY 1 ORDER BY 3 DESC
            """,
            [start, end],
        )
        return cursor.fetchall()


def measure(name, send, n):
    for _ in range(10):
        send()
    with CaptureQueriesContext(connection) as captured:
        send()
    statements = len(captured)
    shown = [query["sql"] for query in captured.captured_queries]
    times = []
    pid, db_before, lsn_before = backend()
    for _ in range(n):
        start = time.process_time()
        send()
        times.append((time.process_time() - start) * 1000)
    pid_after, db_after, lsn_after = backend()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_wal_lsn_diff(%s, %s)", [lsn_after, lsn_before])
        (wal,) = cursor.fetchone()
    if pid_after == pid:
        print(
            f"{name}: PostgreSQL backend CPU per filing {(db_after - db_before) / n:.3f}"
            f" ms (n={n}); WAL {float(wal) / n:,.0f} bytes "
            "per filing (cluster-wide)",
            flush=True,
        )
    else:
        print(f"{name}: the backend changed during the run; no database CPU")
    if os.environ.get("SPLIT"):
        split(name, send, n)
    if os.environ.get("WAL"):
        for relation, records, length, fpi in wal_by_relation(lsn_before, lsn_after):
            print(
                f"    {relation}: {records / n:.1f} records, {length / n:,.0f} bytes "
                f"({fpi / n:,.0f} full-page images) per filing"
            )
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
